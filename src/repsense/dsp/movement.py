"""Movement signal: the tilt trajectory of the segment, decimated for the rep detector.

Output per kept sample: time, unit up-vector (gravity direction in the sensor
frame) and the tilt speed — the part of the angular velocity that changes the
segment's inclination, i.e. the component perpendicular to gravity.  With a
gyroscope it is measured; with an accelerometer only it is the rate of change
of the gravity direction.  Rotations about the vertical (turning round) do
not change tilt and so never look like reps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repsense.dsp.filters import StreamingLowpass

DETECTOR_RATE_HZ = 25.0


@dataclass(frozen=True, eq=False)
class MovementBlock:
    """Decimated movement signal for one chunk."""

    t: np.ndarray
    up: np.ndarray
    """Unit up-vector in the sensor frame, ``(n, 3)``."""
    speed: np.ndarray
    """Tilt speed in deg/s, ``(n,)``."""


class MovementSignal:
    """Tilt speed and decimation to about 25 Hz.

    Parameters
    ----------
    rate_hz
        Input sample rate.
    speed_cutoff_hz
        Low-pass applied to the tilt speed (noise at rest, tremor).
    """

    def __init__(self, rate_hz: float, speed_cutoff_hz: float = 3.0) -> None:
        self.rate_hz = rate_hz
        self.step = max(1, int(rate_hz // DETECTOR_RATE_HZ))
        self._speed_lp = StreamingLowpass(speed_cutoff_hz, rate_hz)
        self._index = 0
        self._prev_up: np.ndarray | None = None
        self._prev_t: float | None = None

    def push(self, t: np.ndarray, up: np.ndarray, gyr: np.ndarray | None) -> MovementBlock:
        """Compute the tilt speed of every sample and keep every ``step``-th sample."""
        n = t.shape[0]
        if gyr is not None:
            along = np.einsum("ij,ij->i", gyr, up)
            tilt = gyr - along[:, None] * up
            raw = np.sqrt(np.einsum("ij,ij->i", tilt, tilt))
        else:
            raw = self._gravity_rate(t, up)
        speed = np.abs(self._speed_lp(raw[:, None])[:, 0])
        first = (-self._index) % self.step
        keep = slice(first, n, self.step)
        self._index += n
        return MovementBlock(t[keep], up[keep], speed[keep])

    def _gravity_rate(self, t: np.ndarray, up: np.ndarray) -> np.ndarray:
        prev_up = up[0] if self._prev_up is None else self._prev_up
        prev_t = t[0] if self._prev_t is None else self._prev_t
        up0 = np.vstack([prev_up[None, :], up[:-1]])
        t0 = np.concatenate([[prev_t], t[:-1]])
        dot = np.clip(np.einsum("ij,ij->i", up, up0), -1.0, 1.0)
        dt = np.maximum(t - t0, 1e-6)
        rate = np.degrees(np.arccos(dot)) / dt
        rate[t - t0 <= 0] = 0.0
        self._prev_up = up[-1].copy()
        self._prev_t = float(t[-1])
        return rate
