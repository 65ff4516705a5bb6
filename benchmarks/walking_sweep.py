"""Walking between sets against quick reps: a sweep of simulated sessions.

The gait detector must see walking (no rep in it) and must not see it in a set
(every rep of the set dropped).  Quick continuous reps are where the two meet:
at tempo 1-0-X-0 a rep comes every 1.3-1.5 s, as a stride does.  This script
simulates, for each tempo and sensor (with a gyroscope, accelerometer only),
two sets of eight reps with 60 s of rest and walking about between the sets
(``--nuisance full``; the simulator walks in most gaps), for every exercise,
rate and seed given, runs each through the pipeline with its placement named,
and prints how many sessions give exactly the labelled sets.

Usage::

    python benchmarks/walking_sweep.py                 # the default sweep (BENCHMARKS.md)
    python benchmarks/walking_sweep.py --tempo 1-0-X-0 --details
    python benchmarks/walking_sweep.py --walk-stride 1.35,1.6 --shank  # slow walkers
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from repsense.events import SetEnd
from repsense.pipeline import Pipeline
from repsense.sim import SimulatedSession

SESSIONS = [  # exercise, variant, placement
    ("single_leg_deadlift", "stance", "thigh"), ("single_leg_deadlift", "free", "thigh"),
    ("romanian_deadlift", "standard", "thigh"), ("glute_bridge", "floor", "thigh"),
    ("hip_thrust", "bench", "thigh"), ("leg_curl", "prone", "shank"),
    ("deadlift", "conventional", "thigh"),
]
SHANK_SESSIONS = [  # more shank sessions (--shank): a walking shank swings most
    ("leg_curl", "standing", "shank"), ("leg_curl", "seated", "shank"),
    ("generic", "knee_extension", "shank"), ("glute_bridge", "floor", "shank"),
    ("deadlift", "conventional", "shank"),
]
TEMPOS = ["default", "1-0-1-0", "1-0-X-0", "2-1-X-1"]


def run_one(exercise: str, variant: str, placement: str, tempo: str | None, rate: float,
            seed: int, accel_only: bool,
            walk_stride_s: tuple[float, float] | None = None) -> tuple[list[int], list[int]]:
    """Labelled and counted reps per set of one simulated session."""
    extra = {} if walk_stride_s is None else {"walk_stride_s": walk_stride_s}
    sim = SimulatedSession(exercise=exercise, variant=variant, placement=placement, sets=2,
                           reps=8, tempo=tempo, rest_s=60.0, rate_hz=rate, seed=seed,
                           nuisance="full", accel_only=accel_only, **extra)
    pipe = Pipeline(sample_rate_hz=rate, exercise="auto", placement=placement)
    found = [len(e.reps) for e in pipe.push(sim.sample()) + pipe.finish()
             if isinstance(e, SetEnd)]
    labels = [s["reps"] for s in sim.labels["sets"]]
    return labels, found


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tempo", action="append", help=f"tempo (repeatable; default {TEMPOS})")
    p.add_argument("--rates", default="10,25,100", help="rates in Hz (default 10,25,100)")
    p.add_argument("--seeds", type=int, default=6, help="seeds 0..N-1 (default 6)")
    p.add_argument("--details", action="store_true", help="list every wrong session")
    p.add_argument("--walk-stride", metavar="LO,HI",
                   help="stride periods of the walks, seconds (default: the simulator's, "
                        "1,1.15; slow walkers 1.35,1.6)")
    p.add_argument("--shank", action="store_true",
                   help=f"add {len(SHANK_SESSIONS)} shank sessions (standing and seated curls, "
                        "knee extensions, bridges, deadlifts)")
    args = p.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    stride = (None if args.walk_stride is None
              else tuple(float(x) for x in args.walk_stride.split(",")))
    sessions = SESSIONS + (SHANK_SESSIONS if args.shank else [])
    print("| tempo | sensor | sessions | right | wrong by exercise |")
    print("|---|---|---|---|---|")
    for tempo in args.tempo or TEMPOS:
        for accel_only in (False, True):
            total = right = 0
            wrong: dict[str, int] = {}
            for exercise, variant, placement in sessions:
                for rate in rates:
                    for seed in range(args.seeds):
                        labels, found = run_one(exercise, variant, placement,
                                                None if tempo == "default" else tempo,
                                                rate, seed, accel_only, stride)
                        total += 1
                        if found == labels:
                            right += 1
                            continue
                        key = f"{exercise} {variant} ({placement})"
                        wrong[key] = wrong.get(key, 0) + 1
                        if args.details:
                            print(f"  {tempo} {'accel' if accel_only else 'gyro'} {key} "
                                  f"{rate:g} Hz seed {seed}: {found} for {labels}",
                                  file=sys.stderr)
            sensor = "accelerometer only" if accel_only else "gyroscope"
            by = ", ".join(f"{k} {v}" for k, v in sorted(wrong.items())) or "-"
            print(f"| {tempo} | {sensor} | {total} | {right} | {by} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
