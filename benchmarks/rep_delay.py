"""When each finished rep was first shown: the delay from its end to its live ``rep`` event.

A rep should be on the screen within 0.3 s of the movement's end.  Most are:
the detector closes a rep on entering the rest zone.  Some wait on purpose (a
small or quick first rep waits for an alike one before it opens a set; a lone
rep that snapped back waits 2 s for walking), and some were only found in
``set_end`` (a rep found inside a longer movement, a partial pull from the
floor, before the set had reps enough to judge it by).  This runs every
recording in the given directories through the pipeline (``--exercise auto``,
as ``analyze`` does) and pairs each rep of every ``set_end`` with the first
live ``rep`` event that ended at the same moment (within 0.5 s; a deadlift's
finished rep, which runs from the pull to the bar back down, with the live rep
that ended at its lockout).  A rep with no such event was first shown by its
``set_end``: its delay is then the ``set_end``'s time.  Times are signal time,
so this is the algorithmic delay alone (no batching or transport; see
``latency.py`` for those).

A rep found when the detector runs its last seconds again from a new rest pose
(after a change of posture, or after walking) carries the time of the sample it
ended at in that re-run, earlier than the moment it was shown.  So the samples go
in 0.1 s at a time, and a rep counts as shown no earlier than the first sample of
the push that returned it: within 0.1 s of when it was shown, and the same as its
own time for every rep found as the samples came.

With ``--labelled`` the delay is measured from the end of the labelled rep
instead (the sidecar's ``rep_detail`` or ``rep_bounds_s``; each finished rep
paired with the labelled rep it overlaps most, unpaired ones left out): where
the rep's end as found is early or late, this is the delay a lifter sees.

Usage::

    python benchmarks/rep_delay.py recordings /tmp/fresh11 [--json] [--list 1.0]
    python benchmarks/rep_delay.py --labelled /tmp/real-squats/thigh
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, emit, machine_info, set_rep_bounds, table  # noqa: E402
from repsense.analysis import feed, open_recording, pipeline_for, source_items  # noqa: E402
from repsense.events import Event, Rep, SetEnd  # noqa: E402
from repsense.pipeline import Pipeline  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402

MATCH_S = 0.5
"""A live rep and a finished one are the same rep when they end this close."""
PUSH_S = 0.1
"""Seconds of samples per push (see the module's docstring)."""


def _shown(source: Any, pipeline: Pipeline) -> list[tuple[Event, float]]:
    """Every event of a recording with when it was shown at the earliest: its own time,
    or the first sample of the push that returned it if that is later."""
    out: list[tuple[Event, float]] = []
    first = 0.0
    for item in source_items(source):
        if not isinstance(item, SampleChunk) or len(item) == 0:
            out += [(ev, max(ev.time_s, first)) for ev in feed(pipeline, item)]
            continue
        t = item.t
        cuts = np.searchsorted(t, np.arange(t[0], t[-1], PUSH_S)[1:]).tolist()
        for a, b in zip([0, *cuts], [*cuts, len(item)], strict=True):
            if b > a:
                first = float(t[a])
                out += [(ev, max(ev.time_s, first)) for ev in feed(pipeline, item.slice(a, b))]
    return out + [(ev, ev.time_s) for ev in pipeline.finish()]


def _labelled_end(start: float, end: float, labels: list[tuple[float, float]]) -> float | None:
    """The end of the labelled rep that ``start``-``end`` overlaps most (``None``: none)."""
    overlaps = [min(end, b) - max(start, a) for a, b in labels]
    if not overlaps or max(overlaps) <= 0.0:
        return None
    return labels[int(np.argmax(overlaps))][1]


def rep_delays(path: Path, labelled: bool = False) -> list[dict[str, Any]]:
    """One row per finished rep of ``path``: how it was first shown, and how late (from
    its end as found, or with ``labelled`` from its labelled rep's end)."""
    source = open_recording(path)
    labels = [b for s in set_rep_bounds(source.meta) for b in s] if labelled else []
    events = _shown(source, pipeline_for(source))
    live: dict[int, list[tuple[Rep, float]]] = {}
    for ev, when in events:
        if isinstance(ev, Rep):
            live.setdefault(ev.set_index, []).append((ev, when))
    rows = []
    for ev, when in events:
        if not isinstance(ev, SetEnd):
            continue
        standing = "standing up" in ev.note
        for rep in ev.reps:
            end = rep.end_s
            if ev.exercise == "deadlift" and standing and rep.starts_concentric:
                end = rep.start_s + rep.concentric_s  # shown live at its lockout
            shown = [w for r, w in live.get(ev.set_index, [])
                     if abs(r.rep.end_s - end) < MATCH_S]
            if labelled:
                paired = _labelled_end(rep.start_s, rep.end_s, labels)
                if paired is None:
                    continue
                end = paired
            rows.append({"file": path.name, "set": ev.set_index, "rep": rep.index,
                         "exercise": ev.exercise, "shown_by": "rep" if shown else "set_end",
                         "delay_s": (min(shown) if shown else when) - end})
    return rows


def summary(group: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, p90 and the counts over 0.3, 1 and 5 s for one group of reps."""
    d = np.array([r["delay_s"] for r in rows])
    if d.size == 0:
        return {"group": group, "reps": 0}
    return {
        "group": group, "reps": int(d.size),
        "median_s": float(np.median(d)), "p90_s": float(np.percentile(d, 90)),
        "over_0.3_s": int((d > 0.3).sum()), "over_1_s": int((d > 1.0).sum()),
        "over_5_s": int((d > 5.0).sum()),
        "only_in_set_end": sum(r["shown_by"] == "set_end" for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dirs", nargs="+", type=Path, help="directories of recordings")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--list", type=float, default=None, metavar="S",
                   help="also list every rep shown more than S seconds late")
    p.add_argument("--labelled", action="store_true",
                   help="measure from the end of the labelled rep each rep overlaps most")
    args = p.parse_args(argv)
    groups, every = [], []
    for d in args.dirs:
        rows = [row for f in sorted(d.glob("*.csv")) for row in rep_delays(f, args.labelled)]
        groups.append(summary(str(d), rows))
        every += [{**r, "group": str(d)} for r in rows]
    late = [r for r in every if args.list is not None and r["delay_s"] > args.list]
    cols = ["group", "reps", "median_s", "p90_s", "over_0.3_s", "over_1_s", "over_5_s",
            "only_in_set_end"]
    what = "its labelled end" if args.labelled else "a rep's end"
    text = table(groups, cols, f"Delay from {what} to its first showing (signal time, s)")
    if late:
        text += "\n\n" + table(late, ["file", "set", "rep", "exercise", "shown_by", "delay_s"],
                               f"Reps shown more than {args.list:g} s late")
    emit({"benchmark": "rep_delay", "command": command_line(), "machine": machine_info(),
          "groups": groups, "late": late}, args.json, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
