"""Rep detector: excursions of the segment's tilt away from its rest pose and back.

Coordinate convention: the detector works on the movement angle ``theta`` of
:mod:`repsense.dsp.movement` — the tilt of the gravity direction about the
movement axis found from the data — so it does not care how the strap sits on
the leg.  The *rest pose* is the angle where the segment was last still (for
0.4 s, judged against the sensor's noise floor) outside a rep; ``delta`` is the
angle travelled from it, signed by the direction the excursion took.

A rep is an excursion of ``delta``: it leaves the rest pose, reaches a far pose
at least ``min_rom_deg`` away (and, inside a set, 30 % of the set's typical
range, 35 % without a gyroscope — hysteresis adapted to the set), and comes
back.  The levels are fractions of the excursion's own range: below 65 % it is
returning, below 30 % closing; it is complete when back within 10 %, stopped or
turning round, which is typically before the movement has fully settled, so the
rep is reported within a few detector samples of the movement's end.  Its phase
times come from the tilt-speed profile (:mod:`repsense.reps.phases`).

What is not a rep: an excursion that never returns within ``max_rep_s``
(posture change, strap moved — the last seconds are then re-run from the last
still pose; inside a set, a dip toward rest at the far pose and out again, a
partial pull from the floor seen from standing, starts that time again; one
that does come back to the rest pose it left within ``max_slow_rep_s`` without
a long stay away is a slow rep after all, and one held longer turns out a rep
when the next one comes back to its hold, see :class:`_Lapsed`),
walking (``gait`` flag of the movement signal), excursions shorter than
``min_rep_s``, and, inside a set, going past the rest pose the "wrong" way
(the rest pose follows instead).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from repsense.dsp.movement import MovementBlock
from repsense.dsp.orientation import angle_deg
from repsense.reps.lever_arm import LeverSlot
from repsense.reps.phases import SPEED_FRACTION, SpeedPhaseTimer

IDLE, AWAY, RETURN, CLOSING, STALE = range(5)
SLOW_MOVEMENT_S = 1.6
"""Movements at least this long are timed on the angle, quicker ones on the speed."""
POSTURE_CHANGE_DEG = 30.0
ANGLE_CREEP_S = 2.0
"""Without a gyroscope, an angle span this long is believed against a far shorter speed span."""
AWAY_AT_END = 0.35
"""Without a gyroscope, a return timed on its speed that leaves the angle further out than
this share of the range did not end the rep (see ``RepDetector._later_return``)."""
OVERSHOOT_MIN_DPS = 20.0
"""The rest pose does not follow the leg past it while it moves faster than this, by the
gyroscope or by the angle (which settles after a jolt while the gyroscope is still)."""
SPIKE_S = 0.15
"""Far poses held shorter than this are spikes, not poses (see ``_complete``)."""
HELD_REP_MAX_S = 12.0
"""A first rep held longer than ``max_slow_hold_s`` is found out by the next rep (see
``RepDetector._undo_inside_out``) only if it was still for no longer than this while away:
real lifts held 4-5 s done 2.2 times slower stay 8-11 s, simulated lifters settling on a
bench before a set 13-22 s."""
ALIKE_LONGER = 1.5
"""Inside a set, an excursion like its reps in range that outlasted ``max_rep_s`` is a rep
if it is back within this many times the set's longest rep, however long it held."""
MAX_DIPPING = 3.0
"""An excursion whose far dips restart its clock still ends after this many ``max_rep_s``."""
HELD_LIFT_S = 1.0
"""An excursion still for this long while away was held there on purpose (a lift-and-hold):
settling more than half-way back ends it after ``still_s``, not twice that."""
SHORT_WALK_S = 2.5
"""A gait flag up for no longer than this, and reps after it that never stop for long,
was a false walk (see ``RepDetector._restart_before_walk``): a real walk raises it only
after ``GAIT_WINDOW_S`` of strides, and keeps it up while it goes on."""
REFRAME_TOL = 0.05
"""A re-estimated axis moving the frame's unit vectors by more than this (about 3°)
re-measures the detector's kept angles in the new frame; smaller changes are the axis
estimate's own jitter (an accelerometer-only sensor's above all)."""


def _angles_in(frame: np.ndarray, ups: np.ndarray) -> np.ndarray:
    """Angles (degrees, in (-180, 180]) of the up vectors ``(n, 3)`` in ``frame``
    (``ref`` then ``side``, as :class:`~repsense.dsp.movement.MovementBlock` has them)."""
    return np.degrees(np.arctan2(ups @ frame[3:], ups @ frame[:3]))


def _held_max(x: np.ndarray, width: int) -> float:
    """The highest level ``x`` holds for ``width`` samples in a row (the maximum of its
    running minimum): a peak narrower than that counts only as high as its shoulders."""
    if width <= 1 or x.size < width:
        return float(x.max())
    return float(np.lib.stride_tricks.sliding_window_view(x, width).min(axis=1).max())


def _like_range(rom: float, typical: float) -> bool:
    """A range like ``typical`` (0.6-1.6 times it): one of the set's reps, a partial
    one aside."""
    return 0.6 * typical <= rom <= 1.6 * typical


def _surges(speed: list[float], rise: float) -> int:
    """How often the speed rose by ``rise`` from a trough (after falling as far from a crest).

    Hysteresis, not local maxima: the wobbles of a noisy speed are not surges.
    """
    n = 0
    lo = speed[0]
    hi: float | None = None
    for v in speed:
        if hi is None:
            lo = min(lo, v)
            if v - lo >= rise:
                n += 1
                hi = v
        else:
            hi = max(hi, v)
            if hi - v >= rise:
                hi, lo = None, v
    return n


def _use_angle_timing(by_angle: tuple[float, float] | None, by_speed: tuple[float, float],
                      angle_first: bool = False) -> bool:
    """Time the movement on the angle: a slow one, and no more than 40 % off the speed's.

    ``angle_first`` (no gyroscope): the tilt speed is then the derivative of the
    accelerometer's direction, and a jolt of the leg's own acceleration can
    make its profile a spike far shorter than the movement; the angle is
    trusted unless it is under half the speed's span, or over three times it
    and longer than ANGLE_CREEP_S (a slow creep at the far pose then moved its
    90 % level).
    """
    if by_angle is None:
        return False
    d_angle = by_angle[1] - by_angle[0]
    d_speed = by_speed[1] - by_speed[0]
    if angle_first:
        return 0.5 * d_speed <= d_angle <= max(3.0 * d_speed, ANGLE_CREEP_S)
    return d_angle >= SLOW_MOVEMENT_S and abs(d_angle - d_speed) <= 0.4 * d_speed


@dataclass(frozen=True)
class FarDip:
    """A dip back toward the rest pose inside an excursion's far pose, and out again.

    From a rest pose standing, a deadlift's partial pull (part of the way up
    from the floor and down again) is such a dip in the excursion that lowers
    the bar and pulls it; see :meth:`repsense.sets.tracker.SetTracker.end_set`.
    """

    left_s: float
    """When the segment left the far pose toward the rest pose."""
    turned_s: float
    """When it turned back out (the dip's deepest point)."""
    back_s: float
    """When it was back at the far pose."""
    depth_deg: float
    """How far it came back toward the rest pose."""
    speed_dps: float
    """Peak tilt speed of the way back toward the rest pose."""


@dataclass(frozen=True)
class RepCandidate:
    """A completed excursion with its raw (exercise-agnostic) phase times.

    ``away``/``far``/``return`` follow the excursion; mapping them onto
    concentric/eccentric happens once the exercise is known.
    """

    start_s: float
    away_end_s: float
    return_start_s: float
    end_s: float
    detected_s: float
    """Sample time at which the detector knew the rep was complete."""
    rom_deg: float
    peak_speed_dps: float
    away_speed_dps: float
    return_speed_dps: float
    rest_up: tuple[float, float, float]
    far_up: tuple[float, float, float]
    humps: int = 2
    """Surges of tilt speed in it: two for the way out and the way back (one if
    it turned without slowing), more when the leg swung to and fro."""
    lever: LeverSlot | None = field(default=None, compare=False)
    """Lever-arm fit of this rep, filled in shortly after it (pipelines with a gyro)."""
    quiet_g: float | None = field(default=None, compare=False)
    """Without a gyroscope, the accelerometer's mean size over its quiet moments so far
    (:attr:`repsense.dsp.orientation.OwnOneG.mean_`), filled in by the pipeline."""
    far_dips: tuple[FarDip, ...] = ()
    """Dips of at least the partial share of the range toward the rest pose and back,
    between the way out and the way back (see :func:`far_dips`)."""
    mirrored: bool = False
    """Held far longer than a slow rep, and found out as a rep by the next one coming
    back to its hold (see ``RepDetector._undo_inside_out``): a set is under way."""
    cut_at_start: bool = False
    """Under way at the stream's first sample (its speed profile begins before it):
    ``start_s`` is that sample, so its duration and its start-to-start time to the next
    rep are lower bounds, not measurements."""
    moving_on: bool = False
    """When it was found the segment was already on its way out again (the excursion
    after it began in its tail): the next rep may have begun before it ended."""


@dataclass
class DetectorConfig:
    """Tunable constants; defaults suit reps of 0.5-12 s (``min_rep_s``, ``max_rep_s``),
    and slow ones up to 30 s that keep moving (``max_slow_rep_s``, ``max_slow_hold_s``)."""

    min_rom_deg: float = 1.0
    start_deg: float = 0.75
    still_s: float = 0.4
    max_rep_s: float = 12.0
    max_slow_rep_s: float = 30.0
    """An excursion that outlasted ``max_rep_s`` is still a rep if the segment comes back
    to the rest pose it left within this long (a slow rep), before any other rep ..."""
    max_slow_hold_s: float = 8.0
    """... and it was still for no longer than this in all while away (past 30 % of its
    range): a slow rep keeps moving but for its pause at the top, a change of posture
    (sitting down, standing up a while) is a quick move, a long stay and a quick move back."""
    min_rep_s: float = 0.5
    rel_min_rom: float = 0.30
    """Within a set, an excursion must reach this fraction of the set's typical range."""
    rel_min_rom_no_gyro: float = 0.35
    """... and this fraction without a gyroscope: the accelerometer's tilt carries the
    leg's own accelerations, whose wobbles reach a third of a low-amplitude set's range."""
    set_memory_s: float = 15.0
    """The typical range is forgotten after this long without reps (a new set)."""
    settle_s: float = 1.0
    """After walking or a change of posture, stillness this long makes the new rest pose."""
    settle_wait_s: float = 4.0
    """... or, if the lifter never settles that long, the first brief stop, this long after it."""
    touch_wait_s: float = 8.0
    """... or, if there is no brief stop either, the first still moment, this long after it:
    quick reps that turn at the bottom without stopping (the gait check may take their
    cadence for a stride's) give the leg no other rest pose.  Half as long, getting onto a
    bench with a moment's stop on the way took that moment for the rest pose (a simulated
    superset, its hyperextension set counted inside out).  With a gyroscope only: without
    one the gait flag can fall inside a walk for 8 s (10 Hz shanks), and its strides were
    counted from such a moment."""
    dip_set_min_deg: float = 10.0
    """A far dip restarts an excursion's ``max_rep_s`` only in a set whose typical range is
    at least this: fidgets of 2-5° between sets make a typical range too."""


def far_dips(dd: np.ndarray, base: float, rom: float,
             min_depth: float) -> list[tuple[int, int, int, float]]:
    """Dips of ``dd`` of ``min_depth`` or more from the far pose toward ``base`` and back.

    The far pose is 90 % of ``rom`` out from ``base``; a dip leaves it, comes
    back at least ``min_depth`` below the lower of the two far levels around
    it and returns there.  Returns, per dip, the indices of the highest point
    before it, its deepest point and the highest point after it (within the
    far stretches on either side), and its depth.
    """
    far = np.flatnonzero(dd >= base + 0.9 * rom)
    if far.size < 2:
        return []
    gaps = np.flatnonzero(np.diff(far) > 1).tolist()  # runs of samples short of the far pose
    # The far stretches between the dips: [far[0], far[gaps[0]]], [far[gaps[0] + 1], ...], ...
    firsts = [int(far[0]), *(int(far[g + 1]) for g in gaps)]
    lasts = [*(int(far[g]) for g in gaps), int(far[-1])]
    out: list[tuple[int, int, int, float]] = []
    for k in range(len(gaps)):
        a, b = lasts[k], firsts[k + 1]  # last far sample before the dip, first after
        before, after = firsts[k], lasts[k + 1]
        hi_a = a - int(np.argmax(dd[a::-1][: a - before + 1]))
        hi_b = b + int(np.argmax(dd[b: after + 1]))
        lo = a + int(np.argmin(dd[a: b + 1]))
        depth = min(float(dd[hi_a]), float(dd[hi_b])) - float(dd[lo])
        if depth >= min_depth:
            out.append((hi_a, lo, hi_b, depth))
    return out


Recent = list[tuple[float, list[float], float, float, bool, bool]]
"""Kept detector samples: time, up vector, angle, speed, still, walking."""


def _still_for(recent: Recent, order: Iterable[int], need_s: float) -> int | None:
    """The first index, going through ``order``, at which the segment has been still for
    ``need_s`` seconds in a row (counted along ``order``); ``None`` if it never was."""
    run = 0.0
    for i in order:
        if recent[i][4]:
            run += recent[i][0] - recent[i - 1][0]
            if run >= need_s:
                return i
        else:
            run = 0.0
    return None


def _stretch_end(recent: Recent, i: int) -> int:
    """The last index of the still stretch ``recent[i]`` is in."""
    while i + 1 < len(recent) and recent[i + 1][4]:
        i += 1
    return i


@dataclass
class _Lapsed:
    """An excursion that outlasted ``max_rep_s``, watched in case the segment comes back.

    The detector went on as after a posture change (the rest pose is the held far
    pose); if the segment returns to *this* excursion's rest pose before another rep,
    within ``max_s`` of leaving it and still no longer than ``max_hold_s`` while away
    (``max_slow_rep_s`` and ``max_slow_hold_s``, or inside a set, for one like its
    reps in range, ``ALIKE_LONGER`` times its longest rep and no limit), it was a slow
    rep after all.
    """

    t: float  # when it lapsed
    base: float
    base_up: list[float]
    rest_up: tuple[float, float, float]
    direction: float
    exc: list[tuple[float, float, float]]
    exc_t0: float
    exc_base: float
    peak: float
    peak_i: int
    peak_up: tuple[float, float, float]
    typical: float | None  # the set's typical range then
    still_s: float  # how long the segment has been still in all while away
    max_s: float  # it must be back within this long of leaving the rest pose ...
    max_hold_s: float  # ... and still no longer than this while away
    held_long: bool = False
    """Held longer than ``max_hold_s`` already: no rep on its return, but it may turn
    out to be one when the next rep comes back to its far pose (see
    ``RepDetector._undo_inside_out``)."""
    min_after: float = math.inf
    min_after_i: int = 0
    closing_since: float | None = None
    closing_i: int = 0

    def remeasure(self, angles: Callable[[list[list[float]], list[float]], list[float]],
                  known: dict[float, list[float]]) -> None:
        """Measure the rest pose and the excursion again in a new frame (see
        ``RepDetector._reframe``): ``angles(ups, olds)`` gives the new angles of up
        vectors, ``known`` the up vectors still kept by time (older samples keep their
        angles from the rest pose)."""
        base = angles([self.base_up], [self.base])[0]
        olds = [self.base + self.direction * x[1] for x in self.exc]
        e = [a - self.base for a in olds]
        have = [k for k, x in enumerate(self.exc) if x[0] in known]
        if have:
            new = angles([known[self.exc[k][0]] for k in have], [olds[k] for k in have])
            for k, a in zip(have, new, strict=True):
                e[k] = a - base
        d = 1.0 if max(e) >= -min(e) else -1.0
        self.exc = [(x[0], d * ei, x[2]) for x, ei in zip(self.exc, e, strict=True)]
        self.base, self.direction = base, d
        deltas = [x[1] for x in self.exc]
        p = max(range(len(deltas)), key=deltas.__getitem__)
        self.peak, self.peak_i = deltas[p], p
        if self.exc[p][0] in known:
            up = known[self.exc[p][0]]
            self.peak_up = (up[0], up[1], up[2])
        self.exc_base = min(deltas[: p + 1])
        self.min_after, self.min_after_i, self.closing_since = math.inf, 0, None
        if p + 1 < len(deltas):
            m = min(range(p + 1, len(deltas)), key=deltas.__getitem__)
            self.min_after, self.min_after_i = deltas[m], m


class RepDetector:
    """Online rep segmentation on the decimated movement signal.

    Parameters
    ----------
    timer
        Phase timer calibrated for the upstream filter.
    config
        Thresholds.
    angle_timing
        The movement signal has no gyroscope behind it: time movements on the
        angle unless it is clearly wrong (see :func:`_use_angle_timing`).

    Attributes
    ----------
    rest_up_
        Current rest pose (unit up vector) or ``None`` before the first still moment.
    """

    def __init__(self, timer: SpeedPhaseTimer, config: DetectorConfig | None = None,
                 angle_timing: bool = False) -> None:
        self.timer = timer
        self.angle_timing = angle_timing
        self.cfg = config or DetectorConfig()
        self.rest_up_: tuple[float, float, float] | None = None
        self._base: float | None = None  # movement angle at the rest pose
        self._base_up: list[float] = [0.0, 0.0, 1.0]  # the up vector _base is the angle of
        self._frame: np.ndarray | None = None  # frame (ref, side) the kept angles are in
        self._frame_now: np.ndarray | None = None  # frame of the latest theta
        self._dir = 1.0
        self._set_dir = 0.0  # direction of the current set's reps (0: none yet)
        self._set_far_up: list[float] = [0.0, 0.0, 1.0]  # far pose of the set's last rep
        self._follow_from: float | None = None  # rest angle before following drift
        self._follow_up: list[float] = [0.0, 0.0, 1.0]
        self._prev_theta = 0.0
        self._ret_still = 0.0  # still time while returning (not yet closing)
        self._state = IDLE
        self._still_s = 0.0
        self._last_t: float | None = None
        self._first_t: float | None = None  # the stream's first sample
        self._idle_hist: deque[tuple[float, float, float]] = deque(maxlen=64)
        self._exc: list[tuple[float, float, float]] = []  # (t, delta, speed)
        self._exc_t0 = 0.0
        # A far dip restarts the excursion's clock (see _excursion): when, and the highest
        # and lowest points since the last one.
        self._clock_t0 = 0.0
        self._far_hi = 0.0
        self._dip_lo = 0.0
        self._peak = 0.0
        self._exc_base = 0.0
        self._peak_i = 0
        self._peak_up: tuple[float, float, float] = (0.0, 0.0, 1.0)
        self._min_after = math.inf
        self._min_after_i = 0
        self._closing_since = 0.0
        self._closing_i = 0
        self._away_still = 0.0
        self._roms: deque[float] = deque(maxlen=8)
        self._durs: deque[float] = deque(maxlen=8)  # the same reps' durations
        self._typical: float | None = None  # median of _roms, kept with it
        self._roms_rest: tuple[float, float, float] = (0.0, 0.0, 1.0)
        self._last_rep_end = -math.inf
        # The last seconds of input, to re-run them from a new rest pose (see
        # _restart_from_last_rest); long enough to cover the longest excursion.
        self._recent: deque[tuple[float, list[float], float, float, bool, bool]] = deque(
            maxlen=400
        )
        self._replaying = False
        self._brief_stop: float | None = None  # a short stop while waiting to settle
        self._touch_stop: float | None = None  # a still moment while waiting to settle
        self._walk_from: float | None = None  # when the last walk (gait flag) began
        self._walk_to: float | None = None  # ... and the last sample it was up
        self._lapsed: _Lapsed | None = None  # a too-long excursion that may be a slow rep

    # -- thresholds ---------------------------------------------------------------
    def _typical_rom(self, t: float) -> float | None:
        if self._typical is None or t - self._last_rep_end > self.cfg.set_memory_s:
            return None
        return self._typical

    @property
    def partial_share(self) -> float:
        """Share of a set's typical range an excursion must reach inside the set."""
        return self.cfg.rel_min_rom_no_gyro if self.angle_timing else self.cfg.rel_min_rom

    @property
    def rep_under_way_since(self) -> float | None:
        """When an excursion alike the last set's reps began, if one is under way.

        Alike: 0.6-1.6 times the set's typical range so far.  A lapsed excursion
        being watched for its return (a slow rep) counts as under way.
        """
        lap = self._lapsed  # older than any excursion since, and measured against the
        # set's range when it lapsed (the re-run from the far pose may have forgotten it)
        if (lap is not None and not lap.held_long and lap.typical is not None
                and _like_range(lap.peak - lap.exc_base, lap.typical)):
            return lap.exc_t0
        typ = self._typical
        if (typ is not None and self._state in (AWAY, RETURN, CLOSING)
                and _like_range(self._peak - self._exc_base, typ)):
            return self._exc_t0
        return None

    def _min_rom(self, t: float) -> float:
        typ = self._typical_rom(t)
        base = self.cfg.min_rom_deg
        if typ is None:
            return base
        return max(base, self.partial_share * typ)

    # -- main loop ----------------------------------------------------------------
    def push(
        self, block: MovementBlock, on_sample: Callable[[float, bool], None] | None = None,
        on_rep: Callable[[RepCandidate], None] | None = None,
        quiet_until: Callable[[], float] | None = None,
    ) -> list[RepCandidate]:
        """Feed decimated samples; return the reps completed in them.

        ``on_sample(t, walking)`` runs before each sample and ``on_rep(rep)`` as soon as a
        rep completes, so that the caller's events interleave with time exactly
        as they would sample by sample, however the input was chunked.
        ``quiet_until()``, if given, is the time before which ``on_sample`` of a
        sample that is not walking does nothing: it is then not called, and
        stretches of rest before that time are taken in one step (the same
        result, without Python calls per sample).
        """
        out: list[RepCandidate] = []
        ts = block.t.tolist()
        ups = block.up.tolist()
        thetas = block.theta.tolist()
        speeds = block.speed.tolist()
        stills = block.still.tolist()
        gaits = block.gait.tolist()
        samples = list(zip(ts, ups, thetas, speeds, stills, gaits, strict=True))
        # Index of the next sample that is not still or is walking, for every sample.
        calm = block.still & ~block.gait
        breaks = np.flatnonzero(~calm)
        n = len(samples)
        # Where the movement axis was re-estimated (the frame of theta changed).
        frames = np.hstack([block.ref, block.side])
        if n:
            new = np.flatnonzero(np.any(frames[1:] != frames[:-1], axis=1)) + 1
            first = self._frame_now is None or bool(np.any(frames[0] != self._frame_now))
            reframes = [0, *new.tolist()] if first else new.tolist()
        else:
            reframes = []
        reframes.append(n)
        r = 0
        limit = quiet_until() if quiet_until is not None else -math.inf
        i = 0
        while i < n:
            if i == reframes[r]:
                self._reframe(frames[i])
                r += 1
            if quiet_until is not None and self._resting() and calm[i]:
                stop = min(int(breaks[np.searchsorted(breaks, i)]) if breaks.size
                           and breaks[-1] >= i else n, int(np.searchsorted(block.t, limit)),
                           reframes[r])
                if stop > i + 1:
                    self._rest_run(samples[i:stop])
                    i = stop
                    continue
            sample = samples[i]
            if on_sample is not None and (sample[5] or sample[0] >= limit):
                on_sample(sample[0], sample[5])
                if quiet_until is not None:
                    limit = quiet_until()
            self._recent.append(sample)
            for rep in self._step(*sample):
                out.append(rep)
                if on_rep is not None:
                    on_rep(rep)
                if quiet_until is not None:
                    limit = quiet_until()
            i += 1
        return out

    def finish(self) -> list[RepCandidate]:
        """The stream ended: the excursion under way, if it is more than half-way back to
        its rest pose, is a complete rep.

        No later sample will bring it the rest of the way, and the filters' lag holds
        the last tenths of a second of every movement back from the angle: a recording
        cut as its last rep ended (one file per set, cut at the labels) lost that rep.
        Half-way is where the detector already takes a rep that settled there (see
        ``_excursion``); a leg still out, or on its way out, gives no rep.
        """
        if self._state not in (RETURN, CLOSING) or self._last_t is None or len(self._exc) < 2:
            return []
        amp = self._peak - self._exc_base
        half = self._exc_base + 0.5 * amp
        if self._exc[-1][1] > half:
            if (self._state == RETURN and self._min_after <= half
                    and self._exc[-1][1] > self._min_after + max(1.0, 0.05 * amp)):
                # More than half-way back, then out again: the next rep was under way as
                # the stream stopped, and this one ended where the leg turned.
                self._closing_i = self._min_after_i
                rep = self._complete(self._last_t, "turned")
                return [rep] if rep is not None else []
            return []
        if self._state == RETURN:
            self._closing_i = len(self._exc) - 1
        rep = self._complete(self._last_t, "stopped")
        return [rep] if rep is not None else []

    def excursion_out(self) -> RepCandidate | None:
        """The excursion the leg is still out on, alike the set's reps in range (see
        :attr:`rep_under_way_since`), as far as it went: its way out timed on its speed,
        ending at the last sample.  For a set that ends with it (:meth:`finish` gave no
        rep): a deadlift seen from standing whose bar was lowered to the floor as the
        stream stopped, its lifter not yet stood up.  ``None`` otherwise."""
        if (self._state != AWAY or self.rep_under_way_since is None or self._lapsed is not None
                or len(self._exc) < 3):
            return None
        arr = np.asarray(self._exc)
        tt, ss = arr[:, 0], arr[:, 2]
        p = self._peak_i
        away = self.timer.movement(tt[: p + 1], ss[: p + 1])
        if away is None:
            return None
        t_last = float(tt[-1])
        start = max(away[0], self._first_t if self._first_t is not None else away[0])
        speed = float(ss[: p + 1].max())
        return RepCandidate(start, min(max(away[1], start), t_last), t_last, t_last, t_last,
                            self._peak - self._exc_base, speed, speed, 0.0,
                            self.rest_up_ or (0.0, 0.0, 1.0), self._peak_up)

    def _reframe(self, frame: np.ndarray) -> None:
        """The movement axis was re-estimated: measure the kept angles in the new frame.

        The rest pose, the pose followed from and the excursion so far are kept
        as angles; a new axis measures the same poses at other angles (a strap
        moved, another exercise began), so they are measured again from their
        up vectors.  Otherwise the jump of ``theta`` would look like a movement.
        """
        self._frame_now = frame
        old = self._frame
        if old is not None and float(np.abs(frame - old).max()) < REFRAME_TOL:
            return  # the axis only crept: the kept angles stand
        self._frame = frame
        if old is None or self._base is None or not frame[:3].any():
            self._lapsed = None
            return

        def angles(ups: list[list[float]], olds: list[float]) -> list[float]:
            # On the branch nearest each old angle, as the movement signal unwraps theta
            # across the change (an excursion may go further than 180° from rest).
            a = _angles_in(frame, np.array(ups).reshape(-1, 3))
            return (a + 360.0 * np.round((np.array(olds) - a) / 360.0)).tolist()

        old_base = self._base
        base = angles([self._base_up], [old_base])[0]
        self._base = base
        if self._follow_from is not None:
            self._follow_from = angles([self._follow_up], [self._follow_from])[0]
        if self._set_dir and not old[:3].any():
            # From no axis to the first one the unsigned tilt turns into a signed angle,
            # which may say the set's reps went the other way (and the next would pass
            # for going past the rest pose the wrong way): measure their side again.
            # (From one axis to the next the signs are kept.)
            far = angles([self._set_far_up], [old_base + self._set_dir * (self._typical or 0.0)])
            if abs(far[0] - base) > self.cfg.start_deg:
                self._set_dir = 1.0 if far[0] > base else -1.0
        known = {x[0]: x[1] for x in self._recent}

        def again(times: list[float], olds: list[float]) -> list[float]:
            # Kept angles from the base, measured anew where the up vector is still known.
            have = [k for k, t in enumerate(times) if t in known]
            new = angles([known[times[k]] for k in have], [old_base + olds[k] for k in have])
            out = list(olds)
            for k, a in zip(have, new, strict=True):
                out[k] = a - base
            return out

        if self._lapsed is not None:
            self._lapsed.remeasure(angles, known)
        hist = list(self._idle_hist)
        e_hist = again([x[0] for x in hist], [x[1] for x in hist])
        self._idle_hist = deque(((x[0], e, x[2]) for x, e in zip(hist, e_hist, strict=True)),
                                maxlen=self._idle_hist.maxlen)
        if self._state == IDLE or self._state == STALE or not self._exc:
            return
        # The excursion's side of the rest pose, as the new frame measures it (from no
        # axis to the first one, the unsigned tilt turns into a signed angle).
        d0 = self._dir
        e = again([x[0] for x in self._exc], [d0 * x[1] for x in self._exc])
        d = 1.0 if max(e) >= -min(e) else -1.0
        self._dir = d
        exc = [(x[0], d * ei, x[2]) for x, ei in zip(self._exc, e, strict=True)]
        self._exc = exc
        deltas = [x[1] for x in exc]
        p = max(range(len(deltas)), key=deltas.__getitem__)
        self._peak, self._peak_i = deltas[p], p
        up = known.get(exc[p][0])
        if up is not None:
            self._peak_up = (up[0], up[1], up[2])
        self._exc_base = min(deltas[: p + 1])
        self._far_hi = self._dip_lo = deltas[-1]  # a dip half-seen in the old frame is lost
        if self._state != AWAY:
            m = min(range(p, len(deltas)), key=deltas.__getitem__)
            self._min_after, self._min_after_i = deltas[m], m

    def _in_frame(
        self, run: list[tuple[float, list[float], float, float, bool, bool]],
    ) -> list[tuple[float, list[float], float, float, bool, bool]]:
        """Kept samples with their angles measured in the current frame (for a re-run)."""
        frame = self._frame_now
        if frame is None or not run or not frame[:3].any():
            return run
        a = np.degrees(np.unwrap(np.radians(_angles_in(frame, np.array([x[1] for x in run])))))
        a += 360.0 * round((run[-1][2] - a[-1]) / 360.0)  # the last one is in this frame
        return [(x[0], x[1], th, x[3], x[4], x[5]) for x, th in zip(run, a.tolist(), strict=True)]

    def _resting(self) -> bool:
        """Idle at a rest pose held long enough that still samples only follow drift
        (and no lapsed excursion is being watched: its still time counts)."""
        return self._state == IDLE and self._base is not None and self._lapsed is None and (
            self._still_s >= self.cfg.still_s and self._last_t is not None)

    def _rest_run(self, run: list[tuple[float, list[float], float, float, bool, bool]]) -> None:
        """What :meth:`_step` does with each of these still samples, at once.

        Idle and still for longer than ``still_s``: the rest pose follows the
        slow drift (``base = theta``), so every sample's excursion is zero and
        nothing else happens.
        """
        assert self._last_t is not None
        t_last, up, theta = run[-1][0], run[-1][1], run[-1][2]
        self._still_s += t_last - self._last_t
        self._last_t, self._prev_theta = t_last, theta
        self._base, self._base_up = theta, up
        self.rest_up_ = (up[0], up[1], up[2])
        self._recent.extend(run)
        self._idle_hist.extend((x[0], 0.0, x[3]) for x in run[-self._idle_hist.maxlen:])

    def _step(
        self, t: float, up: list[float], theta: float, speed: float, still: bool, gait: bool
    ) -> list[RepCandidate]:
        cfg = self.cfg
        if gait:
            self._brief_stop = self._touch_stop = None
            if self._walk_to is None or self._state != STALE:
                self._walk_from = t  # a walk begins (flickers inside one are the same walk)
            self._walk_to = t
        if gait and self._state != STALE:
            # Walking: nothing that swings now is a rep; find the rest pose again after.
            self._state = STALE
            self._still_s = 0.0
        if self._lapsed is not None and t > self._lapsed.t:
            slow = self._watch_lapsed(t, up, theta, speed, still, gait)
            if slow is not None:
                return [slow]
        if self._first_t is None:
            self._first_t = t
        dt = 0.0 if self._last_t is None else t - self._last_t
        # The angle's own rate: after a jolt the gravity estimate may still be settling
        # while the gyroscope already says the leg is still.
        theta_rate = abs(theta - self._prev_theta) / dt if dt > 0 else 0.0
        self._prev_theta = theta
        self._last_t = t
        if self._base is None:
            self._base, self._base_up = theta, up
            self.rest_up_ = (up[0], up[1], up[2])
        state = self._state
        if state == IDLE:
            if still:
                self._still_s += dt
                if self._still_s >= cfg.still_s:
                    if self._still_s - dt < cfg.still_s:
                        self._set_rest(theta, up)
                    else:  # still longer: follow slow drift, the posture is the same
                        self._base, self._base_up = theta, up
                        self.rest_up_ = (up[0], up[1], up[2])
            else:
                self._still_s = 0.0
            e = theta - self._base
            if self._set_dir * e < 0 and t - self._last_rep_end < cfg.set_memory_s:
                # Inside a set, going past the rest pose the "wrong" way means the
                # rest pose is further out than thought: follow it, it is no rep --
                # unless it goes further than the last rep went (that rep may have
                # been a fidget): then it is a movement the other way after all.
                if self._follow_from is None:
                    self._follow_from, self._follow_up = self._base, self._base_up
                last = self._roms[-1] if self._roms else 0.0
                if abs(theta - self._follow_from) <= max(3.0 * cfg.start_deg, last):
                    if speed < OVERSHOOT_MIN_DPS and theta_rate < OVERSHOOT_MIN_DPS:
                        # Not while the leg moves fast (a return overshooting, getting
                        # up) or the angle still settles after an explosive return:
                        # the rest pose is where it comes to rest.
                        self._base, self._base_up = theta, up
                    e = 0.0
                else:
                    self._base, self._base_up = self._follow_from, self._follow_up
                    e = theta - self._base
            self._idle_hist.append((t, e, speed))
            if abs(e) > cfg.start_deg:
                self._dir = 1.0 if e > 0 else -1.0
                self._begin(t, abs(e), speed, up)
        elif state == STALE:
            # Posture changed or the strap moved: wait until the lifter settles, then
            # that is the new rest pose.  Getting down onto a bench or the floor
            # often stops briefly on the way, so a brief stop is only taken if no
            # longer one follows soon (some lifters start without ever settling).
            if still:
                self._still_s += dt
                if self._still_s >= cfg.settle_s:
                    self._set_rest(theta, up)
                    self._state = IDLE
                else:
                    if self._still_s >= cfg.still_s and self._brief_stop is None:
                        self._brief_stop = t
                    if self._touch_stop is None and not gait and not self.angle_timing:
                        self._touch_stop = t
            else:
                self._still_s = 0.0
            if self._brief_stop is not None:
                if not self._replaying and t - self._brief_stop >= cfg.settle_wait_s:
                    return self._restart_from(self._brief_stop)
            elif (self._touch_stop is not None and not self._replaying
                    and t - self._touch_stop >= cfg.touch_wait_s):
                return self._restart_before_walk() or self._restart_from(self._touch_stop)
        else:
            delta = self._dir * (theta - self._base)
            rep = self._excursion(t, delta, speed, still, up)
            if rep is not None:
                return [rep]
            if self._state == STALE and not self._replaying:
                return self._restart_from_last_rest(t)
        return []

    def _restart_from_last_rest(self, t: float) -> list[RepCandidate]:
        """An "excursion" ran too long: the strap moved or the lifter changed posture.

        If the segment was still at some point since, that pose is the new rest
        pose; the samples after it are run again from there, so the first rep
        after a strap adjustment is not lost.  The pose it first settled in (still
        for ``settle_s``, as a rest pose is found after walking) is taken, not the
        last stop: by the time the excursion has run too long, the first rep after
        the change may be holding at its far pose.
        """
        recent = list(self._recent)
        # Never from before the last rep reported: its samples were counted already (the
        # samples kept reach back 16 s at 25 Hz, 40 s at 10 Hz: over a whole set).
        first = max(1, next((i for i, x in enumerate(recent) if x[0] >= self._last_rep_end),
                            len(recent)))
        after = [i for i in range(first, len(recent)) if recent[i][0] > self._exc_t0]
        anchor = _still_for(recent, after, self.cfg.settle_s)
        if anchor is None:
            anchor = _still_for(recent, range(len(recent) - 1, first - 1, -1), self.cfg.still_s)
        if anchor is None:
            return []
        return self._replay_from(recent, _stretch_end(recent, anchor))

    def _restart_before_walk(self) -> list[RepCandidate]:
        """A walk too short to be one (the gait flag up for no longer than ``SHORT_WALK_S``)
        that reps never stopping for long followed: run it again as no walk, from the end
        of the last rep reported, or with none kept, from the last still sample before it.
        ``[]`` (nothing run) if there was no such walk or no such sample kept."""
        a, b = self._walk_from, self._walk_to
        if a is None or b is None or b - a > SHORT_WALK_S:
            return []
        recent = list(self._recent)
        after_rep = [i for i in range(1, len(recent)) if self._last_rep_end <= recent[i][0] < a]
        if not after_rep:
            return []
        # Where the last rep ended (back at its rest pose; a still sample between it and
        # the walk may be the next rep's far pose), or else the last still sample.
        if recent[0][0] <= self._last_rep_end:
            before = after_rep[:1]
        else:
            before = [i for i in after_rep if recent[i][4]]
            if not before:
                return []
        # Kept as no walk, so that a later re-run sees it as this one did.
        unwalked = [x if not (a <= x[0] <= b) else (*x[:5], False) for x in recent]
        self._recent.clear()
        self._recent.extend(unwalked)
        return self._replay_from(unwalked, before[-1])

    def _restart_from(self, t_stop: float) -> list[RepCandidate]:
        """Take the brief stop at ``t_stop`` as the rest pose after all; run what followed."""
        self._brief_stop = self._touch_stop = None
        recent = list(self._recent)
        i = next((k for k, x in enumerate(recent) if x[0] >= t_stop), None)
        if i is None:
            return []
        return self._replay_from(recent, _stretch_end(recent, i))

    def _replay_from(self, recent: Recent, end: int) -> list[RepCandidate]:
        """Make ``recent[end]`` the rest pose and run the samples after it again."""
        recent = self._in_frame(recent)
        ta, upa, tha, _, _, _ = recent[end]
        self._state = IDLE
        self._set_rest(tha, upa)
        self._still_s = self.cfg.still_s
        self._last_t, self._prev_theta = ta, tha
        out: list[RepCandidate] = []
        self._replaying = True
        try:
            for sample in recent[end + 1:]:
                out += self._step(*sample)
        finally:
            self._replaying = False
        return out

    def _set_rest(self, theta: float, up: list[float]) -> None:
        # What was kept while waiting for a rest pose is of no use once there is one (a
        # stop kept past it was re-run from later, and reported a set's last rep again).
        self._brief_stop = self._touch_stop = None
        self._walk_from = self._walk_to = None
        self._base, self._base_up = theta, up
        self._follow_from = None
        self.rest_up_ = (up[0], up[1], up[2])
        self._idle_hist.clear()
        if self._typical is not None and angle_deg(up, self._roms_rest) > POSTURE_CHANGE_DEG:
            self._roms.clear()  # another posture, another exercise: forget its range
            self._durs.clear()
            self._typical = None

    def _begin(self, t: float, delta: float, speed: float, up: list[float]) -> None:
        # Keep the lead-in from the lowest recent point so the start can be timed.
        hist = [(ht, self._dir * he, hs) for ht, he, hs in self._idle_hist]
        lo = min(range(len(hist)), key=lambda i: hist[i][1]) if hist else 0
        self._exc = hist[lo:] if hist else [(t, delta, speed)]
        self._exc_t0 = t  # when it left the rest pose (the lead-in is older)
        self._clock_t0, self._far_hi, self._dip_lo = t, delta, delta
        self._exc_base = min(x[1] for x in self._exc)
        self._idle_hist.clear()
        self._follow_from = None
        self._state = AWAY
        self._away_still = 0.0
        self._ret_still = 0.0
        self._peak = delta
        self._peak_i = len(self._exc) - 1
        self._peak_up = (up[0], up[1], up[2])
        self._still_s = 0.0

    def _excursion(
        self, t: float, delta: float, speed: float, still: bool, up: list[float]
    ) -> RepCandidate | None:
        cfg = self.cfg
        exc = self._exc
        exc.append((t, delta, speed))
        state = self._state
        base = self._exc_base
        amp = self._peak - base
        if delta >= self._far_hi:
            self._far_hi = self._dip_lo = delta
        else:
            self._dip_lo = min(self._dip_lo, delta)
            typ = self._typical_rom(t)
            if (typ is not None and typ >= cfg.dip_set_min_deg
                    and _like_range(amp, typ) and delta >= base + 0.9 * amp
                    and self._far_hi - self._dip_lo >= self.partial_share * amp):
                # Inside a set, as far out as its reps go and back there after a dip toward
                # rest (a partial pull from the floor, seen from standing): the lifter is at
                # work, not gone -- the clock that catches a posture change starts again.
                self._clock_t0 = t
                self._far_hi = self._dip_lo = delta
        if t - self._clock_t0 > cfg.max_rep_s or t - self._exc_t0 > MAX_DIPPING * cfg.max_rep_s:
            # Inside a set, one like its reps in range and (so far) in time may hold as
            # long as they did; any other must not stay away long.
            typ = self._typical_rom(self._exc_t0)
            longest = ALIKE_LONGER * max(self._durs, default=0.0)
            if typ is not None and _like_range(amp, typ) and t - self._exc_t0 < longest:
                max_s, max_hold = min(cfg.max_slow_rep_s, longest), math.inf
            else:
                max_s, max_hold = cfg.max_slow_rep_s, cfg.max_slow_hold_s
            held = self._held_away(exc, base, amp)
            # Inside a set, one like its reps already on its way back (moving, past 35 % of
            # the way, or within 30 % of rest): a rep coming to its end.  (Outside a set,
            # getting down onto the floor and the first rep there can make one excursion
            # that comes back this way too.)
            coming_back = (max_hold == math.inf
                           and (state == CLOSING or (state == RETURN and not still)))
            if not coming_back:
                if not self._replaying and amp >= self._min_rom(self._exc_t0):
                    # Held too long it is a change of posture for now, but still watched:
                    # the next rep's way back may show the hold was a set's first rep's.
                    self._lapsed = _Lapsed(
                        t, self._base if self._base is not None else 0.0, list(self._base_up),
                        self.rest_up_ or (0.0, 0.0, 1.0), self._dir, list(exc), self._exc_t0,
                        base, self._peak, self._peak_i, self._peak_up, self._typical, held,
                        max_s, max_hold, held_long=held > max_hold)
                self._state = STALE
                self._still_s = 0.0
                return None
        if state == AWAY and amp < self._min_rom(t):
            # Still before going anywhere that counts: this is a new rest pose (at once
            # within a degree; short of the set's partial threshold, after a long stay).
            self._away_still = self._away_still + (t - exc[-2][0]) if still else 0.0
            if self._away_still >= (cfg.still_s * 2 if amp < cfg.min_rom_deg
                                    else cfg.settle_wait_s):
                self._state = IDLE
                self._still_s = self._away_still
                self._away_still = 0.0
                return None
        if state == AWAY:
            if delta > self._peak:
                self._peak, self._peak_i = delta, len(exc) - 1
                self._peak_up = (up[0], up[1], up[2])
            elif delta < base + 0.65 * amp and amp >= self._min_rom(t):
                self._state = RETURN
                self._ret_still = 0.0
                self._min_after, self._min_after_i = delta, len(exc) - 1
                if delta <= base + 0.3 * amp:
                    # One sample past both (10 Hz, a quick return): closing from here, so
                    # that the way through the rest zone leads in to whatever comes next.
                    self._state = CLOSING
                    self._closing_since = t
                    self._closing_i = len(exc) - 1
            elif delta < base + 0.5 * cfg.start_deg and amp < self._min_rom(t):
                self._state = IDLE  # a small wobble, not a rep
                self._idle_hist.extend((x[0], self._dir * x[1], x[2]) for x in exc[-8:])
            return None
        if delta < self._min_after:
            self._min_after, self._min_after_i = delta, len(exc) - 1
        if state == RETURN:
            if delta > base + 0.9 * amp:
                self._state = AWAY  # it went back up: still the far part of the same rep
                if delta > self._peak:
                    self._peak, self._peak_i = delta, len(exc) - 1
                    self._peak_up = (up[0], up[1], up[2])
            elif delta <= base + 0.3 * amp:
                self._state = CLOSING
                self._closing_since = t
                self._closing_i = len(exc) - 1
            elif still and delta <= base + 0.5 * amp:
                # Settled more than half-way back: the rest pose was not where it was
                # thought (a start-up jolt, a shifted posture).  The rep is over.  After a
                # hold at the far pose it is over as soon as a rest pose would be found:
                # lift-and-hold sets lower to short of the pose they started from for
                # 0.6-0.8 s between holds (real prone hip extensions), and waiting twice
                # that made the whole set one excursion, until its 12 s ran out and the
                # holds were taken for rest.  (Without a hold, twice: a walk's strides
                # settle like that too.)
                self._ret_still += t - exc[-2][0]
                need = 2 * cfg.still_s
                if (cfg.still_s <= self._ret_still < need
                        and self._held_away(exc, base, amp) >= HELD_LIFT_S):
                    need = cfg.still_s
                if self._ret_still >= need:
                    self._closing_i = len(exc) - 1
                    return self._complete(t, "stopped")
            if not still:
                self._ret_still = 0.0
            return None
        # CLOSING: wait until it is back at rest, stops, or turns round.
        near = base + 0.1 * amp
        turned = delta > self._min_after + max(1.0, 0.05 * amp)
        stopped = still and t - self._closing_since > 0.1
        if delta <= near:
            return self._complete(t, "near")
        if turned or stopped or t - self._closing_since > 1.0:
            return self._complete(t, "turned" if turned else "stopped")
        return None

    def _held_away(self, exc: list[tuple[float, float, float]], base: float,
                   amp: float) -> float:
        """How long, in all, the segment was still on this excursion while more than 30 %
        of its range ``amp`` away from ``base`` (where the kept samples still say)."""
        still = {x[0]: x[4] for x in self._recent}
        away = [x[0] for x in exc if x[1] > base + 0.3 * amp]
        return sum(b - a for a, b in zip(away[:-1], away[1:], strict=True)
                   if still.get(b, False) and b - a < 0.5)

    def _watch_lapsed(self, t: float, up: list[float], theta: float, speed: float,
                      still: bool, gait: bool) -> RepCandidate | None:
        """Follow a lapsed excursion: complete it as a slow rep if the segment is back.

        Back means what it means for any excursion (``_excursion``'s closing
        levels), measured from the rest pose that excursion left.  One held too
        long is only followed (see ``_undo_inside_out``).
        """
        lap = self._lapsed
        assert lap is not None
        if gait or t - lap.exc_t0 > lap.max_s:
            self._lapsed = None
            return None
        delta = lap.direction * (theta - lap.base)
        if still and delta > lap.exc_base + 0.3 * (lap.peak - lap.exc_base):
            lap.still_s += t - lap.exc[-1][0]
            if lap.still_s > lap.max_hold_s:
                lap.held_long = True  # a long stay: a change of posture, for now
        lap.exc.append((t, delta, speed))
        if lap.held_long:
            return None
        n = len(lap.exc) - 1
        if delta > lap.peak:  # still on its way out
            lap.peak, lap.peak_i, lap.peak_up = delta, n, (up[0], up[1], up[2])
            lap.min_after, lap.closing_since = math.inf, None
            return None
        if delta < lap.min_after:
            lap.min_after, lap.min_after_i = delta, n
        amp = lap.peak - lap.exc_base
        if delta > lap.exc_base + 0.3 * amp:
            lap.closing_since = None
            return None
        if lap.closing_since is None:
            lap.closing_since, lap.closing_i = t, n
        turned = delta > lap.min_after + max(1.0, 0.05 * amp)
        if delta <= lap.exc_base + 0.1 * amp:
            how = "near"
        elif turned or (still and t - lap.closing_since > 0.1):
            how = "turned" if turned else "stopped"
        else:
            return None
        # Back where it started: take up that excursion again and complete it.
        self._take_up(lap, lap.min_after_i, lap.closing_i)
        self._state = CLOSING
        self._prev_theta, self._last_t = theta, t
        rep = self._complete(t, how)
        if rep is None:
            self._state = IDLE
            self._still_s = 0.0
        return rep

    def _later_return(self, tt: np.ndarray, dd: np.ndarray, ss: np.ndarray,
                      ret: tuple[float, float], base: float, rom: float,
                      ) -> tuple[float, float] | None:
        """The return that brought the leg back, when ``ret`` (timed on the speed) did not.

        ``tt``/``dd``/``ss`` hold the way back from the split.  Without a gyroscope
        the tilt speed is a derivative of the accelerometer's direction: a fast
        fall from an overshoot is a spike of speed that can outweigh the movement
        that lowers the leg.  When ``ret`` leaves the leg more than AWAY_AT_END
        of the range out, the next movement after that spike is the return, if
        it ends nearer the rest pose.
        """
        out = float(np.interp(ret[1], tt, dd)) - base
        if out <= AWAY_AT_END * rom:
            return None
        p = int(np.argmax(ss))
        past = np.flatnonzero(ss[p:] < SPEED_FRACTION * ss[p])
        if not past.size or tt.size - (p + int(past[0])) < 2:
            return None
        b = p + int(past[0])
        again = self.timer.movement(tt[b:], ss[b:])
        if again is None or float(np.interp(again[1], tt, dd)) - base >= out:
            return None
        return again

    def _dip(self, tt: np.ndarray, ss: np.ndarray, hi_a: int, lo: int, hi_b: int,
             depth: float) -> FarDip:
        """A far dip found by :func:`far_dips`, each way timed on its speed like any
        movement (on its turns if the timer finds none)."""
        back = self.timer.movement(tt[hi_a: lo + 1], ss[hi_a: lo + 1])
        out_again = self.timer.movement(tt[lo: hi_b + 1], ss[lo: hi_b + 1])
        turned = float(tt[lo])
        left = min(back[0] if back is not None else float(tt[hi_a]), turned)
        again = max(out_again[1] if out_again is not None else float(tt[hi_b]), turned)
        return FarDip(left, turned, again, depth, float(ss[hi_a: lo + 1].max()))

    def _take_up(self, lap: _Lapsed, min_after_i: int, closing_i: int) -> None:
        """Make the lapsed excursion ``lap`` the one under way again, from its rest pose."""
        self._lapsed = None
        self._base, self._base_up, self.rest_up_ = lap.base, lap.base_up, lap.rest_up
        self._follow_from = None
        self._dir = lap.direction
        self._exc, self._exc_t0, self._exc_base = lap.exc, lap.exc_t0, lap.exc_base
        self._peak, self._peak_i, self._peak_up = lap.peak, lap.peak_i, lap.peak_up
        self._min_after, self._min_after_i = lap.exc[min_after_i][1], min_after_i
        self._closing_i = closing_i

    def _inside_out(self, lap: _Lapsed) -> int | None:
        """This excursion, about to complete, is the way back and out again of a long
        hold ``lap``: as far, from that hold's far part (past 60 % of its range, where
        it is now again) to the closing part near its rest pose (within 30 %).  Returns
        where in ``lap.exc`` the way back came closest to the rest pose, or ``None``."""
        if lap.still_s > HELD_REP_MAX_S:
            return None  # a stay (settling on the bench before a set), not a rep's hold
        amp = lap.peak - lap.exc_base
        deltas = [x[1] for x in lap.exc]
        back = min(range(lap.peak_i, len(deltas)), key=deltas.__getitem__)
        rest = lap.direction * (self._base - lap.base) if self._base is not None else 0.0
        far = lap.exc_base + 0.6 * amp
        if (_like_range(self._peak - self._exc_base, amp) and rest >= far
                and deltas[-1] >= far and deltas[back] <= lap.exc_base + 0.3 * amp):
            return back
        return None

    def _undo_inside_out(self, t: float, lap: _Lapsed, back: int) -> RepCandidate | None:
        """The long hold was a set's first rep after all (a lift held 10 s): complete it
        from its rest pose to the return there, and go on with the rep since.

        Taken for a change of posture, the hold became the rest pose, and the way
        back with the next lift would be a rep turned inside out (resting at the
        far pose); every rep after it too.
        """
        self._take_up(lap, back, back)
        rep = self._complete(t, "turned")  # the lift since is the next rep's way out
        return replace(rep, mirrored=True) if rep is not None else None

    def _complete(self, t: float, how: str) -> RepCandidate | None:
        lap = self._lapsed
        back = self._inside_out(lap) if lap is not None and lap.held_long else None
        if lap is not None and back is not None:
            return self._undo_inside_out(t, lap, back)
        turned = how == "turned"
        exc = self._exc
        end_i = self._min_after_i if turned else len(exc) - 1
        arr = np.asarray(exc[: end_i + 1])
        tt, dd, ss = arr[:, 0], arr[:, 1], arr[:, 2]
        p = self._peak_i
        base_start = float(dd[: p + 1].min())
        rom = self._peak - base_start
        rest = self.rest_up_ or (0.0, 0.0, 1.0)
        # Restart: a turned rep's tail is the next rep's lead-in; otherwise the way
        # back through the rest zone is (an explosive next rep may already be on
        # its way out the other side).
        tail = exc[end_i:] if turned else exc[self._closing_i:]
        self._state = IDLE
        self._idle_hist.clear()
        self._idle_hist.extend((x[0], self._dir * x[1], x[2]) for x in tail)
        self._still_s = 0.0
        if not turned:
            tail = []
        if tail:
            _, d_last, s_last = tail[-1]
            if d_last > self.cfg.start_deg:
                self._exc = list(tail)
                self._exc_t0 = tail[0][0]
                self._clock_t0 = self._exc_t0
                self._far_hi = self._dip_lo = d_last
                self._exc_base = min(x[1] for x in tail)
                self._state = AWAY
                self._peak = max(x[1] for x in tail)
                self._peak_i = max(range(len(tail)), key=lambda i: tail[i][1])
        # Split the two movements where the segment is slowest in the far zone (the
        # turn or the pause), not at the largest angle: a slow creep during a pause
        # can put that right before the return.  The far zone is judged without
        # spikes shorter than SPIKE_S (the accelerometer's tilt at an explosive
        # pull's onset), which would otherwise be all of it.
        step = float(np.median(np.diff(tt))) if len(tt) > 1 else 1.0
        far_top = _held_max(dd, int(round(SPIKE_S / max(step, 1e-3))))
        far = np.flatnonzero(dd >= base_start + 0.85 * (far_top - base_start))
        split = int(far[np.argmin(ss[far])]) if far.size else p
        # A dip toward the rest pose and out again inside the far pose (a partial pull
        # from the floor, seen from standing) is neither way: the way out ends before
        # the first, the way back starts after the last.
        dips = far_dips(dd, base_start, rom, max(self._min_rom(t), self.partial_share * rom))
        out_to = min(split, dips[0][0]) if dips else split
        split = max(split, dips[-1][2]) if dips else split
        away = self.timer.movement(tt[: out_to + 1], ss[: out_to + 1])
        ret = self.timer.movement(tt[split:], ss[split:])
        if away is None or ret is None:
            return None
        # Slow movements are timed better on the angle, whose 10-90 % span the
        # bumps of a controlled lowering hardly move (the speed's 20 % span they do).
        far_level = float(dd[split])
        away_a = self.timer.movement_from_angle(tt[: out_to + 1], dd[: out_to + 1],
                                                base_start, float(dd[: out_to + 1].max()))
        ret_a = self.timer.movement_from_angle(tt[split:], dd[split:], far_level, base_start)
        if _use_angle_timing(away_a, away, self.angle_timing):
            away = away_a  # type: ignore[assignment]
        if _use_angle_timing(ret_a, ret, self.angle_timing):
            ret = ret_a  # type: ignore[assignment]
        elif self.angle_timing:
            ret = self._later_return(tt[split:], dd[split:], ss[split:], ret, base_start,
                                     rom) or ret
        if self.angle_timing and ret[1] - away[0] < self.cfg.min_rep_s and away_a is not None:
            # Without a gyroscope, a jolt can make both speed profiles spikes and the
            # excursion look shorter than any rep; its angle says how long it took
            # (back to where it turned, if it turned before its lead-in's lowest point).
            if ret_a is None:
                ret_a = self.timer.movement_from_angle(tt[split:], dd[split:], far_level,
                                                       float(dd[split:].min()))
            if ret_a is not None and ret_a[1] - away_a[0] >= self.cfg.min_rep_s:
                away, ret = away_a, ret_a
        start, away_end = away
        return_start, end = ret
        # A movement timed from its speed profile may begin before the first sample (a
        # recording cut at a rep's start); no sample says when, so it began there.
        cut_at_start = self._first_t is not None and start < self._first_t
        start = max(start, self._first_t if self._first_t is not None else start)
        if return_start < away_end:  # no pause: the turn point splits the two
            mid = 0.5 * (return_start + away_end)
            away_end = return_start = mid
        # The two movements are timed separately; keep their order inside the rep.
        away_end = min(max(away_end, start), end)
        return_start = min(max(return_start, away_end), end)
        if end - start < self.cfg.min_rep_s:
            return None
        if start - self._last_rep_end > self.cfg.set_memory_s or (
                self._typical is not None and rom > 2.5 * self._typical):
            # A new set, or the first full rep after fidgets: what came before says
            # nothing about this set's range.
            self._roms.clear()
            self._durs.clear()
        self._roms.append(rom)
        self._durs.append(end - start)
        self._typical = float(np.median(self._roms))
        self._roms_rest = rest
        self._last_rep_end = end
        self._set_dir = self._dir
        self._set_far_up = list(self._peak_up)
        speed_away = float(ss[: out_to + 1].max())
        speed_ret = float(ss[split:].max())
        inside = (tt >= start) & (tt <= end)
        s_in = ss[inside].tolist()
        top = max(s_in, default=0.0)
        humps = _surges(s_in, 0.3 * top) if top > 0 else 0
        timed = [d for d in (self._dip(tt, ss, *x) for x in dips)
                 if away_end <= d.turned_s <= return_start]
        self._lapsed = None  # another rep came first: that was no slow rep
        return RepCandidate(
            start_s=start,
            away_end_s=away_end,
            return_start_s=return_start,
            end_s=end,
            detected_s=t,
            rom_deg=rom,
            peak_speed_dps=max(speed_away, speed_ret),
            away_speed_dps=speed_away,
            return_speed_dps=speed_ret,
            rest_up=rest,
            far_up=self._peak_up,
            humps=humps,
            far_dips=tuple(timed),
            cut_at_start=cut_at_start,
            moving_on=self._state == AWAY,
        )
