"""Set tracker: groups reps into sets, times the rest between them, names the exercise.

A set starts with its first rep and ends after ``set_gap_s`` without a new
rep, or earlier when the rest pose changes by more than ``posture_change_deg``
across a pause of ``posture_gap_s`` or more (the lifter moved to another
exercise).  While resting, a :class:`~repsense.events.Rest`
event goes out every ``rest_tick_s`` seconds of sample time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from repsense.dsp.movement import AXIS_UPDATE_SAMPLES, DETECTOR_RATE_HZ, GAIT_WINDOW_S
from repsense.dsp.orientation import angle_deg
from repsense.events import Event, Rep, Rest, SetEnd, SetStart
from repsense.exercises import EXERCISES
from repsense.reps.detector import RepCandidate
from repsense.reps.recognize import away_lifts, recognize, rests_standing, set_up_at_the_bar
from repsense.reps.tempo import PARTIAL_FRACTION, rep_tempo, set_tempos, velocity_loss_pct

IdMaker = Callable[[], tuple[str, int]]
STRAY_GAP_S = 8.0
"""A partial movement this long (and 3× the set's usual gap) after the last rep is no rep
unless a rep like the set's follows; so is one over STRAY_BIG times the set's range."""
STRAY_BIG = 1.6
STRAY_FAST = 2.0
"""... and so is one of the set's size whose tilt speed peaked over this many times the
set's (the first stride of walking away, a second before the gait detector knows)."""
LONE_SNAP_BACK = 4.0
SNAP_WAIT_S = 2.0
"""A first rep whose way back was LONE_SNAP_BACK times faster than its way out waits this
long for walking (getting up slowly and the first stride's swing look like that) before it
opens the set; an alike rep sooner opens it at once."""
WALK_JUDGED_S = GAIT_WINDOW_S + AXIS_UPDATE_SAMPLES / DETECTOR_RATE_HZ
"""Default of ``SetTracker.walk_judged_s``: ``MovementSignal.walk_judged_s`` from 25 Hz up
(a 3-s gait window judged once a second)."""
REBOUND_OVERLAP = 0.15
"""Inside a set, a movement under the partial share of the set's range that began more
than this share of its own duration before the last rep ended, or ended as much after the
next rep began, is a rebound of that rep (the leg swaying back past the rest pose and up
again between touch-and-go reps), not a rep: a movement begins once the one before it has
ended.  Real shank squats sway so, overlapping a rep by up to 1.4 times their own duration;
the simulator's partial reps never began more than 0.10 of theirs early (197 labelled
partial reps, fresh seeds 11-31)."""
HELD_FIRST_SHARE = 0.25
"""A rep held at its far pose longer than a set's next rep, dropped as unlike it, was the
set's first when it went between the same poses, as far, to within this share of that
rep's range: real lifters hold a set's first bridge longest (MEx: 7.5 s, then 2 s), and a
rep's duration is compared only until the rhythm can be."""
HELD_FIRST_MAX_S = 12.0
"""... held no longer than this (a long stay is getting settled, not a rep) ..."""
HELD_FIRST_PAUSE = 2.0
"""... and followed by that rep within this many times its duration, as a set's reps
follow each other (MEx: 1.3 times; a movement alike the set's reps 6 times their
duration before the set, out of its rhythm, was no rep)."""
LONG_CHAIN_ROM = 1.5
LONG_CHAIN_DUR = 2.0
"""A chain of held reps longer than ``set_gap_s`` from the first's end to the newest's
start holds together only when its ranges are within LONG_CHAIN_ROM times of each other
and its durations within LONG_CHAIN_DUR times (simulated fidgets 8-13 s apart between
sets: ranges 2-2.4 times apart)."""
REP_COMING_S = 8.0
"""A movement alike a set's reps that begins this soon after its last rep holds the set
open past ``set_gap_s`` while it lasts: a slow rep (6 s up, 2 s held, 6 s down) ends more
than ``set_gap_s`` after the rep before it.  Slow reps leave and come back to the rest pose
slowly, so the detector sees them begin 3-5 s after the rep before, for a 2 s pause.  It
holds the set open only until it has lasted REP_COMING_LONGER times the set's longest rep."""
REP_COMING_LONGER = 2.0
RHYTHM_SLACK = 1.5
"""... or begins within this many times the set's median pause between reps, where its
reps pause longer (a real bridge set done slower: 9-12 s lying between bridges)."""
JERK_PER_S = 10.0
"""Outside a set, a quick movement whose tilt speed peaked above this many times its range
(deg/s per deg) may be the leg or the strap in the hand jerked about other axes (a strap
being adjusted gives 15-30; simulated reps stay under 8, but real prone hip extensions
done 30 % faster than the uci-pt subjects reach 11): it opens a set only in a chain one
rep longer than others need, alike in range, cadence and duration."""
STRIDE_PERIOD_S = (0.6, 1.6)
"""Held quick reps one every this many seconds (a stride's 0.8-1.4 s, with the jitter of
their segmentation) wait for walking like a snapped-back first rep before opening a set."""
TWO_MOVEMENTS = 1.25
"""An excursion that holds a far dip (see ``end_set``) and took this many times the set's
usual rep or longer is two movements; real lifters' sags at the top of a held rep
(uci-pt prone hip extensions) stay within 0.83-1.02 times it, a partial rep seen from
the other end makes one take 1.35-2.1 times (simulated)."""
RESTLESS_HUMPS = 3
"""A first rep whose tilt speed surged more often than this waits for walking the same way:
a rep surges out and back; the first strides after getting up swing to and fro in it."""



def _periods(reps: Sequence[RepCandidate]) -> list[float]:
    """Start-to-start times of successive reps."""
    return [b.start_s - a.start_s for a, b in zip(reps, reps[1:], strict=False)]


def _alike(reps: Sequence[RepCandidate], durations: bool = False) -> bool:
    """Could these reps be one set's? Alike ranges, and alike rhythm or durations.

    Fidgets between sets come at random sizes, speeds and moments; a set's
    reps repeat one movement at one cadence.  The cadence (start to start) is
    the surer sign: a rep's own duration is only as good as its segmentation,
    and small, slow reps with a hold are easily cut short at a jolt of the
    tilt (the start of such a set would be lost).  So durations are compared
    only while there are too few reps (two) to judge the rhythm, or always
    with ``durations``.
    """
    roms = [c.rom_deg for c in reps]
    if max(roms) > 2.5 * min(roms):
        return False
    # A rep cut at the stream's start began before it: its time to the next rep is no
    # period of the set's rhythm (how much longer it was, no sample says).
    periods = [p for p, c in zip(_periods(reps), reps, strict=False) if not c.cut_at_start]
    durs = [c.end_s - c.start_s for c in reps]
    if len(periods) >= 2 and max(periods) > 1.5 * min(periods):
        return False
    return (len(periods) >= 2 and not durations) or max(durs) <= 2.0 * min(durs)


def _walk_like(cand: RepCandidate) -> bool:
    """A way back over ``LONE_SNAP_BACK`` times quicker than the way out, or more than
    ``RESTLESS_HUMPS`` surges: getting up and the first strides look like that."""
    return (cand.return_speed_dps > LONE_SNAP_BACK * cand.away_speed_dps
            or cand.humps > RESTLESS_HUMPS)


def _one_period_before(c: RepCandidate, chain: Sequence[RepCandidate]) -> bool:
    """Did ``c`` start one period of ``chain`` (its median start-to-start time, within
    1.5 times either way) before it, alike in range?  Judged against the chain's
    extremes instead, as :func:`_alike` judges a chain, a real first kick 1.87 s before
    a chain of 2.81 and 2.24 s periods was 0.3 % out."""
    if c.cut_at_start:
        return False  # it began before the stream: no period to judge
    roms = [x.rom_deg for x in (c, *chain)]
    usual = float(np.median(_periods(chain)))
    return (max(roms) <= 2.5 * min(roms)
            and usual / 1.5 <= chain[0].start_s - c.start_s <= 1.5 * usual)


def _rebound_of(cand: RepCandidate, rom: float, last_end: float,
                next_start: float | None = None) -> bool:
    """Is ``cand`` under the partial share of ``rom`` and begun before the rep that ended
    at ``last_end`` ended, or ended after the one begun at ``next_start`` began, by more
    than ``REBOUND_OVERLAP`` of its own duration?"""
    if cand.rom_deg >= PARTIAL_FRACTION * rom:
        return False
    early = last_end - cand.start_s
    if next_start is not None:
        early = max(early, cand.end_s - next_start)
    return early > REBOUND_OVERLAP * (cand.end_s - cand.start_s)


def _split_far_dips(cand: RepCandidate) -> list[RepCandidate]:
    """An excursion from standing cut at its far dips: one rep per pull.

    The detector's excursion lowers the bar, pauses at the floor and pulls; a
    dip at the floor (:class:`~repsense.reps.detector.FarDip`) is a partial pull
    and the lowering after it.  Each piece keeps the detector's layout (way out
    to the floor, pause, pull) with the range and speed of its own pull.
    """
    if not cand.far_dips:
        return [cand]
    out: list[RepCandidate] = []
    start, away_end = cand.start_s, cand.away_end_s
    for d in cand.far_dips:
        out.append(replace(cand, start_s=start, away_end_s=away_end, return_start_s=d.left_s,
                           end_s=d.turned_s, rom_deg=d.depth_deg, return_speed_dps=d.speed_dps,
                           peak_speed_dps=max(cand.away_speed_dps, d.speed_dps), lever=None,
                           far_dips=()))
        start, away_end = d.turned_s, d.back_s
    out.append(replace(cand, start_s=start, away_end_s=away_end, far_dips=()))
    return out


def _cut_if_two_movements(cand: RepCandidate, usual: float) -> list[RepCandidate]:
    """``cand`` cut at its far dips when it took ``TWO_MOVEMENTS`` times ``usual`` (the
    set's median rep) or longer; a dip in a rep of the usual length is a sag."""
    if cand.end_s - cand.start_s >= TWO_MOVEMENTS * usual:
        return _split_far_dips(cand)
    return [cand]


def _from_standing(ex: str, reps: Sequence[RepCandidate]) -> bool:
    """A deadlift set seen from standing: one excursion more than pulls, and a far dip
    is a partial pull (see ``SetTracker.end_set``)."""
    return EXERCISES[ex].last_excursion_is_no_rep and (
        set_up_at_the_bar(reps) or rests_standing(reps))


def _noted(note: str, more: str) -> str:
    """A set's ``note`` with ``more`` added to it."""
    return f"{note}; {more}" if note else more


def _at_the_end(n: int) -> str:
    """The note's tail for ``n`` reps counted only at the set's end."""
    return "" if n == 0 else f" ({n} at the set's end)"


class SetTracker:
    """Turns rep candidates and the passing of time into set/rep/rest events.

    Parameters
    ----------
    exercise
        Exercise id, or ``auto`` to recognise it per set.
    placement
        ``thigh``, ``shank`` or ``auto``.
    next_id
        Gives ``(event_id, seq)`` for every new event.
    set_gap_s
        Quiet time that ends a set.
    posture_change_deg, posture_gap_s
        A rep whose rest pose is this far from the set's first one, after a pause
        this long, starts a new set.
    mounting_up
        Up vector with the segment vertical, from the sensor profile (optional).
    max_lone_hold_s
        A first rep that stayed longer than this at its far pose waits for an
        alike one before it opens a set.
    """

    def __init__(
        self,
        exercise: str,
        placement: str,
        next_id: IdMaker,
        set_gap_s: float = 15.0,
        posture_change_deg: float = 40.0,
        posture_gap_s: float = 3.0,
        rest_tick_s: float = 1.0,
        mounting_up: Sequence[float] | None = None,
        confident_rom_deg: float = 15.0,
        confirm_reps: int = 3,
        slow_rep_s: float = 1.8,
        max_lone_hold_s: float = 4.0,
    ) -> None:
        self.exercise = exercise
        self.placement = placement
        self.next_id = next_id
        self.set_gap_s = set_gap_s
        self.posture_change_deg = posture_change_deg
        self.posture_gap_s = posture_gap_s
        self.rest_tick_s = rest_tick_s
        self.mounting_up = mounting_up
        self.coarse_lever = False
        """The lever arm comes from a sensor under 20 Hz (see ``recognize``)."""
        self.walk_judged_s = WALK_JUDGED_S
        """How long after a walk begins the gait check has judged a whole window of it
        (the movement signal's ``walk_judged_s``: longer at 10 Hz, where it judges less
        often)."""
        self.partial_min = 0.30
        """Smallest share of a rep's range a partial rep goes (the detector's inside a set)."""
        self.confident_rom_deg = confident_rom_deg
        self.confirm_reps = confirm_reps
        self.slow_rep_s = slow_rep_s
        self._held: list[RepCandidate] = []
        self._dropped: list[RepCandidate] = []  # cut from a held chain, kept for its rhythm
        # The last held rep, when what is held waits for walking before opening a set
        # (a lone rep that snapped back or surged to and fro, or quick reps at a stride's
        # cadence); the wait counts from its detection.
        self._waiting: RepCandidate | None = None
        self._pending: list[RepCandidate] = []  # quick reps inside a set, maybe strides
        self._partial_held: list[RepCandidate] = []  # of those, partial reps held (add_rep)
        self._found_inside = 0  # reps this set cut from far dips as their excursions ended
        self._rebounds = 0  # rebounds between this set's reps, not counted
        self._held_rebounds: list[RepCandidate] = []  # held reps that rebounded so
        self.max_lone_hold_s = max_lone_hold_s
        self.sets_done = 0
        self.total_reps = 0
        self._reps: list[RepCandidate] = []
        self._set_start: float | None = None
        self._last_set_end: float | None = None
        self._next_rest_tick: float | None = None

    def _exercise_now(self) -> tuple[str, float, str]:
        if self.exercise != "auto":
            return self.exercise, 1.0, ""
        return recognize(self._reps, self.placement, self.mounting_up,
                         coarse_lever=self.coarse_lever)

    def add_rep(self, cand: RepCandidate) -> list[Event]:
        """A completed rep: maybe close the old set, open a new one, and report the rep.

        Outside a set, a slow excursion of ``confident_rom_deg`` or more opens a
        set at once.  Anything quicker than ``slow_rep_s`` or smaller could be a
        fidget; it is held until alike ones confirm a set (two, or
        ``confirm_reps`` for small ones) and then reported together with them.
        (Walking never gets here: the detector drops strides.)
        """
        events: list[Event] = []
        if (self._reps and cand.start_s - self._reps[-1].end_s >= self.posture_gap_s
                and angle_deg(cand.rest_up, self._reps[0].rest_up) > self.posture_change_deg):
            # Another posture takes a pause to get into; reps that follow each other
            # without one are the same set, whichever end of them the detector rests at.
            events += self.end_set(cand.start_s)
        if self._reps and self._rebound(cand):
            self._rebounds += 1
            return events
        if self._reps:
            durs = [c.end_s - c.start_s for c in self._reps]
            if len(durs) >= 2 and (cand.end_s - cand.start_s < 0.5 * min(durs)
                                   or self._stray(cand)):
                # Far quicker than any of this set's reps: letting the leg down after
                # the last rep or the first strides of walking away look like that.  It
                # counts only if a rep like the set's follows (or see end_set).
                self._pending.append(cand)
                return events
            rom = float(np.median([c.rom_deg for c in self._reps]))
            if len(durs) >= 2 and cand.moving_on and cand.rom_deg < PARTIAL_FRACTION * rom:
                # A partial rep waits for the next one: if that began before it had ended,
                # it was the leg's sway into that rep (see REBOUND_OVERLAP), not a rep.
                # Otherwise it counts when the next one comes, or when the set ends.
                self._pending.append(cand)
                self._partial_held.append(cand)
                return events
            events += self._release(cand)
            pieces = self._pieces(cand)
            self._found_inside += len(pieces) - 1
            for piece in pieces:
                events += self._rep_events(piece, cand.detected_s)
            return events
        quick = cand.end_s - cand.start_s < self.slow_rep_s
        # A long stay at the far pose (sitting on a bench a while, then getting up) is
        # no rep on its own; a set of held reps shows itself by the next alike one.
        confident = cand.rom_deg >= self.confident_rom_deg and (
            cand.return_start_s - cand.away_end_s <= self.max_lone_hold_s or cand.mirrored)
        # Getting up slowly and the first stride's swing back look like one slow, big
        # rep whose way back was far quicker than its way out, a second before the gait
        # detector knows (so do the first strides inside one restless excursion): such
        # a rep opens a set only if no walking follows soon.
        walk_like = _walk_like(cand)
        if confident and not quick and not walk_like and not self._held:
            return events + self._open_set([*self._partial_lead(cand), cand], cand.detected_s)
        held = self._chain_for(cand)
        if held and _rebound_of(cand, held[-1].rom_deg, held[-1].end_s):
            # The leg swaying back between held reps, as inside a set: counted in the
            # note if that rep opens a set (kept only while their reps are held).
            self._held_rebounds = [*(r for r in self._held_rebounds
                                     if any(r is c for c in held)), held[-1]]
            return events
        held.append(cand)
        while len(held) > 1 and not _alike(held, any(self._jerk_like(c) for c in held)):
            # Not alike: start the chain again from the newer reps.
            self._dropped.append(held.pop(0))
        if held == [cand] and confident and not quick and not walk_like:
            self._held = []  # what was held was a fidget (or a partial first rep)
            return events + self._open_set([*self._partial_lead(cand), cand], cand.detected_s)
        self._held = held
        self._waiting = cand if held == [cand] and confident and not quick else None
        needed = self.confirm_reps
        if all(c.rom_deg >= self.confident_rom_deg and c.end_s - c.start_s >= self.slow_rep_s
               for c in held[1:]):
            needed = 2  # a quick or small first rep, then slow, full ones
        if any(self._jerk_like(c) for c in held):
            # A strap being adjusted jerks the leg about like this a few times; a set of
            # quick reps whose tilt speed reads high for their range (a thigh turning
            # about other axes too) keeps going at one cadence and one duration.
            needed = self.confirm_reps + 1
        if len(held) >= needed:
            if self._strides(held):
                # Quick reps at a stride's cadence: the first strides of walking away look
                # like that a second or two before the gait detector knows.
                self._waiting = cand
                return events
            self._held = []
            return events + self._open_set(self._readmit(held), cand.detected_s)
        return events

    def _chain_for(self, cand: RepCandidate) -> list[RepCandidate]:
        """The held reps ``cand`` may go on: those within ``set_gap_s`` of it, and older
        ones of the same chain (each within ``set_gap_s`` of the next, as :meth:`due`
        forgets them) when the whole chain is closely alike (``LONG_CHAIN_ROM`` and
        ``LONG_CHAIN_DUR``): slow reps 11-16 s apart have more than ``set_gap_s`` between
        a chain's first and third; fidgets between sets come that far apart too, but
        at random sizes."""
        if not self._held or cand.start_s - self._held[-1].end_s > self.set_gap_s:
            return []
        held = list(self._held)
        recent = [c for c in held if cand.start_s - c.end_s <= self.set_gap_s]
        if len(recent) == len(held):
            return held
        chain = [*held, cand]
        roms = [c.rom_deg for c in chain]
        durs = [c.end_s - c.start_s for c in chain]
        if max(roms) <= LONG_CHAIN_ROM * min(roms) and max(durs) <= LONG_CHAIN_DUR * min(durs):
            return held
        return recent

    def _pieces(self, cand: RepCandidate) -> list[RepCandidate]:
        """``cand``, cut at its far dips when they are reps of their own.

        The rule is ``end_set``'s, judged on the set so far, so that such a rep is
        shown as soon as its excursion is over.  A dip in a set's first two
        excursions (no usual rep to go by yet) is left for ``end_set``.
        """
        if not cand.far_dips:
            return [cand]
        reps = [*self._reps, cand]
        if _from_standing(self._exercise_now()[0], reps):
            return _split_far_dips(cand)
        if len(self._reps) < 2:
            return [cand]
        return _cut_if_two_movements(
            cand, float(np.median([c.end_s - c.start_s for c in self._reps])))

    def _away_conc(self, ex: str) -> bool | None:
        """Is the way out concentric?  ``None``: as the exercise says.  A generic set's
        concentric is the phase that lifts the segment (:func:`away_lifts`)."""
        return away_lifts(self._reps) if ex == "generic" else None

    def _jerk_like(self, cand: RepCandidate) -> bool:
        """Quick, with a tilt speed peaking above JERK_PER_S times its range."""
        return (cand.end_s - cand.start_s < self.slow_rep_s
                and cand.peak_speed_dps > JERK_PER_S * cand.rom_deg)

    def _strides(self, held: list[RepCandidate]) -> bool:
        """Could these held reps be strides? All quick, one every 0.6-1.6 s."""
        periods = _periods(held)
        return (all(c.end_s - c.start_s < self.slow_rep_s for c in held)
                and STRIDE_PERIOD_S[0] <= min(periods) and max(periods) <= STRIDE_PERIOD_S[1])

    def _wait_release_s(self) -> float:
        """When the held reps open their set if no walking came (or never): a lone rep
        that snapped back or surged to and fro, or a chain at a stride's cadence."""
        return math.inf if self._waiting is None else self._waiting.detected_s + SNAP_WAIT_S

    def _open_after_wait(self, t: float) -> list[Event]:
        """No walking followed the held reps that waited for it: they open the set."""
        last, self._waiting = self._waiting, None
        if last is None or not self._held or self._held[-1] is not last:
            return []
        held, self._held = self._held, []
        return self._open_set(self._readmit(held), t)

    def _readmit(self, chain: list[RepCandidate]) -> list[RepCandidate]:
        """The chain that opens a set, with the reps cut from it that keep its rhythm.

        Two reps are judged by their durations alone, and a rep's duration is
        only as good as its segmentation (an accelerometer-only first rep cut
        long at a slow start): once a chain has a cadence, a rep dropped just
        before it that starts one period earlier and has an alike range was
        the set's first (see :func:`_one_period_before`).
        """
        dropped = self._dropped
        if len(chain) < 3:
            return chain
        for c in reversed(dropped):
            if (chain[0].start_s - c.end_s > self.set_gap_s
                    or not (_alike([c, *chain]) or _one_period_before(c, chain))):
                break
            chain = [c, *chain]
        return chain

    def _held_first(self, first: RepCandidate) -> list[RepCandidate]:
        """The rep dropped right before ``first``, when it was the same movement held
        longer (see ``HELD_FIRST_SHARE``): the set's first rep, which ``first`` opens."""
        if not self._dropped:
            return []
        c = self._dropped[-1]
        tol = HELD_FIRST_SHARE * first.rom_deg
        hold = c.return_start_s - c.away_end_s
        pause = first.start_s - c.end_s
        if not (0.0 <= pause <= min(self.set_gap_s,
                                    HELD_FIRST_PAUSE * (first.end_s - first.start_s))
                and first.return_start_s - first.away_end_s < hold <= HELD_FIRST_MAX_S
                and abs(c.rom_deg - first.rom_deg) <= tol
                and angle_deg(c.rest_up, first.rest_up) <= tol
                and angle_deg(c.far_up, first.far_up) <= tol
                and not _walk_like(c)):
            return []
        return [c]

    def _partial_lead(self, cand: RepCandidate) -> list[RepCandidate]:
        """The partial rep right before ``cand``, when ``cand`` opens a set alone.

        A set may begin with a partial rep: too small beside the first full one to
        pass for the same movement (:func:`_alike` wants ranges within 2.5 times),
        it was dropped.  It counts when it went at least ``partial_min`` of the
        way toward ``cand``'s far pose from the same rest pose, took at least half
        as long, and ``cand`` followed it at once (within a quarter of its own
        duration: a movement before a pause was more likely getting ready).  The
        two may overlap as a set's reps may (``REBOUND_OVERLAP`` of the partial
        rep's duration): touch-and-go reps' bounds are timed apart, and meet to
        within that (a real first squat, shallow beside the next, ended 0.13 s
        after it began).
        """
        if not self._dropped:
            return []
        c = self._dropped[-1]
        dur = cand.end_s - cand.start_s
        slop = REBOUND_OVERLAP * (c.end_s - c.start_s)
        if not (-slop <= cand.start_s - c.end_s <= 0.25 * dur
                and c.end_s - c.start_s >= 0.5 * dur
                and self.partial_min * cand.rom_deg <= c.rom_deg < cand.rom_deg):
            return []
        # Toward the same far pose: its own far pose is nearer to cand's than its rest.
        if (angle_deg(c.rest_up, cand.rest_up) > max(10.0, self.partial_min * cand.rom_deg)
                or angle_deg(c.far_up, cand.far_up) >= angle_deg(c.rest_up, cand.far_up)):
            return []
        return [c]

    def _rebound(self, cand: RepCandidate, next_start: float | None = None) -> bool:
        """Is ``cand`` a rebound of the set's last rep, or into the rep that began at
        ``next_start`` (see ``REBOUND_OVERLAP``)?"""
        rom = float(np.median([c.rom_deg for c in self._reps]))
        return _rebound_of(cand, rom, self._reps[-1].end_s, next_start)

    def _stray(self, cand: RepCandidate) -> bool:
        """A movement unlike the set's reps and out of its rhythm: held far longer, or
        long after.

        Putting the bar down, sitting up or leaning on the bench after the set
        look like a part-way rep; getting up and the first stride away, long
        after the last rep, like a far bigger or a far quicker one.  A rep held
        longer on purpose goes the whole way, and a tired partial rep comes in the
        set's rhythm.
        """
        rom = float(np.median([c.rom_deg for c in self._reps]))
        partial = cand.rom_deg < 0.6 * rom
        big = cand.rom_deg > STRAY_BIG * rom
        fast = cand.peak_speed_dps > STRAY_FAST * float(
            np.median([c.peak_speed_dps for c in self._reps]))
        if not (partial or big or fast):
            return False
        hold = cand.return_start_s - cand.away_end_s
        holds = [c.return_start_s - c.away_end_s for c in self._reps]
        # After the last rep or a partial one waiting for the next (see add_rep).
        gap = cand.start_s - max(c.end_s for c in [self._reps[-1], *self._partial_held])
        gaps = [b.start_s - a.end_s for a, b in zip(self._reps, self._reps[1:], strict=False)]
        late = gap > max(STRAY_GAP_S, 3.0 * float(np.median(gaps))) if gaps else False
        return late or (partial and hold > self.max_lone_hold_s
                        and hold > 3.0 * float(np.median(holds)))

    def _open_set(self, cands: list[RepCandidate], t: float) -> list[Event]:
        cands = [*self._held_first(cands[0]), *cands]
        self._rebounds += sum(any(r is c for c in cands) for r in self._held_rebounds)
        self._held_rebounds = []
        self._dropped = []
        self._waiting = None
        first = cands[0]
        rest_before = None if self._last_set_end is None else first.start_s - self._last_set_end
        self._set_start = first.start_s
        self._reps.append(first)
        ex, conf, _ = self._exercise_now()
        eid, seq = self.next_id()
        events: list[Event] = [
            SetStart(eid, seq, t, self.sets_done + 1, ex, conf, first.start_s, rest_before)
        ]
        events += self._rep_events(first, t, appended=True)
        for cand in cands[1:]:
            events += self._rep_events(cand, t)
        return events

    def _rep_events(self, cand: RepCandidate, t: float, appended: bool = False) -> list[Event]:
        if not appended:
            self._reps.append(cand)
        ex, _, _ = self._exercise_now()
        prev_end = self._reps[-2].end_s if len(self._reps) > 1 else None
        median = float(np.median([c.rom_deg for c in self._reps]))
        tempo = rep_tempo(cand, len(self._reps), ex, prev_end, median, self._away_conc(ex))
        eid, seq = self.next_id()
        return [Rep(eid, seq, t, self.sets_done + 1, ex, tempo, len(self._reps))]

    def walking(self) -> None:
        """The lifter is walking: whatever was held back was strides, not reps."""
        self._held = []
        self._dropped = []
        self._waiting = None
        self._pending = []
        self._partial_held = []

    def _release(self, cand: RepCandidate) -> list[Event]:
        """A rep like the set's (``cand``) followed the quick ones held before it: they
        were reps -- but for one that ``cand`` began before it had ended, a rebound
        into it (see ``REBOUND_OVERLAP``)."""
        pending, self._pending = self._pending, []
        self._partial_held = []
        events: list[Event] = []
        for c in pending:
            if self._rebound(c, cand.start_s):
                self._rebounds += 1
            else:
                events += self._rep_events(c, cand.detected_s)
        return events

    def next_due_s(self) -> float:
        """The earliest time at which :meth:`due` could say yes (or forget held reps)."""
        soon = math.inf
        if self._held:
            soon = self._held[-1].end_s + self.set_gap_s
        soon = min(soon, self._wait_release_s())
        if self._reps:
            soon = min(soon, self._quiet_end())
        elif self._next_rest_tick is not None:
            soon = min(soon, self._next_rest_tick)
        return soon

    def _pending_counted(self) -> list[RepCandidate]:
        """The quick reps held after the set's last one that its end counts: the first
        ones like the set's reps in range (0.6-1.6 times) and not too hurried (0.3 times
        their duration or longer; a last rep done faster), or partial reps held for the
        next rep (see ``add_rep``).  The others were letting the leg down, getting up or
        the first strides away."""
        if not self._reps:
            return []
        rom = float(np.median([c.rom_deg for c in self._reps]))
        dur = float(np.median([c.end_s - c.start_s for c in self._reps]))
        n = 0
        for c in self._pending:
            if not ((0.6 * rom <= c.rom_deg <= 1.6 * rom and c.end_s - c.start_s >= 0.3 * dur)
                    or any(c is p for p in self._partial_held)):
                break
            n += 1
        return self._pending[:n]

    def _quiet_from(self) -> float:
        """When the set's quiet time began: its last rep's end, or a quicker rep's held
        since that the set's end would count and whose tilt speed is the set's (a slow
        set's rep cut short at a jolt of the tilt; a quick swing as fast as the first
        stride away waits for walking as the quiet time ends, see ``_quiet_end``)."""
        speed = float(np.median([c.peak_speed_dps for c in self._reps]))
        counted = [c for c in self._pending_counted()
                   if c.peak_speed_dps <= STRAY_FAST * speed]
        return max(c.end_s for c in [self._reps[-1], *counted])

    def _quiet_end(self) -> float:
        """When the set ends if nothing more comes: ``set_gap_s`` after its last rep, but
        not before quick reps held since (maybe the first strides of walking away) have
        waited ``SNAP_WAIT_S`` for walking, nor before the gait check has judged a whole
        window of what followed the first of them (``walk_judged_s``); walking discards
        them (:meth:`walking`)."""
        end = self._quiet_from() + self.set_gap_s
        if self._pending:
            end = max(end, self._pending[-1].detected_s + SNAP_WAIT_S,
                      self._pending[0].start_s + self.walk_judged_s)
        return end

    @staticmethod
    def _rep_coming(t: float, rep_since: float | None, reps: list[RepCandidate]) -> bool:
        """A movement alike ``reps`` began soon after the last of them and has not yet
        lasted longer than they took (see :meth:`due`).  Soon is ``REP_COMING_S``, or
        the reps' own rhythm where that is slower: ``RHYTHM_SLACK`` times their median
        pause from one's end to the next one's start."""
        if rep_since is None or not reps:
            return False
        soon = REP_COMING_S
        if len(reps) >= 2:
            pauses = [b.start_s - a.end_s for a, b in zip(reps, reps[1:], strict=False)]
            soon = max(soon, RHYTHM_SLACK * float(np.median(pauses)))
        if rep_since - reps[-1].end_s > soon:
            return False
        return t - rep_since <= REP_COMING_LONGER * max(c.end_s - c.start_s for c in reps)

    def due(self, t: float, rep_since: float | None = None) -> bool:
        """Cheap test: would :meth:`tick` at ``t`` make an event (or forget held reps)?

        ``rep_since``: when a movement alike the set's reps began, if one is under
        way (the detector's ``rep_under_way_since``).  Begun within ``REP_COMING_S``
        of the set's last rep, it may be a slow rep that outlasts ``set_gap_s``, so
        the time it takes is no quiet time yet (while it takes no longer than the
        set's reps, see ``REP_COMING_LONGER``).
        """
        if (self._held and t - self._held[-1].end_s >= self.set_gap_s
                and not self._rep_coming(t, rep_since, self._held)):
            self._held = []
        if t >= self._wait_release_s():
            return True
        if self._reps:
            return t >= self._quiet_end()
        return self._next_rest_tick is not None and t >= self._next_rest_tick

    def tick(self, t: float, rep_since: float | None = None) -> list[Event]:
        """Time has reached ``t`` (sample time): end a quiet set, send rest updates.

        While a rep may be coming (see :meth:`due`) the set is not ended yet; if
        none came, it ends ``set_gap_s`` after its last rep all the same.
        """
        events: list[Event] = []
        if t >= self._wait_release_s():
            events += self._open_after_wait(t)  # no walking followed: it was a rep
        if (self._reps and t >= self._quiet_end()
                and not self._rep_coming(t, rep_since, self._reps)):
            events += self.end_set(self._quiet_from() + self.set_gap_s)
            if self._next_rest_tick is not None:
                # Ended late (a rep seemed to be coming): rest updates go on from now,
                # not in a burst for the seconds that passed.
                self._next_rest_tick = max(self._next_rest_tick, math.floor(t) + self.rest_tick_s)
        if not self._reps and self._next_rest_tick is not None and self._last_set_end is not None:
            while t >= self._next_rest_tick:
                eid, seq = self.next_id()
                events.append(
                    Rest(eid, seq, self._next_rest_tick,
                         self._next_rest_tick - self._last_set_end, self.sets_done)
                )
                self._next_rest_tick += self.rest_tick_s
        return events

    def end_set(self, t: float, out_there: RepCandidate | None = None) -> list[Event]:
        """Close the current set now (quiet period over, posture change, user said so,
        the stream ended).

        ``out_there``: the stream ended with the leg out on an excursion like the set's
        reps (:meth:`~repsense.reps.detector.RepDetector.excursion_out`).
        """
        events: list[Event] = self._open_after_wait(t) if self._waiting is not None else []
        if not self._reps:
            return events
        # The quick reps held after the set's last one that count (see _pending_counted).
        counted = self._pending_counted()
        self._pending = self._pending[len(counted):]
        for c in counted:
            events += self._rep_events(c, t)
        ex, conf, note = self._exercise_now()
        self._partial_held = []
        if self._pending:
            n = len(self._pending)
            self._pending = []
            note = _noted(note, f"{n} movement{'s' if n > 1 else ''} after the last rep not "
                                "counted (quicker or smaller than the set's reps)")
        if self._rebounds:
            n, self._rebounds = self._rebounds, 0
            note = _noted(note, f"{n} rebound{'s' if n > 1 else ''} between reps not counted "
                                "(small movements overlapping a rep)")
        standing_up = None
        live, self._found_inside = self._found_inside, 0  # cut as their excursions ended
        if _from_standing(ex, self._reps):
            # Lowering the bar and standing up without it looks like one more rep; its
            # lowering is the last rep's eccentric.  A stream that stopped with the bar
            # lowered (a recording cut at the labels) has that lowering under way.
            note = _noted(note, "last movement (standing up) not counted" if out_there is None
                          else "the stream ended with the bar lowered")
            # From standing, a partial pull is a dip inside the excursion that lowered
            # the bar and pulled it (or stood up without it): one rep more.
            split = [p for c in self._reps for p in _split_far_dips(c)]
            late = len(split) - len(self._reps)
            if late + live:
                n = late + live
                note += (f"; {n} partial pull{'s' if n > 1 else ''} from the floor counted"
                         + _at_the_end(late))
            standing_up = split.pop() if out_there is None else out_there
            self._reps = split
        else:
            # The detector may rest at the end a set's reps do not start from (the set began
            # there: a leg let down to the hanging pose, lowered from the top).  A partial
            # rep is then a dip toward that end inside an excursion that takes two
            # movements' time (so does a quick rep whose way back stopped short of the rest
            # pose, and the next); a dip inside a rep of the usual length is a sag at the
            # top, held and lifted again.
            usual = float(np.median([c.end_s - c.start_s for c in self._reps]))
            split = [p for c in self._reps for p in _cut_if_two_movements(c, usual)]
            late = len(split) - len(self._reps)
            if late + live:
                n = late + live
                note = _noted(note, f"{n} rep{'s' if n > 1 else ''} found inside longer "
                                    "movements" + _at_the_end(late))
                self._reps = split
        away_conc = self._away_conc(ex)
        reps = set_tempos(self._reps, ex, standing_up, away_conc)
        self.sets_done += 1
        self.total_reps += len(reps)
        rest_before = None
        if self._last_set_end is not None and self._set_start is not None:
            rest_before = self._set_start - self._last_set_end
        eid, seq = self.next_id()
        event = SetEnd(
            eid, seq, t, self.sets_done, ex, conf, reps[0].start_s, reps[-1].end_s,
            rest_before, velocity_loss_pct(reps), reps, note,
        )
        self._last_set_end = reps[-1].end_s
        self._next_rest_tick = math.floor(t) + self.rest_tick_s
        self._reps = []
        self._set_start = None
        return [*events, event]
