"""Movement signal: the segment's tilt angle in its plane of motion, for the rep detector.

Coordinate convention: everything is in the sensor frame, so the strap may sit
any way round.  The tilt-rate vector ``w`` is the part of the angular velocity
perpendicular to gravity — measured by the gyroscope, or, without one, the
rate of change of the gravity direction (``up × d(up)/dt``).  Rotations about
the vertical (turning round) have no tilt and never look like reps.

The movement axis ``u`` is the principal axis of ``w`` (largest eigenvector of
its exponentially weighted covariance), found from the data, not assumed.
Without a gyroscope it is the normal of the great circle the up vectors
trace while moving (smallest eigenvector of their weighted scatter), as long
as they spread along their arc clearly more than across it: ``w`` is then a
derivative of the accelerometer's direction, and a jolt of the leg's own
acceleration (a lift stopping at the top) throws it about far more than it
moves the up vectors.  Once there is an axis, a window whose up vectors trace
no clear great circle (a held, trembling leg) keeps it.  The movement angle
``theta`` is the angle of the up vector about ``u`` in the plane perpendicular
to it — a signed, one-dimensional trajectory for a curl, a hinge or a bridge
whatever the mounting.  ``u`` is re-estimated once per second of samples on a
fixed sample grid, so results do not depend on how the input was chunked.
With a gyroscope (and one-second windows at 20 Hz or more), the first axis is
taken once two successive windows agree on it: the first second of a lift may
turn about another axis than the rest of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from repsense.dsp.filters import BlockMeans, StreamingLowpass
from repsense.dsp.orientation import skew

DETECTOR_RATE_HZ = 25.0
AXIS_UPDATE_SAMPLES = 25  # decimated samples between axis updates (1 s at 25 Hz)
GAIT_WINDOW_S = 3.0
GAIT_PERIOD_S = (0.8, 1.4)
SLOW_STRIDE_S = 1.7
"""With a gyroscope on a shank (or the placement unknown), strides are looked for up to
this period too, 70 steps a minute: a slow walker's, which the fixed-pivot test keeps
apart from curls (see ``_about_fixed_pivot``)."""
GAIT_GAP_S = 0.4
"""A sensor gap longer than half the shortest stride breaks the gait check's window (see
``MovementSignal.gap``); shorter ones (a phone's late samples) leave it whole."""
GAIT_MIN_SPEED_DPS = 20.0
GAIT_CORRELATION = 0.5
STEP_PERIOD_S = (0.4, 0.8)
"""Walking shows as steps: the accelerometer's magnitude repeats with a step's period
(a cadence of 75-150 steps a minute)."""
STEP_MIN_G = 0.1
"""... and swings by this much (standard deviation over the steps' window, and over its
last second) or more."""
STEP_CUTOFF_HZ = 4.0
STEP_WINDOW_S = 2.0
"""Steps are looked for in the last this many seconds (2.5 of the longest steps)."""
G = 9.80665  # m/s² per g
PIVOT_MAX_G = 0.18
"""With a gyroscope, on a shank or with the placement unknown, a stride-like swing that
turning about a fixed point explains to within this much (RMS of what is left of the
accelerometer, g) is a curl about a knee that stays put, not walking (see
``_about_fixed_pivot``)."""
WALK_ROLLBACK = 5
"""Axis windows (``AXIS_UPDATE_SAMPLES`` decimated samples: 1 s from 25 Hz up, 2.5 s at
10 Hz) of strides the gait flag takes to rise (its window is ``GAIT_WINDOW_S``, and on a
real shank walk it rose 4-5 s after the first stride): once it does, the movement axis's
evidence goes back to before them.  With 4, the first second of a real walk was left in
and turned the axis of the low-amplitude abductions after it (8 for 10)."""
WALK_TAIL = 4
"""Axis windows after the gait flag falls that still teach the axis nothing: the last
strides, and a flag that falls for a window inside a walk.  Real side-lying abductions
after a real shank walk (``benchmarks/walk_splice.py``): 45 of 48 sets exact with no tail,
46 with 1, all with 4; on another cut of the same walk (interpolated to 25 Hz without the
averaging) 69 % of 36 sets, 89 % with 1, 100 % with 4.  With no tail the simulated
hamstrings programme in ``recordings/`` gained a 3-rep set of the strap being moved."""
FIRST_AXIS_AGREE = math.cos(math.radians(20.0))
"""The first movement axis is taken once two successive windows' estimates agree this
well (20°)."""
PLANE_RATIO = 4.0
"""Without a gyroscope, the up vectors must spread this much more along their arc than
across it for its great circle to give the movement axis."""


@dataclass(frozen=True, eq=False)
class MovementBlock:
    """Decimated movement signal for one chunk."""

    t: np.ndarray
    up: np.ndarray
    """Unit up-vector in the sensor frame, ``(n, 3)``."""
    theta: np.ndarray
    """Tilt angle about the movement axis in degrees, ``(n,)``."""
    speed: np.ndarray
    """Tilt speed in deg/s, ``(n,)``."""
    still: np.ndarray
    """True where the segment is still: speed below a threshold that adapts to the
    sensor's noise floor, ``(n,)``."""
    gait: np.ndarray
    """True while the last seconds look like walking, ``(n,)``: the leg's tilt repeats
    with a stride's period (0.8-1.4 s) without turning about a fixed point (that, with
    a gyroscope, is a curl), or, on a thigh or with the placement unknown, the
    accelerometer's magnitude with a step's (0.4-0.8 s)."""
    ref: np.ndarray
    """The frame ``theta`` is measured in, ``(n, 3)``: ``theta`` is the angle of ``up``
    from ``ref`` towards ``side``; zero rows before the movement axis is known
    (``theta`` is then the unsigned tilt from the first sample)."""
    side: np.ndarray
    """``axis × ref``, ``(n, 3)``.  Both change only when the axis is re-estimated, so
    an angle kept from earlier (a rest pose) can be re-measured in the new frame."""


class MovementSignal:
    """Tilt speed, movement axis and angle, decimated to about 25 Hz.

    Parameters
    ----------
    rate_hz
        Input sample rate.
    speed_cutoff_hz
        Low-pass applied to the tilt rate (noise at rest, tremor).
    axis_memory_s
        Time constant of the movement-axis covariance.
    moving_dps
        Only samples tilting faster than this shape the axis.
    placement
        ``thigh``, ``shank`` or ``auto``: how walking is recognised (``gait``).
    """

    def __init__(self, rate_hz: float, speed_cutoff_hz: float = 3.0,
                 axis_memory_s: float = 30.0, moving_dps: float = 8.0,
                 placement: str = "auto") -> None:
        self.rate_hz = rate_hz
        self.placement = placement
        self.step = max(1, int(rate_hz // DETECTOR_RATE_HZ))
        self._rate_lp = StreamingLowpass(speed_cutoff_hz, rate_hz)
        self._index = 0
        self._prev_up: np.ndarray | None = None
        self._prev_t: float | None = None
        dec_rate = rate_hz / self.step
        self._dec_rate = dec_rate
        self._decay = float(np.exp(-AXIS_UPDATE_SAMPLES / dec_rate / axis_memory_s))
        self.moving_dps = moving_dps
        self._cov = np.zeros((3, 3))
        self._cov_up = np.zeros((3, 3))  # scatter of the up vectors while moving
        # Walking and its tail teach the axis nothing (see ``_axis_updates``): how many
        # windows, the last one included, still count as walking's, and the covariances
        # at the start of the last ``WALK_ROLLBACK`` windows.
        self._walk_left = 0
        self._cov_hist: list[np.ndarray] = []
        self._cov_up_hist: list[np.ndarray] = []
        self.axis_: np.ndarray | None = None
        self._first_cand: list[float] | None = None  # last candidate for the first axis
        self._ref: np.ndarray | None = None
        self._side = np.zeros(3)
        self._first_up: np.ndarray | None = None
        self._last_theta: float | None = None
        self.has_gyro: bool | None = None
        self.bias_ = np.zeros(3)
        """Estimated gyroscope bias (its part perpendicular to gravity), deg/s."""
        self.noise_dps_ = 1.0
        """Tilt-speed noise floor at rest, deg/s."""
        self.gait_ = False
        # The samples of the current, unfinished window of the one-second grid:
        # up vector, raw and bias-corrected tilt rate, and speed.
        self._win_up = np.empty((0, 3))
        self._win_w = np.empty((0, 3))
        self._win_wc = np.empty((0, 3))
        self._win_sp = np.empty(0)
        # The last GAIT_WINDOW_S seconds of decimated samples, for the stride check.
        self._gait_n = int(round(GAIT_WINDOW_S * dec_rate))
        self._hist_rate = np.empty((0, 3))
        self._hist_sp = np.empty(0)
        self._hist_mag = np.empty(0)
        self._mag_lp: StreamingLowpass | None = None
        self._hist_pivot = np.empty((0, 6))
        # The fixed-pivot fit's input: block means ending at the decimated samples, so
        # that decimating does not alias the heel strikes and soft-tissue wobble.
        self._pivot_means = BlockMeans(self.step, end_at_first=True)
        self._seen = 0  # decimated samples so far

    def gap(self, seconds: float) -> None:
        """The stream lost ``seconds`` of samples here (the pipeline's ``sensor_gap``).

        A gait window across a gap longer than ``GAIT_GAP_S`` is no continuous series:
        its halves join at a random phase of the leg's swing, and reps on either side
        of a 1.4 s gap passed for strides (a set's last two reps lost as walking).  The
        gait check starts its window again after such a gap, keeping its last verdict
        until it has judged the new one (a walk stays a walk through a dropout).
        """
        if seconds <= GAIT_GAP_S:
            return
        self._hist_rate = self._hist_rate[:0]
        self._hist_sp = self._hist_sp[:0]
        self._hist_mag = self._hist_mag[:0]
        self._hist_pivot = self._hist_pivot[:0]
        self._seen = 0

    @property
    def walk_judged_s(self) -> float:
        """How long after a walk begins the gait flag has judged a whole window of it, at
        the latest: ``GAIT_WINDOW_S`` of strides, then the end of the window in progress
        (the flag changes once every ``AXIS_UPDATE_SAMPLES`` decimated samples)."""
        return GAIT_WINDOW_S + AXIS_UPDATE_SAMPLES / self._dec_rate

    @property
    def sos(self) -> np.ndarray:
        """Second-order sections of the tilt-rate low-pass (the phase timer calibrates on it)."""
        return self._rate_lp.sos

    def push(self, t: np.ndarray, up: np.ndarray, gyr: np.ndarray | None,
             acc: np.ndarray | None = None) -> MovementBlock:
        """Process one chunk; returns the decimated samples in it.

        ``acc`` (g, ``(n, 3)``) shows walking by its steps on a thigh or with the
        placement unknown, and with a gyroscope on a shank or with the placement
        unknown tells a leg turning about a fixed point from a walk (see
        ``_gait_updates``).

        The axis, the gyro bias, the noise floor and the gait flag change only
        at the end of each window of the fixed one-second grid, and the bias and
        noise floor depend on the raw signal alone.  So instead of a loop over
        windows with small numpy calls, each is computed for all the windows
        completed in this chunk at once, then every sample gets the values in
        force in its window — the same result however the input was chunked.
        """
        n = t.shape[0]
        if gyr is not None:
            along = np.einsum("ij,ij->i", gyr, up)
            w = gyr - along[:, None] * up
        else:
            w = self._gravity_rate(t, up)
        w = self._rate_lp(w)
        first = (-self._index) % self.step
        keep = slice(first, n, self.step)
        self._index += n
        td, upd, wd = t[keep], up[keep], w[keep]
        mag = None
        if acc is not None and self.placement in ("thigh", "auto"):
            if self._mag_lp is None:
                self._mag_lp = StreamingLowpass(min(STEP_CUTOFF_HZ, 0.4 * self.rate_hz),
                                                self.rate_hz)
            mag = self._mag_lp(np.sqrt(np.einsum("ij,ij->i", acc, acc))[:, None])[keep, 0]
        pivot = None
        if acc is not None and gyr is not None and self.placement in ("shank", "auto"):
            pivot = self._pivot_means(np.hstack([acc, gyr]))
        self.has_gyro = gyr is not None
        m = td.shape[0]
        if m == 0:
            empty = np.empty(0)
            return MovementBlock(td, upd, empty, empty, empty.astype(bool), empty.astype(bool),
                                 np.empty((0, 3)), np.empty((0, 3)))
        if self._first_up is None:
            self._first_up = upd[0].copy()
        size = AXIS_UPDATE_SAMPLES
        p = self._win_up.shape[0]
        win = (np.arange(m) + p) // size  # window of each sample, 0 = the unfinished one
        k = (p + m) // size  # windows finished in this chunk
        done = k * size
        up_all = np.concatenate([self._win_up, upd])
        w_all = np.concatenate([self._win_w, wd])

        bias, noise = self._rest_updates(up_all[:done], w_all[:done])
        b = bias[win]
        wc = wd - (b - np.einsum("ij,ij->i", upd, b)[:, None] * upd)
        speed = np.sqrt(np.einsum("ij,ij->i", wc, wc))
        still = speed < np.clip(4.0 * noise, 3.0, 12.0)[win]
        gait_w = self._gait_updates(wc, speed, p, k, mag, pivot)
        gait = gait_w[win]
        wc_all = np.concatenate([self._win_wc, wc])
        sp_all = np.concatenate([self._win_sp, speed])
        has_axis, refs, sides = self._axis_updates(wc_all[:done], sp_all[:done],
                                                   up_all[size - 1:done:size], up_all[:done],
                                                   gait_w)
        theta = np.empty(m)
        on = has_axis[win]
        if on.any():
            u = upd[on]
            theta[on] = np.degrees(np.arctan2(np.einsum("ij,ij->i", u, sides[win[on]]),
                                              np.einsum("ij,ij->i", u, refs[win[on]])))
        if not on.all():
            # No movement seen yet: unsigned tilt from the first sample.
            theta[~on] = np.degrees(np.arccos(np.clip(upd[~on] @ self._first_up, -1.0, 1.0)))
        self._win_up, self._win_w = up_all[done:].copy(), w_all[done:].copy()
        self._win_wc, self._win_sp = wc_all[done:].copy(), sp_all[done:].copy()

        # Keep the angle continuous across +-180 deg (a curl past vertical).
        prev = theta[0] if self._last_theta is None else self._last_theta
        rad = np.radians(np.concatenate([[prev], theta]))
        if np.abs(rad[1:] - rad[:-1]).max() < np.pi:
            theta = np.degrees(rad[1:] + 0.0)  # what np.unwrap returns then, at a third the cost
        else:
            theta = np.degrees(np.unwrap(rad))[1:]
        self._last_theta = float(theta[-1])
        return MovementBlock(td, upd, theta, speed, still, gait, refs[win], sides[win])

    def _rest_updates(self, up: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gyro bias and noise floor in force in each window: ``(k + 1, 3)`` and ``(k + 1,)``.

        ``up``/``w`` hold the ``k`` finished windows.  After a second in which
        gravity did not move, the window's mean tilt rate is the bias and its
        spread the noise floor; both follow from the raw signal alone.
        """
        size = AXIS_UPDATE_SAMPLES
        k = up.shape[0] // size
        bias = np.empty((k + 1, 3))
        noise = np.empty(k + 1)
        bias[0], noise[0] = self.bias_, self.noise_dps_
        if not k:
            return bias, noise
        wk = w.reshape(k, size, 3)
        uk = up.reshape(k, size, 3)
        mean = wk.sum(axis=1) / size
        sq = np.einsum("kij,kij->k", wk, wk) / size
        spread = np.sqrt(np.maximum(0.0, sq - np.einsum("ki,ki->k", mean, mean)))
        moved = np.degrees(np.arccos(np.clip(np.einsum("ki,ki->k", uk[:, -1], uk[:, 0]),
                                             -1.0, 1.0)))
        rest = (moved < 0.3) & (spread < 5.0)
        b, nz = self.bias_, self.noise_dps_
        spread_l = spread.tolist()
        for j in range(k):  # a first-order recursion that only steps at rest
            if rest[j]:
                if self.has_gyro:
                    b = 0.7 * b + 0.3 * mean[j]
                nz = 0.8 * nz + 0.2 * spread_l[j]
            bias[j + 1], noise[j + 1] = b, nz
        self.bias_, self.noise_dps_ = b, nz
        return bias, noise

    def _gait_updates(self, rate: np.ndarray, speed: np.ndarray, p: int, k: int,
                      mag: np.ndarray | None = None,
                      pivot: np.ndarray | None = None) -> np.ndarray:
        """Gait flag in force in each window of this chunk, ``(k + 1,)``.

        After each finished window: is the leg swinging with a stride's period?
        (Autocorrelation of the signed tilt rate over the last GAIT_WINDOW_S
        seconds, not of the tilt: heel strikes shake the gravity estimate, the
        gyroscope not.  A rep's rate changes sign once per rep, so reps as fast
        as two seconds are anti-correlated at a stride's lag; quicker ones, with
        no pause, are not.)

        The steps show in the accelerometer's magnitude ``mag`` (decimated like
        ``rate``; ``None`` where unused): on a thigh, which bounces at every
        step of either foot, it repeats with a step's period (``STEP_PERIOD_S``),
        which even an explosive rep, one bounce per rep, does not.  Without a
        gyroscope they are often the only sign of walking: the gravity estimate
        holds its direction through samples far from 1 g, and a walking thigh's
        are (0.5-1.5 g), so the tilt it gives barely swings.

        ``pivot`` (the accelerometer in g and gyroscope in deg/s, ``(n, 6)``, block
        means at the decimated samples of ``rate``; with a gyroscope, on a shank or
        with the placement unknown) takes back the stride of a leg turning about a
        fixed point (``_about_fixed_pivot``): a shank's quick curls (1-0-X-0) repeat
        with a stride's period too.  A thigh's walk can look as fixed (its hip carries
        it smoothly), so there the steps, which with the placement unknown add to the
        stride, must show it.
        """
        gait = np.empty(k + 1, dtype=bool)
        gait[0] = self.gait_
        n_max = self._gait_n
        h0 = self._hist_sp.shape[0]
        hist_rate = np.concatenate([self._hist_rate, rate])
        hist_sp = np.concatenate([self._hist_sp, speed])
        hist_mag = None if mag is None else np.concatenate([self._hist_mag, mag])
        hist_piv = None if pivot is None else np.concatenate([self._hist_pivot, pivot])
        # On a thigh without a gyroscope the steps alone decide (``_with_steps``): no
        # stride to look for.
        stride = hist_mag is None or self.placement != "thigh" or bool(self.has_gyro)
        longest = GAIT_PERIOD_S[1] if hist_piv is None else SLOW_STRIDE_S
        if k:
            ends = h0 + np.arange(1, k + 1) * AXIS_UPDATE_SAMPLES - p  # exclusive, in hist_*
            seen = self._seen + ends - h0
            hi = int(round(GAIT_PERIOD_S[1] * self._dec_rate))
            full = seen >= n_max
            flags = np.zeros(k, dtype=bool)
            if full.any():
                # Windows with the whole history: all at once.
                idx = ends[full] - n_max
                sp_win = np.lib.stride_tricks.sliding_window_view(hist_sp, n_max)[idx]
                fast = np.flatnonzero(full)[sp_win.mean(axis=1) >= GAIT_MIN_SPEED_DPS]
                if stride and fast.size:
                    rate_win = np.lib.stride_tricks.sliding_window_view(hist_rate, n_max, axis=0)
                    period = np.zeros(k)
                    flags[fast], period[fast] = self._stride_like(
                        rate_win[ends[fast] - n_max].transpose(0, 2, 1), longest)
                    if hist_piv is not None and flags.any():
                        on = np.flatnonzero(flags)
                        piv_win = np.lib.stride_tricks.sliding_window_view(
                            hist_piv, n_max, axis=0)[ends[on] - n_max].transpose(0, 2, 1)
                        flags[on] = ~self._about_fixed_pivot(piv_win, period[on])
                if hist_mag is not None:
                    mag_win = np.lib.stride_tricks.sliding_window_view(hist_mag, n_max)[idx]
                    flags[full] = self._with_steps(flags[full], mag_win)
            for j in np.flatnonzero(~full & (seen >= 2 * hi)).tolist():
                # Start of the stream: a shorter history.
                a, e = ends[j] - int(seen[j]), ends[j]
                if stride and float(np.mean(hist_sp[a:e])) >= GAIT_MIN_SPEED_DPS:
                    like, period = self._stride_like(hist_rate[None, a:e], longest)
                    flags[j] = like[0]
                    if hist_piv is not None and flags[j]:
                        flags[j] = not self._about_fixed_pivot(hist_piv[None, a:e], period)[0]
                if hist_mag is not None:
                    flags[j] = bool(self._with_steps(flags[j:j + 1], hist_mag[None, a:e])[0])
            # Not yet judged (the stream's first seconds, or a long gap's: see ``gap``):
            # the flag in force before stays.
            flags[seen < 2 * hi] = gait[0]
            gait[1:] = flags
            self.gait_ = bool(flags[-1])
        self._hist_rate = hist_rate[-n_max:].copy()
        self._hist_sp = hist_sp[-n_max:].copy()
        if hist_mag is not None:
            self._hist_mag = hist_mag[-n_max:].copy()
        if hist_piv is not None:
            self._hist_pivot = hist_piv[-n_max:].copy()
        self._seen += rate.shape[0]
        return gait

    def _stride_like(self, x: np.ndarray, longest: float) -> tuple[np.ndarray, np.ndarray]:
        """For each ``(n, 3)`` tilt-rate history in ``x``: periodic with a stride's period
        (up to ``longest`` seconds)?  And the period, seconds."""
        # Past the usual range the crest must be a peak: a 2 s rep's rate correlates well at
        # 1.7 s on its way to its own period.
        return self._periodic(x, (GAIT_PERIOD_S[0], longest), peaked=longest > GAIT_PERIOD_S[1])

    def _about_fixed_pivot(self, x: np.ndarray, period: np.ndarray) -> np.ndarray:
        """For each ``(n, 6)`` history in ``x`` (accelerometer in g, gyroscope in deg/s):
        is it a segment turning about a point that stays put?

        A rigid segment turning about a fixed point, seen from a sensor at ``r`` from
        it (sensor frame), reads gravity turned by the segment's rotation plus
        ``alpha × r + omega × (omega × r)`` (Seel, Raisch & Schauer, *Sensors* 14:6891,
        2014; ``repsense.reps.lever_arm`` fits the same to a rep).  Here gravity is the
        window's first direction ``g0`` turned back by the gyroscope's angle about the
        window's principal axis, so the reading is linear in ``(g0, r)``: a least-squares
        fit per window, and what it leaves (RMS) must be under ``PIVOT_MAX_G``.  A curl
        on a bench turns the shank about the knee, and the fit leaves noise and soft
        tissue (0.04-0.12 g in simulated quick curls); a walking shank turns about a
        knee that the swinging thigh carries, with heel strikes, which leaves 0.25 g
        or more at 100-120 steps a minute, less the slower the walk: ``period`` (the
        stride's, seconds) lowers the bar past ``GAIT_PERIOD_S``.
        """
        dt = 1.0 / self._dec_rate
        w = np.radians(x[:, :, 3:])
        b = x[:, :, :3] * G
        g, n = w.shape[0], w.shape[1]
        axis = np.linalg.eigh(np.einsum("gni,gnj->gij", w, w))[1][:, :, -1]
        turn = np.einsum("gni,gi->gn", w, axis)
        angle = np.concatenate([np.zeros((g, 1)),
                                np.cumsum(0.5 * (turn[:, 1:] + turn[:, :-1]) * dt, axis=1)],
                               axis=1)
        k = skew(axis)[:, None]
        # Gravity seen from the sensor turns opposite to it: R(-angle) g0.
        grav = (np.eye(3) - np.sin(angle)[:, :, None, None] * k
                + (1.0 - np.cos(angle))[:, :, None, None] * (k @ k))
        sw = skew(w)
        lever = skew(np.gradient(w, dt, axis=1)) + sw @ sw
        a = np.concatenate([grav, lever], axis=3).reshape(g, 3 * n, 6)
        b = b.reshape(g, 3 * n)
        ata = np.einsum("gki,gkj->gij", a, a) + 1e-9 * np.eye(6)
        sol = np.linalg.solve(ata, np.einsum("gki,gk->gi", a, b)[:, :, None])[:, :, 0]
        left = b - np.einsum("gki,gi->gk", a, sol)
        # What a walk leaves is the knee's own acceleration, which falls with the square
        # of the stride's frequency: a slow walker's (1.6 s a stride) leaves 0.14 g, so
        # past GAIT_PERIOD_S the bar falls alike (to 0.12 g at SLOW_STRIDE_S: what simulated
        # quick curls leave at most).
        slow = (GAIT_PERIOD_S[1] / np.maximum(period, GAIT_PERIOD_S[1])) ** 2
        return np.sqrt(np.mean(left * left, axis=1)) / G < PIVOT_MAX_G * slow

    def _with_steps(self, stride: np.ndarray, mag: np.ndarray) -> np.ndarray:
        """The gait flags of windows whose stride cue is ``stride``, given the steps in
        their accelerometer-magnitude histories ``mag`` (one ``(n,)`` row each).

        On a thigh the steps decide: continuous reps as quick as strides (1-0-X-0)
        swing the tilt with a stride's period, but a thigh only walks with steps, and
        their 2 s show the start of a walk sooner.  With a gyroscope the thigh must
        swing with a stride's period too (``stride``): quick real squats bounce the
        thigh twice or three times a rep, and a 2 s window of such bounces repeated
        like steps (the gait flag dropped a set's last two squats).  With the
        placement unknown the steps add to the stride, over the stride's window: a
        shank's quick curls can repeat within 2 s, and a shank's walk shows its swing
        more than its steps.
        """
        if self.placement == "thigh":
            mag = mag[:, -int(round(STEP_WINDOW_S * self._dec_rate)):]
        # Strong over the window and still in its last second: the flag drops as soon as
        # the steps stop, not once they have left the window (at 10 Hz windows end every
        # 2.5 s: a set begun right after walking would be lost).
        last = max(2, int(round(self._dec_rate)))
        strong = (mag.std(axis=1) >= STEP_MIN_G) & (mag[:, -last:].std(axis=1) >= STEP_MIN_G)
        steps = np.zeros(mag.shape[0], dtype=bool)
        if strong.any():
            steps[strong] = self._periodic(mag[strong][:, :, None], STEP_PERIOD_S,
                                           peaked=True)[0]
        if self.placement == "thigh":
            return steps & stride if self.has_gyro else steps
        return stride | steps

    def _periodic(self, x: np.ndarray, period_s: tuple[float, float],
                  peaked: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """For each ``(n, d)`` history in ``x``: does it repeat with a period in ``period_s``?
        And the period of its crest there, seconds.

        ``peaked``: the crest must be a peak of the autocorrelation, not its rise
        toward a longer period at the top of the range.
        """
        n = x.shape[1]
        lo = int(round(period_s[0] * self._dec_rate))
        hi = int(round(period_s[1] * self._dec_rate))
        x = x - x.mean(axis=1, keepdims=True)
        energy = np.einsum("gij,gij->g", x, x)
        ok = energy > 0
        lags = min(hi + 1, n - 1) if peaked else hi
        # All lags at once: the autocorrelation is the inverse transform of the power
        # spectrum (zero-padded to 2n, so that it does not wrap round).
        spec = np.fft.rfft(x, 2 * n, axis=1)
        full = np.fft.irfft((spec * spec.conj()).real, 2 * n, axis=1).sum(axis=2)
        lag = np.arange(1, lags + 1)
        r = full[:, 1:lags + 1] * (n / (n - lag))
        r /= np.where(ok, energy, 1.0)[:, None]
        # Periodic, not just smooth: a crest at a period, and a trough before it.  Not only
        # at half the period: a walking shank's tilt rate has a strong second harmonic
        # (swing, then stance), and at 10 Hz its troughs fell at 0.3 and 0.9 s of a
        # 1.1 s stride, with nothing at 0.55 s.
        at = lo - 1 + r[:, lo - 1:hi].argmax(axis=1)
        trough = np.where(np.arange(r.shape[1]) < at[:, None], r, np.inf).min(axis=1)
        crest = np.take_along_axis(r, at[:, None], axis=1)[:, 0]
        out = ok & (crest > GAIT_CORRELATION) & (crest - trough > 2 * GAIT_CORRELATION)
        if peaked and lags > hi:
            out &= (at < hi - 1) | (crest >= r[:, hi])  # r[:, hi]: the lag past the range
        return out, (at + 1) / self._dec_rate

    def _axis_updates(
        self, wc: np.ndarray, speed: np.ndarray, up_end: np.ndarray, up: np.ndarray,
        walking: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Movement axis in force in each window: ``(has_axis, ref, side)``, ``k + 1`` each
        (``ref`` and ``side`` zero while there is no axis yet).

        ``wc``/``speed``/``up`` hold the ``k`` finished windows, ``up_end`` the up
        vector at the end of each.  The axis is the principal axis of the decayed
        covariance of the moving samples' tilt rate; its sign is kept from one
        window to the next.

        Walking teaches the axis nothing (``walking``: the gait flag before the first
        window and after each, ``k + 1``): windows the gait check found walking, and
        ``WALK_TAIL`` more, add nothing, and when it first finds it the covariance goes
        back to what it was before the ``WALK_ROLLBACK`` windows whose strides raised the
        flag.  A walk turns the leg faster than most reps, about the knee's and hip's own
        axis, and its weight held the axis for a minute and more: real side-lying
        abductions after a real walk (``benchmarks/walk_splice.py``) were measured about
        the walk's axis, and 32 of 48 of their sets came out exact (48 now).
        """
        size = AXIS_UPDATE_SAMPLES
        k = up_end.shape[0]
        has_axis = np.empty(k + 1, dtype=bool)
        refs = np.empty((k + 1, 3))
        sides = np.empty((k + 1, 3))
        has_axis[0] = self.axis_ is not None and self._ref is not None
        refs[0] = self._ref if self._ref is not None else 0.0
        sides[0] = self._side
        if not k:
            return has_axis, refs, sides
        walking = self._walk_windows(walking)
        moving = speed.reshape(k, size) > self.moving_dps
        wm = wc.reshape(k, size, 3) * moving[:, :, None]
        covs = self._decayed(self._cov, np.einsum("kni,knj->kij", wm, wm), walking,
                             self._cov_hist)
        self._cov = covs[-1]
        usable = np.flatnonzero(np.trace(covs, axis1=1, axis2=2) > 0)
        top = np.zeros(k)
        vec = np.zeros((k, 3))
        if usable.size:
            vals, vecs = np.linalg.eigh(covs[usable])
            top[usable], vec[usable] = vals[:, -1], vecs[:, :, -1]
        stay = np.zeros(k, dtype=bool)
        if not self.has_gyro:
            # Without a gyroscope the tilt rate is a derivative of the accelerometer's
            # direction, which a jolt of the leg's own acceleration throws about; the
            # up vectors themselves lie on the great circle about the movement axis.
            um = up.reshape(k, size, 3) * moving[:, :, None]
            covs_up = self._decayed(self._cov_up, np.einsum("kni,knj->kij", um, um), walking,
                                    self._cov_up_hist)
            self._cov_up = covs_up[-1]
            if usable.size:
                vals_u, vecs_u = np.linalg.eigh(covs_up[usable])
                planar = vals_u[:, 1] > PLANE_RATIO * np.maximum(vals_u[:, 0], 1e-12)
                vec[usable[planar]] = vecs_u[planar, :, 0]
                # Once there is an axis, a window whose up vectors leave no clear great
                # circle keeps it: the tilt rate's own axis there is mostly the noise of
                # a held pose (a real 12 degree hip extension held 6 s turned it 58 deg).
                stay[usable[~planar]] = True
        # The sign and in-plane reference follow from the previous window's:
        # a short sequential pass in plain floats.
        axis = None if self.axis_ is None else self.axis_.tolist()
        ref = None if self._ref is None else self._ref.tolist()
        side = self._side.tolist()
        first_up = self._first_up.tolist() if self._first_up is not None else None
        enough = (top >= 25.0 * AXIS_UPDATE_SAMPLES).tolist()
        stay_l = stay.tolist()
        vec_l = vec.tolist()
        up_l = up_end.tolist()
        changed = False
        cand = self._first_cand
        # Only where a window is short and the rate a gyroscope's: slower windows (under
        # 20 Hz) would keep the first reps without an axis for seconds, and without a
        # gyroscope the up vectors' great circle is steadier from the start.
        confirm = self.has_gyro and AXIS_UPDATE_SAMPLES / self._dec_rate <= 1.25
        for j in range(k):
            if enough[j] and axis is None and confirm:
                # The first axis must hold for two windows running: the first second of
                # a movement may turn about another axis than the rest of it.
                prev, cand = cand, vec_l[j]
                first_ok = prev is not None and abs(_dot(cand, prev)) >= FIRST_AXIS_AGREE
            else:
                first_ok = True
            if enough[j] and first_ok and not (stay_l[j] and axis is not None):
                u = vec_l[j]
                if axis is not None and _dot(u, axis) < 0:
                    u = [-u[0], -u[1], -u[2]]
                r = first_up if ref is None else ref
                assert r is not None
                d = _dot(r, u)
                r = [r[0] - d * u[0], r[1] - d * u[1], r[2] - d * u[2]]
                norm = math.sqrt(_dot(r, r))
                if norm >= 1e-6:
                    r = [r[0] / norm, r[1] / norm, r[2] / norm]
                    if axis is None and _dot(up_l[j], _cross(u, r)) < 0:
                        u = [-u[0], -u[1], -u[2]]  # continue the unsigned angle with its sign
                    axis, ref, side, changed = u, r, _cross(u, r), True
            has_axis[j + 1] = axis is not None
            refs[j + 1] = ref if ref is not None else 0.0
            sides[j + 1] = side
        self._first_cand = cand
        if changed:
            self.axis_, self._ref, self._side = np.array(axis), np.array(ref), np.array(side)
        return has_axis, refs, sides

    def _walk_windows(self, gait: np.ndarray) -> np.ndarray:
        """Which windows teach the axis nothing: the gait flags ``gait`` (``k + 1``, the
        flag before the first window and after each) held up ``WALK_TAIL`` windows more."""
        out = np.empty_like(gait)
        out[0] = self._walk_left > 0
        left = self._walk_left
        for j in range(1, gait.shape[0]):
            left = WALK_TAIL + 1 if gait[j] else max(0, left - 1)
            out[j] = left > 0
        self._walk_left = left
        return out

    def _decayed(self, cov: np.ndarray, scatter: np.ndarray, walking: np.ndarray,
                 before: list[np.ndarray]) -> np.ndarray:
        """The exponentially weighted covariance after each window's ``scatter`` is added,
        but a walking window's (see ``_axis_updates``).  ``before`` holds the covariance
        at the start of each of the last ``WALK_ROLLBACK`` windows (updated in place)."""
        covs = np.empty_like(scatter)
        for j in range(scatter.shape[0]):
            before.append(cov)
            del before[:-WALK_ROLLBACK]
            if walking[j + 1] and not walking[j]:
                cov = before[0] * self._decay ** len(before)
            elif walking[j + 1]:
                cov = cov * self._decay
            else:
                cov = cov * self._decay + scatter[j]
            covs[j] = cov
        return covs

    def _gravity_rate(self, t: np.ndarray, up: np.ndarray) -> np.ndarray:
        prev_up = up[0] if self._prev_up is None else self._prev_up
        prev_t = t[0] if self._prev_t is None else self._prev_t
        up0 = np.vstack([prev_up[None, :], up[:-1]])
        t0 = np.concatenate([[prev_t], t[:-1]])
        dt = t - t0
        cross = np.cross(up0, up)
        rate = np.degrees(cross) / np.maximum(dt, 1e-6)[:, None]
        rate[dt <= 0] = 0.0
        self._prev_up = up[-1].copy()
        self._prev_t = float(t[-1])
        return rate


def _dot(a: list[float], b: list[float]) -> float:
    """Dot product of two 3-vectors in plain floats (numpy costs ~1 us a call)."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: list[float], b: list[float]) -> list[float]:
    """Cross product of two 3-vectors in plain floats."""
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
