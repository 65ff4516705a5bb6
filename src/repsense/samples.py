"""The unit of data that flows into the pipeline: a chunk of IMU samples."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SampleChunk:
    """Consecutive IMU samples in the sensor frame.

    Parameters
    ----------
    t
        Sample times in seconds, shape ``(n,)``, non-decreasing, any origin.
    acc
        Specific force including gravity in g, shape ``(n, 3)``.  A sensor at
        rest reads about 1 g pointing *up* (away from the Earth).
    gyr
        Angular velocity in deg/s, shape ``(n, 3)``, right-handed about the
        same axes; ``None`` for accelerometer-only sensors.
    """

    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.t.shape[0]
        if self.t.ndim != 1 or self.acc.shape != (n, 3):
            raise ValueError(f"SampleChunk: t {self.t.shape} and acc {self.acc.shape} disagree")
        if self.gyr is not None and self.gyr.shape != (n, 3):
            raise ValueError(f"SampleChunk: gyr {self.gyr.shape} does not match t {n}")

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def has_gyro(self) -> bool:
        return self.gyr is not None

    def slice(self, start: int, stop: int) -> SampleChunk:
        """Samples ``start:stop`` (views, no copy)."""
        gyr = None if self.gyr is None else self.gyr[start:stop]
        return SampleChunk(self.t[start:stop], self.acc[start:stop], gyr)

    @staticmethod
    def concat(chunks: list[SampleChunk]) -> SampleChunk:
        """Join chunks end to end; all must agree on having a gyroscope."""
        if not chunks:
            return SampleChunk(np.empty(0), np.empty((0, 3)), None)
        if len(chunks) == 1:
            return chunks[0]
        gyro = chunks[0].gyr is not None
        if any((c.gyr is not None) != gyro for c in chunks):
            raise ValueError("cannot join chunks with and without gyroscope")
        return SampleChunk(
            np.concatenate([c.t for c in chunks]),
            np.concatenate([c.acc for c in chunks]),
            np.concatenate([c.gyr for c in chunks]) if gyro else None,
        )


def recut(chunks: Iterable[SampleChunk], packet_s: float) -> Iterator[SampleChunk]:
    """Re-cut chunks into packets of about ``packet_s`` seconds of signal (views, no copy).

    Used to play recordings as if a sensor were sending them notification by
    notification.
    """
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        edges = np.floor((chunk.t - chunk.t[0]) / packet_s).astype(np.int64)
        cuts = np.flatnonzero(np.diff(edges)) + 1
        bounds = [0, *cuts.tolist(), len(chunk)]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            yield chunk.slice(a, b)
