"""Real recordings as other sensors would have given them, to check that counting carries over.

For every recording (``*.csv`` + sidecar) in SRC, writes to OUT/rotated,
OUT/accel_only, OUT/half_rate, OUT/rate_10hz, OUT/rate_100hz, OUT/lossy, OUT/slower,
OUT/faster, OUT/mirrored, OUT/clipped, OUT/gyro_swapped, OUT/gyro_rad, OUT/gyro_zero,
OUT/acc_scaled, OUT/acc_offset and OUT/gyro_offset:

* ``rotated``: the same samples in a random sensor frame (a strap put on any
  way round); accelerometer and gyroscope turned alike.
* ``accel_only``: the rotated samples without the gyroscope columns.
* ``half_rate``: the rotated samples averaged in pairs (a sensor at half the
  rate, with the averaging a digital low-pass would do).
* ``rate_10hz``: the rotated samples as a 10 Hz sensor (WitMotion's default) gives
  them: its own low-pass (4th-order Butterworth at 4 Hz, causal, as a sensor's
  digital filter is), then sampled every 0.1 s (linear interpolation).
* ``rate_100hz``: the rotated samples as a 100 Hz sensor gives them: resampled to
  100 Hz on a regular grid (``scipy.signal.resample_poly``: band-limited, nothing
  added above the original's band), then the white noise such a sensor adds over
  its wider band, at the simulator's LSM6DS3 densities (90 ug/sqrt(Hz) and
  7 mdps/sqrt(Hz) over 50 Hz: 0.64 mg and 0.05 deg/s).  Nothing new moves; what
  changes is the rate the stages filter and decimate at.
* ``lossy``: the rotated samples as a Bluetooth link delivers them on a bad
  day: 20 bursts of 2-10 lost samples and 1 % single losses at random, and
  3 ms of timestamp jitter (clamped so that time goes on by at least a tenth of a
  sample period).
* ``slower`` / ``faster``: the rotated samples as a person moving 1.4 times
  slower or 0.7 times the time (faster) would give them: the time axis
  stretched and the gyroscope scaled by ``1/k``, then resampled at the
  original rate (linear interpolation); label times are stretched alike.
  The limb's own acceleration in the accelerometer is *not* scaled by
  ``1/k²``: separating it from gravity needs an orientation filter, and on
  these recordings (a thigh gyroscope reading 3.4 times the accelerometer's
  tilt rate) the filter's error, scaled up, swamped the movement.  So these
  variants judge counting; recognition, whose lever arm is fitted to exactly
  that acceleration against the gyroscope, is not judged on them.

* ``mirrored``: the session as the other leg would give it: the whole movement
  reflected through a plane, seen by a (right-handed) sensor strapped on as the
  mirror image of the original, then turned into the same random frame as
  ``rotated``.  Reflecting flips one sensor axis of the accelerometer, and the
  other two of the gyroscope (angular velocity is an axial vector): with
  ``F = diag(1, 1, -1)``, ``acc' = F acc`` and ``gyr' = -F gyr``.
* ``clipped``: the rotated samples as a sensor left at its narrowest ranges gives
  them: every axis clipped to +-2 g and +-250 deg/s (the power-on ranges of common
  MEMS parts such as InvenSense's MPU-6050), so impacts and quick turns saturate.

* ``gyro_swapped`` / ``gyro_rad``: the rotated samples as a careless conversion gives
  them: the gyroscope's x and y columns swapped (no longer the accelerometer's axes),
  or the gyroscope in rad/s under the ``gyr_*_dps`` headers (see
  ``repsense.dsp.gyro_axes``, which finds and undoes both).
* ``gyro_zero``: the rotated samples with a gyroscope that reads nothing (switched
  off, or columns written as zeros): ``gyro_axes`` leaves it out, so the counts
  should be ``accel_only``'s.

* ``acc_scaled``: the rotated samples with the accelerometer reading twice what it
  should (a sensor set to +-4 g decoded with the +-2 g scale): 2 g at rest.
* ``acc_offset``: the rotated samples with a constant ``ACC_OFFSET_G`` added to the
  accelerometer in a random direction per file (an uncalibrated MEMS part's zero-g
  offset; a real ESP32 squat recorder read 1.27-1.49 g at rest).
* ``gyro_offset``: the rotated samples with a constant ``GYRO_OFFSET_DPS`` (or
  ``--gyro-offset``) added to the gyroscope in a random direction per file (an
  uncalibrated MEMS gyroscope's zero-rate offset: up to +-10 deg/s for an LSM6DS3,
  +-20 deg/s for an MPU-6050, per axis).

The labels are kept (stretched with the time axis in ``slower``/``faster``).
Then run ``benchmarks/accuracy.py`` on the directories.  Nothing is written
into the repository: the real data stay out.

Usage::

    python benchmarks/sensor_variants.py ../shared/datasets/uci-pt /tmp/uci-variants
    python benchmarks/accuracy.py /tmp/uci-variants/rotated /tmp/uci-variants/accel_only \\
        /tmp/uci-variants/half_rate /tmp/uci-variants/lossy
    python benchmarks/accuracy.py /tmp/uci-variants/rate_10hz /tmp/uci-variants/rate_100hz
    python benchmarks/accuracy.py /tmp/uci-variants/slower /tmp/uci-variants/faster
    python benchmarks/accuracy.py /tmp/uci-variants/rotated /tmp/uci-variants/mirrored
"""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt
from scipy.spatial.transform import Rotation

HEADER_6 = "time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps"
HEADER_3 = "time_s,acc_x_g,acc_y_g,acc_z_g"
SLOWER, FASTER = 1.4, 0.7
"""Time-axis factors of the ``slower`` and ``faster`` variants."""
MIRROR = np.array([1.0, 1.0, -1.0])
"""The sensor axis a reflection flips (``mirrored``)."""
CLIP_G, CLIP_DPS = 2.0, 250.0
"""Full-scale ranges of the ``clipped`` variant."""
GYRO_SWAP = [5, 4, 6]
"""Columns of the ``gyro_swapped`` variant's gyroscope: x and y swapped."""
ACC_SCALE = 2.0
"""The ``acc_scaled`` variant's accelerometer factor."""
ACC_OFFSET_G = 0.1
"""Size of the ``acc_offset`` variant's accelerometer offset."""
GYRO_OFFSET_DPS = 15.0
"""Size of the ``gyro_offset`` variant's gyroscope offset."""
HIGH_RATE_HZ = 100.0
"""Rate of the ``rate_100hz`` variant ..."""
HIGH_RATE_NOISE = (90e-6 * 50.0 ** 0.5, 0.007 * 50.0 ** 0.5)
"""... and the white noise it adds (g, deg/s; standard deviations over a 50 Hz band)."""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", type=Path, help="directory of recordings with sidecars")
    p.add_argument("out", type=Path, help="output directory (created)")
    p.add_argument("--seed", type=int, default=5, help="seed of the random rotations")
    p.add_argument("--gyro-offset", type=float, default=GYRO_OFFSET_DPS, metavar="DPS",
                   help=f"size of the gyro_offset variant's offset (default {GYRO_OFFSET_DPS:g})")
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    loss_rng = np.random.default_rng(args.seed + 1)  # apart: the rotations stay as they were
    offset_rng = np.random.default_rng(args.seed + 2)
    gyro_offset_rng = np.random.default_rng(args.seed + 3)
    noise_rng = np.random.default_rng(args.seed + 4)
    names = ("rotated", "accel_only", "half_rate", "rate_10hz", "rate_100hz", "lossy",
             "slower", "faster", "mirrored", "clipped", "gyro_swapped", "gyro_rad",
             "gyro_zero", "acc_scaled", "acc_offset", "gyro_offset")
    dirs = {name: args.out / name for name in names}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    n = 0
    for csv in sorted(args.src.glob("*.csv")):
        meta_path = csv.with_suffix(".json")
        if not meta_path.exists():
            continue
        with csv.open() as fh:
            header = fh.readline().strip()
        if header != HEADER_6:
            continue  # only 6-axis recordings in the canonical units have all three variants
        data = np.loadtxt(csv, delimiter=",", skiprows=1, ndmin=2)
        meta = json.loads(meta_path.read_text())
        rot = Rotation.random(random_state=int(rng.integers(1 << 30)))
        turned = data.copy()
        turned[:, 1:4] = rot.apply(data[:, 1:4])
        turned[:, 4:7] = rot.apply(data[:, 4:7])
        pairs = turned[: len(turned) // 2 * 2]
        half = np.column_stack([pairs[0::2, 0], 0.5 * (pairs[0::2, 1:] + pairs[1::2, 1:])])
        lossy = _lossy(turned, loss_rng)
        mirrored = data.copy()
        mirrored[:, 1:4] = rot.apply(data[:, 1:4] * MIRROR)
        mirrored[:, 4:7] = rot.apply(-data[:, 4:7] * MIRROR)
        clipped = turned.copy()
        clipped[:, 1:4] = np.clip(turned[:, 1:4], -CLIP_G, CLIP_G)
        clipped[:, 4:7] = np.clip(turned[:, 4:7], -CLIP_DPS, CLIP_DPS)
        swapped = turned.copy()
        swapped[:, 4:7] = turned[:, GYRO_SWAP]
        in_rad = turned.copy()
        in_rad[:, 4:7] = np.radians(turned[:, 4:7])
        no_gyro = turned.copy()
        no_gyro[:, 4:7] = 0.0
        scaled = turned.copy()
        scaled[:, 1:4] *= ACC_SCALE
        offset = turned.copy()
        way = offset_rng.normal(size=3)
        offset[:, 1:4] += ACC_OFFSET_G * way / np.linalg.norm(way)
        gyro_offset = turned.copy()
        way = gyro_offset_rng.normal(size=3)
        gyro_offset[:, 4:7] += args.gyro_offset * way / np.linalg.norm(way)
        rate = float(meta.get("sample_rate_hz") or 0) or None
        for name, arr, head, r in (
            ("rotated", turned, HEADER_6, rate),
            ("accel_only", turned[:, :4], HEADER_3, rate),
            ("half_rate", half, HEADER_6, None if rate is None else rate / 2),
            ("lossy", lossy, HEADER_6, rate),
            ("mirrored", mirrored, HEADER_6, rate),
            ("clipped", clipped, HEADER_6, rate),
            ("gyro_swapped", swapped, HEADER_6, rate),
            ("gyro_rad", in_rad, HEADER_6, rate),
            ("gyro_zero", no_gyro, HEADER_6, rate),
            ("acc_scaled", scaled, HEADER_6, rate),
            ("acc_offset", offset, HEADER_6, rate),
            ("gyro_offset", gyro_offset, HEADER_6, rate),
        ):
            np.savetxt(dirs[name] / csv.name, arr, delimiter=",", header=head, comments="",
                       fmt="%.6f")
            m = dict(meta, sample_rate_hz=r) if r is not None else dict(meta)
            (dirs[name] / meta_path.name).write_text(json.dumps(m))
        np.savetxt(dirs["rate_10hz"] / csv.name, _at_10hz(turned), delimiter=",",
                   header=HEADER_6, comments="", fmt="%.6f")
        (dirs["rate_10hz"] / meta_path.name).write_text(json.dumps(dict(meta, sample_rate_hz=10.0)))
        np.savetxt(dirs["rate_100hz"] / csv.name, _at_high_rate(turned, noise_rng),
                   delimiter=",", header=HEADER_6, comments="", fmt="%.6f")
        (dirs["rate_100hz"] / meta_path.name).write_text(
            json.dumps(dict(meta, sample_rate_hz=HIGH_RATE_HZ)))
        for name, k in (("slower", SLOWER), ("faster", FASTER)):
            np.savetxt(dirs[name] / csv.name, stretched(turned, k), delimiter=",",
                       header=HEADER_6, comments="", fmt="%.6f")
            (dirs[name] / meta_path.name).write_text(json.dumps(stretched_labels(meta, k)))
        n += 1
    print(f"{n} recordings written to {', '.join(str(d) for d in dirs.values())}")
    return 0


def _at_10hz(data: np.ndarray) -> np.ndarray:
    """``data`` (time, acc, gyr) as a 10 Hz sensor with a 4 Hz low-pass samples it."""
    step = float(np.median(np.diff(data[:, 0])))
    sos = butter(4, 4.0, fs=1.0 / step, output="sos")
    filtered = sosfilt(sos, data[:, 1:] - data[0, 1:], axis=0) + data[0, 1:]
    grid = np.arange(data[0, 0], data[-1, 0], 0.1)
    cols = [np.interp(grid, data[:, 0], filtered[:, j]) for j in range(filtered.shape[1])]
    return np.column_stack([grid, *cols])


def _at_high_rate(data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``data`` (time, acc, gyr) as a ``HIGH_RATE_HZ`` sensor gives it (``rate_100hz``)."""
    step = float(np.median(np.diff(data[:, 0])))
    ratio = Fraction(HIGH_RATE_HZ * step).limit_denominator(100)
    # The ends held for a second, so that the resampling filter does not ring there.
    pad = int(round(1.0 / step))
    x = data[:, 1:]
    padded = np.concatenate([np.repeat(x[:1], pad, axis=0), x, np.repeat(x[-1:], pad, axis=0)])
    y = resample_poly(padded, ratio.numerator, ratio.denominator, axis=0)
    lead = int(round(pad * ratio))
    n = int((data[-1, 0] - data[0, 0]) * HIGH_RATE_HZ) + 1
    y = y[lead: lead + n].copy()
    y[:, :3] += rng.normal(0.0, HIGH_RATE_NOISE[0], (len(y), 3))
    y[:, 3:] += rng.normal(0.0, HIGH_RATE_NOISE[1], (len(y), 3))
    return np.column_stack([data[0, 0] + np.arange(len(y)) / HIGH_RATE_HZ, y])


def stretched(data: np.ndarray, k: float) -> np.ndarray:
    """``data`` (time, acc, gyr) performed ``k`` times slower, at the same sample rate."""
    moved = data.copy()
    moved[:, 4:7] /= k  # the same angles turned in k times the time
    t = data[:, 0] * k
    step = float(np.median(np.diff(data[:, 0])))
    grid = np.arange(t[0], t[-1], step)
    cols = [np.interp(grid, t, moved[:, j]) for j in range(1, data.shape[1])]
    return np.column_stack([grid, *cols])


def stretched_labels(meta: dict, k: float) -> dict:
    """The sidecar with every label time multiplied by ``k``."""
    meta = json.loads(json.dumps(meta))
    for s in meta.get("labels", {}).get("sets", []):
        for key in ("start_s", "end_s"):
            if key in s:
                s[key] *= k
        if "rep_bounds_s" in s:
            s["rep_bounds_s"] = [[a * k, b * k] for a, b in s["rep_bounds_s"]]
        for rep in s.get("rep_detail", []):  # simulated sidecars: times and durations
            for key, value in rep.items():
                if key.endswith("_s") and isinstance(value, (int, float)):
                    rep[key] = value * k
    return meta


def _lossy(data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``data`` with bursts and single samples lost and jittered timestamps."""
    keep = np.ones(len(data), dtype=bool)
    for _ in range(20):
        start = int(rng.integers(0, max(1, len(data) - 10)))
        keep[start:start + int(rng.integers(2, 11))] = False
    keep &= rng.random(len(data)) > 0.01
    out = data[keep].copy()
    # Time never stands still either: three equal stamps are a broken file to the reader
    # (at 200 Hz, 3 ms of jitter clamped only against running backwards made them).
    step = 0.1 * float(np.median(np.diff(data[:, 0])))
    ramp = step * np.arange(len(out))
    out[:, 0] = np.maximum.accumulate(out[:, 0] + rng.normal(0.0, 0.003, len(out)) - ramp) + ramp
    return out


if __name__ == "__main__":
    sys.exit(main())
