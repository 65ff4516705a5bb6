"""The plan-following training session: a plain state object, no I/O, no clock.

:class:`LiveSession` is fed three things by the runner and answers with
:class:`Notice` objects (what to show or say) and :class:`Request` objects
(what the runner must tell the pipeline):

* pipeline events (:meth:`LiveSession.feed`): set start, reps, set end, warnings;
* recognition results (:meth:`LiveSession.recognized`): what a second, ``auto``
  pipeline thinks the set was, to notice a movement that does not match the plan;
* user actions (:meth:`LiveSession.act`) from keys or MQTT commands:
  ``next``, ``previous``, ``undo``, ``end_set``, ``end_session``, ``keep``,
  ``switch`` and ``exercise:<id>``;
* the passing of sample time (:meth:`LiveSession.tick`) for the rest countdown.

All times are the sensor's sample time, so a sped-up simulation behaves
exactly like a real session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from repsense.events import Event, Rep, RepTempo, SessionEnd, SetEnd, SetStart, Warning
from repsense.exercises import EXERCISES
from repsense.live.plans import Plan, PlanStep, Tempo
from repsense.reps.tempo import tempo_string, velocity_loss_pct

MIN_SET_ROM_DEG = 10.0
"""A "set" whose reps move the segment less than this (median) is walking or fidgeting: no
exercise repsense counts has a range of motion that small."""

MISMATCH_MIN_CONFIDENCE = 0.6
"""Recognition must be at least this sure before the session asks about a mismatch."""

ACTIONS = ("next", "previous", "undo", "end_set", "end_session", "keep", "switch")
"""User actions besides ``exercise:<id>``."""


@dataclass(frozen=True)
class Notice:
    """Something to show (view), print (``--plain``) or publish.

    ``kind`` is one of ``set_started``, ``rep``, ``undo``, ``target_reached``,
    ``set_ended``, ``set_updated``, ``stray``, ``rest_over``, ``mismatch``, ``switched``,
    ``moved``, ``plan_done``, ``warning``, ``info``, ``session_end``.
    """

    kind: str
    time_s: float
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "notice", "kind": self.kind, "time_s": round(self.time_s, 3),
                "message": self.message, **self.data}


@dataclass(frozen=True)
class Request:
    """Something the runner must do to the pipeline: ``end_set`` or ``set_exercise``."""

    kind: str
    exercise: str | None = None


@dataclass
class SetRecord:
    """One set as done, with what the plan wanted."""

    index: int
    """1-based set number in the session."""
    exercise: str
    name: str
    step: int | None
    """Plan step this set fulfils; ``None`` for a set outside the plan."""
    set_number: int
    sets_total: int | None
    target: tuple[int, int] | None
    tempo: Tempo | None
    pipeline_set: int
    start_s: float
    end_s: float | None = None
    reps: list[RepTempo] = field(default_factory=list)
    undone_at: list[float] = field(default_factory=list)
    """When each rep the user undid ended live (its ``rep`` event's end)."""
    velocity_loss_pct: float | None = None
    detected: str | None = None
    confidence: float | None = None
    rest_before_s: float | None = None
    ended_by: str | None = None
    """``pipeline`` (quiet period), ``user`` (end set) or ``session_end``."""
    asked: bool = False
    switched_from: str | None = None

    @property
    def count(self) -> int:
        return len(self.reps)

    @property
    def done(self) -> bool:
        return self.end_s is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "exercise": self.exercise,
            "name": self.name,
            "plan_step": self.step,
            "set_number": self.set_number,
            "sets_total": self.sets_total,
            "target_reps": None if self.target is None else _range_text(self.target),
            "target_tempo": self.tempo.text if self.tempo else None,
            "reps": self.count,
            "start_s": round(self.start_s, 3),
            "end_s": None if self.end_s is None else round(self.end_s, 3),
            "rest_before_s": None if self.rest_before_s is None else round(self.rest_before_s, 1),
            "velocity_loss_pct": None if self.velocity_loss_pct is None
            else round(self.velocity_loss_pct, 1),
            "detected_exercise": self.detected,
            "confidence": self.confidence,
            "switched_from": self.switched_from,
            "ended_by": self.ended_by,
            "undone_reps": len(self.undone_at),
            "rep_detail": [
                {**r.to_dict(),
                 "cues": list(tempo_cues(r, self.tempo))}
                for r in self.reps
            ],
        }


@dataclass
class RestState:
    """The rest after a set."""

    start_s: float
    target_s: float | None
    """What the plan asks for; ``None`` without a plan."""
    over: bool = False


def _range_text(r: tuple[int, int]) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def exercise_name(ex_id: str) -> str:
    """People's name of an exercise id."""
    info = EXERCISES.get(ex_id)
    return info.name if info else ex_id


# ------------------------------------------------------------------ tempo cues


def _starts_concentric(exercise: str, final: bool) -> bool:
    """Does a rep of ``exercise`` start with its concentric phase, as the exercise's table
    has it?  ``final``: a rep from ``set_end`` (``ExerciseInfo.final_rep_starts_concentric``),
    else a live one.  A rep at hand says so itself (``RepTempo.starts_concentric``: a
    generic set's concentric is the way that lifted the segment, a deadlift's finished
    rep runs from the pull unless its set never stood up)."""
    info = EXERCISES.get(exercise)
    if info is None:
        return True
    return info.final_rep_starts_concentric if final else info.away_is_concentric


def tempo_cues(rep: RepTempo, target: Tempo | None) -> tuple[str, ...]:
    """Plain coaching cues when a rep's tempo is off its target, most important first.

    Tolerances are loose on purpose (people count seconds in their head): a
    phase is "off" when it misses the target by more than max(0.6 s, 30 %).
    A pause that belongs to the rest pose is not judged on the first rep of a
    set, where it cannot be measured; which pause that is, the rep's own layout
    says (``RepTempo.starts_concentric``: a deadlift's finished rep starts with the
    pull, its live one with the lowering).
    """
    if target is None or rep.partial:
        return ()
    cues: list[str] = []

    def off(actual: float, want: float) -> int:
        tol = max(0.6, 0.3 * want)
        if actual < want - tol:
            return -1
        if actual > want + tol:
            return 1
        return 0

    away_is_conc = rep.starts_concentric
    ecc = off(rep.eccentric_s, target.eccentric_s)
    if ecc < 0:
        cues.append(f"lower slower: {target.eccentric_s:g} s eccentric")
    elif ecc > 0 and target.eccentric_s > 0:
        cues.append(f"lower a bit faster: {target.eccentric_s:g} s eccentric")
    conc = off(rep.concentric_s, target.concentric_s)
    if conc > 0:
        cues.append(f"lift faster: {target.concentric_s:g} s up")
    elif conc < 0:
        cues.append(f"lift slower: {target.concentric_s:g} s up")
    # The near pause (at the rest pose) is unknown for a set's first rep.
    top_measurable = rep.index > 1 or away_is_conc
    bottom_measurable = rep.index > 1 or not away_is_conc
    if top_measurable and target.top_pause_s >= 1 and off(rep.top_pause_s, target.top_pause_s) < 0:
        cues.append(f"pause at the top: {target.top_pause_s:g} s")
    if (bottom_measurable and target.bottom_pause_s >= 1
            and off(rep.bottom_pause_s, target.bottom_pause_s) < 0):
        cues.append(f"pause at the bottom: {target.bottom_pause_s:g} s")
    return tuple(cues)


def remap_rep(rep: RepTempo, to_ex: str, final: bool = False) -> RepTempo:
    """Re-read a rep's phases for another exercise (away = concentric or eccentric).

    The rep says how it is laid out (``RepTempo.starts_concentric``); ``final``: lay it
    out as ``to_ex``'s reps from ``set_end`` are
    (``ExerciseInfo.final_rep_starts_concentric``), not as its live ``rep`` events.
    """
    dst = _starts_concentric(to_ex, final)
    if rep.starts_concentric == dst:
        return rep
    ecc, conc = rep.concentric_s, rep.eccentric_s
    top, bottom = rep.bottom_pause_s, rep.top_pause_s
    return replace(rep, eccentric_s=ecc, concentric_s=conc, top_pause_s=top,
                   bottom_pause_s=bottom, tempo=tempo_string(ecc, bottom, conc, top),
                   concentric_peak_dps=rep.eccentric_peak_dps,
                   eccentric_peak_dps=rep.concentric_peak_dps, starts_concentric=dst)


def _final_rep_at(reps: Sequence[RepTempo], t: float) -> int:
    """Index of the finished rep that a live rep ending at ``t`` became.

    Usually the same excursion, ending at ``t``; a deadlift's finished rep runs
    from the pull that ended at ``t`` to the bar back down, so it is the rep
    whose span holds ``t`` (the one before it ended before that pull began).
    """
    return min(range(len(reps)), key=lambda i: (
        not reps[i].start_s - 1e-6 <= t <= reps[i].end_s + 1e-6, abs(reps[i].end_s - t)))


# ------------------------------------------------------------------ the session


class LiveSession:
    """Follows a plan (or just counts) from pipeline events and user actions.

    Parameters
    ----------
    plan
        The plan to follow, or ``None`` for free training.
    exercise
        Exercise without a plan (``auto`` = whatever the pipeline says).
    """

    def __init__(self, plan: Plan | None = None, exercise: str = "auto") -> None:
        self.plan = plan
        self.exercise = exercise
        self.sets: list[SetRecord] = []
        self.current: SetRecord | None = None
        self.rest: RestState | None = None
        self.pointer: int | None = 0 if plan and plan.steps else None
        self.done_steps: set[int] = set()
        self.skipped_steps: set[int] = set()
        self._user_ending: SetRecord | None = None
        self.question: SetRecord | None = None
        """The set the user is asked about (``mismatch``), until answered or the next set."""
        self.question_text = ""
        self.finished = False
        self.finish_reason = ""
        self.now_s = 0.0
        self.warnings: list[Warning] = []
        self.stray: list[SetRecord] = []
        """Lone movements the pipeline called a set but too short to be one (not counted)."""
        self._rest_before_current: RestState | None = None
        self.requests: list[Request] = []
        self._by_pipeline: dict[int, SetRecord] = {}
        self._pipeline_exercise: str | None = None
        self._request_exercise()

    # ----------------------------------------------------------- queries

    @property
    def step(self) -> PlanStep | None:
        """The plan step expected next (or in progress)."""
        if self.plan is None or self.pointer is None:
            return None
        return self.plan.steps[self.pointer]

    @property
    def expected_exercise(self) -> str:
        step = self.step
        return step.exercise.id if step else self.exercise

    @property
    def total_reps(self) -> int:
        return sum(s.count for s in self.sets)

    def rest_remaining(self) -> float | None:
        """Seconds of planned rest left (negative once over); ``None`` when not resting."""
        if self.rest is None or self.rest.target_s is None:
            return None
        return self.rest.target_s - (self.now_s - self.rest.start_s)

    def rest_elapsed(self) -> float | None:
        return None if self.rest is None else self.now_s - self.rest.start_s

    def describe_step(self, step: PlanStep | None) -> str:
        if step is None or self.plan is None:
            return exercise_name(self.exercise) if self.exercise != "auto" else "any exercise"
        e = step.exercise
        return f"{e.name} set {step.set_number}/{e.sets} ({e.reps_text} reps)"

    # ----------------------------------------------------------- inputs

    def tick(self, now_s: float) -> list[Notice]:
        """Sample time has reached ``now_s``: ring when the planned rest is over."""
        self.now_s = max(self.now_s, now_s)
        rest = self.rest
        if rest is None or rest.over or rest.target_s is None or self.finished:
            return []
        if self.now_s - rest.start_s >= rest.target_s:
            rest.over = True
            return [Notice("rest_over", self.now_s,
                           f"rest over — go: {self.describe_step(self.step)}",
                           {"bell": True})]
        return []

    def feed(self, event: Event) -> list[Notice]:
        """Take one pipeline event."""
        self.now_s = max(self.now_s, event.time_s)
        if isinstance(event, SetStart):
            return self._on_set_start(event)
        if isinstance(event, Rep):
            return self._on_rep(event)
        if isinstance(event, SetEnd):
            return self._on_set_end(event)
        if isinstance(event, Warning):
            self.warnings.append(event)
            return [Notice("warning", event.time_s, event.message, {"code": event.code})]
        if isinstance(event, SessionEnd):
            out = []
            if not self.finished:
                self.finished = True
                self.finish_reason = self.finish_reason or "input ended"
                out.append(Notice("session_end", event.time_s,
                                  f"session over ({self.finish_reason}): {self._totals_text()}"))
            return out
        return []

    def recognized(self, start_s: float, end_s: float, exercise: str,
                   confidence: float) -> list[Notice]:
        """What recognition made of the movement between ``start_s`` and ``end_s``.

        Asks (a ``mismatch`` notice) when it is sure of an exercise of another
        family than the plan expects; the user answers ``keep`` or ``switch``.
        """
        rec = self._record_at(start_s, end_s)
        if rec is None:
            return []
        rec.detected, rec.confidence = exercise, round(float(confidence), 3)
        planned = rec.exercise
        if (self.finished or rec.asked or exercise in ("generic", planned) or planned == "generic"
                or confidence < MISMATCH_MIN_CONFIDENCE or self.plan is None):
            return []
        if EXERCISES[exercise].family == EXERCISES[planned].family:
            return []  # hinge vs hinge cannot be told apart reliably: do not nag
        rec.asked = True
        self.question = rec
        self.question_text = (
            f"set {rec.index} looks like {exercise_name(exercise)} ({confidence:.0%}), the plan "
            f"says {rec.name} — keep the plan (k) or switch to {exercise_name(exercise)} (s)?")
        return [Notice(
            "mismatch", self.now_s, self.question_text,
            {"set": rec.index, "planned": planned, "detected": exercise,
             "confidence": round(float(confidence), 3)},
        )]

    def act(self, action: str) -> list[Notice]:
        """A user action: ``next``, ``previous``, ``undo``, ``end_set``, ``end_session``,
        ``keep``, ``switch`` or ``exercise:<id>``.  Unknown actions give an ``info`` notice.
        """
        if self.finished:
            return [Notice("info", self.now_s, "the session has ended")]
        if action == "undo":
            return self._undo()
        if action == "end_set":
            if self.current is None:
                return [Notice("info", self.now_s, "no set in progress to end")]
            self.requests.append(Request("end_set"))
            self._user_ending = self.current
            return [Notice("info", self.now_s, "ending the set")]
        if action == "end_session":
            self.finished = True
            self.finish_reason = "ended by user"
            if self.current is not None:
                self.requests.append(Request("end_set"))
            return [Notice("session_end", self.now_s, "session ended — " + self._totals_text())]
        if action in ("next", "previous"):
            return self._move(+1 if action == "next" else -1)
        if action == "keep":
            if self.question is None:
                return [Notice("info", self.now_s, "nothing to answer")]
            rec, self.question = self.question, None
            return [Notice("info", self.now_s, f"kept set {rec.index} as {rec.name}")]
        if action == "switch":
            if self.question is None or self.question.detected is None:
                return [Notice("info", self.now_s, "nothing to answer")]
            rec, self.question = self.question, None
            return self._switch(rec, rec.detected or rec.exercise)
        if action.startswith("exercise:"):
            ex = action.split(":", 1)[1]
            if ex not in EXERCISES:
                return [Notice("info", self.now_s, f"unknown exercise '{ex}'")]
            return self._choose(ex)
        return [Notice("info", self.now_s, f"unknown action '{action}'")]

    # ----------------------------------------------------------- pipeline events

    def _on_set_start(self, ev: SetStart) -> list[Notice]:
        self._open_record(ev.set_index, ev.start_s, ev.rest_before_s)
        return []  # announced once it has enough reps to be a set (see _on_rep)

    def _started_notice(self, rec: SetRecord, time_s: float) -> Notice:
        target = "" if rec.target is None else f", target {_range_text(rec.target)} reps"
        tempo = "" if rec.tempo is None else f", tempo {rec.tempo.text}"
        of = f"/{rec.sets_total}" if rec.sets_total else ""
        return Notice("set_started", time_s,
                      f"set {rec.set_number}{of} {rec.name} started{target}{tempo}",
                      {"set": rec.index, "exercise": rec.exercise})

    def _open_record(self, pipeline_set: int, start_s: float,
                     rest_before: float | None) -> SetRecord:
        if pipeline_set in self._by_pipeline:
            return self._by_pipeline[pipeline_set]
        step = self.step
        if step is not None:
            e = step.exercise
            rec = SetRecord(len(self.sets) + 1, e.id, e.name, step.index, step.set_number,
                            e.sets, (e.reps_min, e.reps_max), e.tempo, pipeline_set, start_s)
        else:
            ex = self.exercise if self.exercise != "auto" else "generic"
            n = 1 + sum(1 for s in self.sets if s.exercise == ex)
            rec = SetRecord(len(self.sets) + 1, ex, exercise_name(ex), None, n, None, None,
                            None, pipeline_set, start_s)
        rec.rest_before_s = rest_before
        self.sets.append(rec)
        self._by_pipeline[pipeline_set] = rec
        self.current = rec
        self._rest_before_current = self.rest
        self.rest = None
        if self.question is not None and self.question is not rec:
            self.question = None  # a new set began: the unanswered question lapses
        return rec

    def _on_rep(self, ev: Rep) -> list[Notice]:
        rec = self._by_pipeline.get(ev.set_index)
        if rec is None:
            rec = self._open_record(ev.set_index, ev.rep.start_s, None)
        if rec.step is None and self.exercise == "auto" and ev.exercise != rec.exercise:
            rec.exercise, rec.name = ev.exercise, exercise_name(ev.exercise)
        rep = replace(ev.rep, index=rec.count + 1)
        rec.reps.append(rep)
        out = []
        if rec.count == self._min_reps(rec) and not rec.done:
            out.append(self._started_notice(rec, ev.time_s))
        out += [Notice("rep", ev.time_s, self._rep_text(rec, rep),
                      {"set": rec.index, "rep": rep.index, "cues": list(
                          tempo_cues(rep, rec.tempo))})]
        if rec.target is not None and rec.count == rec.target[1]:
            out.append(Notice("target_reached", ev.time_s,
                              f"{rec.count} reps: target reached — rack it",
                              {"set": rec.index}))
        return out

    def _on_set_end(self, ev: SetEnd) -> list[Notice]:
        rec = self._by_pipeline.get(ev.set_index)
        if rec is None:
            rec = self._open_record(ev.set_index, ev.start_s, ev.rest_before_s)
        reps = list(ev.reps)
        if rec.switched_from is not None and ev.exercise in EXERCISES:
            reps = [remap_rep(r, rec.exercise, final=True) for r in reps]
        elif rec.step is None and self.exercise == "auto" and ev.exercise in EXERCISES:
            rec.exercise, rec.name = ev.exercise, exercise_name(ev.exercise)
        for t in rec.undone_at:  # undo again what the user undid live
            if reps:
                reps.pop(_final_rep_at(reps, t))
        rec.reps = [replace(r, index=i + 1) for i, r in enumerate(reps)]
        rec.velocity_loss_pct = (ev.velocity_loss_pct if not rec.undone_at
                                 else velocity_loss_pct(rec.reps))
        if rec.rest_before_s is None:
            rec.rest_before_s = ev.rest_before_s
        rec.start_s = ev.start_s
        if rec.done:  # already closed (e.g. the session ended first): just update
            rec.end_s = ev.end_s
            return [Notice("set_updated", ev.time_s, f"set {rec.index}: {rec.count} reps",
                           {"set": rec.index})]
        rec.end_s = ev.end_s
        rec.ended_by = "user" if rec is self._user_ending else "pipeline"
        if self.finished and self.finish_reason == "ended by user":
            rec.ended_by = "session_end"
        if rec.ended_by == "pipeline" and self._is_stray(rec):
            return self._drop_stray(rec, ev.time_s)
        if self.current is rec:
            self.current = None
        out = []
        if rec.step is not None:
            self.done_steps.add(rec.step)
            self._advance_after(rec.step)
        else:
            self._request_exercise()
        vl = ("" if rec.velocity_loss_pct is None
              else f", velocity loss {rec.velocity_loss_pct:.0f}%")
        target = "" if rec.target is None else f"/{_range_text(rec.target)}"
        of = f"/{rec.sets_total}" if rec.sets_total else ""
        text = f"set {rec.set_number}{of} {rec.name} done: {rec.count}{target} reps{vl}"
        if self.finished:
            out.append(Notice("set_ended", ev.time_s, text, {"set": rec.index}))
            return out
        step = self.step
        rest_target = self._planned_rest(rec)
        self.rest = RestState(rec.end_s, rest_target)
        if self.plan is not None and step is None:
            self.finished = True
            self.finish_reason = "plan done"
            out.append(Notice("set_ended", ev.time_s, text, {"set": rec.index}))
            out.append(Notice("plan_done", ev.time_s, "plan done — " + self._totals_text()))
            return out
        if rest_target is not None:
            text += f"; rest {rest_target:g} s, next: {self.describe_step(step)}"
        out.append(Notice("set_ended", ev.time_s, text,
                          {"set": rec.index, "rest_s": rest_target}))
        if rest_target == 0:
            self.rest.over = True
            out.append(Notice("rest_over", ev.time_s,
                              f"no rest — go: {self.describe_step(step)}", {"bell": True}))
        return out

    def _is_stray(self, rec: SetRecord) -> bool:
        """Not a set: re-racking, standing up, walking or fidgeting between sets.

        With a target of ``lo`` reps, fewer than min(3, lo/2) reps is not a set
        (1-2 reps when 10 are planned, 1 rep when 3-6 are); without a plan a
        single rep is not.  Nor are reps with a median range of motion under
        :data:`MIN_SET_ROM_DEG` (steps when walking).  A set the user ended by
        hand always counts.
        """
        if rec.count < self._min_reps(rec):
            return True
        roms = sorted(r.rom_deg for r in rec.reps)
        return roms[len(roms) // 2] < MIN_SET_ROM_DEG

    @staticmethod
    def _min_reps(rec: SetRecord) -> int:
        lo = rec.target[0] if rec.target else 2
        return max(1, min(3, math.ceil(lo / 2)))

    def _drop_stray(self, rec: SetRecord, time_s: float) -> list[Notice]:
        if rec in self.sets:
            self.sets.remove(rec)
        self.stray.append(rec)
        if self.current is rec:
            self.current = None
        if self.question is rec:
            self.question = None
        self.rest = self._rest_before_current  # the rest goes on as if nothing happened
        why = (f"too few for a set of {rec.name}" if rec.count < self._min_reps(rec)
               else f"movements under {MIN_SET_ROM_DEG:.0f}°, not a set of {rec.name}")
        return [Notice("stray", time_s,
                       f"ignored {rec.count} lone rep{'s' if rec.count != 1 else ''} "
                       f"at {rec.start_s:.0f} s: {why} (press e during a set to end it by hand)",
                       {"reps": rec.count})]

    def _planned_rest(self, rec: SetRecord) -> float | None:
        if self.plan is None or rec.step is None:
            return None
        planned = self.plan.steps[rec.step].rest_after_s
        step = self.step
        if planned is None or (step is not None and step.index != rec.step + 1):
            # off the straight path (skipped, went back, last set): rest between exercises
            planned = self.plan.steps[rec.step].exercise.rest_after_s
        return planned

    # ----------------------------------------------------------- helpers

    def _record_at(self, start_s: float, end_s: float) -> SetRecord | None:
        best, overlap = None, 0.0
        for rec in self.sets:
            r_end = rec.end_s if rec.end_s is not None else self.now_s
            o = min(end_s, r_end) - max(start_s, rec.start_s)
            if o > overlap:
                best, overlap = rec, o
        return best

    def _rep_text(self, rec: SetRecord, rep: RepTempo) -> str:
        target = "" if rec.target is None else f"/{_range_text(rec.target)}"
        want = f" (target {rec.tempo.text})" if rec.tempo else ""
        cues = tempo_cues(rep, rec.tempo)
        cue = f" — {'; '.join(cues)}" if cues else ""
        partial = " partial" if rep.partial else ""
        return (f"rep {rep.index}{target} {rec.name}: tempo {rep.tempo}{want}, "
                f"ROM {rep.rom_deg:.0f}°{partial}{cue}")

    def _totals_text(self) -> str:
        if self.plan is not None:
            return (f"{len(self.done_steps)}/{self.plan.total_sets} planned sets, "
                    f"{len(self.sets)} sets, {self.total_reps} reps")
        return f"{len(self.sets)} sets, {self.total_reps} reps"

    def _is_open(self, step_index: int) -> bool:
        return step_index not in self.done_steps and step_index not in self.skipped_steps

    def _advance_after(self, step_index: int) -> None:
        """Point at the next open step after ``step_index``, else the first open one."""
        assert self.plan is not None
        open_steps = [s.index for s in self.plan.steps if self._is_open(s.index)]
        later = [i for i in open_steps if i > step_index]
        self.pointer = later[0] if later else (open_steps[0] if open_steps else None)
        self._request_exercise()

    def _request_exercise(self) -> None:
        ex = self.expected_exercise
        if ex != self._pipeline_exercise:
            self._pipeline_exercise = ex
            self.requests.append(Request("set_exercise", ex))

    def _undo(self) -> list[Notice]:
        rec = self.current or (self.sets[-1] if self.sets else None)
        if rec is None or not rec.reps:
            return [Notice("info", self.now_s, "no rep to undo")]
        rep = rec.reps.pop()
        rec.undone_at.append(rep.end_s)
        if rec.done and not rec.undone_at[:-1]:
            rec.velocity_loss_pct = velocity_loss_pct(rec.reps)
        return [Notice("undo", self.now_s,
                       f"undid rep {rep.index}: set {rec.index} {rec.name} now {rec.count} reps",
                       {"set": rec.index, "reps": rec.count})]

    def _move(self, direction: int) -> list[Notice]:
        if self.plan is None:
            return [Notice("info", self.now_s, "no plan: choose the exercise with exercise:<id>")]
        if self.current is not None:
            self.requests.append(Request("end_set"))
            self._user_ending = self.current
        steps = self.plan.steps
        here = self.step
        group = here.group if here is not None else steps[-1].group + 1
        members = [s for s in steps if s.group == group + direction]
        if direction > 0:  # skipping: the rest of this exercise is not expected any more
            self.skipped_steps.update(s.index for s in steps
                                      if s.group == group and s.index not in self.done_steps)
        if not members:
            if direction > 0:
                self.pointer = None
                self.finished = True
                self.finish_reason = "plan done"
                return [Notice("plan_done", self.now_s,
                               "last exercise skipped: plan done — " + self._totals_text())]
            return [Notice("info", self.now_s, "already at the first exercise")]
        self.skipped_steps.difference_update(s.index for s in members)
        todo = [s for s in members if s.index not in self.done_steps]
        self.pointer = (todo[0] if todo else members[-1]).index
        self._request_exercise()
        if self.rest is not None and self.rest.target_s is not None:
            self.rest.target_s = self.plan.steps[self.pointer].exercise.rest_after_s
        return [Notice("moved", self.now_s, f"next: {self.describe_step(self.step)}",
                       {"step": self.pointer})]

    def _choose(self, ex: str) -> list[Notice]:
        if self.plan is None:
            self.exercise = ex
            self._request_exercise()
            return [Notice("moved", self.now_s, f"exercise: {exercise_name(ex)}")]
        todo = [s for s in self.plan.steps if s.exercise.id == ex and self._is_open(s.index)]
        if not todo:
            return [Notice("info", self.now_s, f"the plan has no open set of {exercise_name(ex)}")]
        if self.current is not None:
            self.requests.append(Request("end_set"))
            self._user_ending = self.current
        self.pointer = todo[0].index
        self._request_exercise()
        return [Notice("moved", self.now_s, f"next: {self.describe_step(self.step)}",
                       {"step": self.pointer})]

    def _switch(self, rec: SetRecord, ex: str) -> list[Notice]:
        """The user confirmed that set ``rec`` was really ``ex``."""
        old_step, old_ex = rec.step, rec.exercise
        rec.switched_from = old_ex
        rec.reps = [remap_rep(r, ex, final=rec.done) for r in rec.reps]
        rec.exercise, rec.name = ex, exercise_name(ex)
        if self.plan is not None and old_step is not None:
            self.done_steps.discard(old_step)
            todo = [s for s in self.plan.steps if s.exercise.id == ex and self._is_open(s.index)]
            if todo:  # the lifter is doing the plan out of order: count the set there
                e = todo[0].exercise
                rec.step, rec.set_number, rec.sets_total = todo[0].index, todo[0].set_number, e.sets
                rec.target, rec.tempo, rec.name = (e.reps_min, e.reps_max), e.tempo, e.name
            else:  # an extra set outside the plan; the planned set is still to do
                rec.step, rec.target, rec.tempo, rec.sets_total = None, None, None, None
            if rec.done:
                if rec.step is not None:
                    self.done_steps.add(rec.step)
                    self._advance_after(rec.step)
                else:
                    self.pointer = old_step
            else:
                self.pointer = rec.step if rec.step is not None else old_step
        if rec is self.current:
            # the pipeline re-reads the set in progress with the right exercise
            self.requests.append(Request("set_exercise", ex))
            self._pipeline_exercise = ex
        else:
            self._request_exercise()
        return [Notice("switched", self.now_s,
                       f"set {rec.index} counted as {rec.name}; "
                       f"next: {self.describe_step(self.step)}",
                       {"set": rec.index, "exercise": ex})]

    def load_plan(self, plan: Plan) -> list[Notice]:
        """Follow ``plan`` from now on (only before the first set)."""
        if self.sets or self.current is not None:
            return [Notice("info", self.now_s, "a plan can only be loaded before the first set")]
        self.plan = plan
        self.pointer = 0 if plan.steps else None
        self.done_steps.clear()
        self.skipped_steps.clear()
        self._request_exercise()
        return [Notice("moved", self.now_s,
                       f"plan {plan.title}: first {self.describe_step(self.step)}")]

    def take_requests(self) -> list[Request]:
        """The pipeline requests made since the last call (the runner carries them out)."""
        out, self.requests = self.requests, []
        return out

    def summary(self) -> dict[str, Any]:
        """The session as JSON-ready data (without ids and wall-clock times)."""
        plan = None
        if self.plan is not None:
            plan = {"name": self.plan.name, "title": self.plan.title, "source": self.plan.source,
                    "total_sets": self.plan.total_sets, "sets_done": len(self.done_steps),
                    "completed": len(self.done_steps) == self.plan.total_sets}
        return {
            "plan": plan,
            "exercise": self.exercise,
            "sets": [s.to_dict() for s in self.sets],
            "total_sets": len(self.sets),
            "total_reps": self.total_reps,
            "ignored_movements": [{"start_s": round(r.start_s, 3), "reps": r.count}
                                  for r in self.stray],
            "warnings": [w.to_dict() for w in self.warnings],
            "end_reason": self.finish_reason,
        }
