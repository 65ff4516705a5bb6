"""Slow tempos: a labelled corpus of "lower slowly" sets, to score with accuracy.py.

Programmes ask for slow eccentrics and pauses (4-2-4-1, 5-3-3-2, 6-2-6-2).  A rep
of 6 s up, 2 s held and 6 s down keeps the segment away from its rest pose for
longer than a change of posture is first given (12 s), and ends more than the
15 s of quiet that end a set after the rep before.  For each tempo this writes
two sets of five reps at 50 Hz, rest between sets with fidgeting and strap
repositioning (``--nuisance rest``), for seven exercise × placement pairs,
seeds 0 and 1, with and without a gyroscope: 28 sessions per tempo, one
directory per tempo.  Then run ``benchmarks/accuracy.py`` on the directories.

Usage::

    python benchmarks/slow_tempos.py /tmp/slow
    python benchmarks/accuracy.py --no-baseline /tmp/slow/*
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

PAIRS = [  # exercise, variant, placement
    ("leg_curl", "prone", "shank"), ("leg_curl", "seated", "shank"),
    ("leg_curl", "standing", "shank"), ("deadlift", "conventional", "thigh"),
    ("romanian_deadlift", "standard", "thigh"), ("glute_bridge", "floor", "thigh"),
    ("hip_thrust", "bench", "thigh"),
]
TEMPOS = ["3-1-1-1", "4-2-4-1", "5-3-3-2", "6-2-6-2"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="directory for one sub-directory per tempo")
    p.add_argument("--tempo", action="append", help=f"tempo (repeatable; default {TEMPOS})")
    args = p.parse_args(argv)
    n = 0
    for tempo in args.tempo or TEMPOS:
        folder = args.out / tempo
        folder.mkdir(parents=True, exist_ok=True)
        for exercise, variant, placement in PAIRS:
            for seed in (0, 1):
                for accel_only in (False, True):
                    name = (f"{exercise}_{variant}_{placement}_s{seed}"
                            f"{'_acc' if accel_only else ''}.csv")
                    cmd = [sys.executable, "-m", "repsense", "simulate", "--exercise", exercise,
                           "--variant", variant, "--placement", placement, "--sets", "2",
                           "--reps", "5", "--tempo", tempo, "--rate", "50", "--seed", str(seed),
                           "--nuisance", "rest", "-o", str(folder / name)]
                    if accel_only:
                        cmd.append("--accel-only")
                    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
                    if run.returncode:
                        print(f"simulate failed: {name} {tempo}: {run.stderr.strip()}",
                              file=sys.stderr)
                        return 1
                    n += 1
    print(f"{n} sessions written under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
