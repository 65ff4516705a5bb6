"""Several sensors over one connection (:class:`MqttGateway`): own topics, exactly once,
discovery, commands, broker restarts, and no file descriptors left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from repsense.publish.config import parse_mqtt_url
from repsense.publish.mqtt import MqttGateway, MqttSink
from repsense.publish.topics import Topics
from repsense.testing.broker import MessageCollector, MosquittoBroker

from .helpers import FAST

SENSORS = ("left_thigh", "right_shank")


def open_gateway(url: str, outbox: Path) -> MqttGateway:
    return MqttGateway(parse_mqtt_url(url), "gw-shared", outbox_path=outbox, tuning=FAST,
                       status=lambda _m: None).open()


def by_sensor(msgs, kind: str = "events") -> dict[str, dict[str, dict]]:
    """De-duplicated events per sensor id taken from the *topic*."""
    out: dict[str, dict[str, dict]] = {s: {} for s in SENSORS}
    for m in msgs:
        parts = m.topic.split("/")
        if len(parts) >= 3 and parts[2] == kind and parts[1] in out:
            doc = m.json()
            out[parts[1]][doc["id"]] = doc
    return out


def test_two_sensors_share_one_connection_each_on_its_own_topics(
        tmp_path, mosquitto, mqtt_collector, pipeline_events, validate):
    sub = mqtt_collector(topics=["repsense/#", "homeassistant/#"])
    sub.wait_subscribed()
    gw = open_gateway(mosquitto.url, tmp_path / "gw.sqlite")
    sinks = {s: gw.sink(s) for s in SENSORS}
    for ev in pipeline_events:  # interleaved, as a gateway serving both would see them
        for s in SENSORS:
            sinks[s].handle(ev)
    assert all(sk.connected is gw.connected for sk in sinks.values())
    expected = sum(e.type != "rest" for e in pipeline_events) + 1  # + session_start
    for s in SENSORS:
        assert sinks[s].wait_idle(10.0)
        assert sinks[s].stats.queued == sinks[s].stats.acked == expected
    assert gw.stats.acked == 2 * expected and gw.stats.connects == 1
    msgs = sub.wait_for(lambda m: all(len(v) == expected for v in by_sensor(m).values()))
    got = by_sensor(msgs)
    for s in SENSORS:
        docs = got[s].values()
        assert {d["sensor_id"] for d in docs} == {s}
        assert {d["gateway_id"] for d in docs} == {"gw-shared"}
        assert sorted(d["seq"] for d in docs if d["type"] == "rep") == sorted(
            e.seq for e in pipeline_events if e.type == "rep")
    # Exactly once on a clean run: no message twice, none on the other sensor's topic.
    event_msgs = [m for m in msgs if "/events/" in m.topic]
    assert len(event_msgs) == 2 * expected
    # Both sensors announced to Home Assistant, the gateway lists both.
    sub.wait_for(lambda m: {x.topic for x in m} >= {
        f"homeassistant/device/repsense_{s}/config" for s in SENSORS})
    info = sub.wait_json("repsense/gateway/gw-shared/info",
                         lambda d: d["sensors"] == sorted(SENSORS))
    assert info["gateway_id"] == "gw-shared"
    for s in SENSORS:
        report = sinks[s].close(5.0)
        assert report.pending == 0 and report.delivered == expected
    sub.wait_json(f"repsense/{SENSORS[0]}/availability", lambda d: d["state"] == "offline")
    assert gw.close(5.0).pending == 0
    sub.wait_json("repsense/gateway/gw-shared/state", lambda d: d["state"] == "offline")
    validate(sub.snapshot())


def test_commands_reach_the_sensor_they_are_for(tmp_path, mosquitto, mqtt_collector):
    gw = open_gateway(mosquitto.url, tmp_path / "gw.sqlite")
    seen: dict[str, list[str]] = {s: [] for s in SENSORS}
    for s in SENSORS:
        gw.sink(s).on_command = lambda cmd, s=s: seen[s].append(cmd["command"]) or {"who": s}
    info = gw.topics.gateway_info
    sub = mqtt_collector(topics=["repsense/+/command/response", info])
    sub.wait_subscribed()
    # The gateway publishes its sensor list after subscribing to the last sensor's commands,
    # on the same connection: once the list has both, a command cannot arrive too early.
    sub.wait_json(info, lambda d: sorted(d["sensors"]) == sorted(SENSORS))
    sub.publish(f"repsense/{SENSORS[1]}/command",
                json.dumps({"command": "next_exercise", "request_id": "a"}))
    r = sub.wait_json(f"repsense/{SENSORS[1]}/command/response", lambda d: d["request_id"] == "a")
    assert r["status"] == "ok" and r["result"] == {"who": SENSORS[1]}
    assert seen == {SENSORS[0]: [], SENSORS[1]: ["next_exercise"]}
    assert not [m for m in sub.snapshot() if m.topic.startswith(f"repsense/{SENSORS[0]}/")]
    gw.close(2.0)


def test_shared_outbox_survives_a_broker_restart_and_a_gateway_crash(tmp_path,
                                                                     pipeline_events):
    broker = MosquittoBroker(tmp_path / "b", persistence=True).start()
    try:
        sub = MessageCollector(broker.url, ["repsense/+/events/#"], client_id="dash",
                               persistent=True).start()
        sub.wait_subscribed()
        outbox = tmp_path / "gw.sqlite"
        gw = open_gateway(broker.url, outbox)
        sinks = {s: gw.sink(s, session_suffix=None) for s in SENSORS}
        half = len(pipeline_events) // 2
        broker.stop(kill=True)
        for ev in pipeline_events[:half]:
            for s in SENSORS:
                sinks[s].handle(ev)  # the broker is gone: into the shared outbox
        stored = gw.pending
        assert stored == 2 * (sum(e.type != "rest" for e in pipeline_events[:half]) + 1)
        broker.start()
        assert gw.wait_idle(15.0)
        # Now the gateway "crashes" with events stored but never handed to the broker:
        # the client is cut off first, as by a kill.
        gw._client.disconnect()  # type: ignore[union-attr]
        gw._client.loop_stop()  # type: ignore[union-attr]
        gw._client = None
        for ev in pipeline_events[half:]:
            for s in SENSORS:
                sinks[s].handle(ev)
        left = gw.pending
        assert left == 2 * sum(e.type != "rest" for e in pipeline_events[half:])
        gw.outbox.close()  # type: ignore[union-attr]  # the process is gone; its lock too
        # The next run of the gateway sends what the last one left.
        said: list[str] = []
        gw2 = MqttGateway(parse_mqtt_url(broker.url), "gw-shared", outbox_path=outbox,
                          tuning=FAST, status=said.append).open()
        assert any(f"{left} message(s) from an earlier run" in m for m in said)
        assert gw2.wait_idle(15.0)
        gw2.close(2.0)
        n = sum(e.type != "rest" for e in pipeline_events) + 1
        msgs = sub.wait_for(lambda m: all(len(v) == n for v in by_sensor(m).values()),
                            timeout_s=15)
        for s, docs in by_sensor(msgs).items():
            # every event of this sensor, and nothing else (ids are per sensor here)
            assert sorted(d["seq"] for d in docs.values()) == sorted(
                [0] + [e.seq for e in pipeline_events if e.type != "rest"]), s
        sub.stop()
    finally:
        broker.stop(kill=True)


def test_sensor_ids_must_be_unique_and_of_this_gateway(tmp_path, mosquitto):
    gw = open_gateway(mosquitto.url, tmp_path / "gw.sqlite")
    gw.sink("a")
    with pytest.raises(ValueError, match="already"):
        gw.sink("a")
    with pytest.raises(ValueError, match="do not belong"):
        MqttSink(None, Topics.make("b", "other-gw"), gateway=gw).open()
    gw.close(1.0)


def test_closing_sinks_leaves_no_file_descriptors_open(tmp_path, mosquitto):
    """paho's wake-up socket pair used to stay open until garbage collection: 2 fds per
    closed sink, until a long-running process ran out of select()-able descriptors."""

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    url = parse_mqtt_url(mosquitto.url)
    for i in range(2):  # warm-up: sqlite, logging, ssl modules open what they keep
        MqttSink(url, Topics.make(f"w{i}", "gw"), outbox_path=tmp_path / f"w{i}.sqlite",
                 tuning=FAST, status=lambda _m: None).open().close(1.0)
    before = open_fds()
    for i in range(10):
        sink = MqttSink(url, Topics.make(f"s{i}", "gw"), outbox_path=tmp_path / f"{i}.sqlite",
                        tuning=FAST, status=lambda _m: None).open()
        assert sink.connected.wait(5)
        sink.close(1.0)
    assert open_fds() - before <= 2
