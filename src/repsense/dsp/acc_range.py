"""Accelerometer range check: does the accelerometer read 1 g at rest, or a range mix-up of it?

A sensor's accelerometer range (+-2, 4, 8 or 16 g) sets how its raw counts turn
into g.  A decoder that assumes another range than the one the sensor was set
to scales every reading by a power of two: set to +-4 g and decoded as +-2 g,
the leg reads 2 g at rest.  Everything that tells gravity from the limb's own
acceleration by a reading's size then sees nothing but acceleration: with a
gyroscope, gravity was carried by the gyroscope from the first sample on and
drifted with it (real uci-pt recordings read twice too large: 52 % of sets
exact, against 100 %), and the lever arm and the gait check's steps read
magnitudes twice too large.

:class:`AccRangeCheck` takes the accelerometer's own 1 g
(:class:`~repsense.dsp.orientation.OwnOneG`, the mean size of its quiet blocks)
once it has seen ``ONE_G_MIN_S`` of them, and decides once: within
``FACTOR_TOL`` of a factor a range mix-up gives (``RANGE_FACTORS``), every
later sample is divided by it and the finding says so; otherwise nothing
changes (an uncalibrated accelerometer reading 1.4 g is no range mix-up, and
the stages that need it compare with its own 1 g).  Like the gyroscope check it
is causal: the samples before the decision went downstream as they came, and
:func:`repsense.analysis.analyze_recording` goes through a recording again
with the correction from its first sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repsense.dsp.orientation import OwnOneG

RANGE_FACTORS = (2.0, 4.0, 8.0, 0.5, 0.25, 0.125)
"""What a range mix-up among +-2, 4, 8 and 16 g multiplies the readings by."""
FACTOR_TOL = 0.1
"""A quiet mean within this share of one of ``RANGE_FACTORS`` is taken for it (they are
twice as far apart).  Calibrated units read 0.92-1.03 g over whole files (see ``OwnOneG``),
and a real uci-pt thigh 1.067 g over its first quiet second, which decides: read twice too
large, its 2.13 g lay outside 5 %.  A real ESP32 squat recorder's uncalibrated units read
1.27-1.49 g, which no factor explains, and they are left as they are."""
FIX = "(set the decoder to the sensor's accelerometer range, or fix the acc_* columns)"


@dataclass(frozen=True)
class AccRangeFinding:
    """A range mix-up the check found.

    Attributes
    ----------
    time_s
        Time of the first corrected sample.
    factor
        What the readings were multiplied by; corrected readings are divided by it.
    message
        One line for the user, naming the fix.
    """

    time_s: float
    factor: float
    message: str


def _message(reads_g: float | None, factor: float, when: float | None) -> str:
    how = f"divided by {factor:g}" if factor > 1.0 else f"multiplied by {1.0 / factor:g}"
    since = " from the first sample" if when is None else f" from {when:.1f} s"
    reads = f"about {factor:g}" if reads_g is None else f"{reads_g:.2f}"
    return (f"the accelerometer reads {reads} g at rest: its range was decoded wrongly, "
            f"readings {how}{since} {FIX}")


class AccRangeCheck:
    """Finds and undoes an accelerometer range mix-up from the data (sans-IO).

    Parameters
    ----------
    rate_hz
        Nominal sample rate.
    known
        A factor found before (``AccRangeFinding.factor``): applied from the first
        sample, nothing is learned.

    Attributes
    ----------
    finding_
        The :class:`AccRangeFinding` once a mix-up was found, else ``None``.
    decided_
        ``True`` once the check is over.
    """

    def __init__(self, rate_hz: float, known: float | None = None) -> None:
        self._own = OwnOneG(rate_hz)
        self.factor_ = known
        self.finding_: AccRangeFinding | None = None
        self.decided_ = known is not None

    @property
    def message(self) -> str:
        """The warning for a factor found before (applied from the first sample)."""
        assert self.factor_ is not None
        return _message(None, self.factor_, None)

    def push(self, t: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, int]:
        """Corrected accelerometer rows for these samples, and the index of the first
        corrected row (``len(t)`` when none is).  ``finding_`` is set when that index
        is first inside a chunk."""
        n = t.shape[0]
        if self.decided_:
            return (acc, n) if self.factor_ is None else (acc / self.factor_, 0)
        vals = self._own.push(np.sqrt(np.einsum("ij,ij->i", acc, acc)))
        if self._own.mean_ is None:
            return acc, n
        self.decided_ = True
        # The quiet mean is known from the end of the block that completed a second of
        # quiet ones: it leaves 1 g there, unless the accelerometer is calibrated.
        off = np.flatnonzero(vals != 1.0)
        if not off.size:
            return acc, n
        at = int(off[0])
        mean = float(vals[at])
        factor = next((f for f in RANGE_FACTORS if abs(mean / f - 1.0) <= FACTOR_TOL), None)
        if factor is None:
            return acc, n
        self.factor_ = factor
        self.finding_ = AccRangeFinding(float(t[at]), factor, _message(mean, factor, float(t[at])))
        out = acc.copy()
        out[at:] = acc[at:] / factor
        return out, at
