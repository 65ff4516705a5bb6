"""A fresh random corpus from the simulator, to check that counting generalises.

``recordings/`` was looked at while the counter was developed; numbers on it
say little about recordings nobody has seen.  This script draws a new corpus
of labelled simulated sessions from seeds that were never looked at: random
exercise × variant × placement, rate (10-400 Hz), tempo (with and without
pauses, explosive), set and rep counts, what happens between sets (fidgeting
or walking about), and sometimes accelerometer-only sensors, partial reps and
timestamp jitter.  Combinations the simulator itself says cannot be counted
(a thigh on a knee extension, a shank on a Romanian deadlift) are skipped.
Then run ``benchmarks/accuracy.py`` on the directory.

Usage::

    python benchmarks/fresh_corpus.py OUT_DIR --seed 7 --count 40
    python benchmarks/accuracy.py OUT_DIR

``--paired`` writes the same recordings with the mounting a ``repsense pair``
capture would hold in their sidecars (recognition then uses it where it has
no lever arm).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

COMBOS = [
    ("leg_curl", "prone", "shank"), ("leg_curl", "seated", "shank"),
    ("leg_curl", "standing", "shank"), ("deadlift", "conventional", "thigh"),
    ("deadlift", "conventional", "shank"), ("romanian_deadlift", "standard", "thigh"),
    ("single_leg_deadlift", "stance", "thigh"), ("single_leg_deadlift", "free", "thigh"),
    ("single_leg_deadlift", "free", "shank"), ("glute_bridge", "floor", "thigh"),
    ("glute_bridge", "floor", "shank"), ("hip_thrust", "bench", "thigh"),
    ("hip_thrust", "bench", "shank"), ("generic", "knee_extension", "shank"),
    ("generic", "reverse_hyperextension", "thigh"),
]
TEMPOS = [None, "3-1-1-0", "2-0-1-2", "1-0-1-0", "4-1-2-1", "2-1-X-1", "3-0-1-1"]
RATES = [10, 20, 25, 50, 100, 200, 400]


def draw(rng: random.Random, seed: int) -> list[str]:
    """Command-line arguments of one random session."""
    ex, variant, placement = rng.choice(COMBOS)
    rate = rng.choice(RATES)
    args = ["--exercise", ex, "--variant", variant, "--placement", placement,
            "--seed", str(seed), "--sets", str(rng.choice([2, 3])),
            "--reps", rng.choice(["6", "8", "10", "5-10"]), "--rate", str(rate),
            "--nuisance", rng.choice(["rest", "full", "full"])]
    tempo = rng.choice(TEMPOS)
    if tempo:
        args += ["--tempo", tempo]
    if rng.random() < 0.25:
        args += ["--accel-only"]
    if rng.random() < 0.2:
        args += ["--partial", "0.2"]
    if rng.random() < 0.2:
        args += ["--jitter-ms", f"{min(5.0, 400.0 / rate):g}"]  # the simulator's limit
    return args


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="directory for the recordings (created)")
    p.add_argument("--seed", type=int, default=7, help="corpus seed (default 7)")
    p.add_argument("--count", type=int, default=40, help="sessions to draw (default 40)")
    p.add_argument("--paired", action="store_true",
                   help="sidecars carry the mounting captured at pairing (the same recordings "
                        "as without it, for the same seed)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    kept = 0
    for k in range(args.count):
        sim_args = draw(rng, args.seed * 1000 + k)
        name = "_".join(sim_args[i] for i in (1, 3, 5)) + f"_{args.seed * 1000 + k}.csv"
        path = args.out / name
        cmd = [sys.executable, "-m", "repsense", "simulate", *sim_args, "-o", str(path)]
        if args.paired:
            cmd.insert(-2, "--paired")
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if run.returncode:
            print(f"simulate failed: {' '.join(sim_args)}: {run.stderr.strip()}", file=sys.stderr)
            return 1
        meta = json.loads(path.with_suffix(".json").read_text())
        if meta["simulator"].get("warnings"):  # the simulator says this cannot be counted
            path.unlink()
            path.with_suffix(".json").unlink()
            continue
        kept += 1
    print(f"{kept} of {args.count} sessions kept in {args.out} (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
