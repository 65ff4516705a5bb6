"""Batching samples before the pipeline (``live.batch_s``): fewer pushes, the same events,
and samples of a sensor that goes quiet are not held back."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repsense.live.batching import DEFAULT_BATCH_S, SampleBatcher
from repsense.live.config import SETTINGS
from repsense.live.runner import LiveOptions, LiveRunner
from repsense.live.sources import PacedSource, SampleSource
from repsense.live.view import LinkStatus
from repsense.samples import SampleChunk, recut
from repsense.sim import SimulatedSession


def chunk(t0: float, n: int, rate: float = 100.0) -> SampleChunk:
    t = t0 + np.arange(n) / rate
    return SampleChunk(t, np.tile([0.0, 0.0, 1.0], (n, 1)), np.zeros((n, 3)))


def test_batches_span_the_interval_and_keep_every_sample_in_order() -> None:
    b = SampleBatcher(0.2)
    parts = [chunk(0.1 * i, 10) for i in range(7)]  # 100 ms notifications at 100 Hz
    out = [x for p in parts if (x := b.add(p)) is not None]
    assert [len(x) for x in out] == [20, 20, 20]  # 0.2 s each
    assert b.waiting and len(b) == 10
    rest = b.take()
    assert rest is not None and not b.waiting and b.take() is None
    joined = SampleChunk.concat([*out, rest])
    assert np.array_equal(joined.t, SampleChunk.concat(parts).t)


def test_zero_passes_every_chunk_at_once() -> None:
    b = SampleBatcher(0)
    c = chunk(0.0, 3)
    assert b.add(c) is c and not b.waiting
    assert b.add(chunk(0.0, 0)) is None


def test_default_matches_the_config_setting() -> None:
    setting = next(s for s in SETTINGS if s.key == "live.batch_s")
    assert setting.default == DEFAULT_BATCH_S


def run_session(tmp: Path, batch_s: float, speed: float = 40.0) -> tuple[Any, list[int]]:
    sim = SimulatedSession(exercise="leg_curl", sets=1, reps=6, rest_s=10, seed=2,
                           nuisance="none")
    runner = LiveRunner(LiveOptions(sensor="sim", speed=speed, data_dir=tmp / f"d{batch_s}",
                                    batch_s=batch_s),
                        PacedSource("sim", list(sim.chunks(1.0)), dict(sim.meta), speed),
                        out=io.StringIO(), interactive=False)
    pushes: list[int] = []
    original = runner.process_chunk

    def counting(c: SampleChunk) -> None:
        pushes.append(len(c))
        original(c)

    runner.process_chunk = counting  # type: ignore[method-assign]
    return asyncio.run(runner.run()), pushes


def test_batched_session_has_the_same_reps_with_fewer_pushes(tmp_path: Path) -> None:
    plain, plain_pushes = run_session(tmp_path, 0.0)
    batched, batched_pushes = run_session(tmp_path, 0.2)
    assert sum(plain_pushes) == sum(batched_pushes)  # every sample, once
    assert len(batched_pushes) * 3 <= len(plain_pushes)  # 50 ms packets -> 200 ms batches
    reps = [[(r["start_s"], r["end_s"], r["tempo"]) for s in res.summary["sets"]
             for r in s["rep_detail"]] for res in (plain, batched)]
    assert plain.summary["total_reps"] == batched.summary["total_reps"] == 6
    assert reps[0] == reps[1]


class StallingSource(SampleSource):
    """Sends a little, then goes quiet until the test has seen the samples processed."""

    def __init__(self, runner_box: list[Any]) -> None:
        self.name = "stall"
        self.meta = {"sample_rate_hz": 100.0}
        self.link = LinkStatus(sensor="stall", connected=True)
        self.box = runner_box
        self.processed_while_quiet = False

    def __aiter__(self) -> AsyncIterator[SampleChunk]:
        return self._it()

    async def _it(self) -> AsyncIterator[SampleChunk]:
        for part in recut([chunk(0.0, 5)], 0.05):  # 50 ms: less than one batch
            yield part
        runner = self.box[0]
        for _ in range(200):  # the sensor is silent; the batch must still go out
            await asyncio.sleep(0.01)
            if runner.writer is not None and runner.writer.sample_count == 5:
                self.processed_while_quiet = True
                return


@pytest.mark.timeout(60)
def test_a_quiet_sensor_does_not_hold_its_last_samples_back(tmp_path: Path) -> None:
    box: list[Any] = []
    source = StallingSource(box)
    runner = LiveRunner(LiveOptions(sensor="stall", data_dir=tmp_path, batch_s=0.2), source,
                        out=io.StringIO(), interactive=False)
    box.append(runner)
    result = asyncio.run(runner.run())
    assert source.processed_while_quiet
    assert result.summary["samples"] == 5


def test_out_of_range_batch_is_one_line_and_exit_2(dirs: dict[str, Path]) -> None:
    import subprocess

    from .conftest import repsense_cmd

    r = subprocess.run(repsense_cmd("live", "--sensor", "sim:leg_curl", "--batch-s", "5",
                                    "--plain", "--no-mqtt"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "--batch-s 5" in r.stderr and len(r.stderr.strip().splitlines()) == 1
