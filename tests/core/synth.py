"""A tiny, exact synthetic IMU for core tests (the full simulator lives in repsense.sim).

A segment tilts about the world's lateral axis with minimum-jerk reps; the
sensor sits on it in a given mounting rotation.  No linear acceleration, so the
expected tilt is exact and the tests can check the pipeline, not the physics.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from repsense.reps.phases import minimum_jerk
from repsense.samples import SampleChunk


def trajectory(
    sets: int, reps: int, rom: float, away: float, far: float, back: float, near: float,
    rest: float, lead: float = 5.0,
) -> tuple[list[tuple[float, float, float, float]], float]:
    """Rep schedule: (start, away_end, return_start, end) per rep, and the total duration."""
    t = lead
    out = []
    for s in range(sets):
        for r in range(reps):
            if r:
                t += near
            out.append((t, t + away, t + away + far, t + away + far + back))
            t += away + far + back
        t += rest if s < sets - 1 else lead
    return out, t


def make(
    sets: int = 2, reps: int = 5, rate: float = 50.0, rom: float = 50.0, away: float = 1.0,
    far: float = 0.5, back: float = 2.0, near: float = 1.0, rest: float = 30.0,
    mount: Rotation | None = None, gyro: bool = True, noise: float = 0.003, seed: int = 0,
) -> tuple[SampleChunk, list[tuple[float, float, float, float]]]:
    """Samples and the true rep schedule."""
    sched, total = trajectory(sets, reps, rom, away, far, back, near, rest)
    t = np.arange(0.0, total, 1.0 / rate)
    theta = np.zeros_like(t)
    for s0, a1, r0, e in sched:
        theta += rom * (minimum_jerk((t - s0) / (a1 - s0)) - minimum_jerk((t - r0) / (e - r0)))
    mount = mount or Rotation.identity()
    seg = Rotation.from_euler("x", theta[:, None], degrees=True)
    sensor = seg * mount
    acc = sensor.inv().apply(np.array([0.0, 0.0, 1.0]))
    omega_world = np.zeros((t.size, 3))
    omega_world[:, 0] = np.gradient(theta, t)
    gyr = sensor.inv().apply(omega_world)
    rng = np.random.default_rng(seed)
    acc = acc + rng.normal(0, noise, acc.shape)
    gyr = gyr + rng.normal(0, 0.3, gyr.shape)
    return SampleChunk(t, acc, gyr if gyro else None), sched
