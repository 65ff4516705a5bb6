"""What a report shows, gathered from a stored session or a recording.

For a session the sets come from its ``summary.json`` (they carry the plan's
targets, the user's undos and exercise switches); for a recording, or when
``--exercise``/``--placement`` ask for another reading of a session, the
samples are analysed again with :func:`repsense.analysis.analyze_recording`,
the same pipeline ``analyze`` uses.

The movement angle is the tilt of the segment against its rest pose:
:class:`repsense.dsp.orientation.GravityEstimator` gives the unit up-vector
in the sensor frame, and the angle is ``degrees(arccos(up · up0))`` with
``up0`` the up-vector at the rest pose just before each set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from repsense.dsp.orientation import GravityEstimator
from repsense.errors import InputError
from repsense.exercises import EXERCISES
from repsense.live.plans import Tempo, parse_tempo

PLOT_RATE_HZ = 25.0
REST_POSE_S = 1.0
"""Seconds before a set's first rep averaged for its rest pose."""


@dataclass
class ReportSet:
    """One set as drawn."""

    index: int
    exercise: str
    label: str
    start_s: float
    end_s: float
    reps: list[dict[str, Any]]
    target_tempo: Tempo | None = None
    target_reps: str | None = None
    velocity_loss_pct: float | None = None
    name: str = ""
    """The exercise as people call it (``label`` adds the set number)."""

    @property
    def starts_concentric(self) -> bool:
        """Do this set's (finished) reps start with the concentric phase?  The reps say
        so themselves (``starts_concentric``); results written before they did go by
        the exercise's table."""
        if self.reps and "starts_concentric" in self.reps[0]:
            return bool(self.reps[0]["starts_concentric"])
        info = EXERCISES.get(self.exercise)
        return info.final_rep_starts_concentric if info else True


@dataclass
class ReportData:
    """Everything the figure needs."""

    title: str
    subtitle: str
    source: str
    t: np.ndarray
    angle: np.ndarray
    sets: list[ReportSet] = field(default_factory=list)
    total_reps: int = 0

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self.t) > 1 else 0.0


def up_vectors(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Times and unit up-vectors of a recording, decimated to about 25 Hz."""
    from repsense.io.open import open_recording

    rec = open_recording(path)
    rate = rec.meta.get("sample_rate_hz")
    est: GravityEstimator | None = None
    step = 1
    index = 0
    ts: list[np.ndarray] = []
    ups: list[np.ndarray] = []
    for chunk in rec.chunks():
        if len(chunk) == 0:
            continue
        if est is None:
            if not rate:
                dt = np.diff(chunk.t[: 513])
                dt = dt[dt > 0]
                rate = 1.0 / float(np.median(dt)) if dt.size else 100.0
            est = GravityEstimator(float(rate))
            step = max(1, int(float(rate) // PLOT_RATE_HZ))
        up = est.push(chunk.acc)
        first = (-index) % step
        index += len(chunk)
        ts.append(chunk.t[first::step])
        ups.append(up[first::step])
    if not ts:
        raise InputError(f"{path}: no samples to draw")
    return np.concatenate(ts), np.concatenate(ups)


def tilt_angle(t: np.ndarray, up: np.ndarray, set_starts: list[float]) -> np.ndarray:
    """Tilt (deg) against the rest pose of the nearest set (whole recording if no sets).

    Each sample is measured against the set whose time span it is closest to,
    with the boundary half-way through the rest between sets; the rest pose
    of a set is the mean up-vector in the second before its first rep.
    """
    if not set_starts:
        refs = [up[0]]
        owner = np.zeros(len(t), dtype=int)
    else:
        refs = []
        for s in set_starts:
            sel = (t >= s - REST_POSE_S) & (t <= s)
            ref = up[sel].mean(axis=0) if sel.any() else up[int(np.searchsorted(t, s)) - 1]
            refs.append(ref / max(float(np.linalg.norm(ref)), 1e-9))
        mids = [(a + b) / 2 for a, b in zip(set_starts[:-1], set_starts[1:], strict=True)]
        owner = np.searchsorted(np.asarray(mids), t) if mids else np.zeros(len(t), dtype=int)
    ref_arr = np.asarray(refs)[owner]
    dot = np.clip(np.einsum("ij,ij->i", up, ref_arr), -1.0, 1.0)
    return np.degrees(np.arccos(dot))


def _sets_from_summary(summary: dict[str, Any]) -> list[ReportSet]:
    out = []
    for s in summary.get("sets", []):
        if s.get("end_s") is None:
            continue
        tempo = None
        if s.get("target_tempo"):
            try:
                tempo = parse_tempo(s["target_tempo"], "summary")
            except InputError:
                tempo = None
        reps = s.get("rep_detail", [])
        label = s.get("name") or s["exercise"]
        if s.get("sets_total"):
            label += f" {s.get('set_number')}/{s['sets_total']}"
        out.append(ReportSet(int(s["index"]), s["exercise"], label, float(s["start_s"]),
                             float(s["end_s"]), reps, tempo, s.get("target_reps"),
                             s.get("velocity_loss_pct"), s.get("name") or s["exercise"]))
    return out


def _sets_from_analysis(result: dict[str, Any]) -> list[ReportSet]:
    out = []
    for s in result["sets"]:
        name = EXERCISES[s["exercise"]].name if s["exercise"] in EXERCISES else s["exercise"]
        out.append(ReportSet(int(s["index"]), s["exercise"], f"{name}", float(s["start_s"]),
                             float(s["end_s"]), s["reps"], None, None, s["velocity_loss_pct"],
                             name))
    return out


def load_report_data(ref: str, exercise: str = "auto", placement: str = "auto",
                     set_gap_s: float | None = None, data_dir: Path | None = None) -> ReportData:
    """Gather a report for ``ref``: a session id / directory, or a recording file.

    Raises
    ------
    InputError
        When ``ref`` is neither a stored session nor a readable recording.
    """
    from repsense.analysis import analyze_recording
    from repsense.live.store import SessionStore

    path = Path(ref).expanduser()
    reanalyse = exercise != "auto" or placement != "auto" or set_gap_s is not None
    is_recording = path.is_file() and path.suffix.lower() in (".csv", ".jsonl", ".raw")
    if is_recording:
        result = analyze_recording(path, exercise, placement, set_gap_s)
        sets = _sets_from_analysis(result)
        samples = path
        title = f"Recording {path.name}"
        subtitle = (f"{result['duration_s'] / 60:.1f} min at {result['sample_rate_hz']:.0f} Hz · "
                    f"{len(sets)} sets · {result['total_reps']} reps")
    else:
        if data_dir is None:
            from repsense.live.config import Config
            from repsense.live.config import data_dir as default_data_dir

            data_dir = default_data_dir(Config())
        store = SessionStore(data_dir)
        try:
            stored = store.load(ref)
        except InputError:
            if path.suffix:
                raise InputError(f"{ref}: no such recording or session; give a .csv/.jsonl "
                                 "recording or a session id from `repsense sessions`") from None
            raise
        samples = stored.samples_path
        if not samples.is_file():
            raise InputError(f"{stored.path}: the session has no samples.csv (it was interrupted "
                             "before any sample arrived); nothing to draw")
        summary = stored.summary
        if reanalyse:
            result = analyze_recording(samples, exercise, placement, set_gap_s)
            sets = _sets_from_analysis(result)
        else:
            sets = _sets_from_summary(summary)
        plan = (summary.get("plan") or {}).get("title")
        title = f"Session {stored.id}" + (f" — {plan}" if plan else "")
        started = summary.get("started_at") or ""
        total = sum(len(s.reps) for s in sets)
        subtitle = (f"{started.replace('T', ' ').replace('Z', ' UTC')} · sensor "
                    f"{summary.get('sensor', '?')} · {len(sets)} sets · {total} reps")
        if summary.get("plan"):
            p = summary["plan"]
            subtitle += f" · plan {p.get('sets_done', 0)}/{p.get('total_sets', 0)} sets"
    t, up = up_vectors(samples)
    angle = tilt_angle(t, up, [s.start_s for s in sets])
    return ReportData(title, subtitle, str(samples), t, angle, sets,
                      sum(len(s.reps) for s in sets))
