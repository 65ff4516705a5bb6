"""Small shared helpers for the protocol modules (not public API)."""

from __future__ import annotations

import logging

import numpy as np

from repsense.samples import SampleChunk
from repsense.sensors.base import DecodeProblem


def to_int16(values: np.ndarray, lsb: float) -> np.ndarray:
    """Quantise ``values`` (units) to int16 counts of size ``lsb``, saturating like an ADC."""
    raw = np.rint(np.asarray(values, dtype=np.float64) / lsb)
    return np.clip(raw, -32768, 32767).astype("<i2")


def hex_preview(data: bytes, limit: int = 24) -> str:
    """Short hex of ``data`` for problem messages."""
    h = data[:limit].hex(" ")
    return h + (" …" if len(data) > limit else "")


log = logging.getLogger("repsense.sensors")
_logged = {"malformed": 0}
LOG_FIRST, LOG_EVERY = 20, 1000


def malformed(arrival_s: float, what: str, data: bytes) -> DecodeProblem:
    """A ``malformed`` problem naming what was wrong and the first bytes (also logged).

    The first 20 malformed notifications of the process are logged as
    warnings, then every 1000th, so a broken sensor cannot flood the log.
    """
    problem = DecodeProblem(
        kind="malformed",
        time_s=float(arrival_s),
        message=f"{what} ({len(data)} bytes: {hex_preview(data)}); notification skipped",
    )
    _logged["malformed"] += 1
    n = _logged["malformed"]
    if n <= LOG_FIRST or n % LOG_EVERY == 0:
        log.warning("malformed notification #%d: %s", n, problem.message)
    return problem


def lost(time_s: float, n: int, why: str) -> DecodeProblem:
    """A ``lost`` problem for ``n`` samples."""
    return DecodeProblem(
        kind="lost",
        time_s=float(time_s),
        message=f"{n} samples lost ({why})",
        lost_samples=int(n),
    )


def chunk(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None) -> SampleChunk:
    """A contiguous float64 SampleChunk."""
    return SampleChunk(
        np.ascontiguousarray(t, dtype=np.float64),
        np.ascontiguousarray(acc, dtype=np.float64),
        None if gyr is None else np.ascontiguousarray(gyr, dtype=np.float64),
    )
