"""Console event sink: one readable line per event, for ``replay`` and ``live --plain``."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from repsense.events import Event, Rep, Rest, SessionEnd, SetEnd, SetStart, Warning
from repsense.exercises import EXERCISES


def format_event(ev: Event) -> str | None:
    """The line shown for an event, or ``None`` for events not worth a line."""
    stamp = f"[{ev.time_s:8.1f} s]"
    if isinstance(ev, Rep):
        r = ev.rep
        flag = "  (partial)" if r.partial else ""
        return (
            f"{stamp} set {ev.set_index} rep {ev.reps_in_set}: tempo {r.tempo}  "
            f"eccentric {r.eccentric_s:.1f} s, concentric {r.concentric_s:.1f} s, "
            f"pauses {r.bottom_pause_s:.1f}/{r.top_pause_s:.1f} s, "
            f"ROM {r.rom_deg:.0f}°, {r.peak_speed_dps:.0f}°/s{flag}"
        )
    if isinstance(ev, SetStart):
        rest = "" if ev.rest_before_s is None else f" after {ev.rest_before_s:.0f} s rest"
        return f"{stamp} set {ev.set_index} started: {EXERCISES[ev.exercise].name}{rest}"
    if isinstance(ev, SetEnd):
        vl = "" if ev.velocity_loss_pct is None else f", velocity loss {ev.velocity_loss_pct:.0f}%"
        note = f" — {ev.note}" if ev.note else ""
        return (
            f"{stamp} set {ev.set_index} done: {len(ev.reps)} reps of "
            f"{EXERCISES[ev.exercise].name}{vl}{note}"
        )
    if isinstance(ev, Rest):
        return f"{stamp} resting {ev.rest_s:.0f} s" if round(ev.rest_s) % 15 == 0 else None
    if isinstance(ev, Warning):
        return f"{stamp} warning: {ev.message}"
    if isinstance(ev, SessionEnd):
        return (f"{stamp} session over: {ev.sets} sets, {ev.total_reps} reps "
                f"in {ev.duration_s:.0f} s")
    return None


class ConsoleSink:
    """Print events as lines (``json=True``: one JSON object per event)."""

    def __init__(self, out: TextIO | None = None, json_lines: bool = False) -> None:
        self.out = out or sys.stdout
        self.json_lines = json_lines

    def handle(self, ev: Event) -> None:
        if self.json_lines:
            line: str | None = json.dumps(ev.to_dict())
        else:
            line = format_event(ev)
        if line is not None:
            self.out.write(line + "\n")
            self.out.flush()

    def close(self, timeout_s: float = 0.0) -> None:
        self.out.flush()
