"""Lever arm: where the sensor sits relative to the point its segment turns about.

A strap in any orientation tells the rep detector the tilt of the segment, but
not which way the segment points, so a curl, a hinge and a bridge can look
alike from gravity alone.  The accelerometer's *dynamic* part can tell them
apart.  For a rigid segment turning about a fixed point, the sensor's linear
acceleration is

    a = alpha × r + omega × (omega × r)

(tangential plus centripetal; ``omega`` the angular velocity, ``alpha`` its
derivative, ``r`` the vector from the centre of rotation to the sensor, all in
the sensor frame).  The equation is linear in ``r``, so the reps of a set give
a least-squares estimate of it — the accelerometer lever-arm estimate used to
calibrate IMU positions (e.g. Seel, Raisch & Schauer, "IMU-based joint angle
measurement for gait analysis", *Sensors* 14:6891, 2014).

What recognition needs is the *elevation* of ``r`` against gravity: is the
sensor below its centre of rotation (a shank hanging from the knee, a thigh
swinging from the hip), level with it (a shank on a curl bench), or above it
(a foot planted on the floor: deadlifts, bridges, hip thrusts turn the leg
about the knee or the ankle)?  That holds whatever the strap's orientation.

Coordinate convention: sensor frame; accelerations in m/s², angular rates in
rad/s; ``up`` is the unit specific-force direction at rest (pointing away from
the ground).  Gravity during the rep is the rest direction turned by the
integrated gyroscope about the rep's rotation axis, with the gyro drift
removed so that it meets the measured rest direction at the rep's end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from repsense.dsp.filters import BlockMeans
from repsense.dsp.orientation import skew

G = 9.80665
BLOCK_RATE_HZ = 25.0
"""Samples are averaged in blocks down to about this rate (reps last 1-10 s)."""
KEEP_S = 16.0
"""History kept: longer than the longest rep the detector accepts (12 s)."""
PAD_S = 0.25
"""Rest samples taken on each side of a rep to read the gravity direction."""
MIN_RATE_HZ = 20.0
"""Below this the angular acceleration of a rep is too coarsely sampled: on real
recordings halved to 12.5 Hz the fitted lever grew by half and named a side-lying
abduction a glute bridge, so slower sensors get only the rules that a longer lever
cannot turn into a name (see ``repsense.reps.recognize``)."""
COARSE_RATE_HZ = 10.0
"""From here to ``MIN_RATE_HZ`` the lever arm is estimated, coarsely."""
STILL_S = 0.3
STILL_SPREAD = (25.0, 0.2)
"""A block ends ``STILL_S`` of stillness when over that time the block means of the
gyroscope and of the accelerometer spread by less than this (deg/s, g; the norm of their
per-axis ranges).  Spreads, not levels: a cheap gyroscope's bias (5 °/s at rest on a real
ESP32 recorder) does not matter, and real lifters between touch-and-go squats are still
only that loosely and that briefly (with 0.5 s, 46 of its 120 files showed a second of
stillness; with 0.3 s, 85; calibrated sensors read 0.97-1.05 g either way)."""
STILL_MIN_S = 1.0
"""The accelerometer's magnitude at rest is judged once this much stillness was seen."""
REST_G_TOL = 0.15
"""An accelerometer whose mean magnitude while still is further than this from 1 g is off
in scale or offset, and by as much in other poses: the error swamps a rep's lever
accelerations (0.05-0.3 g), so the fit says nothing.  Calibrated sensors read 0.97-1.06 g
still (uci-pt's Xsens units, the simulator's); a real ESP32 squat recorder's read
1.23-1.49 g, and its fitted levers named squats a deadlift and a glute bridge."""


def _trailing(op: np.ufunc, x: np.ndarray, k: int) -> np.ndarray:
    """``op`` (``np.maximum`` or ``np.minimum``) over each run of ``k`` rows of ``x``, for
    the runs ending at rows ``k - 1`` onward: ``(n - k + 1, ...)``.  Spans double, so it
    takes ``log2(k)`` passes, not ``k`` (scipy's filters would load scipy for ``analyze``)."""
    out, span = np.asarray(x), 1
    while 2 * span <= k:
        out, span = op(out[span:], out[:-span]), 2 * span
    if span < k:
        out = op(out[k - span:], out[:-(k - span)])
    return out


@dataclass(frozen=True, eq=False)
class LeverFit:
    """One rep's normal equations for the lever arm ``r`` (sensor frame, metres).

    Attributes
    ----------
    ata, atb
        ``sum(A.T @ A)`` (3×3) and ``sum(A.T @ a)`` (3,) over the rep's samples;
        sums over reps combine them.
    r
        This rep's own estimate (``None`` when its movement was too small).
    rest_g
        The accelerometer's mean magnitude while the leg was still (see
        :data:`STILL_S`), from the stream's start to the end of the rep's window, g:
        1 for a calibrated sensor, whose reading the model takes for gravity (see
        :data:`REST_G_TOL`); ``None`` before ``STILL_MIN_S`` of stillness.
    """

    ata: np.ndarray
    atb: np.ndarray
    r: np.ndarray | None
    rest_g: float | None = None


def solve_lever(ata: np.ndarray, atb: np.ndarray, min_excitation: float = 0.5) -> np.ndarray | None:
    """Least-squares ``r`` from summed normal equations, or ``None`` if ill-posed.

    ``min_excitation`` bounds the smallest eigenvalue of ``ata`` per unit of
    its trace (the movement must excite ``r`` in all directions a planar
    rotation can, i.e. two of three): below it the estimate is mostly noise.
    """
    tr = float(np.trace(ata))
    if not np.isfinite(tr) or tr <= 0.0:
        return None
    ev = np.linalg.eigvalsh(ata)
    # A planar rotation leaves r along the axis unobservable (ev[0] ~ 0); the
    # in-plane components need the other two.
    if ev[1] < min_excitation * 1e-2 * tr:
        return None
    r = np.linalg.lstsq(ata, atb, rcond=1e-3)[0]
    return r if np.all(np.isfinite(r)) else None


class LeverSlot:
    """A rep's lever-arm fit, filled in once the rest after the rep has been seen.

    The fit needs ``PAD_S`` of samples after the rep ends, which may arrive
    after the rep is reported; the slot travels with the rep and is filled by
    :meth:`LeverArmEstimator.settle` at a fixed stream time, so chunking cannot
    change what recognition sees.
    """

    __slots__ = ("start_s", "end_s", "fit")

    def __init__(self, start_s: float, end_s: float) -> None:
        self.start_s = start_s
        self.end_s = end_s
        self.fit: LeverFit | None = None


class LeverArmEstimator:
    """Keeps a few seconds of block-averaged samples and fits each rep's lever arm.

    Parameters
    ----------
    rate_hz
        Input sample rate.

    Notes
    -----
    Block averages sit on a fixed grid of sample indices, so how the stream
    was chunked cannot change them.
    """

    def __init__(self, rate_hz: float) -> None:
        self.step = max(1, int(round(rate_hz / BLOCK_RATE_HZ)))
        # t, acc (m/s^2), gyr (rad/s), and from the stream's start to each block the sum
        # of |acc| (g) over the blocks that ended STILL_S of stillness, and their count.
        self._buf = np.zeros((0, 9))
        block_rate = rate_hz / self.step
        self._run = max(2, int(round(STILL_S * block_rate)))
        self._still_min = STILL_MIN_S * block_rate
        self._tail = np.zeros((0, 6))  # the last blocks' acc (g) and gyr (deg/s)
        self._still_sum = 0.0
        self._still_n = 0.0
        self._blocks = BlockMeans(self.step)
        self._pending: list[LeverSlot] = []
        self._next_due = float("inf")

    def watch(self, start_s: float, end_s: float) -> LeverSlot:
        """A slot for the rep between ``start_s`` and ``end_s``, filled by :meth:`settle`."""
        slot = LeverSlot(start_s, end_s)
        self._pending.append(slot)
        self._next_due = min(self._next_due, end_s + PAD_S)
        return slot

    @property
    def next_due_s(self) -> float:
        """Stream time at which :meth:`settle` next has a rep to fit."""
        return self._next_due

    def settle(self, t: float, final: bool = False) -> None:
        """Fit the pending reps whose after-rest ends by stream time ``t`` (all if ``final``)."""
        if t < self._next_due and not final:
            return
        keep = []
        for slot in self._pending:
            if final or slot.end_s + PAD_S <= t:
                slot.fit = self.fit(slot.start_s, slot.end_s)
            else:
                keep.append(slot)
        self._pending = keep
        self._next_due = min((s.end_s + PAD_S for s in keep), default=float("inf"))

    def push(self, t: np.ndarray, acc_g: np.ndarray, gyr_dps: np.ndarray) -> None:
        """Add samples (times in s, acceleration in g, angular rate in deg/s)."""
        blocks = self._blocks(np.column_stack([t, acc_g * G, np.radians(gyr_dps)]))
        if not blocks.shape[0]:
            return
        blocks = np.column_stack([blocks, self._stillness(blocks)])
        # Keep KEEP_S before this chunk as well as the whole chunk: the detector
        # asks for reps inside it only after the chunk has been pushed.
        old = self._buf[self._buf[:, 0] >= blocks[0, 0] - KEEP_S]
        self._buf = np.concatenate([old, blocks])

    def _stillness(self, blocks: np.ndarray) -> np.ndarray:
        """The running sum of |acc| (g) over still blocks and their count, ``(n, 2)``.

        A block is still when it ends ``STILL_S`` whose block means spread less than
        ``STILL_SPREAD``: judged on the past alone, so chunking changes nothing.
        """
        units = np.column_stack([blocks[:, 1:4] / G, np.degrees(blocks[:, 4:7])])
        hist = np.concatenate([self._tail, units])
        self._tail = hist[-(self._run - 1):].copy()
        still = np.zeros(blocks.shape[0], dtype=bool)
        if hist.shape[0] >= self._run:
            # The runs ending at the last blocks (the stream's first blocks end none).
            spread = (_trailing(np.maximum, hist, self._run)
                      - _trailing(np.minimum, hist, self._run))[-blocks.shape[0]:]
            still[blocks.shape[0] - spread.shape[0]:] = (
                (np.einsum("ij,ij->i", spread[:, :3], spread[:, :3]) < STILL_SPREAD[1] ** 2)
                & (np.einsum("ij,ij->i", spread[:, 3:], spread[:, 3:]) < STILL_SPREAD[0] ** 2))
        mag = np.where(still, np.sqrt(np.einsum("ij,ij->i", units[:, :3], units[:, :3])), 0.0)
        sums = self._still_sum + np.cumsum(mag)
        counts = self._still_n + np.cumsum(still)
        self._still_sum, self._still_n = float(sums[-1]), float(counts[-1])
        return np.column_stack([sums, counts])

    def _window(self, t0: float, t1: float) -> np.ndarray:
        i, j = np.searchsorted(self._buf[:, 0], [t0, t1], side="right")
        return self._buf[i - int(i > 0 and self._buf[i - 1, 0] == t0):j]

    def fit(self, start_s: float, end_s: float) -> LeverFit | None:
        """Normal equations of the rep between ``start_s`` and ``end_s``, or ``None``.

        ``None`` when the history does not cover the rep or it has no rest
        samples around it to read gravity from.
        """
        w = self._window(start_s - PAD_S, end_s + PAD_S)
        if w.shape[0] < 8:
            return None
        # Broken input (clock steps of microseconds, saturated sensors) must not warn or
        # raise here: an unusable fit is just no fit.
        with np.errstate(all="ignore"):
            return self._fit(w, start_s, end_s)

    def _fit(self, w: np.ndarray, start_s: float, end_s: float) -> LeverFit | None:
        t, acc, gyr = w[:, 0], w[:, 1:4], w[:, 4:7]
        rest_g = float(w[-1, 7] / w[-1, 8]) if w[-1, 8] >= self._still_min else None
        pre = t < start_s
        post = t > end_s
        if not pre.any() or not post.any():
            return None
        g0 = acc[pre].mean(axis=0)
        g1 = acc[post].mean(axis=0)
        # The rep's rotation axis: principal axis of the angular velocity.
        axis = np.linalg.eigh(gyr.T @ gyr)[1][:, -1]
        rate = gyr @ axis
        dt = np.diff(t)
        turned = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * dt)])
        # Gyro drift: the gravity direction must end where the accelerometer says.
        p0 = g0 - (g0 @ axis) * axis
        p1 = g1 - (g1 @ axis) * axis
        seen = -np.arctan2(axis @ np.cross(p0, p1), p0 @ p1)
        span = t[-1] - t[0]
        if span <= 0:
            return None
        turned += (seen - turned[-1]) * (t - t[0]) / span
        # A world-fixed vector turns by -angle in the sensor frame (Rodrigues).
        c, s = np.cos(-turned)[:, None], np.sin(-turned)[:, None]
        mag = 0.5 * (np.linalg.norm(g0) + np.linalg.norm(g1))
        u0 = g0 / max(np.linalg.norm(g0), 1e-9) * mag
        grav = (u0 * c + np.cross(axis, u0)[None, :] * s
                + np.outer(1.0 - c[:, 0], axis * (axis @ u0)))
        lin = acc - grav
        alpha = np.gradient(gyr, t, axis=0)
        sk = skew(gyr)
        a_mat = skew(alpha) + sk @ sk
        ata = np.einsum("nij,nik->jk", a_mat, a_mat)
        atb = np.einsum("nij,ni->j", a_mat, lin)
        if not (np.isfinite(ata).all() and np.isfinite(atb).all()):
            return None
        return LeverFit(ata, atb, solve_lever(ata, atb), rest_g)


def elevation_deg(r: np.ndarray, up: tuple[float, float, float] | np.ndarray) -> float:
    """Elevation of the sensor above its centre of rotation, degrees (-90..90)."""
    x, y, z = (float(v) for v in r)
    n = math.sqrt(x * x + y * y + z * z)
    if n == 0.0:
        return 0.0
    s = (x * float(up[0]) + y * float(up[1]) + z * float(up[2])) / n
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))
