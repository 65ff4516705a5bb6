"""Error model of a consumer MEMS IMU: STMicroelectronics LSM6DS3.

Numbers are the typical values of the LSM6DS3 datasheet (DocID026899 Rev 8,
Feb 2016, Table 3 "Mechanical characteristics"), high-performance mode:

=====================================  ==================================
accelerometer noise density (An)       90 µg/√Hz
gyroscope rate noise density (Rn)      7 mdps/√Hz
accelerometer zero-g offset (TyOff)    ±40 mg
gyroscope zero-rate level (TyOff)      ±10 dps
zero-g level change vs temperature     ±0.5 mg/°C
zero-rate level change vs temperature  ±0.05 dps/°C
accelerometer sensitivity (So)         0.061/0.122/0.244/0.488 mg/LSB at ±2/4/8/16 g
gyroscope sensitivity (So)             4.375/8.75/17.5/35/70 mdps/LSB at ±125…2000 dps
output data rates                      12.5 … 6664 Hz
=====================================  ==================================

What the datasheet does not give is marked *assumed* below: the spread of
offsets across a population (we draw each device's offset with σ = TyOff/3 for
the accelerometer and σ = TyOff/4 for the gyroscope, as small BLE sensors
usually trim the gyro at start-up), a slow random walk of both offsets, the
warm-up of a sensor strapped to skin (+8 °C with a 5-minute time constant,
which moves the offsets through the temperature coefficients), 0.5 %
sensitivity and cross-axis errors, and the on-chip low-pass filter at
0.4 × the output rate (4th-order Butterworth, causal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

PART = "LSM6DS3"
ACC_NOISE_DENSITY_G = 90e-6
GYR_NOISE_DENSITY_DPS = 7e-3
ACC_OFFSET_G = 0.040
GYR_OFFSET_DPS = 10.0
ACC_TEMP_COEFF_G = 0.5e-3
GYR_TEMP_COEFF_DPS = 0.05
ACC_LSB_G = {2: 0.061e-3, 4: 0.122e-3, 8: 0.244e-3, 16: 0.488e-3}
GYR_LSB_DPS = {125: 4.375e-3, 250: 8.75e-3, 500: 17.5e-3, 1000: 35e-3, 2000: 70e-3}
# assumed (see the module docstring)
ACC_BIAS_WALK_G = 20e-6  # per sqrt(s)
GYR_BIAS_WALK_DPS = 4e-3  # per sqrt(s)
WARMUP_DELTA_C = 8.0
WARMUP_TAU_S = 300.0
SCALE_ERROR = 0.005


@dataclass(frozen=True)
class ImuConfig:
    """Sensor settings: output rate, full scales, whether the gyroscope is fitted."""

    rate_hz: float = 50.0
    acc_range_g: int = 8
    gyr_range_dps: int = 1000
    accel_only: bool = False
    ideal: bool = False
    """No errors at all (for tests of the kinematics)."""


class ImuModel:
    """Streaming LSM6DS3: anti-alias filter, decimation, offsets, drift, noise, clipping, LSBs.

    Feed consecutive blocks of the true signals at the internal rate with
    :meth:`process`; all state (filter memory, drifting offsets) carries over.
    """

    def __init__(self, config: ImuConfig, internal_hz: float, rng: np.random.Generator) -> None:
        if config.acc_range_g not in ACC_LSB_G:
            raise ValueError(f"acc range must be one of {sorted(ACC_LSB_G)} g")
        if config.gyr_range_dps not in GYR_LSB_DPS:
            raise ValueError(f"gyro range must be one of {sorted(GYR_LSB_DPS)} dps")
        self.config = config
        self.internal_hz = internal_hz
        self.step = int(round(internal_hz / config.rate_hz))
        self.rng = rng
        self._sos = signal.butter(4, 0.4 * config.rate_hz, fs=internal_hz, output="sos")
        self._zi: np.ndarray | None = None
        self.acc_bias = rng.normal(0.0, ACC_OFFSET_G / 3, 3)
        self.gyr_bias = rng.normal(0.0, GYR_OFFSET_DPS / 4, 3)
        self.acc_tc = rng.uniform(-ACC_TEMP_COEFF_G, ACC_TEMP_COEFF_G, 3)
        self.gyr_tc = rng.uniform(-GYR_TEMP_COEFF_DPS, GYR_TEMP_COEFF_DPS, 3)
        self.acc_m = np.eye(3) + rng.normal(0.0, SCALE_ERROR, (3, 3))
        self.gyr_m = np.eye(3) + rng.normal(0.0, SCALE_ERROR, (3, 3))
        self._walk_acc = np.zeros(3)
        self._walk_gyr = np.zeros(3)

    def process(
        self, t_out: np.ndarray, acc: np.ndarray, gyr: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Turn true signals at the internal rate into sensor output at ``t_out``.

        ``acc``/``gyr`` have ``len(t_out) * step`` rows; output sample ``j`` is
        taken at internal row ``j * step`` after the low-pass filter.
        """
        x = np.hstack([acc, gyr])
        if self._zi is None:
            self._zi = signal.sosfilt_zi(self._sos)[:, :, None] * x[0][None, None, :]
        y, self._zi = signal.sosfilt(self._sos, x, axis=0, zi=self._zi)
        y = y[:: self.step][: len(t_out)]
        a, g = y[:, :3], y[:, 3:]
        if self.config.ideal:
            return a, (None if self.config.accel_only else g)
        n = len(t_out)
        dt = 1.0 / self.config.rate_hz
        walk_a = self._walk_acc + np.cumsum(
            self.rng.normal(0.0, ACC_BIAS_WALK_G * np.sqrt(dt), (n, 3)), axis=0)
        walk_g = self._walk_gyr + np.cumsum(
            self.rng.normal(0.0, GYR_BIAS_WALK_DPS * np.sqrt(dt), (n, 3)), axis=0)
        if n:
            self._walk_acc, self._walk_gyr = walk_a[-1], walk_g[-1]
        temp = WARMUP_DELTA_C * (1.0 - np.exp(-t_out / WARMUP_TAU_S))[:, None]
        # noise over the output bandwidth (ODR/2), as the datasheet's RMS figures
        bw = self.config.rate_hz / 2
        a = (a @ self.acc_m.T + self.acc_bias + walk_a + temp * self.acc_tc
             + self.rng.normal(0.0, ACC_NOISE_DENSITY_G * np.sqrt(bw), (n, 3)))
        g = (g @ self.gyr_m.T + self.gyr_bias + walk_g + temp * self.gyr_tc
             + self.rng.normal(0.0, GYR_NOISE_DENSITY_DPS * np.sqrt(bw), (n, 3)))
        a = _quantise(a, self.config.acc_range_g, ACC_LSB_G[self.config.acc_range_g])
        g = _quantise(g, self.config.gyr_range_dps, GYR_LSB_DPS[self.config.gyr_range_dps])
        return a, (None if self.config.accel_only else g)


def _quantise(x: np.ndarray, full_scale: float, lsb: float) -> np.ndarray:
    """16-bit output: round to the LSB and saturate at the register limits."""
    counts = np.clip(np.round(x / lsb), -32768, 32767)
    # the register range slightly exceeds the nominal full scale; clip at the nominal one
    limit = np.floor(full_scale / lsb)
    return np.clip(counts, -limit, limit) * lsb
