"""``repsense analyze`` loads only what it needs (start-up is most of a short run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from repsense.cli import build_parser, command_names

RECORDING = Path(__file__).resolve().parents[2] / "recordings" / "demo_romanian_deadlift.csv"

PROBE = """
import json, sys
from repsense.cli import main
rc = main(["analyze", sys.argv[1], "--format", "json"])
heavy = ("scipy", "repsense.publish", "repsense.ble", "repsense.live", "repsense.sensors",
         "paho", "asyncio")
loaded = sorted({m.split(".")[0] if m.split(".")[0] != "repsense" else ".".join(m.split(".")[:2])
                 for m in sys.modules if m.startswith(heavy)})
print(json.dumps({"rc": rc, "loaded": loaded}), file=sys.stderr)
"""


def test_analyze_imports_no_scipy_ble_or_mqtt():
    proc = subprocess.run([sys.executable, "-c", PROBE, str(RECORDING)], capture_output=True,
                          text=True, check=False)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"rc": 0, "loaded": []}
    assert json.loads(proc.stdout)["total_reps"] > 0


def test_one_command_parser_parses_like_the_full_one():
    argv = ["analyze", str(RECORDING), "--exercise", "leg_curl", "--set-gap", "20"]
    assert vars(build_parser("analyze").parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_full_parser_lists_every_command():
    text = build_parser().format_help()
    assert len(command_names()) >= 11
    for name in command_names():
        assert f"    {name} " in text
