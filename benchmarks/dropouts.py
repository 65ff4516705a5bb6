"""Bluetooth dropouts inside reps: copies of labelled recordings with samples taken out.

A link that drops for a second or two takes samples out of the middle of a rep.
Nothing is made up for them (``analyze`` warns of each gap); the question is
what the gap costs the count.  For every labelled set of every recording in DIR
whose sidecar gives the reps' bounds (``rep_detail`` of the simulator or
``rep_bounds_s`` of uci-pt subject 1), this takes ``--gap`` seconds of samples
out of rep ``--rep`` (0 = the first), starting ``--at`` of the way into it, and
writes the copies to OUT with their sidecars unchanged::

    python benchmarks/dropouts.py recordings /tmp/drop --gap 2.0 --at 0.2 --rep 1
    python benchmarks/accuracy.py --no-baseline /tmp/drop

Sets with fewer reps than ``--rep`` are left whole.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import set_rep_bounds, write_copies  # noqa: E402
from repsense.io.csv_recording import CsvRecording  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402


def holed(path: Path, gap_s: float, at: float, rep: int) -> tuple[SampleChunk, dict] | None:
    """The recording with the dropouts, and its sidecar."""
    rec = CsvRecording(path)
    sets = set_rep_bounds(rec.meta)
    if not sets or not all(sets):  # every set's reps' bounds, or no copy
        return None
    whole = SampleChunk.concat(list(rec.chunks()))
    t, acc, gyr = whole.t, whole.acc, whole.gyr
    keep = np.ones(t.size, dtype=bool)
    for bounds in sets:
        if rep < len(bounds):
            start, end = bounds[rep]
            t0 = start + at * (end - start)
            keep &= ~((t > t0) & (t < t0 + gap_s))
    chunk = SampleChunk(t[keep], acc[keep], None if gyr is None else gyr[keep])
    return chunk, dict(rec.meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="labelled recordings")
    ap.add_argument("out", type=Path, help="directory for the copies")
    ap.add_argument("--gap", type=float, default=1.4, help="seconds lost (default 1.4)")
    ap.add_argument("--at", type=float, default=0.3,
                    help="where in the rep the gap starts, 0-1 (default 0.3)")
    ap.add_argument("--rep", type=int, default=0, help="which rep of each set (default 0)")
    args = ap.parse_args(argv)
    bad = not 0.0 < args.gap <= 30.0 or not 0.0 <= args.at < 1.0 or args.rep < 0
    return write_copies("dropouts.py", args.dir, args.out,
                        lambda csv: holed(csv, args.gap, args.at, args.rep),
                        "--gap must be in (0, 30] s, --at in [0, 1), --rep 0 or more"
                        if bad else None)

if __name__ == "__main__":
    sys.exit(main())
