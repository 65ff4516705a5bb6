"""The sans-IO processing pipeline: ``push(chunk) -> events``.

Stages, each in its own module::

    TimingRepair (dsp/timing) -> AccRangeCheck (dsp/acc_range) -> GyroBias (dsp/gyro_bias)
    -> GyroAxesCheck (dsp/gyro_axes) -> GravityEstimator (dsp/orientation)
    -> MovementSignal (dsp/movement) -> RepDetector (reps/detector)
    -> SetTracker (sets/tracker) -> events

(The gyroscope check and the lever-arm fit read the gyroscope without the offset that
``GyroBias`` learns; gravity and the movement signal read it as measured.)

All state lives in these objects; there is no I/O, no thread, no clock.  Every
stage is causal and keeps its filter state between calls, so feeding a
recording sample by sample, in random chunks or all at once gives identical
events — the property the tests check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from repsense.dsp.acc_range import AccRangeCheck, AccRangeFinding
from repsense.dsp.gyro_axes import DEAD_FIX, DEAD_MESSAGE, GyroAxesCheck, GyroFinding
from repsense.dsp.gyro_bias import GyroBias
from repsense.dsp.movement import MovementSignal
from repsense.dsp.orientation import GravityEstimator
from repsense.dsp.timing import TimingRepair
from repsense.events import Event, SessionEnd, Warning
from repsense.exercises import EXERCISES, check_exercise
from repsense.reps.detector import DetectorConfig, RepCandidate, RepDetector
from repsense.reps.lever_arm import COARSE_RATE_HZ, MIN_RATE_HZ, LeverArmEstimator
from repsense.reps.phases import SpeedPhaseTimer
from repsense.samples import SampleChunk
from repsense.sets.tracker import SetTracker

if TYPE_CHECKING:  # the sensor drivers' package is not needed to run the pipeline
    from repsense.sensors.base import DecodeProblem

DEFAULT_SET_GAP_S = 15.0


class Pipeline:
    """Rep, set and rest events from a stream of IMU samples.

    Parameters
    ----------
    exercise
        Exercise id or ``auto``.
    placement
        ``thigh``, ``shank`` or ``auto``.
    sample_rate_hz
        Nominal rate if known (sensor configuration, sidecar); else estimated.
    session_id
        Prefix of every event id.
    set_gap_s
        Quiet time that ends a set.
    mounting_up
        Up vector in the sensor frame with the segment vertical, from pairing.
    detector
        Detector settings (defaults otherwise).
    gyro_matrix
        A gyroscope correction found before (see :mod:`repsense.dsp.gyro_axes`),
        applied from the first sample; otherwise the pipeline looks for one.
    acc_factor
        An accelerometer range mix-up found before (see :mod:`repsense.dsp.acc_range`):
        readings are divided by it from the first sample; otherwise the pipeline looks.
    """

    def __init__(
        self,
        exercise: str = "auto",
        placement: str = "auto",
        sample_rate_hz: float | None = None,
        session_id: str = "session",
        set_gap_s: float | None = None,
        mounting_up: Sequence[float] | None = None,
        detector: DetectorConfig | None = None,
        gyro_matrix: np.ndarray | None = None,
        acc_factor: float | None = None,
    ) -> None:
        self.exercise = check_exercise(exercise)
        self.placement = placement
        self.session_id = session_id
        self._seq = 0
        self.timing = TimingRepair(sample_rate_hz)
        self.tracker = SetTracker(
            self.exercise, placement, self._next_id,
            set_gap_s=DEFAULT_SET_GAP_S if set_gap_s is None else set_gap_s,
            mounting_up=mounting_up,
        )
        self._detector_cfg = detector
        self._gyro_matrix = gyro_matrix
        self._acc_factor = acc_factor
        self.acc_check: AccRangeCheck | None = None
        self.acc_finding_: AccRangeFinding | None = None
        """What the accelerometer range check found in this stream (a range mix-up)."""
        self.gyro_check: GyroAxesCheck | None = None
        self.gyro_bias: GyroBias | None = None
        self.gyro_finding_: GyroFinding | None = None
        """What the gyroscope check found in this stream (a correction, or no gyroscope)."""
        self.gravity: GravityEstimator | None = None
        self.movement: MovementSignal | None = None
        self.detector: RepDetector | None = None
        self.lever: LeverArmEstimator | None = None
        self.has_gyro: bool | None = None
        self._finished = False
        self._pending: list[Event] = []
        if self.exercise == "leg_curl" and placement == "thigh":
            self._pending.append(self._warning(
                0.0, "placement", "a thigh sensor sees almost nothing of a lying leg curl; "
                "strap the sensor to the shank for curls"))

    def _next_id(self) -> tuple[str, int]:
        self._seq += 1
        return f"{self.session_id}-{self._seq}", self._seq

    def _warning(self, t: float, code: str, message: str, **kw: float | int | None) -> Warning:
        eid, seq = self._next_id()
        return Warning(eid, seq, t, code, message, **kw)  # type: ignore[arg-type]

    @property
    def rate_hz(self) -> float | None:
        """Nominal sample rate once known."""
        return self.timing.rate_hz_

    def set_exercise(self, exercise: str) -> None:
        """The user named the exercise (applies to the current and later sets)."""
        self.exercise = check_exercise(exercise)
        self.tracker.exercise = self.exercise
        if self.lever is None:
            self.lever = self._lever_for(self.timing.rate_hz_ or 100.0)

    def _lever_for(self, rate: float) -> LeverArmEstimator | None:
        """A lever-arm estimator if the set tracker will use one (a gyroscope needed).

        Recognition (``auto``) asks for one from ``COARSE_RATE_HZ`` (under
        ``MIN_RATE_HZ`` it leaves out the rule a too-long lever misleads, see
        ``SetTracker.coarse_lever``), and so does ``generic``: its tempo asks which
        way lifted the segment (:func:`repsense.reps.recognize.away_lifts`); a named
        deadlift at any rate: it only asks whether the rest pose is the more upright one.
        """
        if not self.has_gyro:
            return None
        if self.exercise in ("auto", "generic"):
            return LeverArmEstimator(rate) if rate >= COARSE_RATE_HZ else None
        if EXERCISES[self.exercise].last_excursion_is_no_rep:
            return LeverArmEstimator(rate)
        return None

    def end_set(self) -> list[Event]:
        """The user ended the set by hand."""
        t = self.timing.last_t_ or 0.0
        return self.tracker.end_set(t)

    def report_problem(self, problem: DecodeProblem) -> list[Event]:
        """A sensor driver could not decode bytes, or samples were lost on the link.

        Nothing is made up for them: the user gets a warning with its size.
        """
        code = "lost_samples" if problem.kind == "lost" else f"sensor_{problem.kind}"
        lost = problem.lost_samples or None
        return [self._warning(problem.time_s, code, problem.message, lost_samples=lost)]

    def push(self, chunk: SampleChunk) -> list[Event]:
        """Process a chunk of samples; return the events it completed."""
        if self._finished:
            raise RuntimeError("push() after finish()")
        events, self._pending = self._pending, []
        ready, gaps = self.timing.push(chunk)
        if ready is not None:
            events += self._process(ready, gaps)
        return events

    def finish(self) -> list[Event]:
        """The stream ended: close the open set and report the session totals."""
        if self._finished:
            return []
        events, self._pending = self._pending, []
        ready, gaps = self.timing.finish()
        if ready is not None:
            events += self._process(ready, gaps)
        self._finished = True
        t_end = self.timing.last_t_ or 0.0
        if self.detector is not None and self.movement is not None:
            # A rep on its way back as the stream ended (see RepDetector.finish).
            for cand in self.detector.finish():
                events += self._rep_found(cand, bool(self.movement.has_gyro))
        check = self.gyro_check
        if check is not None and self.gyro_finding_ is None:
            late = check.finish(t_end)
            if late is not None:
                self.gyro_finding_ = late
                events.append(self._warning(t_end, "gyro_axes", late.message))
        if self.lever is not None:
            self.lever.settle(t_end, final=True)
        out_there = self.detector.excursion_out() if self.detector is not None else None
        events += self.tracker.end_set(t_end, out_there)
        t0 = self.timing.first_t_ or 0.0
        eid, seq = self._next_id()
        events.append(SessionEnd(eid, seq, t_end, self.tracker.sets_done,
                                 self.tracker.total_reps, t_end - t0))
        return events

    def _process(self, chunk: SampleChunk, gaps: list) -> list[Event]:
        events: list[Event] = []
        if self.gravity is None:
            # A gyroscope found dead on a first pass (a zero correction) is left out.
            dead = self._gyro_matrix is not None and not np.any(self._gyro_matrix)
            self._build(chunk.gyr is not None and not dead)
            if dead and chunk.gyr is not None:
                events.append(self._warning(float(chunk.t[0]), "gyro_axes",
                                            f"{DEAD_MESSAGE} {DEAD_FIX}"))
        assert self.movement is not None and self.detector is not None
        chunk, found_at = self._check_acc_range(chunk, events)
        # Process the parts between gaps in order, each gap's warning before the samples
        # after it (and an accelerometer range finding before the first corrected one),
        # so the event order is the same however the stream was chunked.
        cuts = [(int(np.searchsorted(chunk.t, g.end_s)), 0, g) for g in gaps]
        if found_at is not None:
            cuts.append((found_at, 1, None))
        start = 0
        for at, _, g in sorted(cuts, key=lambda c: c[:2]):
            if at > start:
                events += self._process_part(chunk.slice(start, at))
                start = at
            if g is None:
                assert self.acc_finding_ is not None
                events.append(self._warning(self.acc_finding_.time_s, "acc_range",
                                            self.acc_finding_.message))
                continue
            events.append(self._warning(
                g.end_s, "sensor_gap",
                f"no samples for {g.end_s - g.start_s:.2f} s "
                f"(about {g.lost_samples} lost) at {g.start_s:.2f} s",
                gap_s=g.end_s - g.start_s, lost_samples=g.lost_samples))
            if self.movement is not None:
                self.movement.gap(g.end_s - g.start_s)
        if start < len(chunk):
            events += self._process_part(chunk.slice(start, len(chunk)))
        return events

    def _check_acc_range(self, chunk: SampleChunk, events: list[Event]
                         ) -> tuple[SampleChunk, int | None]:
        """The chunk with its accelerometer corrected for a range mix-up (see
        :mod:`repsense.dsp.acc_range`), and the index of its first corrected sample when
        the mix-up was found in it (``None`` otherwise)."""
        check = self.acc_check
        if check is None:
            check = self.acc_check = AccRangeCheck(self.timing.rate_hz_ or 100.0,
                                                   self._acc_factor)
            if self._acc_factor is not None:
                events.append(self._warning(float(chunk.t[0]), "acc_range", check.message))
        reported = check.finding_ is not None
        acc, at = check.push(chunk.t, chunk.acc)
        if at >= len(chunk):
            return chunk, None
        chunk = SampleChunk(chunk.t, acc, chunk.gyr)
        if reported or check.finding_ is None:
            return chunk, None
        self.acc_finding_ = check.finding_
        return chunk, at

    def _build(self, has_gyro: bool) -> None:
        """The stages after timing repair, for a sensor with or without a gyroscope."""
        rate = self.timing.rate_hz_ or 100.0
        self.has_gyro = has_gyro
        self.gyro_check = GyroAxesCheck(rate, self._gyro_matrix) if has_gyro else None
        self.gyro_bias = GyroBias(rate) if has_gyro else None
        self.gravity = GravityEstimator(rate)
        self.movement = MovementSignal(rate, placement=self.placement)
        chain = [self.movement.sos] if has_gyro else [self.gravity.sos, self.movement.sos]
        timer = SpeedPhaseTimer(chain, rate, angle_chain=[self.gravity.sos])
        self.detector = RepDetector(timer, self._detector_cfg, angle_timing=not has_gyro)
        # A slower sensor's lever arm is coarse: recognition then leaves out the rule
        # it could turn into a wrong name.
        self.tracker.coarse_lever = rate < MIN_RATE_HZ
        self.tracker.walk_judged_s = self.movement.walk_judged_s
        self.tracker.partial_min = self.detector.partial_share
        self.lever = self._lever_for(rate)

    def _process_part(self, chunk: SampleChunk) -> list[Event]:
        gyr = chunk.gyr if self.has_gyro else None
        check = self.gyro_check
        if gyr is None or check is None or self.gyro_bias is None:
            return self._run(chunk, None, None)
        # The check and the lever-arm fit read the gyroscope without its offset.  The
        # movement stage takes the tilting part of it off by itself (relearnt at each
        # rest), and so reads it as before: taking the offset off there too moved
        # borderline simulated movements across their thresholds both ways, a false
        # set in `recordings/` among them (BENCHMARKS.md, "A gyroscope's offset").
        measured = gyr
        reported = check.finding_ is not None
        gyr, at = check.push(chunk.t, chunk.acc, self.gyro_bias.push(chunk.acc, measured))
        moving = check.correct(measured, at)
        if reported or check.finding_ is None:
            return self._run(chunk, moving, gyr)
        # The warning goes between the samples before and after the correction, so
        # the event order is the same however the stream was chunked.
        n = len(chunk)
        events = self._run(chunk.slice(0, at), moving[:at], gyr[:at]) if at else []
        self.gyro_finding_ = check.finding_
        events.append(self._warning(check.finding_.time_s, "gyro_axes", check.finding_.message))
        if check.finding_.dead:
            # Nothing the gyroscope fed can be kept (the tilt it carried never turned):
            # the stages start again without it.  The set tracker and its sets stay.
            self._build(False)
            return events + self._run(chunk.slice(at, n), None, None)
        return events + self._run(chunk.slice(at, n), moving[at:], gyr[at:])

    def _rep_found(self, cand: RepCandidate, has_gyro: bool) -> list[Event]:
        """A rep from the detector, with what recognition reads about it, to the tracker."""
        assert self.gravity is not None
        if self.lever is not None:
            cand = replace(cand, lever=self.lever.watch(cand.start_s, cand.end_s))
        elif not has_gyro:
            cand = replace(cand, quiet_g=self.gravity.own_g.mean_)
        return self.tracker.add_rep(cand)

    def _run(self, chunk: SampleChunk, gyr: np.ndarray | None,
             lever_gyr: np.ndarray | None) -> list[Event]:
        """The stages from gravity on; ``gyr`` for gravity and movement, ``lever_gyr``
        (the same without the gyroscope's offset) for the lever-arm fit."""
        assert self.gravity is not None and self.movement is not None
        assert self.detector is not None
        events: list[Event] = []
        tracker = self.tracker
        lever = self.lever
        detector = self.detector

        def on_sample(t: float, walking: bool) -> None:
            if lever is not None:
                lever.settle(t)
            if walking:
                tracker.walking()
            since = detector.rep_under_way_since
            if tracker.due(t, since):
                events.extend(tracker.tick(t, since))

        def on_rep(cand: RepCandidate) -> None:
            events.extend(self._rep_found(cand, gyr is not None))

        if self.lever is not None and lever_gyr is not None:
            self.lever.push(chunk.t, chunk.acc, lever_gyr)
        up = self.gravity.push(chunk.acc, gyr, chunk.t)
        block = self.movement.push(chunk.t, up, gyr, chunk.acc)

        def quiet_until() -> float:  # before this, on_sample would do nothing
            soon = tracker.next_due_s()
            return soon if lever is None else min(soon, lever.next_due_s)

        self.detector.push(block, on_sample, on_rep, quiet_until)
        return events
