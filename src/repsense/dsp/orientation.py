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

import numpy as np

from repsense.dsp.filters import StreamingLowpass, hold_last_valid


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
        Samples with ``| |a| - 1 g | > max_dynamic_g`` are treated as dynamic.
    """

    def __init__(self, rate_hz: float, cutoff_hz: float = 1.5, max_dynamic_g: float = 0.35):
        self.max_dynamic_g = max_dynamic_g
        self._lp = StreamingLowpass(cutoff_hz, rate_hz)
        self._carry: np.ndarray | None = None

    @property
    def sos(self) -> np.ndarray:
        """The low-pass filter's second-order sections (the phase timer calibrates on it)."""
        return self._lp.sos

    def push(self, acc: np.ndarray) -> np.ndarray:
        """Return the unit up-vector for every row of ``acc`` (g), shape ``(n, 3)``."""
        if acc.shape[0] == 0:
            return acc
        norm = np.sqrt(np.einsum("ij,ij->i", acc, acc))
        valid = np.abs(norm - 1.0) < self.max_dynamic_g
        held = hold_last_valid(acc, valid, self._carry)
        if valid.any():
            self._carry = acc[np.flatnonzero(valid)[-1]].copy()
        elif self._carry is None:
            self._carry = held[-1].copy()
        g = self._lp(held)
        gn = np.sqrt(np.einsum("ij,ij->i", g, g))
        return g / np.maximum(gn, 1e-9)[:, None]
