"""Commands that arrive on ``<base>/<sensor_id>/command``: strict parsing and responses.

A command is a JSON object, at most :data:`MAX_COMMAND_BYTES` bytes::

    {"command": "set_exercise", "exercise": "leg_curl", "request_id": "abc"}

Anything else - invalid UTF-8 or JSON, not an object, an unknown command,
unknown or missing fields, wrong types, too long - is answered on
``command/response`` with ``{"status": "error", "error": "<why>", "request_id": ...}``
and goes no further.  Valid commands are handed to the session's handler
(see :class:`repsense.publish.mqtt.MqttSink.on_command`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from repsense.exercises import EXERCISE_IDS
from repsense.publish.payloads import utc_now_iso

__all__ = [
    "COMMANDS",
    "MAX_COMMAND_BYTES",
    "Command",
    "CommandError",
    "parse_command",
    "response_payload",
]

MAX_COMMAND_BYTES = 4096
MAX_REQUEST_ID = 128
_PLAN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# command -> (required fields, optional fields)
COMMANDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "start_session": (frozenset(), frozenset({"exercise", "plan"})),
    "stop_session": (frozenset(), frozenset()),
    "set_exercise": (frozenset({"exercise"}), frozenset()),
    "load_plan": (frozenset({"plan"}), frozenset()),
    "mark_set_end": (frozenset(), frozenset()),
    "next_exercise": (frozenset(), frozenset()),
    "previous_exercise": (frozenset(), frozenset()),
    "undo_last_rep": (frozenset(), frozenset()),
    "keep_exercise": (frozenset(), frozenset()),
    "switch_exercise": (frozenset(), frozenset()),
    "ping": (frozenset(), frozenset()),
}
"""Every command, with its required and optional parameters."""


class CommandError(ValueError):
    """A command that cannot be accepted; ``request_id`` is kept for the response."""

    def __init__(self, message: str, request_id: str | int | None = None,
                 command: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.command = command


@dataclass(frozen=True)
class Command:
    """A validated command: its name, parameters and the caller's ``request_id``."""

    command: str
    params: dict[str, Any] = field(default_factory=dict)
    request_id: str | int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command, **self.params}
        if self.request_id is not None:
            out["request_id"] = self.request_id
        return out


def _check_request_id(value: Any) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CommandError("'request_id' must be a string or an integer")
    if isinstance(value, str) and len(value) > MAX_REQUEST_ID:
        raise CommandError(f"'request_id' is longer than {MAX_REQUEST_ID} characters")
    return value


def parse_command(payload: bytes) -> Command:
    """Validate one command message; raises :class:`CommandError` with a one-line reason."""
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandError(f"payload is {len(payload)} bytes; the limit is {MAX_COMMAND_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("payload is not UTF-8 text") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise CommandError(f"payload is not valid JSON ({_short(exc)})") from None
    if not isinstance(doc, dict):
        raise CommandError("payload must be a JSON object like {\"command\": \"ping\"}")
    request_id = _check_request_id(doc.get("request_id"))
    name = doc.get("command")
    if not isinstance(name, str):
        raise CommandError("'command' is missing or not a string; one of: "
                           + ", ".join(COMMANDS), request_id)
    if name not in COMMANDS:
        raise CommandError(f"unknown command {name[:40]!r}; one of: " + ", ".join(COMMANDS),
                           request_id)
    required, optional = COMMANDS[name]
    params = {k: v for k, v in doc.items() if k not in ("command", "request_id")}
    unknown = sorted(set(params) - required - optional)
    if unknown:
        raise CommandError(f"{name}: unknown field(s) {', '.join(repr(u[:40]) for u in unknown)}",
                           request_id, name)
    missing = sorted(required - set(params))
    if missing:
        raise CommandError(f"{name}: missing field(s) {', '.join(missing)}", request_id, name)
    if "exercise" in params:
        ex = params["exercise"]
        allowed = ("auto", *EXERCISE_IDS)
        if not isinstance(ex, str) or ex not in allowed:
            raise CommandError(f"{name}: 'exercise' must be one of: {', '.join(allowed)}",
                               request_id, name)
    if "plan" in params:
        plan = params["plan"]
        if not isinstance(plan, str) or not _PLAN_NAME.match(plan):
            raise CommandError(f"{name}: 'plan' must be a plan name (letters, digits, . _ -), "
                               "see `repsense plans`", request_id, name)
    return Command(name, params, request_id)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:120]


def response_payload(
    *, status: str, request_id: str | int | None, command: str | None,
    error: str | None = None, result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``command/response`` JSON."""
    out: dict[str, Any] = {
        "status": status,
        "error": error,
        "request_id": request_id,
        "command": command,
        "ts": utc_now_iso(),
    }
    if result is not None:
        out["result"] = result
    return out
