"""Real squats with every rep labelled, as recordings ``accuracy.py`` can score.

The repository ``choijaeh01/Squat-Realtime-Classifier`` (GitHub; no licence
stated, so nothing of it is copied into this repository) holds 60 continuous
sets of 10 squats from 6 people, two sets each of five forms (correct, knee
valgus, butt wink, excessive lean, partial squat), recorded at about 110 Hz by
an ESP32 with three 6-axis IMUs: waist (``s0``), thigh (``s1``) and calf
(``s2``).  Each set's reps were marked by hand (``data/manually_labeled/classK/
subjectN_setM_metadata.json``: ten windows as sample indices into the raw file).

This script turns the thigh and the calf of every set into canonical recordings
(one directory each, the sidecar naming the placement and the reps' bounds), so
that the counter meets people and sensors it has never seen::

    git clone https://github.com/choijaeh01/Squat-Realtime-Classifier /tmp/squat-repo
    python benchmarks/real_squats.py /tmp/squat-repo /tmp/real-squats
    python benchmarks/accuracy.py /tmp/real-squats/thigh /tmp/real-squats/shank

Columns read: ``millis`` (the ESP32's clock, ms: the timestamps), ``s1_*`` and
``s2_*`` (m/s² and rad/s, converted to g and deg/s).  The thigh and calf
accelerometers read 1.2-1.45 g at rest depending on the pose (an uncalibrated
offset, not a scale); they are written as read.  A squat is ``generic`` to
repsense (it counts it, names no exercise of the programme for it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import convert_dataset  # noqa: E402
from repsense.errors import InputError  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402

G = 9.80665
DATA = Path("squat_classifier_ssl") / "data"
FORMS = ("correct", "knee valgus", "butt wink", "excessive lean", "partial squat")
SENSORS = (("thigh", "s1"), ("shank", "s2"))
SOURCE = "choijaeh01/Squat-Realtime-Classifier (GitHub; no licence stated, not redistributed)"


def read_set(raw: Path, labels: Path) -> list[tuple[str, SampleChunk, dict]]:
    """One labelled set as ``(placement, samples, sidecar)`` for the thigh and the calf."""
    with raw.open(encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    need = ["millis"] + [f"{s}_{q}" for _, s in SENSORS for q in
                         ("ax", "ay", "az", "gx", "gy", "gz")]
    missing = [c for c in need if c not in header]
    if missing:
        raise InputError(f"{raw}: no column {missing[0]}; expected the repository's raw "
                         "format (timestamp,seq,millis,q0..q2,s0_ax..s2_gz)")
    cols = np.genfromtxt(raw, delimiter=",", skip_header=1,
                         usecols=[header.index(c) for c in need])
    if cols.ndim != 2 or not np.isfinite(cols).all():
        raise InputError(f"{raw}: unreadable or missing numbers; re-download the file")
    ms = cols[:, 0]
    if np.any(np.diff(ms) <= 0):
        raise InputError(f"{raw}: column millis does not increase; re-download the file")
    t = (ms - ms[0]) / 1000.0
    try:
        windows = json.loads(labels.read_text(encoding="utf-8"))["windows"]
        bounds = [[float(t[int(w["start_sample"])]),
                   float(t[min(int(w["end_sample"]), len(t) - 1)])] for w in windows]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        raise InputError(f"{labels}: no usable rep windows ({e}); expected the repository's "
                         "manually_labeled metadata") from None
    form = FORMS[int(raw.parent.name.removeprefix("class"))]
    out = []
    for k, (placement, _) in enumerate(SENSORS):
        acc = cols[:, 1 + 6 * k:4 + 6 * k] / G
        gyr = np.degrees(cols[:, 4 + 6 * k:7 + 6 * k])
        meta = {
            "sensor": "ESP32 with a 6-axis IMU (accelerometer uncalibrated: 1.2-1.45 g at rest)",
            "sample_rate_hz": round(1000.0 / float(np.median(np.diff(ms))), 1),
            "placement": placement,
            "synthetic": False,
            "source": f"{SOURCE}: {raw.parent.name}/{raw.name}",
            "movement": f"squat ({form})",
            "labels": {"sets": [{"reps": len(bounds), "note": form, "rep_bounds_s": bounds,
                                 "start_s": bounds[0][0], "end_s": bounds[-1][1]}]},
        }
        out.append((placement, SampleChunk(t, acc, gyr), meta))
    return out


def main(argv: list[str] | None = None) -> int:
    return convert_dataset("real_squats.py", __doc__, argv,
                           "a checkout of choijaeh01/Squat-Realtime-Classifier",
                           "directory for thigh/ and shank/ recordings", read_all)


def read_all(repo: Path, out: Path) -> list[tuple[Path, SampleChunk, dict]]:
    """Every labelled set's thigh and calf recording, as ``(path, samples, sidecar)``."""
    raws = sorted((repo / DATA / "raw" / "labeled").glob("class*/subject*_set*.csv"))
    if not raws:
        raise InputError(f"{repo}: no {DATA}/raw/labeled/classK/subjectN_setM.csv; give a "
                         "checkout of choijaeh01/Squat-Realtime-Classifier")
    made = []
    for raw in raws:
        labels = repo / DATA / "manually_labeled" / raw.parent.name / f"{raw.stem}_metadata.json"
        for placement, chunk, meta in read_set(raw, labels):
            made.append((out / placement / f"{raw.parent.name}_{raw.stem}.csv", chunk, meta))
    return made


if __name__ == "__main__":
    sys.exit(main())
