"""The MQTT contract without a broker: topics, URLs, payloads vs schemas, commands, outbox."""

from __future__ import annotations

import json
import re
import string

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repsense.errors import InputError
from repsense.events import Rep, RepTempo, Rest, SessionEnd, SetEnd, SetStart, Warning
from repsense.publish.commands import COMMANDS, MAX_COMMAND_BYTES, CommandError, parse_command
from repsense.publish.config import mask_url, parse_mqtt_url
from repsense.publish.discovery import discovery_payload
from repsense.publish.outbox import Outbox, OutboxBusy
from repsense.publish.payloads import (
    SensorState,
    event_kind,
    event_payload,
    session_start_payload,
)
from repsense.publish.topics import Topics, sanitize_base, sanitize_id

TEMPO = RepTempo(1, 1.0, 4.0, 1.0, 2.0, 0.5, 0.0, "2-0-1-1", 60.0, 90.0, 90.0, 45.0, False)
EVENTS = [
    SetStart("s-1", 1, 1.0, 1, "leg_curl", 0.8, 1.0, None),
    Rep("s-2", 2, 4.0, 1, "leg_curl", TEMPO, 1),
    SetEnd("s-3", 3, 20.0, 1, "leg_curl", 0.9, 1.0, 4.0, None, 12.5, (TEMPO,), "ok"),
    Rest("s-4", 4, 21.0, 1.0, 1),
    Warning("s-5", 5, 22.0, "gap", "sensor gap of 1.2 s", gap_s=1.2, lost_samples=60),
    SessionEnd("s-6", 6, 30.0, 1, 1, 30.0),
]


def check(doc, schema):
    jsonschema.validate(doc, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


# -- topics -------------------------------------------------------------------
@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_sanitized_ids_never_carry_wildcards_separators_or_control_chars(raw):
    try:
        out = sanitize_id(raw)
    except InputError:
        return
    assert out and len(out) <= 64
    assert set(out) <= set(string.ascii_letters + string.digits + "._-")


def test_topic_tree_shape_and_sanitising():
    t = Topics.make("Left thigh #2/a+b", "gym-1.floor2", "gym/repsense")
    assert t.sensor_id == "Left_thigh_2_a_b"
    assert t.state == "gym/repsense/Left_thigh_2_a_b/state"
    assert t.events("rep") == "gym/repsense/Left_thigh_2_a_b/events/rep"
    assert t.gateway_state == "gym/repsense/gateway/gym-1.floor2/state"
    assert t.command_response.endswith("/command/response")
    assert t.ha_discovery == "homeassistant/device/repsense_Left_thigh_2_a_b/config"
    for topic in t.retained() + [t.command, t.imu]:
        assert not set(topic) & set("+#\x00\n")
    assert sanitize_base("a/b\x01c#/") == "a/b_c_"
    with pytest.raises(InputError):
        sanitize_base("$SYS")
    with pytest.raises(InputError, match="reserved"):
        Topics.make("gateway", "gw")
    with pytest.raises(InputError):
        Topics.make("///", "gw")


# -- URLs and secrets -----------------------------------------------------------
def test_url_parsing_defaults_and_credentials(tmp_path):
    b = parse_mqtt_url("mqtt://broker")
    assert (b.host, b.port, b.tls, b.username) == ("broker", 1883, False, None)
    b = parse_mqtt_url("mqtts://alice:p%40ss@broker.local")
    assert (b.port, b.tls, b.username, b.password) == (8883, True, "alice", "p@ss")
    assert "p@ss" not in repr(b) and "p@ss" not in b.display()
    b = parse_mqtt_url("mqtt://alice@h:1", password="from-env")
    assert b.password == "from-env"
    assert mask_url("mqtt://u:secret@h:1") == "mqtt://u:****@h:1"


@pytest.mark.parametrize("url", ["http://h", "mqtt://", "mqtt://h:99999", "mqtt://h/x",
                                 "mqtt://:secret@h"])
def test_bad_urls_are_one_line_input_errors_without_the_password(url):
    with pytest.raises(InputError) as err:
        parse_mqtt_url(url)
    assert "secret" not in str(err.value) and "\n" not in str(err.value)


def test_tls_files_need_mqtts_and_must_exist(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    with pytest.raises(InputError, match="mqtts"):
        parse_mqtt_url("mqtt://h", ca_file=ca)
    with pytest.raises(InputError, match="not found"):
        parse_mqtt_url("mqtts://h", ca_file=tmp_path / "nope.pem")
    with pytest.raises(InputError, match="both"):
        parse_mqtt_url("mqtts://h", cert_file=ca)
    assert parse_mqtt_url("mqtts://h", ca_file=ca).ca_file == ca


# -- payloads vs schemas ---------------------------------------------------------
def test_every_event_type_matches_its_schema(schemas):
    kinds = set()
    for ev in EVENTS:
        kind = event_kind(ev)
        if kind is None:
            assert ev.type == "rest"  # rest only updates the state snapshot
            continue
        doc = event_payload(ev, session_id="s-x", sensor_id="left", gateway_id="gw")
        assert doc["id"] == f"s-x-{ev.seq}" and doc["type"] == ev.type
        check(json.loads(json.dumps(doc)), schemas[kind])
        kinds.add(kind)
    assert kinds == {"rep", "set", "session", "warning"}
    start = session_start_payload(session_id="s-x", sensor_id="left", gateway_id="gw",
                                  exercise="auto", source="f.csv")
    check(start, schemas["session"])
    assert start["id"] == "s-x-0"


def test_real_pipeline_events_match_the_schemas(pipeline_events, schemas):
    state = SensorState("left", "gw")
    for ev in pipeline_events:
        state.apply(ev, "sess")
        check(state.to_payload(), schemas["state"])
        kind = event_kind(ev)
        if kind:
            check(event_payload(ev, session_id="sess", sensor_id="left", gateway_id="gw"),
                  schemas[kind])
    reps = sum(e.type == "rep" for e in pipeline_events)
    ends = [e for e in pipeline_events if e.type == "session_end"]
    assert state.total_reps == ends[-1].total_reps and reps >= state.total_reps - 2


def test_rest_countdown_and_adapter_fields(schemas):
    s = SensorState("left", "gw")
    s.update(rest_target_s=90.0, battery_pct=81.0, rssi_dbm=-60.0, packet_loss_pct=0.5,
             link="connected", target_reps=8)
    for ev in EVENTS[:4]:
        s.apply(ev, "sess")
    assert s.resting and s.rest_s == 1.0 and s.rest_remaining_s == 89.0
    check(s.to_payload(), schemas["state"])
    with pytest.raises(TypeError):
        s.update(nonsense=1)


def test_discovery_payload(schemas):
    t = Topics.make("left_thigh", "gw1")
    doc = discovery_payload(t)
    check(doc, schemas["ha_discovery"])
    comps = doc["components"]
    platforms = {c["platform"] for c in comps.values()}
    assert platforms == {"sensor", "event", "select", "button"}
    uids = [c["unique_id"] for c in comps.values()]
    assert len(uids) == len(set(uids)) and all(u.startswith("repsense_left_thigh_") for u in uids)
    eids = [c["default_entity_id"] for c in comps.values()]
    assert len(set(eids)) == len(eids)
    assert all(re.fullmatch(r"(sensor|event|select|button)\.[a-z0-9_]+", e) for e in eids)
    odd = discovery_payload(Topics.make("Knee-2.L", "gw"))["components"]
    assert all(re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", c["default_entity_id"]) for c in odd.values())
    assert {a["topic"] for a in doc["availability"]} == {t.gateway_state, t.availability}
    select = next(c for c in comps.values() if c["platform"] == "select")
    assert "leg_curl" in select["options"] and select["command_topic"] == t.command
    # What a select/button sends is itself a valid command.
    for c in comps.values():
        if c["platform"] == "button":
            parse_command(c["payload_press"].encode())
    parse_command(select["command_template"].replace("{{ value }}", "deadlift").encode())


# -- commands --------------------------------------------------------------------
@pytest.mark.parametrize(("payload", "needle"), [
    (b"\xff\xfe", "UTF-8"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"command": 5}', "not a string"),
    (b'{"command": "explode"}', "unknown command"),
    (b'{"command": "set_exercise"}', "missing"),
    (b'{"command": "set_exercise", "exercise": "squat"}', "exercise"),
    (b'{"command": "set_exercise", "exercise": 3}', "exercise"),
    (b'{"command": "stop_session", "force": true}', "unknown field"),
    (b'{"command": "load_plan", "plan": "../../etc/passwd"}', "plan name"),
    (b'{"command": "ping", "request_id": [1]}', "request_id"),
    (b'{"command": "ping", "x": NaN}', "JSON"),
    (b'{"command": "ping", "pad": "' + b"x" * MAX_COMMAND_BYTES + b'"}', "limit"),
])
def test_bad_commands_are_refused_with_a_reason(payload, needle, schemas):
    with pytest.raises(CommandError) as err:
        parse_command(payload)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_good_commands(schemas):
    for name, (required, _opt) in COMMANDS.items():
        doc = {"command": name, "request_id": f"r-{name}"}
        if "exercise" in required:
            doc["exercise"] = "hip_thrust"
        if "plan" in required:
            doc["plan"] = "hamstrings-glutes-gym"
        check(doc, schemas["command"])
        cmd = parse_command(json.dumps(doc).encode())
        assert cmd.to_dict() == doc


# -- outbox -----------------------------------------------------------------------
def test_outbox_is_durable_bounded_and_exclusive(tmp_path):
    path = tmp_path / "o.sqlite"
    box = Outbox(path, max_rows=3)
    seqs = [box.add("t/a", b"1"), box.add("t/b", b"2"), box.add("t/c", b"3")]
    assert None not in seqs and box.full
    assert box.add("t/d", b"4") is None  # full: refused, not silently overwritten
    with pytest.raises(OutboxBusy, match="another repsense process"):
        Outbox(path)
    assert box.delete([seqs[0]]) == 1 and box.delete([seqs[0]]) == 0
    box.close()
    again = Outbox(path, max_rows=3)
    assert [(r.topic, r.payload) for r in again.pending()] == [("t/b", b"2"), ("t/c", b"3")]
    assert len(again) == 2
    again.close()
