"""A 2 GB recording streamed by ``repsense analyze`` in constant memory.

Generates a synthetic 100 Hz 6-axis CSV of ``--gb`` gigabytes under /tmp
(about 100 hours of data for 2 GB; checks the free space first), runs
``repsense analyze`` on it in a subprocess and reports the wall time and peak
RSS next to those of a 10-minute file, then deletes the big file.

Usage::

    python benchmarks/big_csv.py [--gb 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CACHE, command_line, emit, machine_info, table  # noqa: E402
from speed_offline import analyze_cmd, measure  # noqa: E402
from synth import HEADER, blocks, recording  # noqa: E402


def write_big(path: Path, gb: float) -> float:
    """Write blocks until the file reaches ``gb`` GB; returns the seconds of data written."""
    limit = gb * 1e9
    fmt = ["%.2f"] + ["%.5f"] * 3 + ["%.3f"] * 3
    duration = 0.0
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for b in blocks(1e9):
            np.savetxt(f, b, fmt=fmt, delimiter=",")
            duration = float(b[-1, 0])
            if f.tell() >= limit:
                break
    meta = {"sensor": "synthetic (benchmarks/big_csv.py)", "placement": "shank",
            "sample_rate_hz": 100, "synthetic": True, "labels": None}
    path.with_suffix(".json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return duration


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(CACHE).free
    if free < 2.5 * args.gb * 1e9:
        raise SystemExit(f"{CACHE}: only {free / 1e9:.1f} GB free; need {2.5 * args.gb:.1f}")
    small = recording(600.0)
    ref = measure(analyze_cmd(small))
    big = CACHE / "big_stream.csv"
    try:
        duration = write_big(big, args.gb)
        size = big.stat().st_size
        r = measure(analyze_cmd(big))
    finally:
        big.unlink(missing_ok=True)
        big.with_suffix(".json").unlink(missing_ok=True)
    rows = [
        {"file": "10 min", "GB": small.stat().st_size / 1e9, "hours": 600 / 3600,
         "wall s": ref["wall_s"], "x real time": 600 / ref["wall_s"],
         "peak RSS MB": ref["peak_rss_mb"], "rc": ref["rc"]},
        {"file": f"{args.gb:g} GB", "GB": size / 1e9, "hours": duration / 3600,
         "wall s": r["wall_s"], "x real time": duration / r["wall_s"],
         "peak RSS MB": r["peak_rss_mb"], "rc": r["rc"]},
    ]
    growth = r["peak_rss_mb"] - ref["peak_rss_mb"]
    result = {"benchmark": "big_csv", "command": command_line(), "machine": machine_info(),
              "rows": rows, "rss_growth_mb": growth, "constant_memory": growth <= 10.0,
              "stderr": r["stderr"]}
    emit(result, args.json, table(rows, list(rows[0].keys())) +
         f"\npeak RSS growth 10 min -> {args.gb:g} GB: {growth:.1f} MB "
         f"(constant memory: {growth <= 10.0})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
