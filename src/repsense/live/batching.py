"""Gather a sensor's samples into batches before they go to the pipeline (sans-IO).

The pipeline's cost is per :meth:`~repsense.pipeline.Pipeline.push` call
(about a hundred small numpy operations), hardly per sample: pushing every
BLE notification (10-100 ms of samples) on its own costs several times what
the same samples cost in 0.2 s batches.  :class:`SampleBatcher` holds samples
until they span ``batch_s`` of sensor time, then hands them over as one
chunk.  A batch that does not fill up (the sensor went quiet, the link
dropped) is released by :meth:`SampleBatcher.take` when the caller's timer
fires, so no sample waits longer than about ``batch_s``.

The price is latency: a rep is seen up to ``batch_s`` later (on average half
of it).  ``batch_s = 0`` passes every chunk on at once.
"""

from __future__ import annotations

from repsense.samples import SampleChunk

__all__ = ["DEFAULT_BATCH_S", "SampleBatcher"]

DEFAULT_BATCH_S = 0.2
"""Default batch span for ``repsense live`` (``live.batch_s``), sensor seconds."""


class SampleBatcher:
    """Collects chunks until they span ``batch_s`` seconds of sample time.

    Parameters
    ----------
    batch_s
        Sample time a batch should span; 0 or less: no batching.
    """

    def __init__(self, batch_s: float = DEFAULT_BATCH_S) -> None:
        self.batch_s = max(0.0, float(batch_s))
        self._parts: list[SampleChunk] = []
        self._t0 = 0.0
        self._dt = 0.0  # one sample interval, learnt from the chunks (a batch ends at t + dt)

    def __len__(self) -> int:
        """Samples waiting."""
        return sum(len(c) for c in self._parts)

    @property
    def waiting(self) -> bool:
        """Are there samples held back?"""
        return bool(self._parts)

    def add(self, chunk: SampleChunk) -> SampleChunk | None:
        """Add samples; the batch when it is complete, else ``None``."""
        if len(chunk) == 0:
            return None
        if self.batch_s <= 0.0:
            return chunk
        if len(chunk) > 1:
            self._dt = float(chunk.t[-1] - chunk.t[0]) / (len(chunk) - 1)
        if not self._parts:
            self._t0 = float(chunk.t[0])
        self._parts.append(chunk)
        # Compare the time the batch covers (last sample + one interval) with the target,
        # with a little slack so that 20 samples of 10 ms make a 0.2 s batch.
        if float(chunk.t[-1]) + self._dt - self._t0 >= self.batch_s - 1e-6:
            return self.take()
        return None

    def take(self) -> SampleChunk | None:
        """Everything waiting, as one chunk (``None`` if nothing is)."""
        if not self._parts:
            return None
        parts, self._parts = self._parts, []
        return SampleChunk.concat(parts)
