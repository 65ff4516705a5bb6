"""All five people of the UCI physical therapy dataset, as recordings ``accuracy.py`` can score.

``../shared/datasets/uci-pt`` holds subjects 1 and 2 only.  The full release
(Yurtman & Barshan, "Physical Therapy Exercises Dataset", UCI Machine Learning
Repository, CC BY 4.0; also in the GitHub repository ``LiamCHayes/pt_classification``)
has five subjects, eight exercises and five Xsens MTx units at 25 Hz, one folder
per ``s<subject>/e<exercise>/u<unit>`` with a ``test.txt`` of three sets of ten
executions (normal, fast, low amplitude).  Nothing of it is copied into this
repository; this script converts a copy::

    git clone https://github.com/LiamCHayes/pt_classification /tmp/pt-repo
    python benchmarks/uci_pt.py /tmp/pt-repo /tmp/uci-pt-all
    python benchmarks/accuracy.py /tmp/uci-pt-all

It writes the moving leg's sensors as ``../shared/datasets/uci-pt`` has them (the
same names, units and labels, so subjects 1 and 2 come out as that folder's
files): the right shank (``u2``) in the seated knee extension (``e1``), the right
shank and thigh (``u3``) in the supine leg raise (``e3``), the side-lying
abduction (``e4``) and the prone hip extension (``e5``).  Each file is labelled
three sets of ten.  Where the copy holds a ``test_times.csv`` (subject 1 in
``LiamCHayes/pt_classification``: marked by that repository's author, not by the
dataset's), its rep bounds are kept.

Left out: the right thigh in the knee extension (it lifts a little with each
kick, so neither "ten reps" nor "none" is a fair label); the trunk exercise
``e2`` (its "left thigh" unit turns 70-90 degrees with every lean, so the units
were not where the leg layout puts them); and the other leg, which is no still
control: it moves with each rep of the exercising leg, by 1-2 degrees for some
people and up to 45 for others.
Dataset layout: ``acc_*`` in m/s² and ``gyr_*`` in rad/s (converted to g and
deg/s), time index ``n`` from 1 at 25 Hz (``t = (n - 1) / 25``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import convert_dataset  # noqa: E402
from repsense.errors import InputError  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402

G = 9.80665
RATE_HZ = 25.0
SUBJECTS = ("s1", "s2", "s3", "s4", "s5")
MOVEMENTS = {
    "e1": "seated knee extension",
    "e3": "supine leg raise",
    "e4": "side-lying hip abduction",
    "e5": "prone hip extension",
}
# (exercise, unit, placement, side) of the sensors on the leg that does the exercise.
EXERCISING = [("e1", "u2", "shank", "right")] + [
    (e, u, p, "right") for e in ("e3", "e4", "e5") for u, p in (("u2", "shank"), ("u3", "thigh"))
]
SET_NOTES = ("normal", "fast", "low amplitude")
SOURCE = "UCI Physical Therapy Exercises dataset (Yurtman & Barshan 2014), CC BY 4.0"
COLUMNS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")


def read_unit(path: Path) -> SampleChunk:
    """One unit's ``test.txt`` as a chunk in g and deg/s."""
    try:
        with path.open(encoding="utf-8") as f:
            header = [h.strip() for h in f.readline().split(";")]
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror}); give a complete copy of "
                         "the dataset") from None
    missing = [c for c in ("time index", *COLUMNS) if c not in header]
    if missing:
        raise InputError(f"{path}: no column {missing[0]!r}; expected the dataset's "
                         "'time index;acc_x;...;gyr_z;mag_x;...' header")
    cols = np.genfromtxt(path, delimiter=";", skip_header=1,
                         usecols=[header.index(c) for c in ("time index", *COLUMNS)])
    if cols.ndim != 2 or len(cols) < 2 or not np.isfinite(cols).all():
        raise InputError(f"{path}: unreadable or missing numbers; re-download the file")
    n = cols[:, 0]
    if np.any(np.diff(n) <= 0):
        raise InputError(f"{path}: column 'time index' does not increase; re-download the file")
    return SampleChunk((n - 1.0) / RATE_HZ, cols[:, 1:4] / G, np.degrees(cols[:, 4:7]))


def read_bounds(path: Path) -> list[list[list[float]]] | None:
    """Rep bounds per set from a ``test_times.csv`` (rep, type, start, end), or None."""
    if not path.exists():
        return None
    try:
        rows = np.genfromtxt(path, delimiter=",", skip_header=1, ndmin=2)
        sets: list[list[list[float]]] = [[] for _ in SET_NOTES]
        for _, kind, start, end in rows:
            sets[int(kind) - 1].append([(start - 1.0) / RATE_HZ, (end - 1.0) / RATE_HZ])
    except (ValueError, IndexError) as e:
        raise InputError(f"{path}: unreadable rep bounds ({e}); expected rep.number,"
                         "execution.type,start,end rows, or remove the file") from None
    return sets


def sidecar(subject: str, exercise: str, placement: str, side: str,
            bounds: list[list[list[float]]] | None) -> dict:
    """The sidecar of one converted file: three labelled sets of ten."""
    sets: list[dict] = []
    for k, note in enumerate(SET_NOTES):
        entry: dict = {"reps": 10, "note": note}
        if bounds is not None and len(bounds[k]) == 10:
            entry.update(rep_bounds_s=bounds[k], start_s=bounds[k][0][0],
                         end_s=bounds[k][-1][1])
        sets.append(entry)
    return {
        "sensor": "Xsens MTx",
        "sample_rate_hz": int(RATE_HZ),
        "placement": placement,
        "side": side,
        "synthetic": False,
        "source": f"{SOURCE}: {subject}/{exercise}",
        "movement": MOVEMENTS[exercise],
        "labels": {"sets": sets},
    }


def read_all(dataset: Path, out: Path) -> list[tuple[Path, SampleChunk, dict]]:
    """Every converted file, as ``(path, samples, sidecar)``."""
    if not all((dataset / s).is_dir() for s in SUBJECTS):
        raise InputError(f"{dataset}: no s1 ... s5 folders; give a copy of the UCI physical "
                         "therapy dataset (s<subject>/e<exercise>/u<unit>/test.txt)")
    made = []
    for subject in SUBJECTS:
        for exercise, unit, placement, side in EXERCISING:
            folder = dataset / subject / exercise
            chunk = read_unit(folder / unit / "test.txt")
            bounds = read_bounds(folder / "test_times.csv")
            name = f"uci-pt_{subject}_{exercise}_{unit}_{placement}.csv"
            made.append((out / name, chunk, sidecar(subject, exercise, placement, side, bounds)))
    return made


def main(argv: list[str] | None = None) -> int:
    return convert_dataset("uci_pt.py", __doc__, argv,
                           "a copy of the dataset: the folder holding s1 ... s5",
                           "directory for the recordings", read_all)


if __name__ == "__main__":
    sys.exit(main())
