"""Pipeline events → MQTT JSON payloads, and the retained state snapshot.

Every event payload carries ``id`` (unique: ``<session_id>-<seq>``; consumers
de-duplicate on it), ``type``, ``ts`` (ISO 8601 UTC when repsense made it),
``time_s`` (the recording's/sensor's own time base), ``session_id``,
``sensor_id`` and ``gateway_id``.  The JSON Schemas in ``repsense/schemas/``
(``mqtt-*.schema.json``) are the contract; tests validate real messages
against them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from repsense import __version__
from repsense.events import Event, Rep, Rest, SessionEnd, SetEnd, SetStart, Warning

__all__ = [
    "SCHEMA_FOR_KIND",
    "SensorState",
    "dumps",
    "event_kind",
    "event_payload",
    "load_schema",
    "session_start_payload",
    "utc_now_iso",
]

SCHEMA_VERSION = 1

EVENT_KIND: dict[str, str] = {
    "rep": "rep",
    "set_start": "set",
    "set_end": "set",
    "session_start": "session",
    "session_end": "session",
    "warning": "warning",
}
"""Event type → ``events/<kind>`` topic.  ``rest`` is not here: it updates ``state``."""

SCHEMA_FOR_KIND: dict[str, str] = {
    "rep": "mqtt-rep.schema.json",
    "set": "mqtt-set.schema.json",
    "session": "mqtt-session.schema.json",
    "warning": "mqtt-warning.schema.json",
    "state": "mqtt-state.schema.json",
    "availability": "mqtt-availability.schema.json",
    "gateway_state": "mqtt-gateway-state.schema.json",
    "gateway_info": "mqtt-gateway-info.schema.json",
    "command": "mqtt-command.schema.json",
    "command_response": "mqtt-command-response.schema.json",
    "imu": "mqtt-imu.schema.json",
    "ha_discovery": "mqtt-ha-discovery.schema.json",
}
"""Which schema file describes the payload on each kind of topic."""


def load_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) for a topic kind of :data:`SCHEMA_FOR_KIND`."""
    from importlib import resources

    path = resources.files("repsense") / "schemas" / SCHEMA_FOR_KIND[kind]
    return json.loads(path.read_text(encoding="utf-8"))


def utc_now_iso() -> str:
    """Now as ISO 8601 UTC with milliseconds, e.g. ``2026-11-26T18:01:02.345Z``."""
    now = dt.datetime.now(dt.UTC)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (no NaN: they are not JSON)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _r(value: float | None, nd: int = 3) -> float | None:
    return None if value is None else round(float(value), nd)


def event_kind(ev: Event) -> str | None:
    """The ``events/<kind>`` an event goes to, or ``None`` (``rest`` only updates state)."""
    return EVENT_KIND.get(ev.type)


def _common(ev_id: str, ev_type: str, seq: int, time_s: float, session_id: str,
            sensor_id: str, gateway_id: str, ts: str | None) -> dict[str, Any]:
    return {
        "id": ev_id,
        "type": ev_type,
        "seq": seq,
        "ts": ts or utc_now_iso(),
        "time_s": _r(time_s),
        "session_id": session_id,
        "sensor_id": sensor_id,
        "gateway_id": gateway_id,
    }


def event_payload(ev: Event, *, session_id: str, sensor_id: str, gateway_id: str,
                  ts: str | None = None) -> dict[str, Any]:
    """The JSON payload for one pipeline event.

    ``session_id`` is the session id as published (see
    :class:`repsense.publish.mqtt.MqttSink` for how it is made unique); the
    payload ``id`` is ``<session_id>-<seq>``.
    """
    out = _common(f"{session_id}-{ev.seq}", ev.type, ev.seq, ev.time_s, session_id, sensor_id,
                  gateway_id, ts)
    if isinstance(ev, Rep):
        r = ev.rep
        out.update({
            "exercise": ev.exercise, "set": ev.set_index, "rep": ev.reps_in_set,
            "reps_in_set": ev.reps_in_set, "tempo": r.tempo,
            "start_s": _r(r.start_s), "end_s": _r(r.end_s),
            "eccentric_s": _r(r.eccentric_s), "bottom_pause_s": _r(r.bottom_pause_s),
            "concentric_s": _r(r.concentric_s), "top_pause_s": _r(r.top_pause_s),
            "rom_deg": _r(r.rom_deg, 1), "peak_speed_dps": _r(r.peak_speed_dps, 1),
            "concentric_peak_dps": _r(r.concentric_peak_dps, 1),
            "eccentric_peak_dps": _r(r.eccentric_peak_dps, 1),
            "partial": bool(r.partial), "starts_concentric": bool(r.starts_concentric),
        })
    elif isinstance(ev, SetStart):
        out.update({
            "exercise": ev.exercise, "set": ev.set_index, "confidence": _r(ev.confidence),
            "start_s": _r(ev.start_s), "rest_before_s": _r(ev.rest_before_s),
        })
    elif isinstance(ev, SetEnd):
        out.update({
            "exercise": ev.exercise, "set": ev.set_index, "confidence": _r(ev.confidence),
            "start_s": _r(ev.start_s), "end_s": _r(ev.end_s), "reps": len(ev.reps),
            "rest_before_s": _r(ev.rest_before_s),
            "velocity_loss_pct": _r(ev.velocity_loss_pct, 1),
            "rep_detail": [r.to_dict() for r in ev.reps],
            "note": ev.note,
        })
    elif isinstance(ev, SessionEnd):
        out.update({"sets": ev.sets, "total_reps": ev.total_reps,
                    "duration_s": _r(ev.duration_s)})
    elif isinstance(ev, Warning):
        out.update({"code": ev.code, "message": ev.message, "gap_s": _r(ev.gap_s),
                    "lost_samples": ev.lost_samples})
    else:  # future event types: keep everything the event has
        for key, value in ev.to_dict().items():
            out.setdefault(key, value)
    return out


def session_start_payload(*, session_id: str, sensor_id: str, gateway_id: str,
                          exercise: str | None, source: str | None, time_s: float = 0.0,
                          ts: str | None = None) -> dict[str, Any]:
    """``session_start``: sent when a sink opens a session (``seq`` 0, before the first event)."""
    out = _common(f"{session_id}-0", "session_start", 0, time_s, session_id, sensor_id,
                  gateway_id, ts)
    out.update({"exercise": exercise, "source": source, "version": __version__})
    return out


@dataclass
class SensorState:
    """The retained ``<base>/<sensor_id>/state`` snapshot; updated by events and adapters.

    Adapters set link/health fields with
    :meth:`repsense.publish.mqtt.MqttSink.update_state` (``battery_pct``,
    ``rssi_dbm``, ``packet_loss_pct``, ``link``, ``target_reps``,
    ``rest_target_s``, ``plan``, ``plan_step``...).
    """

    sensor_id: str
    gateway_id: str
    session_id: str | None = None
    session_active: bool = False
    exercise: str | None = None
    """The exercise of the current/last set, else the chosen one (``auto`` = recognise)."""
    set: int = 0
    reps_in_set: int = 0
    total_reps: int = 0
    sets_done: int = 0
    in_set: bool = False
    target_reps: int | None = None
    last_tempo: str | None = None
    last_rep_id: str | None = None
    resting: bool = False
    rest_s: float | None = None
    rest_target_s: float | None = None
    rest_remaining_s: float | None = None
    battery_pct: float | None = None
    rssi_dbm: float | None = None
    packet_loss_pct: float | None = None
    link: str = "unknown"
    plan: str | None = None
    plan_step: str | None = None
    time_s: float | None = None
    ts: str | None = None

    UPDATABLE = frozenset({
        "exercise", "target_reps", "rest_target_s", "battery_pct", "rssi_dbm",
        "packet_loss_pct", "link", "plan", "plan_step", "session_active",
    })
    """Fields :meth:`update` accepts from adapters (the rest follow the events)."""

    def apply(self, ev: Event, session_id: str) -> None:
        """Follow one pipeline event."""
        self.session_id = session_id
        self.time_s = _r(ev.time_s)
        self.ts = utc_now_iso()
        if isinstance(ev, SetStart):
            self.session_active = True
            self.set, self.exercise, self.in_set = ev.set_index, ev.exercise, True
            self.reps_in_set, self.resting = 0, False
            self.rest_s = self.rest_remaining_s = None
        elif isinstance(ev, Rep):
            self.session_active = True
            self.set, self.exercise, self.in_set = ev.set_index, ev.exercise, True
            self.reps_in_set = ev.reps_in_set
            self.total_reps += 1
            self.last_tempo = ev.rep.tempo
            self.last_rep_id = f"{session_id}-{ev.seq}"
            self.resting = False
        elif isinstance(ev, SetEnd):
            self.set, self.exercise, self.in_set = ev.set_index, ev.exercise, False
            # The set's final count may differ from the provisional rep events.
            self.total_reps += len(ev.reps) - self.reps_in_set
            self.reps_in_set = len(ev.reps)
            self.sets_done += 1
            self.resting, self.rest_s = True, 0.0
            self._countdown()
        elif isinstance(ev, Rest):
            self.resting, self.rest_s = True, _r(ev.rest_s, 1)
            self._countdown()
        elif isinstance(ev, SessionEnd):
            self.session_active, self.in_set, self.resting = False, False, False
            self.total_reps, self.sets_done = ev.total_reps, ev.sets
            self.rest_s = self.rest_remaining_s = None

    def _countdown(self) -> None:
        if self.rest_target_s is not None and self.rest_s is not None:
            self.rest_remaining_s = round(max(0.0, self.rest_target_s - self.rest_s), 1)
        else:
            self.rest_remaining_s = None

    def update(self, **fields: Any) -> bool:
        """Set adapter-provided fields; ``True`` if anything changed.

        Unknown names raise ``TypeError`` (a programming error).
        """
        bad = set(fields) - self.UPDATABLE
        if bad:
            raise TypeError(f"SensorState.update: unknown field(s) {sorted(bad)}")
        changed = any(getattr(self, k) != v for k, v in fields.items())
        if changed:
            for key, value in fields.items():
                setattr(self, key, value)
            self._countdown()
            self.ts = utc_now_iso()
        return changed

    def to_payload(self) -> dict[str, Any]:
        out = asdict(self)
        out["schema"] = SCHEMA_VERSION
        return out
