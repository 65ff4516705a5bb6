"""Honesty check of the simulator against real recordings.

Compares simulated recordings with the third-party recordings in
``../shared/datasets/`` (read in place, never copied) on:

* the noise floor at rest: the quietest 2-s windows' standard deviation of
  the accelerometer (mg) and the gyroscope (deg/s), 10th percentile;
* the movement per rep: tilt range (gravity direction, low-passed at 1.5 Hz)
  and peak tilt speed (gyroscope, low-passed at 3 Hz), medians over reps;
* acceleration spectra during the sets: the share of the dynamic
  acceleration's power (|a| − 1 g) per band and the frequency below which
  95 % of the power lies.

Each real file is paired with a simulation of the same movement, rate and
rough tempo.  Run: ``.venv/bin/python benchmarks/sim_honesty.py [--json]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, emit, set_rep_bounds, table  # noqa: E402
from repsense.io.csv_recording import CsvRecording  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402
from repsense.sim import SimulatedSession  # noqa: E402

DATA = REPO.parent / "shared" / "datasets"
BANDS = ((0.0, 0.5), (0.5, 2.0), (2.0, 5.0), (5.0, 12.5))

# real file -> simulator settings of the same movement (subject 1 has rep bounds);
# tempos copy the real rhythm: ~1.2 s movements with 3 s holds (UCI), 5 s holds (MEx)
PAIRS: list[tuple[str, dict[str, Any]]] = [
    ("uci-pt/uci-pt_s1_e1_u2_shank.csv",
     dict(exercise="generic", variant="knee_extension", placement="shank", tempo="1.2-1-1.2-3")),
    ("uci-pt/uci-pt_s1_e3_u2_shank.csv",
     dict(exercise="generic", variant="leg_raise", placement="shank", tempo="1.5-1-1.5-3")),
    ("uci-pt/uci-pt_s1_e3_u3_thigh.csv",
     dict(exercise="generic", variant="leg_raise", placement="thigh", tempo="1.5-1-1.5-3")),
    ("uci-pt/uci-pt_s1_e5_u2_shank.csv",
     dict(exercise="generic", variant="prone_hip_extension", placement="shank",
          tempo="1.5-1-1.5-3")),
    ("uci-pt/uci-pt_s1_e5_u3_thigh.csv",
     dict(exercise="generic", variant="prone_hip_extension", placement="thigh",
          tempo="1.5-1-1.5-3")),
    ("mex-bridging/mex_s01_bridging_1.csv",
     dict(exercise="glute_bridge", placement="thigh", tempo="1.5-0-1.5-5", accel_only=True)),
    ("mex-bridging/mex_s03_bridging_1.csv",
     dict(exercise="glute_bridge", placement="thigh", tempo="1.5-0-1.5-5", accel_only=True)),
]


def load(path: Path) -> tuple[SampleChunk, dict[str, Any]]:
    rec = CsvRecording(path)
    return SampleChunk.concat(list(rec.chunks())), rec.meta


def rest_noise(c: SampleChunk, fs: float) -> tuple[float, float | None]:
    """10th percentile over 2-s windows of the per-window std (norm over axes)."""
    w = int(2 * fs)
    n = len(c) // w
    a = c.acc[: n * w].reshape(n, w, 3)
    acc = float(np.percentile(np.linalg.norm(a.std(axis=1), axis=1), 10)) * 1000
    if c.gyr is None:
        return acc, None
    g = c.gyr[: n * w].reshape(n, w, 3)
    return acc, float(np.percentile(np.linalg.norm(g.std(axis=1), axis=1), 10))


def movement(c: SampleChunk, fs: float, bounds: list[tuple[float, float]]
             ) -> tuple[float, float]:
    """Median tilt range (deg) and peak tilt speed (deg/s) over reps."""
    up = signal.sosfiltfilt(signal.butter(2, 1.5, fs=fs, output="sos"), c.acc, axis=0)
    up /= np.linalg.norm(up, axis=1)[:, None]
    if c.gyr is not None:
        g = signal.sosfiltfilt(signal.butter(2, 3.0, fs=fs, output="sos"), c.gyr, axis=0)
        along = np.einsum("ij,ij->i", g, up)
        speed = np.linalg.norm(g - along[:, None] * up, axis=1)
    else:
        d = np.gradient(up, 1 / fs, axis=0)
        speed = np.degrees(np.linalg.norm(d, axis=1))
    ranges, speeds = [], []
    for a, b in bounds:
        sel = (c.t >= a) & (c.t <= b)
        if sel.sum() < 3:
            continue
        u = up[sel]
        ranges.append(np.degrees(np.arccos(np.clip(u @ u[0], -1, 1))).max())
        speeds.append(speed[sel].max())
    return float(np.median(ranges)), float(np.median(speeds))


def active_spans(c: SampleChunk, fs: float) -> np.ndarray:
    """Mask of samples that move (tilt speed above 10 deg/s, dilated by 1 s)."""
    up = signal.sosfiltfilt(signal.butter(2, 1.5, fs=fs, output="sos"), c.acc, axis=0)
    up /= np.linalg.norm(up, axis=1)[:, None]
    speed = np.degrees(np.linalg.norm(np.gradient(up, 1 / fs, axis=0), axis=1))
    moving = speed > 10
    k = int(fs)
    return np.convolve(moving, np.ones(2 * k + 1), mode="same") > 0


def spectrum(c: SampleChunk, fs: float, mask: np.ndarray) -> tuple[list[float], float]:
    """Band shares (%) of the dynamic acceleration's power and its 95 % frequency."""
    dyn = np.linalg.norm(c.acc, axis=1) - 1.0
    dyn = dyn[mask] - dyn[mask].mean()
    f, p = signal.welch(dyn, fs=fs, nperseg=min(len(dyn), int(fs * 8)))
    top = min(12.5, fs / 2)
    keep = f <= top
    f, p = f[keep], p[keep]
    total = p.sum()
    shares = [100 * p[(f >= lo) & (f < hi)].sum() / total for lo, hi in BANDS]
    f95 = float(f[np.searchsorted(np.cumsum(p) / total, 0.95)])
    return shares, f95


def simulate(settings: dict[str, Any], rate: float, seed: int) -> tuple[SampleChunk, dict]:
    sim = SimulatedSession(sets=3, reps=10, rate_hz=rate, rest_s=40, seed=seed,
                           nuisance="rest", **settings)
    return sim.sample(), sim.meta


def measure(c: SampleChunk, meta: dict[str, Any]) -> dict[str, Any]:
    fs = 1.0 / float(np.median(np.diff(c.t)))
    acc_n, gyr_n = rest_noise(c, fs)
    bounds = [b for s in set_rep_bounds(meta) for b in s]
    rng_deg, speed = movement(c, fs, bounds) if bounds else (float("nan"), float("nan"))
    if not bounds:  # unlabelled (MEx): the whole recording's tilt spread and speed
        rng_deg, speed = movement(c, fs, [(c.t[0], c.t[-1])])
    shares, f95 = spectrum(c, fs, active_spans(c, fs))
    return {"rate_hz": round(fs), "rest_acc_mg": acc_n, "rest_gyr_dps": gyr_n,
            "tilt_range_deg": rng_deg, "peak_speed_dps": speed,
            **{f"pow_{lo:g}-{hi:g}Hz_%": s for (lo, hi), s in zip(BANDS, shares, strict=True)},
            "f95_hz": f95}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"no real recordings at {DATA}; nothing to compare", file=sys.stderr)
        return 1
    rows = []
    for rel, settings in PAIRS:
        path = DATA / rel
        if not path.exists():
            continue
        c, meta = load(path)
        real = measure(c, meta)
        sc, smeta = simulate(settings, real["rate_hz"], args.seed)
        sim = measure(sc, smeta)
        name = Path(rel).stem
        rows.append({"recording": name, "kind": "real", **real})
        rows.append({"recording": name, "kind": "sim", **sim})
    cols = ["recording", "kind", "rate_hz", "rest_acc_mg", "rest_gyr_dps", "tilt_range_deg",
            "peak_speed_dps", *[f"pow_{lo:g}-{hi:g}Hz_%" for lo, hi in BANDS], "f95_hz"]
    text = table(rows, cols, "Simulator vs real recordings (sim_honesty.py)")
    emit({"benchmark": "sim_honesty", "rows": rows}, args.json, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
