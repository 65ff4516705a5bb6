"""Real recordings as people moving slower would give them: reps, holds and rests longer.

For every recording (``*.csv`` + sidecar, 6-axis or accelerometer-only) in SRC,
writes OUT/slower_<k> for each factor ``k``: the recording as recorded (not
rotated, unlike ``sensor_variants.py``'s ``slower``), its time axis stretched ``k``
times and the gyroscope scaled by ``1/k`` (:func:`sensor_variants.stretched`), label
times stretched alike.  At 1.8 and 2.2 the uci-pt subjects' 4-5 s holds take 7-11 s
and the MEx bridges' 2-7 s holds 4-16 s, as physiotherapy programmes' "hold for 10
seconds" and "lower slowly" sets do; the rests between reps and sets grow alike, which
tests the set rules.  As in ``sensor_variants.py``, the limb's own acceleration is not
scaled, so these copies judge counting, not recognition.

Usage::

    python benchmarks/slower_copies.py ../shared/datasets/uci-pt /tmp/uci-slow
    python benchmarks/accuracy.py /tmp/uci-slow/slower_1.8 /tmp/uci-slow/slower_2.2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sensor_variants import (  # noqa: E402
    HEADER_3,
    HEADER_6,
    recordings_with_sidecars,
    stretched,
    stretched_labels,
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", type=Path, help="directory of recordings with sidecars")
    p.add_argument("out", type=Path, help="output directory (created)")
    p.add_argument("--factor", type=float, action="append",
                   help="time-axis factor (repeatable; default 1.8 and 2.2)")
    args = p.parse_args(argv)
    factors = args.factor or [1.8, 2.2]
    if not args.src.is_dir():
        print(f"{args.src}: no such directory; give a directory of recordings with sidecars",
              file=sys.stderr)
        return 2
    if any(k <= 0 for k in factors):
        print("--factor: must be above 0 (1.8 is 1.8 times slower)", file=sys.stderr)
        return 2
    # Everything is read and checked before anything is written: a bad file leaves no
    # half-written copies behind.
    recordings = []
    for csv, meta_path, header in recordings_with_sidecars(args.src):
        if header not in (HEADER_6, HEADER_3):
            print(f"{csv}: header {header!r} is not repsense's canonical one "
                  f"({HEADER_6!r}, or its first four columns); convert the file first",
                  file=sys.stderr)
            return 2
        try:
            data = np.loadtxt(csv, delimiter=",", skiprows=1, ndmin=2)
            meta = json.loads(meta_path.read_text())
        except ValueError as exc:
            print(f"{csv}: unreadable ({exc}); fix or remove the file", file=sys.stderr)
            return 2
        if data.shape[0] < 2 or np.any(np.diff(data[:, 0]) <= 0):
            print(f"{csv}: time_s must rise from row to row over two rows or more; "
                  "fix or remove the file", file=sys.stderr)
            return 2
        recordings.append((csv, meta_path, header, data, meta))
    n = 0
    for csv, meta_path, header, data, meta in recordings:
        for k in factors:
            out = args.out / f"slower_{k:g}"
            out.mkdir(parents=True, exist_ok=True)
            np.savetxt(out / csv.name, stretched(data, k), delimiter=",", header=header,
                       comments="", fmt="%.6f")
            (out / meta_path.name).write_text(json.dumps(stretched_labels(meta, k)))
        n += 1
    print(f"{n} recordings written to "
          + ", ".join(str(args.out / f"slower_{k:g}") for k in factors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
