"""Timing repair: learn the nominal sample rate and report gaps.

Samples are passed on unchanged — a gap is reported as a warning, never
filled with made-up samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repsense.samples import SampleChunk

RATE_PROBE = 64


@dataclass(frozen=True)
class Gap:
    """A hole in the sample stream between ``start_s`` and ``end_s``."""

    start_s: float
    end_s: float
    lost_samples: int


class TimingRepair:
    """Estimate the nominal rate from the first samples and find gaps.

    Parameters
    ----------
    nominal_rate_hz
        Known rate (sidecar, sensor configuration); estimated from the median
        of the first 64 sample intervals when ``None``.
    gap_factor
        An interval longer than ``gap_factor`` nominal periods is a gap.
    """

    def __init__(self, nominal_rate_hz: float | None = None, gap_factor: float = 3.0) -> None:
        self.rate_hz_ = nominal_rate_hz
        self.gap_factor = gap_factor
        self._pending: list[SampleChunk] = []
        self._last_t: float | None = None
        self.samples_ = 0
        self.first_t_: float | None = None
        self.last_t_: float | None = None

    def push(self, chunk: SampleChunk) -> tuple[SampleChunk | None, list[Gap]]:
        """Take a chunk; return the samples ready to go on (if any) and the gaps in them."""
        if len(chunk) == 0:
            return None, []
        if self.rate_hz_ is None:
            self._pending.append(chunk)
            if sum(len(c) for c in self._pending) < RATE_PROBE + 1:
                return None, []
            return self._release()
        return chunk, self._gaps(chunk)

    def finish(self) -> tuple[SampleChunk | None, list[Gap]]:
        """Release whatever is still held back (short recordings)."""
        if self._pending:
            return self._release()
        return None, []

    def _release(self) -> tuple[SampleChunk | None, list[Gap]]:
        chunk = SampleChunk.concat(self._pending)
        self._pending = []
        dt = np.diff(chunk.t[: RATE_PROBE + 1])
        dt = dt[dt > 0]
        self.rate_hz_ = 1.0 / float(np.median(dt)) if dt.size else 100.0
        return chunk, self._gaps(chunk)

    def _gaps(self, chunk: SampleChunk) -> list[Gap]:
        t = chunk.t
        if self.first_t_ is None:
            self.first_t_ = float(t[0])
        prev = t[0] if self._last_t is None else self._last_t
        dt = np.empty_like(t)  # np.diff(t, prepend=prev), without its overhead per call
        dt[0] = t[0] - prev
        np.subtract(t[1:], t[:-1], out=dt[1:])
        self._last_t = float(t[-1])
        self.last_t_ = self._last_t
        self.samples_ += len(t)
        assert self.rate_hz_ is not None
        period = 1.0 / self.rate_hz_
        idx = np.flatnonzero(dt > self.gap_factor * period)
        gaps = []
        for i in idx.tolist():
            start = float(t[i - 1]) if i > 0 else float(prev)
            gaps.append(Gap(start, float(t[i]), max(1, round(dt[i] / period) - 1)))
        return gaps
