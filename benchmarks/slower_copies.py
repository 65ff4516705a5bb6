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
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_all  # noqa: E402
from repsense.errors import InputError  # noqa: E402
from repsense.io.csv_recording import CsvRecording  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402
from sensor_variants import stretched, stretched_labels  # noqa: E402


def slower(path: Path, k: float) -> tuple[SampleChunk, dict[str, Any]]:
    """The recording at ``path`` done ``k`` times slower, and its sidecar."""
    rec = CsvRecording(path)
    whole = SampleChunk.concat(list(rec.chunks()))
    cols = [whole.t[:, None], whole.acc] + ([] if whole.gyr is None else [whole.gyr])
    data = stretched(np.hstack(cols), k)
    gyr = data[:, 4:7] if whole.gyr is not None else None
    return SampleChunk(data[:, 0], data[:, 1:4], gyr), stretched_labels(rec.meta, k)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", type=Path, help="directory of recordings with sidecars")
    p.add_argument("out", type=Path, help="output directory (created)")
    p.add_argument("--factor", type=float, action="append",
                   help="time-axis factor (repeatable; default 1.8 and 2.2)")
    args = p.parse_args(argv)
    factors = args.factor or [1.8, 2.2]

    def read() -> list[tuple[Path, SampleChunk, dict[str, Any]]]:
        if not args.src.is_dir():
            raise InputError(f"{args.src}: no such directory; give a directory of recordings "
                             "with sidecars")
        if any(k <= 0 for k in factors):
            raise InputError("--factor: must be above 0 (1.8 is 1.8 times slower)")
        made = []
        for csv in sorted(args.src.glob("*.csv")):
            if csv.with_suffix(".json").exists():
                for k in factors:
                    made.append((args.out / f"slower_{k:g}" / csv.name, *slower(csv, k)))
        return made

    return write_all("slower_copies.py", args.out, read)


if __name__ == "__main__":
    sys.exit(main())
