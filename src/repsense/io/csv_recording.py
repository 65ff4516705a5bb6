"""Streaming reader for the canonical recording CSV.

Columns: ``time_s`` (seconds, non-decreasing), ``acc_x_g``, ``acc_y_g``,
``acc_z_g`` (specific force with gravity, g) or the ``acc_*_ms2`` variant
(m/s²), and optionally ``gyr_*_dps`` (deg/s) or ``gyr_*_rads`` (rad/s).
Extra columns are ignored.  The file is read in blocks so memory does not
grow with its length; every check that can fail names the file, the line
and the fix, and raises :class:`~repsense.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from repsense.errors import InputError
from repsense.io.sidecar import read_sidecar
from repsense.samples import SampleChunk

G = 9.80665
AXES = ("x", "y", "z")
ACC_UNITS = {"g": 1.0, "ms2": 1.0 / G}
GYR_UNITS = {"dps": 1.0, "rads": 180.0 / np.pi}
MIN_RATE_HZ, MAX_RATE_HZ = 10.0, 1000.0
MAX_ABS_ACC_G = 100.0
MAX_ABS_GYR_DPS = 5000.0
RATE_PROBE = 512  # samples used to check the rate and the units


class CsvRecording:
    """A canonical CSV recording, read lazily in chunks.

    Parameters
    ----------
    path
        The ``.csv`` file.
    chunk_rows
        Rows per chunk handed to the pipeline.
    """

    kind = "csv"

    def __init__(self, path: str | Path, chunk_rows: int = 20_000) -> None:
        self.path = Path(path)
        self.chunk_rows = chunk_rows
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file; give the path of a recording .csv")
        self.meta: dict[str, Any] = read_sidecar(self.path)
        with self._open() as f:
            header = self._read_header(f)
        self._columns, self.acc_unit, self.gyr_unit = _parse_header(self.path, header)
        self.has_gyro = self.gyr_unit is not None

    @property
    def name(self) -> str:
        return self.path.stem

    def _open(self) -> TextIO:
        return open(self.path, encoding="utf-8-sig", newline="")

    def _read_header(self, f: TextIO) -> str:
        try:
            header = f.readline()
        except UnicodeDecodeError:
            raise InputError(
                f"{self.path}: not a UTF-8 text CSV; export the recording as CSV"
            ) from None
        if not header.strip():
            raise InputError(
                f"{self.path}: the file is empty; a recording needs a header row "
                "'time_s,acc_x_g,acc_y_g,acc_z_g' and samples"
            )
        return header

    def chunks(self) -> Iterator[SampleChunk]:
        """Yield the samples in chunks of up to ``chunk_rows`` rows, checking as it goes."""
        acc_scale = ACC_UNITS[self.acc_unit]
        gyr_scale = GYR_UNITS[self.gyr_unit] if self.gyr_unit else 1.0
        line_no = 1  # the header
        last_t: float | None = None
        stuck = 0
        probed = False
        with self._open() as f:
            self._read_header(f)
            while True:
                try:
                    lines = list(islice(f, self.chunk_rows))
                except UnicodeDecodeError:
                    raise InputError(
                        f"{self.path}: after line {line_no} the file is not UTF-8 text; "
                        "it may be truncated or binary — re-export the recording"
                    ) from None
                if not lines:
                    break
                first_line = line_no + 1
                line_no += len(lines)
                data = self._parse(lines, first_line)
                if data.shape[0] == 0:
                    continue
                t = data[:, 0]
                acc = data[:, 1:4] * acc_scale
                gyr = data[:, 4:7] * gyr_scale if self.has_gyro else None
                last_t, stuck = self._check_time(t, first_line, last_t, stuck)
                if not probed:
                    self._probe(t, acc, gyr)
                    probed = True
                self._check_range(acc, gyr, first_line)
                yield SampleChunk(np.ascontiguousarray(t), np.ascontiguousarray(acc), gyr)
        if not probed:
            raise InputError(
                f"{self.path}: the file has a header but no samples; record some data first"
            )

    def _parse(self, lines: list[str], first_line: int) -> np.ndarray:
        idx = self._columns
        if not any(line.strip() for line in lines):
            return np.empty((0, len(idx)))  # blank lines only: nothing to parse
        try:
            data = np.loadtxt(
                lines, delimiter=",", usecols=idx, dtype=np.float64, ndmin=2, comments=None
            )
        except ValueError:
            self._explain_bad_line(lines, first_line)
            raise  # _explain_bad_line always raises; keeps type checkers calm
        if not np.isfinite(data).all():
            row, col = np.argwhere(~np.isfinite(data))[0]
            name = self._column_names[col]
            raise InputError(
                f"{self.path}:{_row_line(lines, row, first_line)}: column '{name}' is "
                f"{data[row, col]}; remove the row or fill in a measured value"
            )
        return data

    @property
    def _column_names(self) -> list[str]:
        names = ["time_s"] + [f"acc_{a}_{self.acc_unit}" for a in AXES]
        if self.gyr_unit:
            names += [f"gyr_{a}_{self.gyr_unit}" for a in AXES]
        return names

    def _explain_bad_line(self, lines: list[str], first_line: int) -> None:
        n_cols = max(self._columns) + 1
        line = first_line
        for text in lines:
            if text.strip():
                cells = text.rstrip("\r\n").split(",")
                if len(cells) < n_cols:
                    raise InputError(
                        f"{self.path}:{line}: {len(cells)} fields, the header needs at "
                        f"least {n_cols}; fix or remove the line"
                    )
                for name, i in zip(self._column_names, self._columns, strict=True):
                    try:
                        float(cells[i])
                    except ValueError:
                        raise InputError(
                            f"{self.path}:{line}: column '{name}' holds '{cells[i][:20]}', "
                            "not a number; fix or remove the line"
                        ) from None
            line += 1
        raise InputError(f"{self.path}: unreadable rows near line {first_line}; check the CSV")

    def _check_time(
        self, t: np.ndarray, first_line: int, last_t: float | None, stuck: int
    ) -> tuple[float, int]:
        prev = t[0] if last_t is None else last_t
        dt = np.diff(t, prepend=prev)
        if (dt < 0).any():
            i = int(np.argmax(dt < 0))
            raise InputError(
                f"{self.path}:{first_line + i}: time_s goes backwards "
                f"({prev if i == 0 else t[i - 1]:.6g} -> {t[i]:.6g}); sort the rows by "
                "time or split the file where the clock restarted"
            )
        # Isolated equal stamps happen with coarse logger clocks; a clock that
        # stops advancing for three samples in a row is a broken recording.
        zero = dt == 0
        if last_t is None:
            zero[0] = False
        if zero.any():
            runs = _max_true_run(zero, stuck)
            if runs[0] >= 2:
                i = runs[1]
                raise InputError(
                    f"{self.path}:{first_line + i}: time_s stays at {t[i]:.6g} for three or "
                    "more rows; remove duplicated rows or fix the timestamps"
                )
            stuck = runs[2]
        else:
            stuck = 0
        return float(t[-1]), stuck

    def _probe(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None) -> None:
        n = min(len(t), RATE_PROBE)
        if n < 2:
            raise InputError(f"{self.path}: only one sample; a recording needs many more")
        dt = np.diff(t[:n])
        dt = dt[dt > 0]
        med = float(np.median(dt)) if dt.size else 0.0
        rate = 1.0 / med if med > 0 else float("inf")
        if not MIN_RATE_HZ * 0.95 <= rate <= MAX_RATE_HZ * 1.05:
            raise InputError(
                f"{self.path}: sample rate is {rate:.3g} Hz (from time_s); repsense needs "
                f"{MIN_RATE_HZ:.0f}-{MAX_RATE_HZ:.0f} Hz — check that time_s is in seconds"
            )
        with np.errstate(over="ignore"):  # absurd cells: the range check names them
            norm = float(np.median(np.linalg.norm(acc[:n], axis=1)))
        if not np.isfinite(norm) or norm > MAX_ABS_ACC_G:
            return  # no unit mix-up explains that; _check_range names the row
        if self.acc_unit == "g" and norm > 4.0:
            raise InputError(
                f"{self.path}: acc_*_g columns read {norm:.1f} at rest, which looks like m/s²; "
                "rename the columns to acc_x_ms2, acc_y_ms2, acc_z_ms2"
            )
        if self.acc_unit == "ms2" and norm < 0.4:
            raise InputError(
                f"{self.path}: acc_*_ms2 columns read {norm * G:.2f} m/s² at rest, which looks "
                "like g; rename the columns to acc_x_g, acc_y_g, acc_z_g"
            )
        if norm < 0.2:
            raise InputError(
                f"{self.path}: the accelerometer reads {norm:.2f} g; repsense needs specific "
                "force including gravity (about 1 g at rest), not linear acceleration"
            )

    def _check_range(self, acc: np.ndarray, gyr: np.ndarray | None, first_line: int) -> None:
        bad = np.abs(acc) > MAX_ABS_ACC_G
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise InputError(
                f"{self.path}:{first_line + row}: acceleration {acc[row].max():.3g} g is beyond "
                f"any IMU's range (±{MAX_ABS_ACC_G:.0f} g); check the units of the acc columns"
            )
        if gyr is not None:
            bad = np.abs(gyr) > MAX_ABS_GYR_DPS
            if bad.any():
                row = int(np.argwhere(bad)[0][0])
                raise InputError(
                    f"{self.path}:{first_line + row}: angular velocity {np.abs(gyr[row]).max():.4g}"
                    f" deg/s is beyond any IMU's range; check the units of the gyr columns "
                    "(use gyr_*_rads for rad/s)"
                )


def _row_line(lines: list[str], row: int, first_line: int) -> int:
    """File line of data row ``row`` (blank lines are skipped by the parser)."""
    seen = -1
    for i, text in enumerate(lines):
        if text.strip():
            seen += 1
            if seen == row:
                return first_line + i
    return first_line + row


def _max_true_run(mask: np.ndarray, carry: int) -> tuple[int, int, int]:
    """Longest run of True (counting ``carry`` before index 0), where it ends, trailing run."""
    best, best_end, run = 0, 0, carry
    for i, flag in enumerate(mask.tolist()):
        run = run + 1 if flag else 0
        if run > best:
            best, best_end = run, i
    return best, best_end, run


def _parse_header(path: Path, header: str) -> tuple[list[int], str, str | None]:
    names = [c.strip().lower() for c in header.rstrip("\r\n").split(",")]
    if len(names) < 4:
        raise InputError(
            f"{path}:1: header '{header.strip()[:60]}' has {len(names)} columns; a recording "
            "needs time_s,acc_x_g,acc_y_g,acc_z_g (and optionally gyr_x_dps,gyr_y_dps,gyr_z_dps)"
        )
    if "time_s" not in names:
        guess = next((n for n in names if n.startswith("time") or n in ("t", "timestamp")), None)
        hint = f" (found '{guess}': rename it to time_s, in seconds)" if guess else ""
        raise InputError(f"{path}:1: no 'time_s' column{hint}; add time in seconds as time_s")
    acc_unit = _axis_unit(path, names, "acc", ACC_UNITS, required=True)
    gyr_unit = _axis_unit(path, names, "gyr", GYR_UNITS, required=False)
    cols = [names.index("time_s")]
    cols += [names.index(f"acc_{a}_{acc_unit}") for a in AXES]
    if gyr_unit:
        cols += [names.index(f"gyr_{a}_{gyr_unit}") for a in AXES]
    return cols, acc_unit, gyr_unit


def _axis_unit(
    path: Path, names: list[str], prefix: str, units: dict[str, float], *, required: bool
) -> str | None:
    found = {u for u in units if all(f"{prefix}_{a}_{u}" in names for a in AXES)}
    if len(found) == 1:
        return found.pop()
    if len(found) > 1:
        raise InputError(
            f"{path}:1: both {' and '.join(sorted(f'{prefix}_*_{u}' for u in found))} columns; "
            "keep one unit"
        )
    partial = [n for n in names if n.startswith(prefix)]
    wanted = " or ".join(f"{prefix}_x_{u},{prefix}_y_{u},{prefix}_z_{u}" for u in units)
    if partial:
        raise InputError(
            f"{path}:1: columns {', '.join(partial)} are not a complete set; name them {wanted}"
        )
    if required:
        raise InputError(f"{path}:1: no accelerometer columns; add {wanted}")
    return None
