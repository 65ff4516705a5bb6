"""Small streaming filter helpers that keep their state between chunks."""

from __future__ import annotations

import numpy as np
from scipy import signal


class StreamingLowpass:
    """Butterworth low-pass over the rows of ``(n, k)`` arrays, state kept between calls.

    The first sample initialises the state to steady state, so there is no
    start-up transient from zero.
    """

    def __init__(self, cutoff_hz: float, rate_hz: float, order: int = 2) -> None:
        wn = min(cutoff_hz / (rate_hz / 2.0), 0.95)
        self.sos = signal.butter(order, wn, output="sos")
        self._zi_unit = signal.sosfilt_zi(self.sos)  # (sections, 2)
        self._zi: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.shape[0] == 0:
            return x
        if self._zi is None:
            # (sections, 2, k): steady state for the first row of every column
            self._zi = self._zi_unit[:, :, None] * x[0][None, None, :]
        y, self._zi = signal.sosfilt(self.sos, x, axis=0, zi=self._zi)
        return y


def hold_last_valid(x: np.ndarray, valid: np.ndarray, carry: np.ndarray | None) -> np.ndarray:
    """Replace rows where ``valid`` is False by the last valid row (``carry`` before the start).

    Rows before the first valid one with no ``carry`` are kept as they are.
    """
    if valid.all():
        return x
    n = x.shape[0]
    idx = np.where(valid, np.arange(n), -1)
    np.maximum.accumulate(idx, out=idx)
    out = x[np.maximum(idx, 0)]
    head = idx < 0
    if head.any():
        out[head] = x[head] if carry is None else carry
    return out
