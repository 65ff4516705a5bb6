"""``repsense simulate``: write a labelled synthetic recording from the leg-IMU simulator."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from repsense.errors import InputError
from repsense.exercises import EXERCISE_IDS, PLACEMENTS

if TYPE_CHECKING:
    from repsense.sim import SimulatedSession

EPILOG = """\
examples:
  repsense simulate --exercise romanian_deadlift --placement thigh --sets 2 --reps 5 -o rdl.csv
  repsense simulate --exercise leg_curl --variant seated --placement shank --tempo 3-1-1-0 \\
      --rate 100 --nuisance full --seed 7 -o curl.csv
  repsense simulate --plan hamstrings-glutes-gym --rate 25 -o day.csv

The recording (OUT.csv) and its sidecar with exact labels (OUT.json) are
written atomically. Variants: leg_curl prone|seated|standing,
single_leg_deadlift stance|free, generic knee_extension|leg_raise|
prone_hip_extension|squat|reverse_hyperextension (others have one).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="write a synthetic, labelled recording of a leg-worn IMU",
        description="Simulate a thigh- or shank-worn LSM6DS3 during sets of an exercise (or a "
        "whole training plan) with rests, fidgeting, strap repositioning and walking, and write "
        "OUT.csv plus OUT.json with the exact sets, reps and phase durations.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--exercise", choices=EXERCISE_IDS, metavar="ID",
                   help=f"exercise id: {', '.join(EXERCISE_IDS)} (required without --plan)")
    p.add_argument("--variant", help="exercise variant, e.g. seated (leg_curl) or free "
                   "(single_leg_deadlift)")
    p.add_argument("--plan", type=Path, metavar="FILE",
                   help="simulate a whole session from a training plan: a .toml file or the "
                   "name of a bundled plan (see repsense plans)")
    p.add_argument("--placement", choices=PLACEMENTS, default=None,
                   help="segment the sensor is strapped to (default: the one that sees the "
                   "exercise best, or the plan's)")
    p.add_argument("--side", choices=("left", "right"), default=None, help="leg (default right)")
    p.add_argument("--sets", type=int, default=3, help="number of sets (default 3)")
    p.add_argument("--reps", default="10", help="reps per set, or a range like 3-6 (default 10)")
    p.add_argument("--tempo", help="eccentric-bottom pause-concentric-top pause in seconds, "
                   "X = explosive, e.g. 3-1-1-0 (default: the exercise's usual tempo)")
    p.add_argument("--rate", type=float, default=50.0, metavar="HZ",
                   help="output data rate 10-400 Hz (default 50)")
    p.add_argument("--rest", type=float, default=60.0, metavar="S",
                   help="rest between sets in seconds (default 60)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--accel-only", action="store_true", help="no gyroscope columns")
    p.add_argument("--nuisance", choices=("none", "rest", "full"), default=None,
                   help="what happens between sets: none = still rest, rest = + fidgeting and "
                   "strap repositioning (default), full = + standing up and walking about "
                   "(default with --plan)")
    p.add_argument("--partial", type=float, default=0.0, metavar="P",
                   help="probability that a rep is partial (< 60%% of the range; default 0)")
    p.add_argument("--fatigue", type=float, default=0.25,
                   help="how much the concentric phase slows by the last rep (default 0.25)")
    p.add_argument("--jitter-ms", type=float, default=0.0,
                   help="standard deviation of timestamp jitter in ms (default 0)")
    p.add_argument("--acc-range", type=int, default=8, help="accelerometer full scale in g "
                   "(2, 4, 8, 16; default 8)")
    p.add_argument("--gyro-range", type=int, default=1000, help="gyroscope full scale in dps "
                   "(125-2000; default 1000)")
    p.add_argument("--mount", choices=("random", "aligned"), default="random",
                   help="strap orientation: random (default) or axes aligned with the segment")
    p.add_argument("--walk-stride", type=_stride_range, metavar="LO,HI",
                   help="stride periods of walking between sets, seconds (default 1,1.15: "
                        "100-120 steps a minute; a slow walker: 1.35,1.6)")
    p.add_argument("--paired", action="store_true",
                   help="write the mounting a 'repsense pair' capture would hold (mounting_up, "
                        "the up vector with the segment vertical) into the sidecar; the strap "
                        "may still be moved between sets (--nuisance)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.csv",
                   help="recording to write (the sidecar goes to OUT.json)")
    p.set_defaults(func=run)


def command_line(args: argparse.Namespace) -> str:
    """The canonical ``repsense simulate`` command that reproduces ``args``."""
    parts = ["repsense", "simulate"]
    if args.plan is not None:
        parts += ["--plan", str(args.plan)]
    else:
        parts += ["--exercise", args.exercise or "?"]
        if args.variant:
            parts += ["--variant", args.variant]
        parts += ["--sets", str(args.sets), "--reps", str(args.reps)]
        if args.tempo:
            parts += ["--tempo", args.tempo]
        parts += ["--rest", f"{args.rest:g}"]
    for flag, value in (("--placement", args.placement), ("--side", args.side),
                        ("--nuisance", args.nuisance)):
        if value is not None:
            parts += [flag, value]
    parts += ["--rate", f"{args.rate:g}", "--seed", str(args.seed)]
    if args.accel_only:
        parts.append("--accel-only")
    defaults = (("--partial", args.partial, 0.0), ("--fatigue", args.fatigue, 0.25),
                ("--jitter-ms", args.jitter_ms, 0.0), ("--acc-range", args.acc_range, 8),
                ("--gyro-range", args.gyro_range, 1000))
    for flag, value, default in defaults:
        if value != default:
            parts += [flag, f"{value:g}"]
    if args.mount != "random":
        parts += ["--mount", args.mount]
    if args.walk_stride is not None:
        parts += ["--walk-stride", ",".join(f"{x:g}" for x in args.walk_stride)]
    if args.paired:
        parts.append("--paired")
    parts += ["-o", str(args.output)]
    return shlex.join(parts)


def build_session(args: argparse.Namespace) -> SimulatedSession:
    """The :class:`SimulatedSession` the parsed arguments describe."""
    from repsense.sim import SimulatedSession

    source = command_line(args)
    common: dict = dict(
        rate_hz=args.rate, seed=args.seed, accel_only=args.accel_only,
        jitter_ms=args.jitter_ms, partial_prob=args.partial, fatigue=args.fatigue,
        acc_range_g=args.acc_range, gyr_range_dps=args.gyro_range, mount=args.mount,
        source=source,
    )
    if args.walk_stride is not None:
        common["walk_stride_s"] = args.walk_stride
    if args.plan is not None:
        if args.exercise:
            raise InputError("--plan and --exercise: give one of them, not both")
        extra = {k: v for k, v in (("placement", args.placement), ("side", args.side),
                                   ("nuisance", args.nuisance)) if v is not None}
        return SimulatedSession.from_plan(_load_plan(args.plan), **common, **extra)
    if not args.exercise:
        raise InputError("--exercise: missing; give an exercise id (e.g. leg_curl) or --plan FILE")
    reps: int | str = int(args.reps) if str(args.reps).isdigit() else args.reps
    return SimulatedSession(
        exercise=args.exercise, variant=args.variant, placement=args.placement,
        side=args.side or "right", sets=args.sets, reps=reps, tempo=args.tempo,
        rest_s=args.rest, nuisance=args.nuisance or "rest", **common,
    )


def _stride_range(text: str) -> tuple[float, float]:
    """``LO,HI`` (or one value) in seconds, for ``--walk-stride``."""
    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 0.6 <= parts[0] <= parts[1] <= 2.5:
        raise argparse.ArgumentTypeError(
            f"'{text}': give two stride periods LO,HI in seconds between 0.6 and 2.5, "
            "e.g. 1.35,1.6")
    return parts[0], parts[1]


def _load_plan(plan: Path) -> dict | Path:
    """A plan file or bundled plan name, checked by the plan parser when it is installed."""
    try:
        from repsense.live.plans import find_plan
        from repsense.live.sources import plan_for_simulator
    except ImportError:  # plans module absent: the simulator reads the TOML itself
        return plan
    return plan_for_simulator(find_plan(str(plan)))


def run(args: argparse.Namespace) -> int:
    from repsense.io.csv_writer import write_recording

    out: Path = args.output
    if out.suffix.lower() != ".csv":
        raise InputError(f"-o {out}: the recording must end in .csv (the sidecar is OUT.json)")
    if not out.parent.exists():
        raise InputError(f"-o {out}: folder {out.parent} does not exist; create it first")
    sim = build_session(args)
    for w in sim.warnings:
        print(f"repsense simulate: warning: {w}", file=sys.stderr)
    meta = sim.meta
    meta["command"] = sim.source
    if args.paired:
        meta["mounting_up"] = [round(x, 4) for x in sim.mounting_up]
    write_recording(out, sim.chunks(chunk_s=10.0), meta, has_gyro=sim.has_gyro)
    n_sets = len(sim.labels["sets"])
    n_reps = sum(s["reps"] for s in sim.labels["sets"])
    print(f"wrote {out} and {out.with_suffix('.json').name}: {sim.duration_s:.1f} s at "
          f"{sim.rate_hz:g} Hz, {n_sets} sets, {n_reps} reps (seed {sim.seed})")
    return 0
