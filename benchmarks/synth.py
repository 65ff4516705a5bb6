"""Long synthetic 100 Hz 6-axis recordings for the speed and memory benchmarks.

Uses :mod:`repsense.sim` when it provides ``simulate_session``; otherwise a
plain generator here: sets of ten sinusoidal tilts of a leg segment (gravity
rotating about one axis, with the matching angular velocity) separated by
rests with sensor noise, cycling through a few ranges of motion and tempos.
Accuracy is not the point; the files exist to time and size the pipeline on
realistic-looking data with reps, sets and rests.  Files are cached under
``$REPSENSE_BENCH_CACHE`` (default ``/tmp/repsense-bench``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from _common import CACHE

BLOCK_S = 600.0  # generated and written in 10-minute blocks: memory stays small
HEADER = "time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps"


def block(t0: float, rate: float, rng: np.random.Generator) -> np.ndarray:
    """10 minutes of samples: (n, 7) = time, acc xyz (g), gyr xyz (deg/s)."""
    n = int(BLOCK_S * rate)
    t = t0 + np.arange(n) / rate
    angle = np.zeros(n)  # tilt of the segment from its rest pose, degrees
    # Five sets a block: 10 reps each, then rest; tempo and range vary by set.
    pos = 0
    for k in range(5):
        rest = int(rng.uniform(40, 80) * rate)
        period = rng.uniform(2.0, 4.0)
        rom = rng.uniform(30, 110)
        m = int(10 * period * rate)
        if pos + rest + m > n:
            break
        ph = np.arange(m) / rate / period
        angle[pos + rest: pos + rest + m] = rom * 0.5 * (1 - np.cos(2 * np.pi * ph))
        pos += rest + m
        _ = k
    a = np.radians(angle)
    rate_dps = np.gradient(angle) * rate
    acc = np.column_stack([np.sin(a), np.zeros(n), np.cos(a)])
    # The up vector (sin a, 0, cos a) turns as du/dt = u x w: w = -da/dt about y (the
    # sign was wrong before the fifteenth session, and the gyroscope check corrected it).
    gyr = np.column_stack([np.zeros(n), -rate_dps, np.zeros(n)])
    acc += rng.normal(0, 0.01, acc.shape)
    gyr += rng.normal(0, 0.5, gyr.shape) + 0.3  # white noise and a small bias
    # A fixed, arbitrary mounting rotation so no axis is special.
    rot = _rotation(np.array([0.3, -0.5, 0.8]), 0.7)
    return np.column_stack([t, acc @ rot.T, gyr @ rot.T])


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def blocks(duration_s: float, rate: float = 100.0, seed: int = 1) -> Iterator[np.ndarray]:
    """The recording as consecutive blocks of rows."""
    rng = np.random.default_rng(seed)
    t0 = 0.0
    while t0 < duration_s - 1e-9:
        b = block(t0, rate, rng)
        keep = b[:, 0] < duration_s
        yield b[keep]
        t0 += BLOCK_S


def recording(duration_s: float, rate: float = 100.0) -> Path:
    """Path of a cached synthetic recording of ``duration_s`` seconds (made if missing)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"synthetic_{int(duration_s)}s_{int(rate)}hz.csv"
    if path.exists():
        return path
    tmp = path.with_suffix(".part")
    fmt = ["%.2f"] + ["%.5f"] * 3 + ["%.3f"] * 3
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for b in blocks(duration_s, rate):
            np.savetxt(f, b, fmt=fmt, delimiter=",")
    meta = {"sensor": "synthetic (benchmarks/synth.py)", "placement": "shank",
            "sample_rate_hz": rate, "synthetic": True, "source": "benchmarks/synth.py",
            "licence": "MIT", "labels": None}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    tmp.rename(path)
    return path


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:] or ["3600"]:
        print(recording(float(arg)))
