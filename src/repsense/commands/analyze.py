"""``repsense analyze``: a whole recording through the pipeline, as fast as possible."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from repsense.commands._options import add_analysis_options, check_analysis_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="count reps, sets and tempo in a recording",
        description="Run a recording (canonical .csv or raw BLE capture .jsonl) through the "
        "rep pipeline as fast as possible and print the sets and reps found: a table for "
        "people, or one JSON object (schema repsense.analysis/1) for programs.",
    )
    p.add_argument("path", help="recording .csv (with optional .json sidecar) or capture .jsonl")
    add_analysis_options(p)
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="output format (default: table)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from repsense.analysis import analyze_recording  # scipy: only when needed, keeps --help fast

    check_analysis_options(args)
    result = analyze_recording(args.path, args.exercise, args.placement, args.set_gap)
    if args.format == "json":
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(result))
    return 0


def format_table(result: dict[str, Any]) -> str:
    """The human-readable per-set, per-rep table."""
    lines = [
        f"{result['source']}: {result['duration_s']:.1f} s at {result['sample_rate_hz']:.0f} Hz, "
        f"{len(result['sets'])} sets, {result['total_reps']} reps",
    ]
    for s in result["sets"]:
        rest = "" if s["rest_before_s"] is None else f", rest before {s['rest_before_s']:.0f} s"
        vl = s["velocity_loss_pct"]
        vl = "" if vl is None else f", velocity loss {vl:.0f}%"
        lines.append("")
        lines.append(
            f"Set {s['index']}: {s['exercise']} (confidence {s['confidence']:.2f}), "
            f"{len(s['reps'])} reps, {s['start_s']:.1f}-{s['end_s']:.1f} s{rest}{vl}"
        )
        if s.get("note"):
            lines.append(f"  note: {s['note']}")
        lines.append("   rep   start     end  tempo     ecc  pause   conc  pause    ROM  speed")
        lines.append("                                     (s) bottom    (s)    top  (deg) (deg/s)")
        for r in s["reps"]:
            flag = "  partial" if r["partial"] else ""
            lines.append(
                f"  {r['index']:>4} {r['start_s']:>7.1f} {r['end_s']:>7.1f}  {r['tempo']:<8}"
                f"{r['eccentric_s']:>5.1f} {r['bottom_pause_s']:>6.1f} {r['concentric_s']:>6.1f} "
                f"{r['top_pause_s']:>6.1f} {r['rom_deg']:>6.0f} {r['peak_speed_dps']:>6.0f}{flag}"
            )
    for w in result["warnings"]:
        lines.append(f"warning at {w['time_s']:.1f} s: {w['message']}")
    return "\n".join(lines) + "\n"
