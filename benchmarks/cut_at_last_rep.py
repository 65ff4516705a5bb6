"""Recordings cut as their last rep ends: copies of labelled recordings, one file per set.

Labelled datasets are often cut at the labels, each file ending as its last rep
does (and often begins as its first rep does).  For every recording in DIR whose
sidecar gives the reps' bounds (``rep_detail`` of the simulator or ``rep_bounds_s``
of the real squats), this keeps the samples up to ``--after`` seconds past the last
labelled rep's end (and, with ``--before``, from that many seconds before the first
rep's start) and writes the copies to OUT with their sidecars unchanged::

    python benchmarks/cut_at_last_rep.py recordings /tmp/cut --after 0.0 [--before 0.0]
    python benchmarks/accuracy.py --no-baseline /tmp/cut
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import set_rep_bounds, write_copies  # noqa: E402
from repsense.io.csv_recording import CsvRecording  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402


def cut(path: Path, after_s: float,
        before_s: float | None = None) -> tuple[SampleChunk, dict] | None:
    """The recording up to ``after_s`` past its last labelled rep's end (from ``before_s``
    before its first rep's start), and its sidecar."""
    rec = CsvRecording(path)
    sets = set_rep_bounds(rec.meta)
    if not sets or not all(sets):  # every set's reps' bounds, or no copy
        return None
    end = max(e for bounds in sets for _, e in bounds) + after_s
    whole = SampleChunk.concat(list(rec.chunks()))
    first = 0
    if before_s is not None:
        start = min(s for bounds in sets for s, _ in bounds) - before_s
        first = int((whole.t < start).sum())
    return whole.slice(first, int((whole.t <= end).sum())), dict(rec.meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="labelled recordings")
    ap.add_argument("out", type=Path, help="directory for the copies")
    ap.add_argument("--after", type=float, default=0.0,
                    help="seconds kept after the last rep's labelled end (default 0)")
    ap.add_argument("--before", type=float, default=None,
                    help="also cut the start, this many seconds before the first rep's "
                    "labelled start (default: keep it)")
    args = ap.parse_args(argv)
    bad = not 0.0 <= args.after <= 60.0 or not 0.0 <= (args.before or 0.0) <= 60.0
    return write_copies("cut_at_last_rep.py", args.dir, args.out,
                        lambda csv: cut(csv, args.after, args.before),
                        "--after and --before must be in [0, 60] s" if bad else None)

if __name__ == "__main__":
    sys.exit(main())
