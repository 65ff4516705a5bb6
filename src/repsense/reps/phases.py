"""Phase timing of one movement from its sampled trajectory.

Human point-to-point movements follow a minimum-jerk profile closely (Flash &
Hogan, "The coordination of arm movements: an experimentally confirmed
mathematical model", J Neurosci 5(7), 1985).  For such a profile the stretch
during which the speed exceeds a fixed fraction of its peak is a fixed share
of the whole movement, so measuring that stretch on the tilt speed — robust to
noise, to slow drift during holds and to an unsteady start or end — and
scaling it gives the movement's duration and centre.  The speed is low-pass
filtered upstream, which stretches and delays short movements;
:class:`SpeedPhaseTimer` calibrates both effects once for the pipeline's
filters by passing ideal minimum-jerk movements through them, and inverts them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from repsense.dsp.filters import lowpass_from_rest


def minimum_jerk(tau: np.ndarray) -> np.ndarray:
    """Normalised minimum-jerk position for ``tau`` in [0, 1] (clipped outside)."""
    x = np.clip(tau, 0.0, 1.0)
    return x**3 * (10.0 - 15.0 * x + 6.0 * x * x)


SPEED_FRACTION = 0.2
"""A movement lasts while its tilt speed is above this fraction of its peak."""
ANGLE_FRACTIONS = (0.1, 0.9)
"""Levels of the way travelled between which a movement's angle span is measured."""


class SpeedPhaseTimer:
    """Movement timing from the tilt-speed profile, robust to slow drift during holds.

    A movement is the stretch around its speed peak where the speed stays above
    20 % of that peak; for a minimum-jerk movement that stretch is a fixed
    share of the whole movement (Flash & Hogan 1985).  The upstream filters
    (``sos_chain``) stretch and delay short movements; both are calibrated once
    by passing ideal minimum-jerk speed profiles through them.

    Parameters
    ----------
    sos_chain
        The low-pass filters the speed signal has been through, in order.
    rate_hz
        Rate at which those filters run.
    """

    def __init__(self, sos_chain: list[np.ndarray], rate_hz: float,
                 angle_chain: list[np.ndarray] | None = None) -> None:
        # Every sensor at the same rate shares one calibration (a gateway runs many).
        self._speed = _calibrate(_key(rate_hz, sos_chain), "speed")
        self._angle = None if angle_chain is None else _calibrate(_key(rate_hz, angle_chain),
                                                                  "angle")

    def movement_from_angle(
        self, t: np.ndarray, angle: np.ndarray, start: float, end: float,
    ) -> tuple[float, float] | None:
        """Start and end of a movement from ``start`` to ``end`` (degrees) in ``angle``.

        The time between passing 10 % and 90 % of the way is a fixed share of a
        minimum-jerk movement, like the speed span; the angle is the speed's
        integral, so the motor noise of a slow, controlled lowering (which
        makes its speed profile bumpy) hardly moves it.  ``None`` if the angle
        does not pass both levels (or the timer has no angle calibration).
        """
        if self._angle is None or end == start or len(t) < 2:
            return None
        x = (np.asarray(angle) - start) / (end - start)  # 0 -> 1 along the movement
        ab = _crossings(t, x)
        if ab is None:
            return None
        a, b = ab
        return _undo_filters(a, b, b - a, self._angle)

    def movement(self, t: np.ndarray, speed: np.ndarray) -> tuple[float, float] | None:
        """Start and end of the movement around the speed peak within ``t``."""
        if len(t) < 2:
            return None
        i = int(np.argmax(speed))
        if speed[i] <= 0:
            return None
        a, b = _span_above(t, speed, i, SPEED_FRACTION)
        # A rep is reported before its last movement has quite finished: the speed
        # profile is symmetric, so mirror the side that was seen.
        tp = float(t[i])
        if b >= t[-1] and speed[-1] >= SPEED_FRACTION * speed[i] and a > t[0]:
            b = tp + (tp - a)
        elif a <= t[0] and speed[0] >= SPEED_FRACTION * speed[i] and b < t[-1]:
            a = tp - (b - tp)
        return _undo_filters(a, b, max(b - a, 1e-3), self._speed)


Calibration = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Ideal movement durations and the spans and centre delays measured for them."""


def _key(rate_hz: float, chain: list[np.ndarray]) -> tuple[float, tuple[bytes, ...]]:
    """Hashable calibration key: every sensor at one rate shares one calibration."""
    return float(rate_hz), tuple(np.asarray(sos, dtype=float).tobytes() for sos in chain)


def _undo_filters(a: float, b: float, span: float, cal: Calibration) -> tuple[float, float]:
    """Start and end of the ideal movement whose measured span ``a``-``b`` is ``span``."""
    durations, spans, delays = cal
    if span > spans[-1]:
        duration = span * durations[-1] / spans[-1]
    else:
        duration = float(np.interp(span, spans, durations))
    centre = 0.5 * (a + b) - float(np.interp(span, spans, delays))
    return centre - duration / 2.0, centre + duration / 2.0


@lru_cache(maxsize=32)
def _calibrate(key: tuple[float, tuple[bytes, ...]], measure: str) -> Calibration:
    """Pass ideal minimum-jerk movements of many durations through the filters in ``key``.

    ``measure`` is ``"speed"`` (the 20 %-of-peak span of the speed profile) or
    ``"angle"`` (the 10-90 % span of the position); returns the durations with
    the spans and centre delays measured for them.
    """
    rate_hz, chain = key
    sos_chain = [np.frombuffer(b).reshape(-1, 6).copy() for b in chain]
    durations = np.geomspace(0.12, 15.0, 48)
    spans, delays = [], []
    for d in durations:
        pre = 2.0
        n = int((pre + d + 3.0) * rate_hz) + 2
        t = np.arange(n) / rate_hz
        if measure == "speed":
            tau = np.clip((t - pre) / d, 0.0, 1.0)
            x = 30.0 * tau**2 * (1.0 - tau) ** 2 / d
        else:
            x = minimum_jerk((t - pre) / d)
        for sos in sos_chain:
            x = lowpass_from_rest(sos, x)
        if measure == "speed":
            a, b = _span_above(t, np.abs(x), int(np.argmax(np.abs(x))), SPEED_FRACTION)
        else:
            ab = _crossings(t, x)
            assert ab is not None
            a, b = ab
        spans.append(b - a)
        delays.append(0.5 * (a + b) - (pre + d / 2.0))
    return durations, np.asarray(spans), np.asarray(delays)


def _crossings(t: np.ndarray, x: np.ndarray) -> tuple[float, float] | None:
    """Times at which ``x`` rises through the two ANGLE_FRACTIONS on its way to 1.

    The high level is where ``x`` first reaches it; the low one is the last
    upward pass before that (what comes earlier is drift before the movement).
    """
    lo, hi = ANGLE_FRACTIONS
    above = np.flatnonzero(x >= hi)
    if not above.size:
        return None
    k = int(above[0])
    below = np.flatnonzero(x[:k] < lo)
    if k == 0 or not below.size:
        return None
    j = int(below[-1])
    return _interp_time(t, x, j, lo), _interp_time(t, x, k - 1, hi)


def _interp_time(t: np.ndarray, x: np.ndarray, i: int, level: float) -> float:
    """Time between samples ``i`` and ``i + 1`` where ``x`` passes ``level``."""
    x0, x1 = float(x[i]), float(x[i + 1])
    frac = (level - x0) / (x1 - x0) if x1 != x0 else 0.0
    return float(t[i] + frac * (t[i + 1] - t[i]))


def _span_above(t: np.ndarray, v: np.ndarray, i: int, frac: float) -> tuple[float, float]:
    """Interpolated times around index ``i`` where ``v`` falls below ``frac`` of ``v[i]``."""
    level = frac * v[i]
    below = np.flatnonzero(v[:i] < level)
    if below.size:
        j = int(below[-1])
        x0, x1 = v[j], v[j + 1]
        a = float(t[j] + (level - x0) / (x1 - x0) * (t[j + 1] - t[j])) if x1 != x0 else float(t[j])
    else:
        a = float(t[0])
    after = np.flatnonzero(v[i:] < level)
    if after.size:
        k = i + int(after[0])
        x0, x1 = v[k - 1], v[k]
        frac = (x0 - level) / (x0 - x1) if x0 != x1 else 1.0
        b = float(t[k - 1] + frac * (t[k] - t[k - 1]))
    else:
        b = float(t[-1])
    return a, b
