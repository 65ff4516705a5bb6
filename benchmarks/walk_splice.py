"""Real walking spliced between real sets: does a walk between sets cost reps?

The simulator's walks are the only walks the accuracy corpora hold.  This script
takes a real recording of walking with the sensor on the shank and inserts a piece
of it into the middle of every rest of each labelled recording in DIR (recordings
whose sets carry ``start_s``/``end_s``, such as uci-pt subject 1, and whose sidecar
places the sensor on the shank, as the walk's was), then shifts the labels.  Run
``benchmarks/accuracy.py`` on the output.

Each piece starts and ends at the stillest moment of a stride within a second of
where it was asked to, and is turned into the recording's sensor frame so that it
meets the leg as a walk would:

* ``along`` (sagittal exercises: knee extensions, leg raises, hip extensions,
  curls, hinges): the walk's own movement axis (the principal axis of its
  gyroscope, the knee's and hip's flexion axis) along the recording's, and the
  walk's first up vector as near the recording's up at the cut as that allows;
* ``across`` (a side-lying abduction): the walk's flexion axis along the
  recording's up at the cut (lying on the side, the flexion axis is vertical) and
  the walk's up (the shank's long axis) across the recording's movement axis.

``--mode auto`` takes ``across`` for a recording whose sidecar ``movement`` names
an abduction, else ``along``.  After the piece, a smooth 1.5 s turn (its gyroscope
consistent with the turn) takes the leg from the walk's last pose back to the
recording's.  Nothing is written into the repository.

The walk: a canonical recording (``--walk``), or the two CSV files of the
RealWorld HAR dataset (Sztyler & Stuckenschmidt, PerCom 2016; a phone strapped to
the shin, 50 Hz, ``id,attr_time,attr_x,attr_y,attr_z`` in m/s² and rad/s) given as
``--realworld ACC GYR``; the gyroscope is interpolated onto the accelerometer's
timestamps.

Usage::

    python benchmarks/walk_splice.py --realworld acc_walking_shin.csv \\
        Gyroscope_walking_shin.csv --out /tmp/walk-splice ../shared/datasets/uci-pt
    python benchmarks/accuracy.py --no-baseline /tmp/walk-splice

``--walk-out FILE`` also writes the walk as a recording of its own (no sets), for
``repsense analyze``.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from repsense.errors import InputError
from repsense.io.csv_recording import CsvRecording
from repsense.io.csv_writer import write_recording
from repsense.samples import SampleChunk

G = 9.80665
TURN_S = 1.5
"""The turn from the walk's last pose back to the recording's."""
GAP_PERIODS = 2.5
"""A walk's samples further apart than this many of its median periods leave a gap."""


class BadInput(Exception):
    """An input this script cannot use: one line for the user."""


def load_realworld(acc_path: Path, gyr_path: Path) -> tuple[np.ndarray, float]:
    """RealWorld HAR accelerometer and gyroscope files as ``(t, acc g, gyr deg/s)`` rows.

    The gyroscope is interpolated onto the accelerometer's timestamps only between
    samples of its own that are no gap apart (see :func:`_in_gaps`): an accelerometer
    row inside a gap of the gyroscope's is left out, not given made-up rates.
    """
    acc = np.loadtxt(acc_path, delimiter=",", skiprows=1)
    gyr = np.loadtxt(gyr_path, delimiter=",", skiprows=1)
    t = (acc[:, 1] - acc[0, 1]) / 1000.0
    tg = (gyr[:, 1] - acc[0, 1]) / 1000.0
    keep = (t >= tg[0]) & (t <= tg[-1]) & ~_in_gaps(tg, t)
    rows = np.column_stack([t, acc[:, 2:5] / G]
                           + [np.degrees(np.interp(t, tg, gyr[:, k])) for k in (2, 3, 4)])
    rows = rows[keep]
    rows[:, 0] -= rows[0, 0]
    return rows, 1.0 / float(np.median(np.diff(rows[:, 0])))


def read_rows(rec: CsvRecording) -> np.ndarray | None:
    """A canonical recording as ``(t, acc g, gyr deg/s)`` rows, read as ``analyze`` reads
    it (any column order and units its header allows); ``None`` without a gyroscope."""
    if not rec.has_gyro:
        return None
    c = SampleChunk.concat(list(rec.chunks()))
    return np.column_stack([c.t, c.acc, c.gyr])


def load_walk(path: Path) -> tuple[np.ndarray, float]:
    """A canonical recording of walking with a gyroscope."""
    rows = read_rows(CsvRecording(path))
    if rows is None:
        raise BadInput(f"{path}: the walk needs gyroscope columns")
    return rows, 1.0 / float(np.median(np.diff(rows[:, 0])))


def write(path: Path, rows: np.ndarray, meta: dict) -> None:
    """``rows`` as a canonical recording with its sidecar, written the project's way."""
    write_recording(path, [SampleChunk(rows[:, 0], rows[:, 1:4], rows[:, 4:7])], meta,
                    has_gyro=True)


def _in_gaps(src_t: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Which of the times ``t`` fall inside a gap of ``src_t``: an interval between
    samples longer than ``GAP_PERIODS`` of its median (the phone's stream drops up to
    1.5 s at a time; an interpolation across that would be a made-up movement)."""
    dt = np.diff(src_t)
    i = np.clip(np.searchsorted(src_t, t, side="right") - 1, 0, len(dt) - 1)
    return (dt[i] > GAP_PERIODS * float(np.median(dt))) & (t > src_t[i]) & (t < src_t[i + 1])


def _resampled(walk: np.ndarray, fs: float) -> np.ndarray:
    """The walk at ``fs`` as ``(t, acc, gyr)`` rows: averaged over the span of one new
    sample, then interpolated; times inside the walk's gaps are left out, so that the
    spliced recording has the gap (``analyze`` warns of it) and nothing made up."""
    t = np.arange(walk[0, 0], walk[-1, 0], 1.0 / fs)
    width = max(1, int(round((1.0 / fs) / float(np.median(np.diff(walk[:, 0]))))))
    kernel = np.ones(width) / width
    cols = [np.interp(t, walk[:, 0], np.convolve(walk[:, c], kernel, "same")) for c in range(1, 7)]
    return np.column_stack([t, *cols])[~_in_gaps(walk[:, 0], t)]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _main_axis(gyr: np.ndarray) -> np.ndarray:
    return np.linalg.eigh(gyr.T @ gyr)[1][:, -1]


def _turn(u0: np.ndarray, u1: np.ndarray, n: int, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Up vectors and gyroscope (deg/s) of a smooth turn from ``u0`` to ``u1`` in ``n`` samples.

    For ``u(t) = R(f(t) v) u0``, ``du/dt = u × ω`` gives ``ω = -f'(t) v``.
    """
    rotvec = Rotation.align_vectors([u1], [u0])[0].as_rotvec()
    f = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, n + 1) / n)
    ups = Rotation.from_rotvec(f[:, None] * rotvec).apply(u0)
    gyr = -np.gradient(f)[:, None] * fs * rotvec
    return ups, np.degrees(gyr)


def splice(data: np.ndarray, fs: float, labels: dict, walk: np.ndarray, seconds: float,
           offset_s: float, mode: str) -> tuple[np.ndarray, dict]:
    """The recording with a piece of walk in the middle of each rest, and its labels."""
    sets = labels["sets"]
    labels = copy.deepcopy(labels)
    speed = np.convolve(np.linalg.norm(walk[:, 4:7], axis=1),
                        np.ones(max(1, int(0.2 * fs))) / max(1, int(0.2 * fs)), "same")
    axis = _main_axis(data[:, 4:7])

    def stillest(at_s: float) -> int:
        """The stillest sample within a second of ``at_s`` (times, not indices: the
        walk has gaps)."""
        a, b = np.searchsorted(walk[:, 0], [at_s - 1.0, at_s + 1.0])
        b = min(int(b), len(walk) - 1)
        return int(a) + int(np.argmin(speed[a:b]))

    shift, pos = 0.0, walk[0, 0] + offset_s
    need = (len(sets) - 1) * (seconds + 6.0)
    if pos + need + 1.0 > walk[-1, 0]:
        raise BadInput(f"the walk ({walk[-1, 0] - walk[0, 0]:.0f} s) is too short for "
                       f"{len(sets) - 1} pieces of {seconds:g} s from {offset_s:g} s: give "
                       "smaller --offsets or --seconds")
    for k, (before, after) in enumerate(zip(sets[:-1], sets[1:], strict=False)):
        cut = 0.5 * (before["end_s"] + after["start_s"]) + shift
        i = int(np.searchsorted(data[:, 0], cut))
        a = stillest(pos)
        b = stillest(walk[a, 0] + seconds)
        pos = walk[b, 0] + 5.0
        piece = walk[a:b]
        up_here = _unit(data[max(0, i - int(fs)):i, 1:4].mean(axis=0))
        up_walk = _unit(piece[: max(1, int(0.1 * fs)), 1:4].mean(axis=0))
        walk_axis = _main_axis(piece[:, 4:7])
        if mode == "across":
            along_leg = _unit(np.cross(axis, up_here))
            rot = Rotation.align_vectors([up_here, along_leg], [walk_axis, up_walk])[0]
        else:
            rot = min((Rotation.align_vectors([s * axis, up_here], [walk_axis, up_walk],
                                              weights=[100.0, 1.0])[0] for s in (1.0, -1.0)),
                      key=lambda r: -float(r.apply(up_walk) @ up_here))
        acc, gyr = rot.apply(piece[:, 1:4]), rot.apply(piece[:, 4:7])
        ups, turn_gyr = _turn(_unit(acc[-max(1, int(0.1 * fs)):].mean(axis=0)), up_here,
                              int(TURN_S * fs), fs)
        # The piece keeps its own times, and so its gaps; the turn follows its last sample.
        t_piece = piece[:, 0] - piece[0, 0]
        t_turn = t_piece[-1] + np.arange(1, len(ups) + 1) / fs
        acc, gyr = np.vstack([acc, ups]), np.vstack([gyr, turn_gyr])
        t0 = data[i - 1, 0] + 1.0 / fs
        inserted = np.column_stack([t0 + np.concatenate([t_piece, t_turn]), acc, gyr])
        dt = t_turn[-1] + 1.0 / fs
        rest = data[i:].copy()
        rest[:, 0] += dt
        data = np.concatenate([data[:i], inserted, rest])
        shift += dt
        for s in labels["sets"][k + 1:]:
            s["start_s"] += dt
            s["end_s"] += dt
            if "rep_bounds_s" in s:
                s["rep_bounds_s"] = [[x + dt, y + dt] for x, y in s["rep_bounds_s"]]
    return data, labels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="*", type=Path, metavar="DIR")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--walk", type=Path, help="canonical recording of walking (shank)")
    src.add_argument("--realworld", nargs=2, type=Path, metavar=("ACC", "GYR"),
                     help="RealWorld HAR accelerometer and gyroscope CSV files")
    ap.add_argument("--out", type=Path, help="directory for the spliced recordings")
    ap.add_argument("--walk-out", type=Path, metavar="CSV",
                    help="also write the walk itself as a recording (labelled: no sets)")
    ap.add_argument("--seconds", default="20,60", help="walk lengths, s (default 20,60)")
    ap.add_argument("--offsets", default="0,50,100,200,250,350,400,500",
                    help="where in the walk the pieces start, s (default 0,50,100,200,250,350,"
                         "400,500)")
    ap.add_argument("--mode", choices=("auto", "along", "across"), default="auto")
    args = ap.parse_args(argv)
    try:
        return run(args)
    except (BadInput, InputError, OSError, ValueError) as e:
        print(f"walk_splice.py: {e}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    """Splice every recording first, then write them all (nothing half written)."""
    if args.dirs and args.out is None:
        raise BadInput("--out: give a directory for the spliced recordings")
    walk, walk_fs = load_realworld(*args.realworld) if args.realworld else load_walk(args.walk)
    lengths = [float(x) for x in args.seconds.split(",")]
    offsets = [float(x) for x in args.offsets.split(",")]
    made: list[tuple[str, np.ndarray, dict]] = []
    at_rate: dict[float, np.ndarray] = {}  # the walk resampled, once per recording rate
    for d in args.dirs:
        for csv in sorted(d.glob("*.csv")):
            rec = CsvRecording(csv)
            meta = rec.meta
            if meta.get("placement") != "shank":
                continue  # the walk is a shank's
            sets = (meta.get("labels") or {}).get("sets") or []
            if len(sets) < 2 or not all("start_s" in s and "end_s" in s for s in sets):
                continue
            data = read_rows(rec)
            if data is None:
                continue
            fs = float(meta.get("sample_rate_hz") or 1.0 / np.median(np.diff(data[:, 0])))
            mode = args.mode
            if mode == "auto":
                mode = "across" if "abduct" in str(meta.get("movement", "")) else "along"
            if fs not in at_rate:
                at_rate[fs] = _resampled(walk, fs)
            piece = at_rate[fs]
            for seconds in lengths:
                for offset in offsets:
                    out, labels = splice(data, fs, meta["labels"], piece, seconds, offset, mode)
                    what = f"a real shank walk ({seconds:g} s from {offset:g} s, {mode})"
                    stem = csv.stem if len(args.dirs) == 1 else f"{d.name}_{csv.stem}"
                    made.append((f"{stem}_walk{seconds:g}s_at{offset:g}s_{mode}", out,
                                 dict(meta, labels=labels, synthetic=True,
                                      source=f"{meta.get('source', csv.name)} + {what} "
                                             "in each rest")))
    if args.dirs and not made:
        raise BadInput("no labelled shank recording with set times in the directories given")
    names = [name for name, _, _ in made]
    if len(set(names)) != len(names):
        raise BadInput("two directories given share a name: give their recordings one run each")
    if args.walk_out is not None:
        write(args.walk_out, walk, {"sample_rate_hz": round(walk_fs, 3), "placement": "shank",
                                    "synthetic": False, "movement": "walking",
                                    "labels": {"sets": []}})
        print(f"the walk written to {args.walk_out}")
    if not made:
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, out, meta_out in made:
        write(args.out / f"{name}.csv", out, meta_out)
    print(f"{len(made)} recordings written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
