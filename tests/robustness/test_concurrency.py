"""Several sensors in one process: events never mix, one failing sensor stalls no other.

Three :class:`~repsense.live.runner.LiveRunner` sessions share one asyncio
loop (as sensors would in one gateway process), each with its own
:class:`~repsense.publish.mqtt.MqttSink` publishing to one real Mosquitto.
A fourth sensor's source dies half-way with an exception.  Every healthy
sensor must publish exactly the reps its own recording has (the count
``analyze`` finds), only under its own topic and session, and finish.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from repsense.analysis import analyze_recording
from repsense.io.csv_recording import CsvRecording
from repsense.live.runner import LiveOptions, LiveRunner
from repsense.live.sources import PacedSource
from repsense.publish.config import parse_mqtt_url
from repsense.publish.mqtt import MqttSink
from repsense.publish.topics import Topics
from repsense.testing.broker import MessageCollector, MosquittoBroker

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
FILES = {
    "left_shank": "leg_curl_standing_shank_25hz.csv",
    "right_thigh": "glute_bridge_thigh_50hz.csv",
    "coach_demo": "demo_romanian_deadlift.csv",
}


class DyingSource(PacedSource):
    """Gives a few packets, then the 'sensor' fails with an unexpected error."""

    def __init__(self, *args: object, after: int = 20, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self._after = after

    async def _iterate(self) -> AsyncIterator:  # type: ignore[override]
        n = 0
        async for part in super()._iterate():
            n += 1
            if n > self._after:
                raise RuntimeError("sensor firmware crashed")
            yield part


def _sink(url: str, sensor: str, tmp: Path) -> MqttSink:
    return MqttSink(parse_mqtt_url(url), Topics.make(sensor, "gw-conc"),
                    outbox_path=tmp / f"{sensor}.sqlite", ha_discovery=False,
                    status=lambda _m: None).open()


def _runner(name: str, source: PacedSource, sink: MqttSink, tmp: Path) -> LiveRunner:
    opts = LiveOptions(sensor=name, speed=0, plain=True, data_dir=tmp / f"data-{name}")
    return LiveRunner(opts, source, sink, out=io.StringIO(), interactive=False)


@pytest.mark.timeout(120)
def test_sensors_in_one_process_do_not_mix_and_a_failure_is_contained(tmp_path: Path) -> None:
    expected = {s: analyze_recording(RECORDINGS / f)["total_reps"] for s, f in FILES.items()}
    assert all(n > 0 for n in expected.values())
    with MosquittoBroker(tmp_path / "broker") as broker, \
            MessageCollector(broker.url, ["repsense/+/events/#"]) as sub:
        sub.wait_subscribed()
        sinks, runners = {}, {}
        for sensor, fname in FILES.items():
            rec = CsvRecording(RECORDINGS / fname)
            sinks[sensor] = _sink(broker.url, sensor, tmp_path)
            runners[sensor] = _runner(sensor, PacedSource(sensor, list(rec.chunks()), rec.meta,
                                                          speed=0), sinks[sensor], tmp_path)
        bad = CsvRecording(RECORDINGS / FILES["left_shank"])
        sinks["broken"] = _sink(broker.url, "broken", tmp_path)
        runners["broken"] = _runner("broken", DyingSource("broken", list(bad.chunks()), bad.meta,
                                                          speed=0), sinks["broken"], tmp_path)

        async def all_sessions() -> list[object]:
            return await asyncio.wait_for(asyncio.gather(
                *(r.run() for r in runners.values()), return_exceptions=True), timeout=90)

        outcomes = dict(zip(runners, asyncio.run(all_sessions()), strict=True))
        for sink in sinks.values():
            sink.wait_idle(10.0)
        sub.wait_for(lambda msgs: sum(m.topic.endswith("/events/rep") for m in msgs)
                     >= sum(expected.values()), timeout_s=15)
        msgs = sub.snapshot()
        for sink in sinks.values():
            sink.close(1.0)

    for sensor in FILES:
        assert not isinstance(outcomes[sensor], BaseException), (sensor, outcomes[sensor])
    by_sensor: dict[str, list[dict]] = {}
    for m in msgs:
        if not m.topic.endswith("/events/rep"):
            continue
        topic_sensor = m.topic.split("/")[1]
        payload = m.json()
        # A rep published under one sensor's topic belongs to that sensor's session.
        assert payload["sensor_id"] == topic_sensor, (m.topic, payload)
        by_sensor.setdefault(topic_sensor, []).append(payload)
    for sensor, n in expected.items():
        reps = by_sensor.get(sensor, [])
        ids = [p["id"] for p in reps]
        assert len(set(ids)) == len(ids) == n, (sensor, len(ids), n)
        sessions = {p["session_id"] for p in reps}
        assert len(sessions) == 1, (sensor, sessions)
    all_sessions_seen = [next(iter({p["session_id"] for p in v})) for v in by_sensor.values()]
    assert len(set(all_sessions_seen)) == len(all_sessions_seen), "sessions must not be shared"
