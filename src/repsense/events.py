"""Immutable events handed back by :meth:`repsense.pipeline.Pipeline.push`.

Every event carries ``id`` = ``<session_id>-<seq>`` (``seq`` counts up from 1
within the session) so that consumers can de-duplicate, its ``type`` and
``time_s``: the sample time (recording's own time base) at which it was made.
``to_dict()`` gives the JSON form used by ``analyze``, ``replay`` and MQTT.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class RepTempo:
    """One rep's timing and size, in the tempo contract of ``repsense.analysis/1``.

    Times are seconds in the recording's ``time_s`` base.  ``tempo`` is the
    usual eccentric-pause-concentric-pause string (``"3-1-1-0"``): eccentric,
    bottom pause, concentric, top pause, each rounded to whole seconds.
    ``bottom_pause_s``/``top_pause_s`` that belong to the rest pose are the
    dwell there *before* this rep started (0 for a set's first rep).
    ``starts_concentric`` says which phase the rep's span opens with: the
    concentric one (a curl from the bottom) or the eccentric one (a deadlift's
    live rep, lowering first).  ``peak_speed_dps`` is the rep's peak tilt speed,
    ``concentric_peak_dps``/``eccentric_peak_dps`` each phase's (deg/s): the
    concentric peak is what velocity loss compares (velocity-based training).
    """

    index: int
    start_s: float
    end_s: float
    concentric_s: float
    eccentric_s: float
    top_pause_s: float
    bottom_pause_s: float
    tempo: str
    rom_deg: float
    peak_speed_dps: float
    concentric_peak_dps: float
    eccentric_peak_dps: float
    partial: bool
    starts_concentric: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {k: _round(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Event:
    """Base of all events."""

    type: ClassVar[str] = "event"
    id: str
    seq: int
    time_s: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for key, value in asdict(self).items():
            out[key] = _jsonable(value)
        return out


@dataclass(frozen=True)
class SetStart(Event):
    """A set began (its first rep started at ``start_s``)."""

    type: ClassVar[str] = "set_start"
    set_index: int
    exercise: str
    confidence: float
    start_s: float
    rest_before_s: float | None


@dataclass(frozen=True)
class Rep(Event):
    """A rep is complete.  ``exercise`` is the best guess at the time of the rep."""

    type: ClassVar[str] = "rep"
    set_index: int
    exercise: str
    rep: RepTempo
    reps_in_set: int


@dataclass(frozen=True)
class SetEnd(Event):
    """A set ended after the quiet period; carries the final per-rep details.

    ``reps`` are re-derived with the set's final exercise, so their tempo
    fields may differ from the provisional :class:`Rep` events.
    """

    type: ClassVar[str] = "set_end"
    set_index: int
    exercise: str
    confidence: float
    start_s: float
    end_s: float
    rest_before_s: float | None
    velocity_loss_pct: float | None
    reps: tuple[RepTempo, ...] = field(default_factory=tuple)
    note: str = ""


@dataclass(frozen=True)
class Rest(Event):
    """Rest since the last set ended, sent about once a second while resting."""

    type: ClassVar[str] = "rest"
    rest_s: float
    after_set: int


@dataclass(frozen=True)
class Warning(Event):  # noqa: A001 - the event type name is part of the contract
    """Something the user should know: a sensor gap, lost packets, clipping..."""

    type: ClassVar[str] = "warning"
    code: str
    message: str
    gap_s: float | None = None
    lost_samples: int | None = None


@dataclass(frozen=True)
class SessionEnd(Event):
    """The input ended; totals of the session."""

    type: ClassVar[str] = "session_end"
    sets: int
    total_reps: int
    duration_s: float


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls for cls in (SetStart, Rep, SetEnd, Rest, Warning, SessionEnd)
}
