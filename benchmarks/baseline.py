"""The simplest rep counter a user might script: ``np.loadtxt`` + ``scipy.signal.find_peaks``.

It is the yardstick for both accuracy (``accuracy.py``) and speed
(``speed_offline.py``): low-pass the accelerometer, take the axis that moves
most (gravity projection changes as the segment tilts; the magnitude hardly
does), pick peaks on the side away from the rest level, and split the peaks
into sets at long gaps.  Deliberately plain — no adaptation, no posture.

Run on its own: ``python benchmarks/baseline.py FILE.csv`` prints the sets it finds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

CUTOFF_HZ = 2.0
MIN_REP_S = 1.0
SET_GAP_S = 20.0
PROMINENCE = 0.4  # of the 5-95 percentile range


def load(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Time and the three accelerometer columns, the way a quick script reads a CSV."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2, 3))
    return data[:, 0], data[:, 1:4]


def count(t: np.ndarray, acc: np.ndarray) -> list[dict[str, Any]]:
    """Sets found by peak picking: ``[{"start_s", "end_s", "reps", "peaks_s"}]``."""
    if len(t) < 16:
        return []
    rate = 1.0 / float(np.median(np.diff(t)))
    cutoff = min(CUTOFF_HZ, 0.4 * rate)
    sos = butter(2, cutoff, fs=rate, output="sos")
    smooth = sosfiltfilt(sos, acc, axis=0)
    axis = int(np.argmax(smooth.var(axis=0)))
    x = smooth[:, axis]
    lo, med, hi = np.percentile(x, [5, 50, 95])
    # Reps are excursions away from the rest level; flip so they point up.
    if med - lo > hi - med:
        x = -x
    distance = max(1, int(MIN_REP_S * rate))
    peaks, _ = find_peaks(x, prominence=PROMINENCE * (hi - lo), distance=distance)
    return split_sets(t[peaks])


def split_sets(peak_t: np.ndarray) -> list[dict[str, Any]]:
    """Group peak times into sets separated by more than ``SET_GAP_S``."""
    sets: list[dict[str, Any]] = []
    if peak_t.size == 0:
        return sets
    breaks = np.flatnonzero(np.diff(peak_t) > SET_GAP_S) + 1
    for group in np.split(peak_t, breaks):
        sets.append(
            {
                "start_s": float(group[0]) - MIN_REP_S,
                "end_s": float(group[-1]) + MIN_REP_S,
                "reps": int(group.size),
                "peaks_s": group.tolist(),
            }
        )
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", nargs="+")
    args = parser.parse_args()
    for path in args.csv:
        t, acc = load(path)
        sets = count(t, acc)
        print(json.dumps({"file": path, "sets": [{k: s[k] for k in ("start_s", "end_s", "reps")}
                                                 for s in sets]}))


if __name__ == "__main__":
    main()
