"""Round trips through a real Mosquitto: every published message checked against the schemas."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from repsense.testing.broker import MessageCollector

from .helpers import events_by_id


def test_pipeline_events_round_trip(mosquitto, mqtt_collector, make_sink, pipeline_events,
                                    validate):
    sub = mqtt_collector(topics=["repsense/#", "homeassistant/#"])
    sink = make_sink(mosquitto.url)
    sink.update_state(link="streaming", battery_pct=77.0, rssi_dbm=-58.0, packet_loss_pct=0.0)
    for ev in pipeline_events:
        sink.handle(ev)
    report = sink.close(5.0)
    assert report.pending == 0
    n_reps = sum(e.type == "rep" for e in pipeline_events)
    n_events = sum(e.type != "rest" for e in pipeline_events) + 1  # + session_start
    msgs = sub.wait_for(lambda m: len(events_by_id(m)) >= n_events)
    assert validate(msgs) >= n_events + 5

    events = events_by_id(msgs)
    reps = [d for d in events.values() if d["type"] == "rep"]
    assert len(reps) == n_reps
    # ids are unique and carry the session id + pipeline sequence
    sid = reps[0]["session_id"]
    assert sid.startswith("t-") and all(d["id"] == f"{sid}-{d['seq']}" for d in events.values())
    assert {d["seq"] for d in reps} == {e.seq for e in pipeline_events if e.type == "rep"}
    # events arrive in order on each topic
    rep_seqs = [json.loads(m.payload)["seq"] for m in msgs if m.topic.endswith("/events/rep")]
    assert rep_seqs == sorted(rep_seqs)
    kinds = {d["type"] for d in events.values()}
    assert {"session_start", "set_start", "rep", "set_end", "session_end"} <= kinds
    # rest updates the state snapshot instead of flooding events
    states = [m.json() for m in msgs if m.topic == "repsense/left_thigh/state"]
    assert any(s["resting"] and s["rest_s"] for s in states)
    assert not any(m.topic.endswith("/events/rest") for m in msgs)


def test_retained_topics_describe_the_last_state(mosquitto, make_sink, pipeline_events,
                                                 validate):
    sink = make_sink(mosquitto.url)
    sink.update_state(link="streaming", battery_pct=50.0)
    for ev in pipeline_events:
        sink.handle(ev)
    sink.close(5.0)
    session_end = next(e for e in pipeline_events if e.type == "session_end")
    # A dashboard that connects later sees the retained snapshot only.
    with MessageCollector(mosquitto.url, ["repsense/#", "homeassistant/#"]) as late:
        msgs = late.wait_for(lambda m: len(m) >= 5)
        assert all(m.retain for m in msgs)
        by_topic = {m.topic: m.json() for m in msgs}
        validate(msgs)
    assert by_topic["repsense/gateway/gw1/state"]["state"] == "offline"
    assert by_topic["repsense/gateway/gw1/info"]["sensors"] == ["left_thigh"]
    assert by_topic["repsense/left_thigh/availability"]["state"] == "offline"
    state = by_topic["repsense/left_thigh/state"]
    assert state["total_reps"] == session_end.total_reps and state["battery_pct"] == 50.0
    assert not state["session_active"]
    assert "homeassistant/device/repsense_left_thigh/config" in by_topic


def test_last_will_marks_the_gateway_offline_when_repsense_dies(mosquitto, mqtt_collector,
                                                                tmp_path):
    sub = mqtt_collector(topics=["repsense/gateway/#"])
    code = textwrap.dedent(f"""
        import sys, time
        from repsense.publish.config import ClientTuning, parse_mqtt_url
        from repsense.publish.mqtt import MqttSink
        from repsense.publish.topics import Topics
        sink = MqttSink(parse_mqtt_url({mosquitto.url!r}), Topics.make("s1", "gw-dies"),
                        outbox_path={str(tmp_path / "o.sqlite")!r},
                        tuning=ClientTuning(keepalive_s=1))
        sink.open()
        print("up", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        sub.wait_json("repsense/gateway/gw-dies/state", lambda d: d["state"] == "online")
        proc.kill()  # SIGKILL: no goodbye, the broker publishes the Last Will
        will = sub.wait_json("repsense/gateway/gw-dies/state",
                             lambda d: d["state"] == "offline", timeout_s=15)
        assert will == {"state": "offline", "gateway_id": "gw-dies"}
    finally:
        proc.kill()
        proc.wait()


def test_home_assistant_discovery_and_reannounce(mosquitto, mqtt_collector, make_sink, validate):
    sub = mqtt_collector(topics=["homeassistant/device/#"])
    make_sink(mosquitto.url, sensor_id="right_shank")
    topic = "homeassistant/device/repsense_right_shank/config"
    first = sub.wait_json(topic)
    validate(sub.snapshot())
    assert first["device"]["identifiers"] == ["repsense_right_shank"]
    event = first["components"]["repsense_right_shank_rep_event"]
    assert event["state_topic"] == "repsense/right_shank/events/rep"
    before = len(sub.snapshot(topic))
    # Home Assistant restarts and says so: repsense announces itself again.
    sub.publish("homeassistant/status", b"online")
    sub.wait_for(lambda m: len(m) > before, topic_filter=topic)
    # ...but not for anything else on the status topic.
    sub.publish("homeassistant/status", b"offline")
    sub.publish("homeassistant/status", b"online")
    sub.wait_for(lambda m: len(m) > before + 1, topic_filter=topic)


def test_imu_stream_is_opt_in_and_expires(mosquitto, mqtt_collector, make_sink, recording,
                                          validate):
    from repsense.io.open import open_recording

    sub = mqtt_collector(topics=["repsense/+/imu"])
    sink = make_sink(mosquitto.url, imu=True)
    quiet = make_sink(mosquitto.url, sensor_id="other", gateway_id="gw2")
    for i, chunk in enumerate(open_recording(recording).chunks()):
        sink.handle_samples(chunk)
        quiet.handle_samples(chunk)
        if i > 5:
            break
    msgs = sub.wait_for(lambda m: len(m) >= 1)
    validate(msgs)
    assert {m.topic for m in msgs} == {"repsense/left_thigh/imu"}
    assert msgs[0].qos == 0
    assert getattr(msgs[0].properties, "MessageExpiryInterval", 0) > 0
    doc = msgs[0].json()
    assert doc["n"] == len(doc["t"]) == len(doc["acc_g"]) >= 2


def test_state_updates_are_published_only_when_something_changed(mosquitto, mqtt_collector,
                                                                  make_sink, validate):
    sub = mqtt_collector(topics=["repsense/left_thigh/#", "homeassistant/#"])
    sink = make_sink(mosquitto.url)
    sub.wait_json("homeassistant/device/repsense_left_thigh/config")  # the announce is over
    sink.update_state(link="streaming", battery_pct=90.0)
    sub.wait_json("repsense/left_thigh/state", lambda d: d["battery_pct"] == 90.0)
    before = len(sub.snapshot("repsense/left_thigh/state"))
    for _ in range(20):
        sink.update_state(link="streaming", battery_pct=90.0)  # nothing new
    sink.update_state(battery_pct=89.0, link="reconnecting")
    sub.wait_json("repsense/left_thigh/state", lambda d: d["battery_pct"] == 89.0)
    avail = sub.wait_json("repsense/left_thigh/availability", lambda d: d["link"] == "reconnecting")
    assert avail["state"] == "offline"
    assert len(sub.snapshot("repsense/left_thigh/state")) == before + 1
    validate(sub.snapshot())
