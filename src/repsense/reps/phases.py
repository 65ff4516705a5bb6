"""Phase timing of one movement from its sampled trajectory.

Human point-to-point movements follow a minimum-jerk profile closely (Flash &
Hogan, "The coordination of arm movements: an experimentally confirmed
mathematical model", J Neurosci 5(7), 1985); for such a profile the time
between passing 20 % and 80 % of the amplitude is a fixed fraction of the
whole movement.  Measuring that stretch (robust to noise and to an unsteady
start or end) and scaling it gives the movement's duration; the 50 % crossing
gives its centre.  The movement signal is low-pass filtered upstream, which
stretches and delays short movements; :class:`PhaseTimer` calibrates both
effects once for the pipeline's filter by passing ideal minimum-jerk
movements through it, and inverts them.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

LO, HI = 0.2, 0.8


def minimum_jerk(tau: np.ndarray) -> np.ndarray:
    """Normalised minimum-jerk position for ``tau`` in [0, 1] (clipped outside)."""
    x = np.clip(tau, 0.0, 1.0)
    return x**3 * (10.0 - 15.0 * x + 6.0 * x * x)


def crossing(t: np.ndarray, y: np.ndarray, level: float, rising: bool) -> float | None:
    """First time ``y`` crosses ``level`` (upwards if ``rising``), linearly interpolated."""
    above = y >= level if rising else y <= level
    idx = np.flatnonzero(above)
    if idx.size == 0:
        return None
    i = int(idx[0])
    if i == 0:
        return float(t[0])
    y0, y1 = y[i - 1], y[i]
    frac = 0.0 if y1 == y0 else (level - y0) / (y1 - y0)
    return float(t[i - 1] + frac * (t[i] - t[i - 1]))


class PhaseTimer:
    """Invert the low-pass filter's effect on a movement's measured timing.

    Parameters
    ----------
    sos
        Second-order sections of the upstream low-pass filter.
    rate_hz
        Rate at which that filter runs.
    """

    #: stretch of 20-80 % crossing time relative to the full movement for minimum jerk
    SPAN_FRACTION = 0.3470

    def __init__(self, sos: np.ndarray, rate_hz: float) -> None:
        durations = np.geomspace(0.12, 15.0, 48)
        spans, delays = [], []
        for d in durations:
            pre = 2.0 + 4.0 / max(rate_hz, 1.0)
            n = int((pre + d + 3.0) * rate_hz) + 2
            t = np.arange(n) / rate_hz
            x = minimum_jerk((t - pre) / d)
            zi = signal.sosfilt_zi(sos) * 0.0
            y, _ = signal.sosfilt(sos, x, zi=zi)
            t_lo = crossing(t, y, LO, True)
            t_hi = crossing(t, y, HI, True)
            t_mid = crossing(t, y, 0.5, True)
            assert t_lo is not None and t_hi is not None and t_mid is not None
            spans.append(t_hi - t_lo)
            delays.append(t_mid - (pre + d / 2.0))
        self._spans = np.asarray(spans)
        self._durations = durations
        self._delays = np.asarray(delays)

    def movement(
        self, t: np.ndarray, y: np.ndarray, y_from: float, y_to: float
    ) -> tuple[float, float] | None:
        """Start and end time of a movement of ``y`` from ``y_from`` to ``y_to`` within ``t``.

        ``y`` must go (roughly monotonically) from near ``y_from`` to near ``y_to``.
        """
        amp = y_to - y_from
        if amp == 0 or len(t) < 2:
            return None
        s = (y - y_from) / amp  # normalised 0 -> 1
        t_lo = crossing(t, s, LO, True)
        t_mid = crossing(t, s, 0.5, True)
        t_hi = crossing(t, s, HI, True)
        if t_lo is None or t_mid is None or t_hi is None:
            return None
        span = max(t_hi - t_lo, 1e-3)
        duration = float(np.interp(span, self._spans, self._durations))
        if span > self._spans[-1]:
            duration = span / self.SPAN_FRACTION
        delay = float(np.interp(span, self._spans, self._delays))
        centre = t_mid - delay
        return centre - duration / 2.0, centre + duration / 2.0
