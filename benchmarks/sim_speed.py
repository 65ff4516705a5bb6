"""How fast the simulator renders, and how much memory a long session needs.

Run: ``.venv/bin/python benchmarks/sim_speed.py [--json]``.  Each case renders
a whole session through ``SimulatedSession.chunks(0.1)`` (as a live source
would) and reports seconds of recording per second of CPU and the peak
resident memory of the process so far.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine_info, table  # noqa: E402
from repsense.sim import SimulatedSession  # noqa: E402

CASES = [
    ("1 set, 50 Hz", dict(exercise="romanian_deadlift", sets=1, reps=10, rate_hz=50)),
    ("~1 h, 50 Hz, walking", dict(exercise="glute_bridge", sets=12, reps=10, rest_s=240,
                                  rate_hz=50, nuisance="full")),
    ("~10 min, 400 Hz", dict(exercise="leg_curl", sets=5, reps=10, rest_s=60, rate_hz=400)),
    ("~2 h, 25 Hz, accel only", dict(exercise="deadlift", sets=24, reps=5, rest_s=270,
                                     rate_hz=25, accel_only=True, nuisance="full")),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for name, kw in CASES:
        t0 = time.process_time()
        sim = SimulatedSession(seed=1, **kw)
        n = sum(len(c) for c in sim.chunks(0.1))
        cpu = time.process_time() - t0
        rows.append({
            "case": name, "recording_s": round(sim.duration_s), "samples": n,
            "cpu_s": round(cpu, 2), "x_realtime": round(sim.duration_s / cpu),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        })
    text = table(rows, list(rows[0]), "Simulator speed (sim_speed.py)")
    emit({"benchmark": "sim_speed", "machine": machine_info(), "rows": rows}, args.json, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
