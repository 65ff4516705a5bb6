"""Home Assistant MQTT discovery: one device-based config message per sensor.

Published retained on ``homeassistant/device/repsense_<sensor_id>/config``
(HA 2024.11+ device discovery) whenever repsense connects and again whenever
Home Assistant announces ``online`` on ``homeassistant/status``.  Entities
are available only while both the gateway (``.../gateway/<id>/state``) and the
sensor (``.../<sensor_id>/availability``) say ``online``.

To remove the device from Home Assistant, publish an empty retained message
to the config topic (``mosquitto_pub -r -n -t homeassistant/device/repsense_ID/config``).
"""

from __future__ import annotations

import re
from typing import Any

from repsense import __version__
from repsense.exercises import EXERCISE_IDS
from repsense.publish.topics import Topics

__all__ = ["discovery_payload"]

_ENTITY_BAD = re.compile(r"[^a-z0-9_]")
_ORIGIN = {"name": "repsense", "sw_version": __version__}


def _sensor(uid: str, name: str, template: str, **extra: Any) -> dict[str, Any]:
    return {"platform": "sensor", "unique_id": uid, "name": name, "value_template": template,
            **extra}


def discovery_payload(topics: Topics) -> dict[str, Any]:
    """The device discovery JSON for one sensor (see module docs)."""
    uid = topics.ha_object_id
    state = topics.state
    cmd = topics.command

    def button(key: str, name: str, command: str, icon: str) -> dict[str, Any]:
        return {"platform": "button", "unique_id": f"{uid}_{key}", "name": name,
                "command_topic": cmd, "payload_press": f'{{"command":"{command}"}}', "icon": icon}

    components: dict[str, Any] = {
        f"{uid}_reps": _sensor(f"{uid}_reps", "Reps in set", "{{ value_json.reps_in_set }}",
                               state_topic=state, state_class="measurement", icon="mdi:counter"),
        f"{uid}_total_reps": _sensor(f"{uid}_total_reps", "Reps in session",
                                     "{{ value_json.total_reps }}", state_topic=state,
                                     state_class="measurement", icon="mdi:sigma"),
        f"{uid}_set": _sensor(f"{uid}_set", "Set", "{{ value_json.set }}", state_topic=state,
                              icon="mdi:format-list-numbered"),
        f"{uid}_target": _sensor(f"{uid}_target", "Target reps",
                                 "{{ value_json.target_reps }}", state_topic=state,
                                 icon="mdi:bullseye-arrow"),
        f"{uid}_exercise": _sensor(f"{uid}_exercise", "Exercise",
                                   "{{ value_json.exercise or 'auto' }}", state_topic=state,
                                   icon="mdi:weight-lifter"),
        f"{uid}_tempo": _sensor(f"{uid}_tempo", "Last rep tempo",
                                "{{ value_json.last_tempo or '' }}", state_topic=state,
                                icon="mdi:metronome"),
        f"{uid}_rest": _sensor(f"{uid}_rest", "Rest", "{{ value_json.rest_s or 0 }}",
                               state_topic=state, device_class="duration",
                               unit_of_measurement="s", icon="mdi:timer-sand"),
        f"{uid}_rest_left": _sensor(f"{uid}_rest_left", "Rest left",
                                    "{{ value_json.rest_remaining_s or 0 }}", state_topic=state,
                                    device_class="duration", unit_of_measurement="s",
                                    icon="mdi:timer-outline"),
        f"{uid}_battery": _sensor(f"{uid}_battery", "Battery", "{{ value_json.battery_pct }}",
                                  state_topic=state, device_class="battery",
                                  unit_of_measurement="%", state_class="measurement",
                                  entity_category="diagnostic"),
        f"{uid}_rssi": _sensor(f"{uid}_rssi", "Signal", "{{ value_json.rssi_dbm }}",
                               state_topic=state, device_class="signal_strength",
                               unit_of_measurement="dBm", state_class="measurement",
                               entity_category="diagnostic", enabled_by_default=False),
        f"{uid}_packet_loss": _sensor(f"{uid}_packet_loss", "Packet loss",
                                      "{{ value_json.packet_loss_pct }}", state_topic=state,
                                      unit_of_measurement="%", state_class="measurement",
                                      entity_category="diagnostic"),
        f"{uid}_link": _sensor(f"{uid}_link", "Link", "{{ value_json.link }}", state_topic=state,
                               entity_category="diagnostic", icon="mdi:bluetooth"),
        f"{uid}_rep_event": {
            "platform": "event", "unique_id": f"{uid}_rep_event", "name": "Rep",
            "state_topic": topics.events("rep"), "event_types": ["rep"],
            "value_template": (
                "{{ {'event_type': value_json.type, 'id': value_json.id, "
                "'exercise': value_json.exercise, 'set': value_json.set, "
                "'rep': value_json.rep, 'tempo': value_json.tempo} | to_json }}"
            ),
            "icon": "mdi:arm-flex",
        },
        f"{uid}_set_event": {
            "platform": "event", "unique_id": f"{uid}_set_event", "name": "Set",
            "state_topic": topics.events("set"), "event_types": ["set_start", "set_end"],
            "value_template": (
                "{{ {'event_type': value_json.type, 'id': value_json.id, "
                "'exercise': value_json.exercise, 'set': value_json.set} | to_json }}"
            ),
        },
        f"{uid}_exercise_select": {
            "platform": "select", "unique_id": f"{uid}_exercise_select", "name": "Exercise mode",
            "command_topic": cmd, "options": ["auto", *EXERCISE_IDS],
            "command_template": '{"command":"set_exercise","exercise":"{{ value }}"}',
            "state_topic": state, "value_template": "{{ value_json.exercise or 'auto' }}",
            "icon": "mdi:dumbbell",
        },
        f"{uid}_start": button("start", "Start session", "start_session", "mdi:play"),
        f"{uid}_stop": button("stop", "Stop session", "stop_session", "mdi:stop"),
        f"{uid}_end_set": button("end_set", "End set", "mark_set_end", "mdi:flag-checkered"),
        f"{uid}_undo": button("undo", "Undo last rep", "undo_last_rep", "mdi:undo"),
        f"{uid}_next": button("next", "Next exercise", "next_exercise", "mdi:skip-next"),
    }
    for comp in components.values():
        # A predictable entity id for automations (HA 2025.11+; object_id is gone in 2026.4).
        comp["default_entity_id"] = f"{comp['platform']}." + _ENTITY_BAD.sub(
            "_", comp["unique_id"].lower())
    return {
        "device": {
            "identifiers": [uid],
            "name": f"repsense {topics.sensor_id}",
            "manufacturer": "repsense",
            "model": "leg-worn IMU rep counter",
            "sw_version": __version__,
        },
        "origin": _ORIGIN,
        "availability": [
            {"topic": topics.gateway_state, "value_template": "{{ value_json.state }}",
             "payload_available": "online", "payload_not_available": "offline"},
            {"topic": topics.availability, "value_template": "{{ value_json.state }}",
             "payload_available": "online", "payload_not_available": "offline"},
        ],
        "availability_mode": "all",
        "qos": 1,
        "components": components,
    }
