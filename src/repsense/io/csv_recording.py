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

from repsense.dsp.acc_range import FACTOR_TOL, RANGE_FACTORS
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
PLAIN_ROWS = 4096  # rows per call of the plain-decimal parser


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
        data = _parse_plain_slices(lines, idx)
        if data is None:  # anything unusual: numpy's parser, and its errors explained
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
        # 4 or 8 g is a range decoded wrongly (dsp/acc_range undoes it), not m/s²
        mixup = any(abs(norm / f - 1.0) <= FACTOR_TOL for f in RANGE_FACTORS if f > 1.0)
        if self.acc_unit == "g" and norm > 4.0 and not mixup:
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


_PAD = 16  # bytes before the text, so every field has 16 bytes before its end
_ZERO8 = np.uint64(0x3030303030303030)  # eight ASCII '0'
# _KEEP[f] clears the f lowest bytes of a little-endian word: the bytes before a field.
_KEEP = np.array([~((1 << (8 * f)) - 1) & (2**64 - 1) for f in range(9)], dtype=np.uint64)
_POW10 = 10.0 ** np.arange(9)
_IPOW10 = np.array([10**i for i in range(9)], dtype=np.uint64)


def _parse_plain_slices(lines: list[str], usecols: list[int]) -> np.ndarray | None:
    """:func:`parse_plain_decimals` on slices of ``PLAIN_ROWS`` lines (temporaries stay in
    cache, peak memory small); ``None`` if any slice is not plain decimals."""
    parts = []
    for a in range(0, len(lines), PLAIN_ROWS):
        part = parse_plain_decimals(lines[a:a + PLAIN_ROWS], usecols)
        if part is None:
            return None
        parts.append(part)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def parse_plain_decimals(lines: list[str], usecols: list[int]) -> np.ndarray | None:
    """Parse CSV lines of plain decimals (``-12.345``) exactly as ``np.loadtxt`` would.

    Returns the ``(rows, len(usecols))`` array, or ``None`` whenever the text
    is anything else — exponents, spaces, ``nan``, blank lines, CR line ends, ragged
    rows, more than 15 digits or 8 decimals — so the caller falls back to
    ``np.loadtxt`` and its error messages.

    Why: ``np.loadtxt`` converts every field with a general, correctly rounded
    parser, ~170 ns a field, most of the time ``analyze`` spends on an hour of
    data.  Here every field is read as an integer mantissa ``M`` and a count of
    decimals ``k`` with whole-array integer operations (eight ASCII digits per
    64-bit word, combined with three multiply-and-shift steps); ``M < 2**53``
    and ``10**k`` are exact doubles, so ``M / 10**k`` is one correctly rounded
    division: the very double a correctly rounded parser returns.
    """
    text = "".join(lines)
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    if not raw.endswith(b"\n"):
        raw += b"\n"
    buf = np.frombuffer(b"\n" * _PAD + raw, dtype=np.uint8)
    if int(buf.max()) > ord("9"):
        return None  # letters: nan, inf, exponents, words
    # Everything but digits, in order, from the last padding newline (the
    # separator before the first field): separators, '-' and '.'.
    ev = np.flatnonzero(buf < ord("0"))[_PAD - 1:]
    kind = buf[ev]
    i_sep = np.flatnonzero(kind <= ord(","))
    i_min = np.flatnonzero(kind == ord("-"))
    i_dot = np.flatnonzero(kind == ord("."))
    sep_kind = kind[i_sep]
    nl = sep_kind == ord("\n")
    if (i_sep.size + i_min.size + i_dot.size != kind.size
            or not (nl | (sep_kind == ord(","))).all()):
        return None  # spaces, tabs, '+', quotes, CR...
    # A field is digits with one optional '-' right at its start and at most one '.'.
    is_sep = kind <= ord(",")
    if i_min.size and not (is_sep[i_min - 1] & (ev[i_min - 1] + 1 == ev[i_min])).all():
        return None
    if i_dot.size and not ((is_sep[i_dot - 1] | (kind[i_dot - 1] == ord("-")))
                           & is_sep[i_dot + 1]).all():
        return None
    rows = int(np.count_nonzero(nl)) - 1
    ncols = int(np.argmax(nl[1:])) + 1
    if (rows < 1 or i_sep.size - 1 != rows * ncols or ncols <= max(usecols)
            or not nl[ncols::ncols].all()):
        return None  # not the same number of fields on every line
    if list(usecols) == list(range(ncols)):
        lo, hi = i_sep[:-1], i_sep[1:]  # field f lies between separators f and f + 1
    else:
        f = (np.arange(rows)[:, None] * ncols + np.asarray(usecols)[None, :]).ravel()
        lo, hi = i_sep[f], i_sep[f + 1]
    start, end = ev[lo] + 1, ev[hi]
    neg = kind[lo + 1] == ord("-")
    has_dot = kind[hi - 1] == ord(".")
    int_end = np.where(has_dot, ev[hi - 1], end)  # the point, or the end of the field
    k = end - int_end - has_dot  # decimals
    n_digits = end - start - neg - has_dot
    if (n_digits.min() < 1 or n_digits.max() > 15 or k.max() > 8
            or (int_end - start).max() > 16):
        return None  # no digit at all ("-", "."), or beyond the exact range
    # Every byte offset of the buffer as an unaligned little-endian 64-bit word.
    words = np.ndarray((buf.size - 7,), dtype="<u8", buffer=buf, strides=(1,))
    frac = words[end - 8] & _KEEP[8 - k]
    mant = _swar_digits(words, int_end, start) * _IPOW10[k] + _swar8(frac)
    value = mant.astype(np.float64) / _POW10[k]
    np.negative(value, out=value, where=neg)
    return value.reshape(rows, len(usecols))


def _swar_digits(words: np.ndarray, end: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The integer written in ``buf[start:end]`` for every field (up to 16 chars, '-' = 0)."""
    n = end - start
    low = words[end - 8] & _KEEP[np.clip(8 - n, 0, 8)]
    if n.max() <= 8:
        return _swar8(low)
    high = words[end - 16] & _KEEP[np.clip(16 - n, 0, 8)]
    return _swar8(high) * np.uint64(100_000_000) + _swar8(low)


def _swar8(w: np.ndarray) -> np.ndarray:
    """Eight ASCII digits per little-endian word, first digit in the lowest byte -> integer.

    Cleared bytes and '-'/'.' (all below '0') count as the digit 0; ``w`` is
    changed in place (they become '0').
    """
    b = w.view(np.uint8)
    np.maximum(b, ord("0"), out=b)
    w = w - _ZERO8
    w = ((w & np.uint64(0x0F0F0F0F0F0F0F0F)) * np.uint64(10 * 256 + 1)) >> np.uint64(8)
    w = ((w & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(100 * 65536 + 1)) >> np.uint64(16)
    return ((w & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(10000 * 2**32 + 1)) >> np.uint64(32)


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
