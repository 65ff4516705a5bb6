"""``repsense report``: one clean picture of a session or a recording."""

from __future__ import annotations

import argparse
from pathlib import Path

from repsense.commands._options import add_analysis_options, check_analysis_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="draw a session or recording: angle over time, reps, phases, tempo, velocity loss",
        description="Draw one picture of a stored session (id from `repsense sessions`, a unique "
        "prefix, 'latest', or its folder) or of a recording (.csv / .jsonl): the movement angle "
        "over time with every rep marked and its phases shaded (eccentric, concentric, pauses), "
        "one set up close, the tempo of each rep against the plan's target, and the velocity "
        "loss of each set. Writes a PNG, or an HTML page with the PNG embedded.",
    )
    p.add_argument("source", metavar="SESSION|RECORDING",
                   help="session id (or 'latest') or a recording file")
    p.add_argument("-o", "--output", default=None, metavar="FILE.png|FILE.html",
                   help="where to write (default: report.png in the session folder, or "
                   "RECORDING.report.png beside the recording)")
    add_analysis_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from repsense.report.data import load_report_data
    from repsense.report.figure import write_report

    check_analysis_options(args)
    data = load_report_data(args.source, args.exercise, args.placement, args.set_gap)
    if args.output:
        out = Path(args.output)
    else:
        src = Path(data.source)
        out = (src.parent / "report.png" if src.name == "samples.csv"
               else src.with_name(src.stem + ".report.png"))
    write_report(data, out)
    print(f"{out}: {len(data.sets)} sets, {data.total_reps} reps")
    return 0
