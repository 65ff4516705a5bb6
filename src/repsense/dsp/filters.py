"""Small streaming filter helpers that keep their state between chunks.

The low-pass is a second-order Butterworth section, designed in closed form
and run with numpy alone: ``scipy.signal`` costs ~0.7 s and ~80 MB to import
(it pulls in ``scipy.stats``, ``scipy.interpolate`` and ``scipy.optimize``),
more than ``repsense analyze`` needs to process an hour of data.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

BLOCK = 64
"""Samples per block of the all-pole recursion (one small matrix product each)."""


def butter2_lowpass(cutoff_hz: float, rate_hz: float) -> np.ndarray:
    """Second-order Butterworth low-pass as one second-order section ``(1, 6)``.

    Bilinear transform with the cut-off pre-warped, as ``scipy.signal.butter(2,
    wn, output="sos")`` designs it (a test checks they agree); the cut-off is
    capped at 0.95 of Nyquist.
    """
    wn = min(cutoff_hz / (rate_hz / 2.0), 0.95)
    k = math.tan(math.pi * wn / 2.0)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    a1 = 2.0 * (k * k - 1.0) * norm
    a2 = (1.0 - math.sqrt(2.0) * k + k * k) * norm
    return np.array([[b0, 2.0 * b0, b0, 1.0, a1, a2]])


class Biquad:
    """One second-order IIR section over the rows of ``(n, k)`` arrays, vectorised.

    Direct form I: ``v = b0 x[n] + b1 x[n-1] + b2 x[n-2]`` is a plain FIR; the
    all-pole part ``y[n] = v[n] - a1 y[n-1] - a2 y[n-2]`` runs in blocks of
    :data:`BLOCK` samples, each a matrix product with the section's impulse
    response plus the response to the two outputs before the block, so only
    a two-number state is carried from block to block in Python.

    Parameters
    ----------
    sos
        ``(1, 6)`` section ``[b0, b1, b2, 1, a1, a2]``.
    """

    def __init__(self, sos: np.ndarray) -> None:
        b0, b1, b2, a0, a1, a2 = (float(v) for v in np.asarray(sos, dtype=float).reshape(6))
        if a0 != 1.0:
            b0, b1, b2, a1, a2 = b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0
        self.b = (b0, b1, b2)
        self.a = (a1, a2)
        h = np.zeros(BLOCK)  # impulse response of the all-pole part
        h[0] = 1.0
        h[1] = -a1
        for m in range(2, BLOCK):
            h[m] = -a1 * h[m - 1] - a2 * h[m - 2]
        i = np.arange(BLOCK)
        lag = i[:, None] - i[None, :]
        self._t = np.where(lag >= 0, h[np.clip(lag, 0, None)], 0.0)  # Toeplitz, lower
        # Responses to y[-1] = 1 and to y[-2] = 1 with no input.
        p = np.zeros((BLOCK, 2))
        prev = np.array([[1.0, 0.0], [0.0, 1.0]])  # rows: y[-1], y[-2]
        for m in range(BLOCK):
            p[m] = -a1 * prev[0] - a2 * prev[1]
            prev = np.array([p[m], prev[0]])
        self._p = p

    def __call__(
        self, x: np.ndarray, state: tuple[np.ndarray, np.ndarray] | None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Filter ``x`` ``(n, k)`` from ``state``; return the output and the new state.

        ``state`` is ``(x_hist, y_hist)``, each ``(2, k)``: the last two inputs and
        outputs, newest first; ``None`` starts at rest (zeros).
        """
        n, k = x.shape
        if state is None:
            state = (np.zeros((2, k)), np.zeros((2, k)))
        xh, yh = state
        b0, b1, b2 = self.b
        xe = np.concatenate([xh[::-1], x])  # x[-2], x[-1], x[0], ...
        v = b0 * xe[2:] + b1 * xe[1:-1] + b2 * xe[:-2]
        if n == 1:  # one sample: the recursion itself
            a1, a2 = self.a
            y = v - a1 * yh[:1] - a2 * yh[1:]
            return y, (np.concatenate([x, xh[:1]]), np.concatenate([y, yh[:1]]))
        nb = -(-n // BLOCK)
        size = min(BLOCK, n)
        if nb > 1 and n % BLOCK:
            v = np.concatenate([v, np.zeros((nb * BLOCK - n, k))])
        vb = v.reshape(nb, size, k)
        t = self._t[:size, :size]
        # Forced response of every block at once: (size, size) @ (size, nb*k).
        w = (t @ vb.transpose(1, 0, 2).reshape(size, nb * k)).reshape(size, nb, k)
        w = w.transpose(1, 0, 2)  # (nb, size, k)
        p = self._p[:size]
        # The state after block j (its last two outputs, newest first) is
        # s_j = c_j + M s_(j-1): a linear recurrence over blocks, solved by a
        # prefix scan (log2(nb) vectorised steps) instead of a loop per block.
        m = p[-2:][::-1]  # how the carried state reaches the block's last two outputs
        scan = w[:, -2:][:, ::-1].copy()  # c_j, (nb, 2, k)
        scan[0] += m @ yh
        power, d = m, 1
        while d < nb:
            scan[d:] = scan[d:] + np.einsum("ab,jbk->jak", power, scan[:-d])
            power, d = power @ power, 2 * d
        carried = np.concatenate([yh[None], scan[:-1]])
        y = (w + np.einsum("ms,bsk->bmk", p, carried)).reshape(nb * size, k)[:n]
        if n >= 2:
            new_x = x[-1:-3:-1].copy()
            new_y = y[-1:-3:-1].copy()
        else:
            new_x = np.concatenate([x[-1:], xh[:1]])
            new_y = np.concatenate([y[-1:], yh[:1]])
        return y, (new_x, new_y)


class StreamingLowpass:
    """Butterworth low-pass over the rows of ``(n, k)`` arrays, state kept between calls.

    The first sample initialises the state to steady state, so there is no
    start-up transient from zero.
    """

    def __init__(self, cutoff_hz: float, rate_hz: float) -> None:
        self.sos = butter2_lowpass(cutoff_hz, rate_hz)
        self._section = _section(self.sos.tobytes())  # shared: it holds no state
        self._state: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.shape[0] == 0:
            return x
        if self._state is None:
            # Steady state for the first row: unit gain at DC, so all taps equal it.
            first = np.repeat(x[:1], 2, axis=0)
            self._state = (first, first.copy())
        y, self._state = self._section(x, self._state)
        return y


class BlockMeans:
    """Means of the rows of ``(n, k)`` arrays over blocks of ``step`` rows, on a fixed grid
    of sample indices: a partial block waits for the next call, so how the stream is
    chunked cannot change them.

    Parameters
    ----------
    step
        Rows per block.
    end_at_first
        Let the first block end at the first row (that row standing in for the ``step - 1``
        before it), so that block ``j`` ends at row ``j * step``: the rows a decimation
        that keeps every ``step``-th row from the first keeps.
    """

    def __init__(self, step: int, end_at_first: bool = False) -> None:
        self.step = step
        self._end_at_first = end_at_first
        self._carry: np.ndarray | None = None

    @property
    def pending(self) -> int:
        """Rows held for the next block."""
        return 0 if self._carry is None else int(self._carry.shape[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._carry is None:
            if x.shape[0] == 0:
                return x
            lead = self.step - 1 if self._end_at_first else 0
            self._carry = np.repeat(x[:1], lead, axis=0)
        rows = np.concatenate([self._carry, x])
        whole = rows.shape[0] // self.step * self.step
        self._carry = rows[whole:]
        return rows[:whole].reshape(-1, self.step, x.shape[1]).mean(axis=1)


@lru_cache(maxsize=32)
def _section(key: bytes) -> Biquad:
    return Biquad(np.frombuffer(key))


def lowpass_from_rest(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Filter a 1-D signal from rest (zero state) through one section (calibrations)."""
    section = _section(np.asarray(sos, dtype=float).tobytes())
    y, _ = section(np.asarray(x, dtype=float)[:, None], None)
    return y[:, 0]


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
