"""Movement signal: the segment's tilt angle in its plane of motion, for the rep detector.

Coordinate convention: everything is in the sensor frame, so the strap may sit
any way round.  The tilt-rate vector ``w`` is the part of the angular velocity
perpendicular to gravity — measured by the gyroscope, or, without one, the
rate of change of the gravity direction (``up × d(up)/dt``).  Rotations about
the vertical (turning round) have no tilt and never look like reps.

The movement axis ``u`` is the principal axis of ``w`` (largest eigenvector of
its exponentially weighted covariance), found from the data, not assumed.  The
movement angle ``theta`` is the angle of the up vector about ``u`` in the
plane perpendicular to it — a signed, one-dimensional trajectory for a curl, a
hinge or a bridge whatever the mounting.  ``u`` is re-estimated once per
second of samples on a fixed sample grid, so results do not depend on how the
input was chunked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from repsense.dsp.filters import StreamingLowpass

DETECTOR_RATE_HZ = 25.0
AXIS_UPDATE_SAMPLES = 25  # decimated samples between axis updates (1 s at 25 Hz)
GAIT_WINDOW_S = 3.0
GAIT_PERIOD_S = (0.8, 1.4)
GAIT_MIN_SPEED_DPS = 20.0
GAIT_CORRELATION = 0.5


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
    """True while the last seconds look like walking: the leg's tilt rate repeats
    with a stride period (0.8-1.4 s) far shorter than any controlled rep, ``(n,)``."""


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
    """

    def __init__(self, rate_hz: float, speed_cutoff_hz: float = 3.0,
                 axis_memory_s: float = 30.0, moving_dps: float = 8.0) -> None:
        self.rate_hz = rate_hz
        self.step = max(1, int(rate_hz // DETECTOR_RATE_HZ))
        self._rate_lp = StreamingLowpass(speed_cutoff_hz, rate_hz)
        self._index = 0
        self._prev_up: np.ndarray | None = None
        self._prev_t: float | None = None
        dec_rate = rate_hz / self.step
        self._decay = float(np.exp(-AXIS_UPDATE_SAMPLES / dec_rate / axis_memory_s))
        self.moving_dps = moving_dps
        self._cov = np.zeros((3, 3))
        self._pending_w: list[np.ndarray] = []
        self._pending_n = 0
        self.axis_: np.ndarray | None = None
        self._ref: np.ndarray | None = None
        self._side = np.zeros(3)
        self._first_up: np.ndarray | None = None
        self._last_theta: float | None = None
        self.has_gyro: bool | None = None
        self.bias_ = np.zeros(3)
        """Estimated gyroscope bias (its part perpendicular to gravity), deg/s."""
        self.noise_dps_ = 1.0
        """Tilt-speed noise floor at rest, deg/s."""
        self._pending_up0: np.ndarray | None = None
        self._pending_sum = np.zeros(3)
        self._pending_sq = 0.0
        dec_rate = rate_hz / self.step
        self._dec_rate = dec_rate
        # The last GAIT_WINDOW_S of tilt rate and speed, oldest first (for the gait test).
        self._win_n = int(round(GAIT_WINDOW_S * dec_rate))
        self._win_w = np.zeros((0, 3))
        self._win_sp = np.zeros(0)
        self.gait_ = False

    @property
    def sos(self) -> np.ndarray:
        """Second-order sections of the tilt-rate low-pass (the phase timer calibrates on it)."""
        return self._rate_lp.sos

    def push(self, t: np.ndarray, up: np.ndarray, gyr: np.ndarray | None) -> MovementBlock:
        """Process one chunk; returns the decimated samples in it."""
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
        self.has_gyro = gyr is not None
        if self._first_up is None and td.shape[0]:
            self._first_up = upd[0].copy()
        m = td.shape[0]
        theta = np.empty(m)
        speed = np.empty(m)
        still = np.empty(m, dtype=bool)
        gait = np.empty(m, dtype=bool)
        # Walk the fixed one-second grid on which the axis, the gyro bias and the
        # noise floor are updated, so chunking cannot change the result.
        i = 0
        while i < m:
            room = AXIS_UPDATE_SAMPLES - self._pending_n
            j = min(m, i + room)
            u = upd[i:j]
            b = self.bias_
            wc = wd[i:j] - (b - (u @ b)[:, None] * u)
            sp = np.sqrt(np.einsum("ij,ij->i", wc, wc))
            speed[i:j] = sp
            still[i:j] = sp < min(max(4.0 * self.noise_dps_, 3.0), 12.0)
            theta[i:j] = self._angle(u)
            gait[i:j] = self.gait_
            self._win_w = np.concatenate([self._win_w, wc])[-self._win_n:]
            self._win_sp = np.concatenate([self._win_sp, sp])[-self._win_n:]
            self._pending_w.append(wc[sp > self.moving_dps])
            if self._pending_up0 is None:
                self._pending_up0 = u[0].copy()
            self._pending_sum += wd[i:j].sum(axis=0)
            self._pending_sq += float(np.einsum("ij,ij->", wd[i:j], wd[i:j]))
            self._pending_n += j - i
            if self._pending_n == AXIS_UPDATE_SAMPLES:
                self._update_gait()
                self._update_rest_stats(u[-1])
                self._update_axis(u[-1])
            i = j
        if m:
            # Keep the angle continuous across +-180 deg (a curl past vertical).
            prev = theta[0] if self._last_theta is None else self._last_theta
            theta = np.degrees(np.unwrap(np.radians(np.concatenate([[prev], theta]))))[1:]
            self._last_theta = float(theta[-1])
        return MovementBlock(td, upd, theta, speed, still, gait)

    def _angle(self, up: np.ndarray) -> np.ndarray:
        if self.axis_ is None or self._ref is None:
            # No movement seen yet: unsigned tilt from the first sample.
            assert self._first_up is not None
            return np.degrees(np.arccos(np.clip(up @ self._first_up, -1.0, 1.0)))
        side = self._side
        return np.degrees(np.arctan2(up @ side, up @ self._ref))

    def _update_gait(self) -> None:
        """Is the leg swinging with a stride's period?  (Autocorrelation of the tilt rate.)

        The signed tilt-rate vector, not the tilt: heel strikes shake the gravity
        estimate, the gyroscope not.  A rep's rate changes sign once per rep, so
        reps as fast as two seconds are anti-correlated at a stride's lag.
        """
        n = self._win_w.shape[0]
        lo = int(round(GAIT_PERIOD_S[0] * self._dec_rate))
        hi = int(round(GAIT_PERIOD_S[1] * self._dec_rate))
        if n < 2 * hi or float(self._win_sp.mean()) < GAIT_MIN_SPEED_DPS:
            self.gait_ = False
            return
        x = self._win_w - self._win_w.mean(axis=0)
        energy = float(np.einsum("ij,ij->", x, x))
        if energy <= 0:
            self.gait_ = False
            return
        # Lags 1..hi of the autocorrelation, summed over the three axes, unbiased.
        full = sum(np.correlate(x[:, k], x[:, k], mode="full") for k in range(3))
        lags = np.arange(1, hi + 1)
        r = full[n - 1 + lags] * (n / (n - lags)) / energy
        # Periodic, not just smooth: a trough at half a stride, a crest at a stride.
        trough = float(r[max(0, lo // 2 - 1):lo - 1].min())
        crest = float(r[lo - 1:hi].max())
        self.gait_ = crest > GAIT_CORRELATION and crest - trough > 2 * GAIT_CORRELATION

    def _update_rest_stats(self, up_now: np.ndarray) -> None:
        """After a second in which gravity did not move, learn gyro bias and noise floor."""
        assert self._pending_up0 is not None
        n = self._pending_n
        moved = math.degrees(math.acos(max(-1.0, min(1.0, float(up_now @ self._pending_up0)))))
        mean = self._pending_sum / n
        spread = math.sqrt(max(0.0, self._pending_sq / n - float(mean @ mean)))
        if moved < 0.3 and spread < 5.0:
            if self.has_gyro:
                self.bias_ = 0.7 * self.bias_ + 0.3 * mean
            self.noise_dps_ = 0.8 * self.noise_dps_ + 0.2 * spread
        self._pending_up0 = None
        self._pending_sum = np.zeros(3)
        self._pending_sq = 0.0

    def _update_axis(self, up_now: np.ndarray) -> None:
        w = np.concatenate(self._pending_w) if self._pending_w else np.empty((0, 3))
        self._pending_w, self._pending_n = [], 0
        self._cov *= self._decay
        if w.shape[0]:
            self._cov += w.T @ w
        if np.trace(self._cov) <= 0:
            return
        vals, vecs = np.linalg.eigh(self._cov)
        u = vecs[:, -1]
        if vals[-1] < 25.0 * AXIS_UPDATE_SAMPLES:
            return  # too little movement yet to know the axis
        first = self.axis_ is None
        if not first and float(u @ self.axis_) < 0:
            u = -u
        ref = self._first_up if self._ref is None else self._ref
        assert ref is not None
        ref = ref - float(ref @ u) * u
        norm = float(np.linalg.norm(ref))
        if norm < 1e-6:
            return
        ref = ref / norm
        if first and float(up_now @ _cross3(u, ref)) < 0:
            u = -u  # continue the unsigned angle used so far with the same sign
        self.axis_, self._ref = u, ref
        self._side = _cross3(u, ref)  # the angle's second in-plane direction

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


def _cross3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of two 3-vectors (np.cross costs ~30 µs on one pair)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                     a[0] * b[1] - a[1] * b[0]])
