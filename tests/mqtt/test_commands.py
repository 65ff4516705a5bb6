"""Commands over a real broker: handed to the session, bad ones answered, nothing stalls."""

from __future__ import annotations

import json
import threading

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from repsense.events import Rep, RepTempo
from repsense.publish.commands import MAX_COMMAND_BYTES

from .helpers import events_by_id

CMD = "repsense/left_thigh/command"
RESP = "repsense/left_thigh/command/response"


def ask(sub, payload, request_id, retain=False):
    """Send a command and wait for the response with that request id."""
    sub.publish(CMD, payload, retain=retain)
    return sub.wait_json(RESP, lambda d: d["request_id"] == request_id)


@pytest.fixture
def session(mosquitto, mqtt_collector, make_sink):
    sink = make_sink(mosquitto.url)
    seen: list[dict] = []

    def handler(cmd):
        seen.append(cmd)
        if cmd["command"] == "undo_last_rep":
            raise ValueError("no rep to undo")
        if cmd["command"] == "load_plan" and cmd["plan"] == "missing":
            return {"error": "no plan called 'missing'; see `repsense plans`"}
        if cmd["command"] == "mark_set_end":
            raise RuntimeError("bug in the session")
        return {"accepted": cmd["command"]}

    sink.on_command = handler
    sub = mqtt_collector(topics=[RESP])
    return sink, sub, seen


def test_valid_commands_reach_the_handler(session, validate):
    sink, sub, seen = session
    r = ask(sub, json.dumps({"command": "set_exercise", "exercise": "leg_curl",
                             "request_id": "r1"}), "r1")
    assert r["status"] == "ok" and r["error"] is None
    assert r["result"] == {"accepted": "set_exercise"}
    assert seen[-1] == {"command": "set_exercise", "exercise": "leg_curl", "request_id": "r1"}
    r = ask(sub, '{"command": "start_session", "request_id": 7}', 7)
    assert r["status"] == "ok" and r["command"] == "start_session"
    r = ask(sub, '{"command": "ping", "request_id": "p"}', "p")
    assert r["status"] == "ok" and r["result"]["version"]
    validate(sub.snapshot())


@pytest.mark.parametrize(("payload", "needle"), [
    (b"{oops", "not valid JSON"),
    (b'{"command": "set_exercise", "exercise": 5, "request_id": "rid"}', "exercise"),
    (b'{"command": "stop_session", "now": true, "request_id": "rid"}', "unknown field"),
    (b'{"command": "fly", "request_id": "rid"}', "unknown command"),
    (b'{"command": "ping", "request_id": "rid", "pad": "' + b"y" * MAX_COMMAND_BYTES + b'"}',
     "limit"),
])
def test_bad_commands_get_an_error_response(session, validate, payload, needle):
    sink, sub, seen = session
    sub.publish(CMD, payload)
    r = sub.wait_json(RESP, lambda d: d["status"] == "error")
    assert needle in r["error"]
    # The request id is echoed whenever it could be read.
    if b'"request_id": "rid"' in payload and needle != "limit":
        assert r["request_id"] == "rid"
    assert not seen
    validate(sub.snapshot())


def test_refusals_and_handler_failures_are_reported_not_raised(session, validate):
    sink, sub, seen = session
    r = ask(sub, '{"command": "undo_last_rep", "request_id": "u"}', "u")
    assert r["status"] == "error" and r["error"] == "no rep to undo"
    r = ask(sub, '{"command": "load_plan", "plan": "missing", "request_id": "l"}', "l")
    assert r["status"] == "error" and "missing" in r["error"]
    r = ask(sub, '{"command": "mark_set_end", "request_id": "m"}', "m")
    assert r["status"] == "error" and "bug in the session" in r["error"]
    # still alive afterwards
    assert ask(sub, '{"command": "next_exercise", "request_id": "n"}', "n")["status"] == "ok"
    validate(sub.snapshot())


def test_retained_commands_are_not_replayed_on_connect(mosquitto, mqtt_collector, make_sink):
    # A retained command (e.g. a badly configured dashboard button) would otherwise run
    # again on every reconnect.
    sub = mqtt_collector(topics=[RESP])
    sub.publish(CMD, '{"command": "stop_session", "request_id": "ret"}', retain=True)
    seen = []
    sink = make_sink(mosquitto.url)
    sink.on_command = seen.append
    r = sub.wait_json(RESP, lambda d: d["status"] == "error")
    assert "retained" in r["error"] and not seen
    sub.publish(CMD, b"", retain=True)  # clear it from the broker


def test_mqtt5_correlation_data_is_echoed(session):
    sink, sub, seen = session
    props = Properties(PacketTypes.PUBLISH)
    props.CorrelationData = b"corr-42"
    sub.publish(CMD, '{"command": "ping"}', properties=props)
    msgs = sub.wait_for(lambda m: any(getattr(x.properties, "CorrelationData", None) == b"corr-42"
                                      for x in m), topic_filter=RESP)
    assert msgs


def test_without_a_session_commands_are_refused(mosquitto, mqtt_collector, make_sink):
    make_sink(mosquitto.url)  # no on_command (like replay)
    sub = mqtt_collector(topics=[RESP])
    r = ask(sub, '{"command": "start_session", "request_id": "x"}', "x")
    assert r["status"] == "error" and "command" in r["error"]


def test_a_slow_handler_does_not_stall_event_delivery(mosquitto, mqtt_collector, make_sink):
    sink = make_sink(mosquitto.url)
    release = threading.Event()
    sink.on_command = lambda cmd: release.wait(30) and None
    sub = mqtt_collector(topics=["repsense/left_thigh/#"])
    sub.publish(CMD, '{"command": "stop_session", "request_id": "slow"}')
    # A flood of bad commands while the handler is stuck is answered or shed, never queued forever.
    for i in range(100):
        sub.client.publish(CMD, b"garbage %d" % i, qos=0)
    tempo = RepTempo(1, 0.0, 1.0, 0.5, 0.5, 0.0, 0.0, "1-0-1-0", 40.0, 80.0, 80.0, 60.0, False)
    for i in range(20):
        sink.handle(Rep(f"q-{i + 1}", i + 1, float(i), 1, "deadlift", tempo, i + 1))
    msgs = sub.wait_for(lambda m: sum(d["type"] == "rep" for d in events_by_id(m).values()) == 20)
    assert sink.wait_idle(5.0)
    release.set()
    sub.wait_json(RESP, lambda d: d["request_id"] == "slow" and d["status"] == "ok")
    assert msgs
