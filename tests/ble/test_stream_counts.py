"""Live streams of labelled sessions count exactly their labels, through every protocol.

Production path end to end: the simulator's labelled samples are served by a
virtual peripheral (Bumble GATT server, the protocol's encoder), received by
``bleak.BleakClient`` over our Bumble backend, decoded by the protocol driver
inside :class:`repsense.ble.stream.SensorStream` and counted by
:class:`repsense.pipeline.Pipeline`.  Counter/timestamp protocols run 20x
faster than real time; WitMotion and Thingy:52 send one sample per
notification and time them from arrival times, so they run at 10x.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field

import numpy as np
import pytest

from repsense.ble.stream import Events, LinkEvent, Problem, Samples, SensorStream
from repsense.ble.virtual_sensor import Faults, VirtualSensor
from repsense.events import Event
from repsense.pipeline import Pipeline
from repsense.samples import SampleChunk
from repsense.sim import SimulatedSession

RATE = {"repsense": 104.0, "witmotion": 100.0, "thingy52": 100.0, "polar_pmd": 100.0,
        "verity_sense": 52.0}
SPEED = {"repsense": 20.0, "witmotion": 10.0, "thingy52": 10.0, "polar_pmd": 20.0,
         "verity_sense": 20.0}
VARIANT = {"verity_sense": ("polar_pmd", {"variant": "verity_sense", "clock_ppm": 60.0})}
"""Test cases that are a variant of a protocol: (protocol, encoder options)."""
EXERCISE, PLACEMENT = "leg_curl", "shank"


@functools.cache
def session(protocol: str, sets: int = 1, reps: int | None = None) -> tuple[SampleChunk, dict]:
    if reps is None:  # shorter sessions for the protocols that must run slower
        reps = 6 if SPEED[protocol] > 10 else 5
    sim = SimulatedSession(
        exercise=EXERCISE, placement=PLACEMENT, sets=sets, reps=reps, rate_hz=RATE[protocol],
        rest_s=20, seed=3, accel_only=protocol == "polar_pmd",
    )
    src = SampleChunk.concat(list(sim.chunks(1.0)))
    # Keep 3 s of rest either side of the sets: streaming time is test time.
    first, last = labels_start(sim.labels), float(sim.labels["sets"][-1]["end_s"])
    keep = (src.t >= first - 3.0) & (src.t <= last + 3.0)
    idx = np.flatnonzero(keep)
    return src.slice(int(idx[0]), int(idx[-1]) + 1), sim.labels


def labels_start(labels: dict) -> float:
    return float(labels["sets"][0]["start_s"])


def reps_of(events: list[Event]) -> list[int]:
    return [len(e.reps) for e in events if e.type == "set_end"]


@dataclass
class Outcome:
    events: list[Event] = field(default_factory=list)
    problems: list = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    samples: int = 0
    stream: SensorStream | None = None
    sensor: VirtualSensor | None = None


async def stream_session(case: str, src: SampleChunk, faults: Faults | None = None,
                         speed: float | None = None) -> Outcome:
    protocol, options = VARIANT.get(case, (case, {}))
    sensor = VirtualSensor(protocol, src, speed=speed or SPEED[case], faults=faults, **options)
    await sensor.start()
    out = Outcome(sensor=sensor)
    pipe = Pipeline(exercise=EXERCISE, placement=PLACEMENT, sample_rate_hz=RATE[case])
    stream = SensorStream(sensor.address, backend="virtual", protocol=protocol,
                          rate_hz=RATE[case], pipeline=pipe, backoff_s=(0.05, 0.4))
    out.stream = stream

    async def close_when_done() -> None:
        await sensor.finished.wait()
        await asyncio.sleep(0.2)
        await stream.close()

    try:
        async with stream:
            closer = asyncio.create_task(close_when_done())
            async for item in stream:
                if isinstance(item, Samples):
                    out.samples += len(item.chunk)
                    out.events += item.events
                elif isinstance(item, Events):
                    out.events += item.events
                elif isinstance(item, Problem):
                    out.problems.append(item.problem)
                    out.events += item.events
                elif isinstance(item, LinkEvent):
                    out.states.append(item.state)
            await closer
    finally:
        await sensor.stop()
    return out


def direct_count(protocol: str, src: SampleChunk) -> list[int]:
    """What the detector makes of the same samples without any transport (= analyze)."""
    pipe = Pipeline(exercise=EXERCISE, placement=PLACEMENT, sample_rate_hz=RATE[protocol])
    return reps_of(pipe.push(src) + pipe.finish())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol",
                         ["repsense", "witmotion", "thingy52", "polar_pmd", "verity_sense"])
def test_live_stream_counts_exactly_the_labels(protocol: str) -> None:
    src, labels = session(protocol)
    want = [s["reps"] for s in labels["sets"]]
    # If this fails the detector, not the transport, is off.
    assert direct_count(protocol, src) == want
    out = asyncio.run(stream_session(protocol, src))
    assert out.samples == len(src)  # every sample arrived, none invented
    assert not [p for p in out.problems if p.kind == "lost"]
    assert reps_of(out.events) == want
    assert sum(e.type == "rep" for e in out.events) == sum(want)
    assert not [e for e in out.events if e.type == "warning"]
    assert out.states[0] == "connected" and out.states[-1] == "closed"


def _mid_set(labels: dict, frac: float) -> float:
    s = labels["sets"][0]
    return s["start_s"] + frac * (s["end_s"] - s["start_s"])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol", ["repsense", "polar_pmd"])
def test_link_drop_mid_set_with_sensor_buffer_keeps_counts_exact(protocol: str) -> None:
    # The sensor buffers while the link is down (firmware ring buffer) and
    # sends the backlog after reconnecting: the same pipeline continues, the
    # seam neither loses nor double-counts a rep.
    src, labels = session(protocol)
    want = [s["reps"] for s in labels["sets"]]
    faults = Faults(drop_at_s=[_mid_set(labels, 0.45) - float(src.t[0])], down_s=1.5,
                    buffer_while_down=True)
    out = asyncio.run(stream_session(protocol, src, faults))
    assert out.sensor.drops == 1 and out.stream.stats.reconnects == 1
    assert out.states.count("disconnected") == 1 and "reconnecting" in out.states
    assert out.samples == len(src)
    assert reps_of(out.events) == want
    assert sum(e.type == "rep" for e in out.events) == sum(want)


@pytest.mark.timeout(60)
def test_link_drop_mid_set_loses_samples_reports_gap_and_never_double_counts() -> None:
    protocol = "repsense"
    src, labels = session(protocol)
    want = sum(s["reps"] for s in labels["sets"])
    drop = _mid_set(labels, 0.5) - float(src.t[0])
    out = asyncio.run(stream_session(protocol, src, Faults(drop_at_s=[drop], down_s=0.6)))
    lost = out.sensor.samples_lost
    assert lost > 0 and out.samples + lost == len(src)
    # The driver measured the gap from the sample counter: exactly what was lost.
    assert sum(p.lost_samples for p in out.problems if p.kind == "lost") == lost
    gaps = [e for e in out.events if e.type == "warning" and e.code == "sensor_gap"]
    assert len(gaps) == 1 and gaps[0].gap_s == pytest.approx(lost / RATE[protocol], abs=0.05)
    # ... and the driver's measurement became a warning event with its size.
    warned = [e for e in out.events if e.type == "warning" and e.code == "lost_samples"]
    assert [w.lost_samples for w in warned] == [lost]
    reps = [e for e in out.events if e.type == "rep"]
    times = [e.rep.start_s for e in reps]
    assert len(set(times)) == len(times)  # no rep counted twice
    assert want - 1 <= len(reps) <= want  # at most the rep cut by the gap is missing


@pytest.mark.timeout(60)
def test_arrival_timed_sensor_survives_link_drop_and_malformed_notifications() -> None:
    protocol = "witmotion"
    src, labels = session(protocol)
    want = [s["reps"] for s in labels["sets"]]
    drop = labels["sets"][0]["start_s"] - float(src.t[0]) - 2.0  # shortly before the set
    faults = Faults(drop_at_s=[drop], down_s=1.0, malformed_every=25, seed=7)
    out = asyncio.run(stream_session(protocol, src, faults))
    assert out.stream.stats.reconnects == 1
    lost = out.sensor.samples_lost
    reported = sum(p.lost_samples for p in out.problems if p.kind == "lost")
    # No counter: the gap is estimated from the silence, to within a few samples.
    assert lost > 0 and abs(reported - lost) <= 0.1 * lost + 5
    malformed = [p for p in out.problems if p.kind == "malformed"]
    assert out.sensor.malformed_sent > 5 and len(malformed) == out.sensor.malformed_sent
    assert out.samples + lost == len(src)
    assert reps_of(out.events) == want


@pytest.mark.timeout(60)
def test_malformed_and_lost_notifications_do_not_stop_the_session() -> None:
    protocol = "repsense"
    src, labels = session(protocol)
    want = sum(s["reps"] for s in labels["sets"])
    out = asyncio.run(stream_session(protocol, src, Faults(malformed_every=25, lose_every=97,
                                                           seed=7)))
    malformed = [p for p in out.problems if p.kind == "malformed"]
    assert out.sensor.malformed_sent > 5
    assert len(malformed) == out.sensor.malformed_sent  # each one reported, none fatal
    warned = [e for e in out.events if e.type == "warning" and e.code == "sensor_malformed"]
    assert len(warned) == len(malformed)
    assert out.states[-1] == "closed"
    # Lost notifications are counted from the counter, never invented.
    lost = sum(p.lost_samples for p in out.problems if p.kind == "lost")
    assert lost > 0
    if out.sensor.data_notifications % 97:
        assert out.samples + lost == len(src)
    else:  # the very last notification was dropped: no later counter can reveal it
        assert 0 < len(src) - out.samples - lost <= 40
    assert want - 1 <= sum(reps_of(out.events)) <= want
    assert np.isfinite([e.time_s for e in out.events]).all()


@pytest.mark.timeout(60)
def test_raw_capture_of_a_live_stream_replays_to_the_same_events(tmp_path) -> None:
    # What `repsense record` captures is decoded by `analyze` through the same
    # driver: the same reps, the same warnings, on the same time base.
    from repsense.analysis import run_events
    from repsense.io.raw_capture import RawCapture, RawCaptureWriter

    protocol = "repsense"
    src, labels = session(protocol)
    path = tmp_path / "live.jsonl"
    holder: dict = {}

    async def scenario() -> Outcome:
        sensor = VirtualSensor(protocol, src, speed=SPEED[protocol],
                               faults=Faults(malformed_every=30, lose_every=101, seed=3))
        await sensor.start()
        out = Outcome(sensor=sensor)
        pipe = Pipeline(exercise=EXERCISE, placement=PLACEMENT, sample_rate_hz=RATE[protocol])
        stream = SensorStream(sensor.address, backend="virtual", protocol=protocol,
                              rate_hz=RATE[protocol], pipeline=pipe)
        await stream.start()
        holder["writer"] = RawCaptureWriter(path, protocol, {"name": sensor.name,
                                                             "address": sensor.address},
                                            stream.driver.config())
        stream.on_notification = holder["writer"].write

        async def close_when_done() -> None:
            await sensor.finished.wait()
            await asyncio.sleep(0.2)
            await stream.close()

        closer = asyncio.create_task(close_when_done())
        async for item in stream:
            if isinstance(item, (Samples, Problem, Events)):
                out.events += item.events
        await closer
        await sensor.stop()
        holder["writer"].close()
        return out

    live = asyncio.run(scenario())
    capture = RawCapture(path, relative_time=False)
    replay_pipe = Pipeline(exercise=EXERCISE, placement=PLACEMENT, sample_rate_hz=RATE[protocol])
    replayed = list(run_events(capture, replay_pipe))

    def summary(events: list[Event]) -> list[tuple]:
        return [(e.type, getattr(e, "code", None), e.time_s) for e in events
                if e.type in ("rep", "set_end", "warning")]

    want, got = summary(live.events), summary(replayed)
    assert [w[:2] for w in got] == [w[:2] for w in want]
    # The capture keeps the exact arrival times, so the replay's times are the
    # live ones, not merely close: compared unrounded (rounding both to ms hid a
    # sub-microsecond difference except when it straddled a rounding boundary
    # or tipped a detector decision).
    assert [w[2] for w in got] == pytest.approx([w[2] for w in want], rel=0, abs=1e-9)
    codes = {w[1] for w in want}
    assert {"sensor_malformed", "lost_samples"} <= codes  # the faults were replayed too
    assert sum(e.type == "rep" for e in live.events) >= sum(s["reps"] for s in labels["sets"]) - 1


def test_raw_capture_keeps_the_arrival_times_the_live_driver_decoded(tmp_path) -> None:
    # The reference driver times samples from its counter fitted to the arrival
    # times, so a replay decodes the same sample times only if the capture holds
    # the very arrival times (a writer that rounded them to microseconds made the
    # live/replay test above fail about once in a hundred runs).
    from repsense.io.raw_capture import RawCapture, RawCaptureWriter
    from repsense.sensors.reference import ReferenceDriver, ReferenceEncoder

    src, _ = session("repsense")
    enc = ReferenceEncoder(rate_hz=RATE["repsense"])
    enc.streaming = True
    driver = ReferenceDriver(rate_hz=RATE["repsense"])
    rng = np.random.default_rng(5)
    path = tmp_path / "live.jsonl"
    arrivals: list[float] = []
    live: list[SampleChunk] = []
    with RawCaptureWriter(path, "repsense", {"name": None, "address": None},
                          driver.config()) as writer:
        for i in range(0, len(src), 19):
            chunk = src.slice(i, i + 19)
            for note in enc.encode(chunk):
                # Transport delay with sub-microsecond digits, as a host clock has.
                arrival = 1000.0 + float(chunk.t[-1]) + 0.02 + float(rng.uniform(0, 0.01))
                arrivals.append(arrival)
                writer.write(arrival, note.char, note.data)
                result = driver.decode(note.char, note.data, arrival)
                assert not result.problems
                live.append(result.chunk)
    capture = RawCapture(path, relative_time=False)
    assert [t for _, t, _, _ in capture.notifications()] == arrivals
    replayed = SampleChunk.concat(list(capture.chunks()))
    want = SampleChunk.concat(live)
    np.testing.assert_array_equal(replayed.t, want.t)
    np.testing.assert_array_equal(replayed.acc, want.acc)


@pytest.mark.timeout(60)
def test_a_labelled_recording_from_the_repository_counts_exactly_over_ble() -> None:
    # recordings/demo_romanian_deadlift.csv is 50 Hz; the reference sensor runs
    # at 52 Hz, so the virtual sensor resamples it, like a real sensor would
    # sample the movement at its own rate.
    from pathlib import Path

    from repsense.io.csv_recording import CsvRecording

    path = Path(__file__).resolve().parents[2] / "recordings" / "demo_romanian_deadlift.csv"
    rec = CsvRecording(path)
    src = SampleChunk.concat(list(rec.chunks()))
    sets = rec.meta["labels"]["sets"]
    want = [s["reps"] for s in sets]
    exercise, placement = sets[0]["exercise"], rec.meta["placement"]

    async def scenario() -> tuple[list[Event], SampleChunk]:
        events: list[Event] = []
        got: list[SampleChunk] = []
        async with VirtualSensor("repsense", src, speed=20, rate_hz=52) as sensor:
            pipe = Pipeline(exercise=exercise, placement=placement, sample_rate_hz=52.0)
            stream = SensorStream(sensor.address, backend="virtual", protocol="repsense",
                                  rate_hz=52, pipeline=pipe)
            async with stream:
                async def close_when_done() -> None:
                    await sensor.finished.wait()
                    await asyncio.sleep(0.2)
                    await stream.close()

                closer = asyncio.create_task(close_when_done())
                async for item in stream:
                    if isinstance(item, (Samples, Problem, Events)):
                        events += item.events
                    if isinstance(item, Samples):
                        got.append(item.chunk)
                await closer
        return events, SampleChunk.concat(got)

    events, got = asyncio.run(scenario())
    # The same samples without transport (what `repsense analyze` does).
    direct = Pipeline(exercise=exercise, placement=placement, sample_rate_hz=52.0)
    assert reps_of(direct.push(got) + direct.finish()) == want
    assert reps_of(events) == want
