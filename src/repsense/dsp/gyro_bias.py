"""Gyroscope offset: learned while the sensor is still, taken off every reading.

A MEMS gyroscope reads a few degrees per second when nothing turns: its zero-rate
offset, up to +-10 deg/s for an LSM6DS3 and +-20 deg/s for an MPU-6050 by their
datasheets, unless the sensor's firmware calibrates it away.  The gyroscope check
fits the accelerometer's tilt with the readings, and the lever-arm fit takes an
offset for turning: with 15 deg/s added in any direction, a simulated straight-leg
raise on the thigh was named a Romanian deadlift, and now and then the check swapped
a right gyroscope's axes.  Those two read the gyroscope without its offset.  (The
movement stage takes off the part of the offset that tilts by itself, relearnt at
each rest; see :mod:`repsense.pipeline` for why it is left that way.)

:class:`GyroBias` looks at the stream in windows of ``WINDOW_S`` on a fixed grid
of samples.  A window in which the accelerometer's readings hardly spread (the
segment neither turned nor shook: turning 3 deg/s about a horizontal axis spreads
them by 0.015 g) and the gyroscope's only by about its noise is still, and its mean
gyroscope reading is the offset.  The first still window sets it, each later one
moves it ``FOLLOW`` of the way (an offset drifts with temperature).  The offset in
force for a sample is the one after the last window that ended before it, so the
result does not depend on how the stream is chunked.  A window whose gyroscope
readings do not change at all is no evidence: a gyroscope that is switched off, or
stuck, keeps its readings for :mod:`repsense.dsp.gyro_axes` to find.
"""

from __future__ import annotations

import numpy as np

from repsense.dsp.filters import BlockMeans

WINDOW_S = 1.0
"""Length of the windows judged for stillness."""
STILL_ACC_G = 0.01
"""Largest spread (the norm of the per-axis standard deviations) of a still window's
accelerometer readings.  Sensors at rest spread by 0.001-0.005 g (the simulator's
LSM6DS3, real Xsens units); a segment turning 2 deg/s about a horizontal axis by 0.01 g."""
STILL_GYR_DPS = 3.0
"""Largest spread of a still window's gyroscope readings (noise and a held limb's tremor)."""
FOLLOW = 0.3
"""Share of the way a later still window moves the offset toward its own mean."""
FLAT_DPS = 1e-3
"""A window whose gyroscope readings spread by less than this did not change at all: far
under any real gyroscope's noise (a 16-bit one at +-2000 deg/s flickers by 0.06 deg/s),
far over what rounding leaves of a constant reading (1e-5 deg/s for 333.3)."""


class GyroBias:
    """Removes the gyroscope's zero-rate offset, learned in still windows.

    Parameters
    ----------
    rate_hz
        Nominal sample rate (sets the window's length in samples).

    Attributes
    ----------
    bias_
        The offset in force after the last finished window, deg/s, sensor frame
        (zero until a still window was seen).
    still_windows_
        How many still windows have been seen.
    """

    def __init__(self, rate_hz: float) -> None:
        self._step = max(2, int(round(rate_hz * WINDOW_S)))
        self._blocks = BlockMeans(self._step)
        self.bias_ = np.zeros(3)
        self.still_windows_ = 0

    def push(self, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        """The gyroscope rows (deg/s) of these samples with the offset in force taken off.

        ``acc`` (g) and ``gyr`` are ``(n, 3)`` arrays of the same samples.
        """
        n = gyr.shape[0]
        if n == 0:
            return gyr
        before = self._blocks.pending
        means = self._blocks(np.column_stack([acc, acc * acc, gyr, gyr * gyr]))
        if means.shape[0] == 0:
            return gyr - self.bias_
        acc_m, acc_sq, gyr_m, gyr_sq = (means[:, 3 * i: 3 * i + 3] for i in range(4))
        acc_spread = np.sqrt(np.maximum(acc_sq - acc_m * acc_m, 0.0).sum(axis=1))
        gyr_spread = np.sqrt(np.maximum(gyr_sq - gyr_m * gyr_m, 0.0).sum(axis=1))
        still = ((acc_spread <= STILL_ACC_G) & (gyr_spread <= STILL_GYR_DPS)
                 & (gyr_spread > FLAT_DPS))
        # The offset in force after each finished window: a recursion that steps only
        # in still windows (a handful per chunk at most).
        after = np.empty((means.shape[0] + 1, 3))
        after[0] = b = self.bias_
        for j, (s, m) in enumerate(zip(still.tolist(), gyr_m, strict=True)):
            if s:
                b = m.copy() if self.still_windows_ == 0 else b + FOLLOW * (m - b)
                self.still_windows_ += 1
            after[j + 1] = b
        self.bias_ = b
        # Window j ends at local row (j + 1) * step - before - 1; the rows after it get
        # the offset found in it.
        ends = (np.arange(means.shape[0]) + 1) * self._step - before
        which = np.searchsorted(ends, np.arange(n), side="right")
        return gyr - after[which]
