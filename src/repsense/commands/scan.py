"""``repsense scan``: list supported Bluetooth LE sensors nearby."""

from __future__ import annotations

import argparse
import json
import sys

from repsense.ble.backend import add_backend_arguments
from repsense.ble.cli_support import run_ble
from repsense.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan",
        help="list supported BLE sensors nearby",
        description="Scan for Bluetooth LE sensors repsense supports (repsense reference sensor, "
        "WitMotion BWT901BLE/WT901BLECL/WT9011DCL, Nordic Thingy:52, Polar H10 / Verity Sense) "
        "and show name, address, signal strength (RSSI), detected type and battery level when "
        "the sensor advertises it. Exit status 1 when none is found.",
    )
    p.add_argument("--timeout", type=float, default=5.0, metavar="S",
                   help="seconds to scan (default 5)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    add_backend_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0.1 <= args.timeout <= 120:
        raise InputError(f"--timeout {args.timeout}: scan for 0.1-120 seconds")
    from repsense.ble.scan import scan

    async def body(backend, _sensors):
        return await scan(args.timeout, backend)

    found = run_ble(args, body)
    if args.json:
        print(json.dumps([s.to_dict() for s in found], indent=2))
    elif found:
        rows = [("NAME", "ADDRESS", "RSSI", "TYPE", "BATTERY")]
        for s in found:
            battery = f"{s.battery_pct}%" if s.battery_pct is not None else "-"
            rows.append((s.name or "?", s.address, f"{s.rssi} dBm", s.model, battery))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if not found:
        print(
            f"repsense scan: no supported sensor found in {args.timeout:g} s; wake the sensor "
            "(move it), make sure no phone app is connected to it, and scan again",
            file=sys.stderr,
        )
        return 1
    return 0
