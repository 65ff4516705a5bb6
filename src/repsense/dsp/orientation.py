"""Orientation stage: the direction of gravity in the sensor frame.

The accelerometer measures specific force; at rest it reads 1 g pointing
*up*.  Low-pass filtering it gives the gravity ("up") direction, the only
absolute reference a single leg-worn IMU has — its tilt against it is what
changes during a curl, a hinge or a bridge, whatever way the strap sits.
Samples whose magnitude is far from 1 g (impacts of the leg on the bench,
explosive pulls) say little about gravity and are replaced by the last
good sample before filtering.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from repsense.dsp.filters import BlockMeans, StreamingLowpass, hold_last_valid

QUIET_BLOCK_S = 0.2
"""Blocks over which the accelerometer's size is averaged to find its own 1 g."""
QUIET_SCATTER_G = 0.03
"""A block whose readings' size scatters by no more than this (standard deviation) is
quiet: the segment still or turning slowly, the accelerometer reading gravity alone."""
ONE_G_MIN_S = 1.0
"""Quiet time after which an accelerometer's own 1 g may replace 1 g."""
ONE_G_TOL = 0.08
"""An accelerometer whose quiet blocks read within this share of 1 g on average counts as
calibrated, and 1 g stays its 1 g.  Over whole files calibrated units read 0.96-1.03 g
there (uci-pt, `recordings/`, fresh simulated seeds), a real accelerometer-only thigh
sensor 0.92-1.00 g (mex-bridging); a real ESP32 squat recorder's uncalibrated
accelerometers 1.27-1.49 g, and an accelerometer whose range was decoded wrongly reads
0.5 or 2 g."""


def skew(v: np.ndarray) -> np.ndarray:
    """Cross-product matrices of the vectors ``v`` (``(..., 3)`` -> ``(..., 3, 3)``):
    ``skew(a) @ b == np.cross(a, b)``."""
    z = np.zeros(v.shape[:-1] + (3, 3))
    x, y, w = v[..., 0], v[..., 1], v[..., 2]
    z[..., 0, 1], z[..., 0, 2] = -w, y
    z[..., 1, 0], z[..., 1, 2] = w, -x
    z[..., 2, 0], z[..., 2, 1] = -y, x
    return z


def angle_deg(a: Sequence[float], b: Sequence[float]) -> float:
    """Angle in degrees between two unit 3-vectors (plain floats: called per rep)."""
    dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    return math.degrees(math.acos(max(-1.0, min(1.0, dot))))


class OwnOneG:
    """What an accelerometer reads for 1 g: the mean size of its quiet blocks so far.

    Stages that tell gravity from the limb's own acceleration by the accelerometer's
    size (samples near 1 g read gravity) compare it with this instead of 1 g, so that
    an uncalibrated accelerometer (1.4 g at rest) or one decoded with the wrong range
    (0.5 or 2 g) does not look dynamic throughout.  It stays exactly 1 g for an
    accelerometer within ``ONE_G_TOL`` of it, and before ``ONE_G_MIN_S`` of quiet
    blocks (or says it does not know yet, if asked); blocks lie on a fixed grid of
    samples, so chunking cannot move it.

    Parameters
    ----------
    rate_hz
        Sample rate.
    """

    def __init__(self, rate_hz: float) -> None:
        self.step = max(1, int(rate_hz * QUIET_BLOCK_S + 0.5))
        self._blocks = BlockMeans(self.step)
        self._sum = 0.0
        self._n = 0.0
        self._min = max(1.0, ONE_G_MIN_S / QUIET_BLOCK_S)
        self.mean_: float | None = None
        """The mean size of the quiet blocks so far, once ``ONE_G_MIN_S`` of them were seen
        (whether or not it is within ``ONE_G_TOL`` of 1 g)."""

    @property
    def one_g_(self) -> float:
        """The value in force after the last complete block."""
        m = self.mean_
        return m if m is not None and abs(m - 1.0) > ONE_G_TOL else 1.0

    def blocks(self, mean: np.ndarray, mean_sq: np.ndarray,
               unknown: float = 1.0) -> np.ndarray:
        """The value in force at the end of each new block, given the blocks' mean size
        and mean squared size (g, g²); ``unknown`` before ``ONE_G_MIN_S`` of quiet blocks."""
        if mean.shape[0] == 0:
            return mean
        quiet = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0)) <= QUIET_SCATTER_G
        # The carried sum first, so that the additions come in the same order however
        # the stream was chunked (and the result is the same to the last bit).
        sums = np.cumsum(np.concatenate([[self._sum], np.where(quiet, mean, 0.0)]))[1:]
        counts = self._n + np.cumsum(quiet)
        self._sum, self._n = float(sums[-1]), float(counts[-1])
        if self._n >= self._min:
            self.mean_ = self._sum / self._n
        known = counts >= self._min
        avg = sums / np.maximum(counts, 1.0)
        return np.where(known, np.where(np.abs(avg - 1.0) > ONE_G_TOL, avg, 1.0), unknown)

    def push(self, size: np.ndarray, unknown: float = 1.0) -> np.ndarray:
        """The value in force at each of these samples (sizes in g): each block's from
        its last sample on; ``unknown`` before it is known."""
        n = size.shape[0]
        before = self.one_g_ if self.mean_ is not None else unknown
        first_end = self.step - self._blocks.pending - 1  # where the first new block ends
        b = self._blocks(np.column_stack([size, size * size]))
        vals = self.blocks(b[:, 0], b[:, 1], unknown)
        out = np.full(n, before)
        if vals.shape[0]:
            ends = first_end + self.step * np.arange(vals.shape[0])
            which = np.searchsorted(ends, np.arange(n), side="right") - 1
            has = which >= 0
            out[has] = vals[which[has]]
        return out


class GravityEstimator:
    """Streaming estimate of the unit "up" vector in the sensor frame.

    Parameters
    ----------
    rate_hz
        Sample rate of the input.
    cutoff_hz
        Low-pass cut-off.  Gym reps last 1-10 s; 1.5 Hz keeps their shape
        while averaging out most of the limb's own acceleration.
    max_dynamic_g
        Samples with ``| |a| - 1 g | > max_dynamic_g`` are treated as dynamic (without a
        gyroscope, with the accelerometer's own 1 g, :class:`OwnOneG`, for 1 g and the
        bound scaled by it; none before that is known).
    max_rate_dps
        ... and, with a gyroscope, samples turning faster than this (``None``: no limit).
    """

    def __init__(self, rate_hz: float, cutoff_hz: float = 1.5, max_dynamic_g: float = 0.35,
                 max_rate_dps: float | None = 250.0):
        self.max_dynamic_g = max_dynamic_g
        self.max_rate_dps = max_rate_dps
        self._lp = StreamingLowpass(cutoff_hz, rate_hz)
        self.own_g = OwnOneG(rate_hz)
        """What this accelerometer reads for 1 g (used for the dynamic-sample test without
        a gyroscope)."""
        self._carry: np.ndarray | None = None
        self._carry_t = 0.0

    @property
    def sos(self) -> np.ndarray:
        """The low-pass filter's second-order sections (the phase timer calibrates on it)."""
        return self._lp.sos

    def push(
        self, acc: np.ndarray, gyr: np.ndarray | None = None, t: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the unit up-vector for every row of ``acc`` (g), shape ``(n, 3)``.

        With the gyroscope (deg/s) and sample times, dynamic samples are replaced
        by the last good gravity direction turned by the measured rotation, not
        just held: a fast curl turns the shank by 90° in a fraction of a second.
        """
        if acc.shape[0] == 0:
            return acc
        norm = np.sqrt(np.einsum("ij,ij->i", acc, acc))
        # Without a gyroscope the accelerometer is all there is: one that reads 1.4 or
        # 2 g at rest would have no sample near 1 g.  With one, samples far from 1 g are
        # carried through by the gyroscope, which turns as the leg does; an uncalibrated
        # accelerometer's direction is off by an error that shifts with the pose (real
        # squats: centred on its own 1 g, 56 -> 55 of 60 calf sets exact).
        one_g = self.own_g.push(norm, np.nan) if gyr is None else 1.0
        valid = np.abs(norm - one_g) < self.max_dynamic_g * one_g
        if gyr is None:
            # Until its own 1 g is known no size says "dynamic": a recording that starts
            # moving has no quiet second first, and an uncalibrated accelerometer whose
            # size grows with the pose passed for gravity at rest and for the leg's own
            # acceleration in the first reps (the tilt held, then jumped: real squats
            # without their gyroscope lost their first rep, calf 49 -> 56 of 60 exact).
            valid |= np.isnan(one_g)
        if gyr is not None and t is not None and self.max_rate_dps is not None:
            # Turning fast, the limb's own acceleration can point anywhere while its
            # size stays near 1 g (centripetal and tangential parts cancelling):
            # the gyroscope carries gravity through such moments.
            valid &= np.einsum("ij,ij->i", gyr, gyr) < self.max_rate_dps ** 2
        # Directions only, in every chunk alike (whether or not it holds dynamic
        # samples), so that chunking cannot change what the low-pass sees.
        unit = acc / np.maximum(norm, 1e-9)[:, None]
        if gyr is not None and t is not None and not valid.all():
            filled = self._turn_through_dynamic(unit, valid, gyr, t)
        else:
            filled = hold_last_valid(unit, valid, self._carry)
        self._carry = filled[-1].copy()
        if t is not None:
            self._carry_t = float(t[-1])
        g = self._lp(filled)
        gn = np.sqrt(np.einsum("ij,ij->i", g, g))
        return g / np.maximum(gn, 1e-9)[:, None]

    def _turn_through_dynamic(
        self, unit: np.ndarray, valid: np.ndarray, gyr: np.ndarray, t: np.ndarray,
    ) -> np.ndarray:
        out = unit.copy()
        dyn = np.flatnonzero(~valid)
        before = np.maximum(dyn - 1, 0)
        # A loop, but only over the dynamic samples, which are few outside walking; on
        # plain floats, as numpy's per-call overhead on 3-vectors is most of its cost.
        prevs = unit[before].tolist()  # the sample before each, if it was not dynamic
        ws = np.radians(gyr[dyn]).tolist()
        dts = (t[dyn] - t[before]).tolist()
        done: list[int] = []
        turned: list[list[float]] = []
        for i, k in enumerate(dyn.tolist()):
            if k:
                px, py, pz = turned[-1] if done and done[-1] == k - 1 else prevs[i]
                dt = dts[i]
            elif self._carry is not None:
                c = self._carry / max(float(np.linalg.norm(self._carry)), 1e-9)
                px, py, pz = c.tolist()
                dt = float(t[0]) - self._carry_t
            else:
                continue
            h = min(max(dt, 0.0), 0.1)
            wx, wy, wz = ws[i]
            # prev + h * (prev × w), then normalised
            vx = px + h * (py * wz - pz * wy)
            vy = py + h * (pz * wx - px * wz)
            vz = pz + h * (px * wy - py * wx)
            norm = max(math.sqrt(vx * vx + vy * vy + vz * vz), 1e-9)
            done.append(k)
            turned.append([vx / norm, vy / norm, vz / norm])
        if done:
            out[done] = turned
        return out
