"""Options shared by the commands that analyse movement (analyze, replay, report, live)."""

from __future__ import annotations

import argparse

from repsense.errors import InputError
from repsense.exercises import EXERCISE_IDS, check_exercise


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """``--exercise``, ``--placement`` and ``--set-gap``."""
    p.add_argument(
        "--exercise", default="auto", metavar="ID",
        help="exercise performed: auto (recognise, default) or one of " + ", ".join(EXERCISE_IDS),
    )
    p.add_argument(
        "--placement", default="auto", choices=("auto", "thigh", "shank"),
        help="where the sensor is strapped (default: the sidecar's, else auto)",
    )
    p.add_argument(
        "--set-gap", type=float, default=None, metavar="S",
        help="seconds without a rep that end a set (default 15)",
    )


def check_analysis_options(args: argparse.Namespace) -> None:
    """Reject bad values with one clear line."""
    check_exercise(args.exercise)
    if args.set_gap is not None and not 2.0 <= args.set_gap <= 600.0:
        raise InputError(f"--set-gap {args.set_gap}: give a quiet period of 2-600 seconds")
