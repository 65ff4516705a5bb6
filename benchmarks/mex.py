"""The MEx glute bridges of all thirty people, as recordings ``accuracy.py`` can score.

``../shared/datasets/mex-bridging`` holds subjects 1-9 of the MEx dataset's
bridging (Wijekoon, Wiratunga & Cooper, "MEx: Multi-modal Exercises Dataset for
Human Activity Recognition", 2019; UCI Machine Learning Repository, CC BY 4.0).
The full release has thirty people; its thigh accelerometer folder ``act`` is also
in the GitHub repository ``SyedDanishAhmed/Physiotherapy-Exercise-Recognition``
(``data/act``).  Nothing of it is copied into this repository; this script
converts a copy::

    git clone https://github.com/SyedDanishAhmed/Physiotherapy-Exercise-Recognition /tmp/mex-repo
    python benchmarks/mex.py /tmp/mex-repo/data/act /tmp/mex-all
    python benchmarks/accuracy.py /tmp/mex-all

Each person lay on a mat and did one exercise for up to 60 s; "the researcher did
not give any advice or keep count", so the dataset has no rep counts.  The
sidecars carry our own count where ``HAND_COUNTS`` has one, written in the sidecar
with ``"counted_by"``: repsense's developers' reading, not the dataset's.  Every
file was counted by eye from a plot of its low-passed tilt (the angle from the
first sample and the signed angle along the up vectors' principal direction)
before repsense was run on subjects 10-30, by one rule: a bridge counts when the
thigh rises to a hold at the top and is let down again within the file; a rise
still held, or still under way, when the file ends does not count (the recording
stopped a rep short of it).  Subjects 1-9 keep the counts of the fifth session
but ``s07``, re-read by that rule: its last "bridge" is a 5° rise at the very end
against 14° holds, with no hold (10, not 11).

Dataset layout: ``act/<subject>/02_act_1.csv`` (exercise 2 is bridging), rows of
``timestamp, x, y, z`` with no header, in g (1/64 g steps), an Axivity AX3 at
100 Hz (±8 g) on the thigh.  Times are taken from the timestamps, from 0 at the
first row, as ``../shared/datasets/mex-bridging`` has them (its nine files come
out equal to those written here, to the fourth decimal).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import convert_dataset  # noqa: E402
from repsense.errors import InputError  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402

EXERCISE = "02"  # bridging
SOURCE = "MEx multi-modal exercise dataset (Wijekoon et al. 2019, UCI), CC BY 4.0"
COUNTED_BY = ("repsense developers, by eye from the low-passed tilt: one bridge per rise "
              "to a hold at the top let down within the file; not the dataset's")
HAND_COUNTS: dict[str, int] = {
    "01": 9, "02": 10, "03": 10, "04": 10, "05": 9, "06": 9, "07": 10, "08": 10, "09":
    12, "10": 12, "11": 10, "12": 10, "13": 10, "14": 8, "15": 10, "16": 14, "17": 9,
    "18": 6, "19": 6, "20": 6, "21": 7, "22": 9, "23": 8, "24": 10, "25": 9, "26": 8,
    "27": 3, "28": 5, "29": 8, "30": 12,
}
"""Bridges per subject, our own count (see the module docstring)."""


def read_file(path: Path) -> SampleChunk:
    """One ``NN_act_1.csv`` as a chunk in g (accelerometer only)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror}); give a complete copy of "
                         "the dataset's act folder") from None
    try:
        rows = [line.split(",") for line in lines if line.strip()]
        t = np.array([datetime.fromisoformat(r[0]).timestamp() for r in rows])
        acc = np.array([[float(v) for v in r[1:4]] for r in rows])
    except (ValueError, IndexError):
        raise InputError(f"{path}: expected rows of 'timestamp,x,y,z' (g); re-download "
                         "the file") from None
    if len(t) < 2 or acc.shape[1] != 3 or not np.isfinite(acc).all():
        raise InputError(f"{path}: unreadable or missing numbers; re-download the file")
    if np.any(np.diff(t) <= 0):
        raise InputError(f"{path}: timestamps do not increase; re-download the file")
    return SampleChunk(np.round(t - t[0], 4), acc, None)


def sidecar(subject: str) -> dict:
    """The sidecar of one converted file, labelled when we counted it."""
    count = HAND_COUNTS.get(subject)
    labels = None if count is None else {"sets": [{"reps": count}], "counted_by": COUNTED_BY}
    return {
        "sensor": "Axivity AX3 (thigh accelerometer)",
        "sample_rate_hz": 100,
        "placement": "thigh",
        "synthetic": False,
        "source": f"{SOURCE}: act/{subject}/{EXERCISE}_act_1.csv",
        "movement": "glute bridge with ~5 s hold at the top",
        "labels": labels,
    }


def read_all(act: Path, out: Path) -> list[tuple[Path, SampleChunk, dict]]:
    """Every subject's bridging file, as ``(path, samples, sidecar)``."""
    files = sorted(act.glob(f"[0-9][0-9]/{EXERCISE}_act_1.csv"))
    if not files:
        raise InputError(f"{act}: no <subject>/{EXERCISE}_act_1.csv; give the MEx "
                         "dataset's act folder (e.g. data/act of the repository above)")
    made = []
    for path in files:
        subject = path.parent.name
        name = f"mex_s{subject}_bridging_1.csv"
        made.append((out / name, read_file(path), sidecar(subject)))
    return made


def main(argv: list[str] | None = None) -> int:
    return convert_dataset("mex.py", __doc__, argv,
                           "the MEx dataset's act folder (<subject>/02_act_1.csv)",
                           "directory for the recordings", read_all)


if __name__ == "__main__":
    sys.exit(main())
