"""The runner in-process: recognition by a second pipeline notices a movement that does not
match the plan, and the user's answer re-labels the set."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from repsense.live.plans import parse_plan
from repsense.live.runner import LiveOptions, LiveRunner
from repsense.live.sources import PacedSource
from repsense.live.store import SessionStore
from repsense.samples import SampleChunk
from repsense.sim import SimulatedSession

BRIDGE_PLAN = 'name = "b"\n[[exercise]]\nid = "glute_bridge"\nsets = 2\nreps = 6\nrest_s = 30\n'


@pytest.mark.parametrize("paired", [True, False])
def test_wrong_exercise_is_noticed_and_switch_relabels_the_set(dirs: dict[str, Path],
                                                               paired: bool) -> None:
    import asyncio

    plan = parse_plan(BRIDGE_PLAN)
    # The lifter does Romanian deadlifts although the plan says glute bridges.
    sim = SimulatedSession(exercise="romanian_deadlift", sets=2, reps=6, rest_s=30, seed=1,
                           nuisance="none")
    chunks = list(sim.chunks(1.0))
    standing = SampleChunk.concat(chunks).acc[: int(2 * sim.rate_hz)].mean(axis=0)
    # the mounting captured at pairing: up in the sensor frame with the thigh vertical;
    # without it recognition goes by the lever arm
    meta = dict(sim.meta)
    if paired:
        meta["mounting_up"] = (standing / np.linalg.norm(standing)).tolist()
    out = io.StringIO()
    runner = LiveRunner(LiveOptions(sensor="sim", plan=plan, speed=0, data_dir=dirs["data"]),
                        PacedSource("sim", chunks, meta, 0), out=out, interactive=False)
    original = runner._emit

    def answer(notices):  # the lifter presses "s" as soon as asked
        original(notices)
        if any(n.kind == "mismatch" for n in notices):
            runner.act("switch")

    runner._emit = answer
    result = asyncio.run(runner.run())
    text = out.getvalue()
    assert "looks like Romanian deadlift" in text and "the plan says glute bridge" in text
    first = result.summary["sets"][0]
    assert first["detected_exercise"] == "romanian_deadlift"
    assert first["exercise"] == "romanian_deadlift" and first["switched_from"] == "glute_bridge"
    assert first["plan_step"] is None  # an extra set: the planned bridges are still to do
    events = SessionStore(dirs["data"]).load(result.session_id).events()
    assert any(e["type"] == "notice" and e["kind"] == "mismatch" for e in events)
    assert {"type": "action", "action": "switch", "origin": "key"}.items() <= next(
        e for e in events if e["type"] == "action").items()
