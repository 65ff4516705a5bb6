"""Fuzz the canonical CSV reader: only ``InputError`` may escape, and what it yields is sane.

The reader is the first thing a user's file meets, so any other exception
(``IndexError`` from a short row, ``OverflowError`` from a huge number...)
would surface as a traceback instead of the one-line error the CLI promises.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from repsense.errors import InputError
from repsense.io.csv_recording import CsvRecording

HEADER6 = "time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps\n"
HEADER3 = "time_s,acc_x_g,acc_y_g,acc_z_g\n"
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Cells a real file may hold: numbers of every size, the float specials a
# logger writes, blanks and junk.
number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-1e-400", "0x10", "1_0",
                     "1,5", '"1.0"', "+", "-", ".", "e5", "\t1", "１", "\x00"]),
    st.text(max_size=6),
)
row = st.lists(number, min_size=0, max_size=9).map(lambda cells: ",".join(cells))


def read_all(data: bytes, sidecar: str | None = None) -> list:
    """Write ``data`` to a temp .csv (and sidecar), read every chunk; return the chunks."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rec.csv"
        path.write_bytes(data)
        if sidecar is not None:
            path.with_suffix(".json").write_text(sidecar, encoding="utf-8", errors="replace")
        try:
            rec = CsvRecording(path, chunk_rows=7)
            chunks = list(rec.chunks())
        except InputError as exc:
            msg = str(exc)
            assert msg and "\n" not in msg, f"error must be one line: {msg!r}"
            # The message names the recording or its sidecar.
            assert str(path.with_suffix("")) in msg, f"error must name the file: {msg!r}"
            return []
    for c in chunks:
        assert np.isfinite(c.t).all() and np.isfinite(c.acc).all()
        assert c.gyr is None or np.isfinite(c.gyr).all()
    if chunks:
        t = np.concatenate([c.t for c in chunks])
        assert (np.diff(t) >= 0).all(), "time must never go backwards in what is yielded"
    return chunks


@FUZZ
@given(st.binary(max_size=400))
@example(b"")
@example(b"\xff\xfe\x00\x00")
@example(HEADER6.encode())
def test_arbitrary_bytes(data: bytes) -> None:
    read_all(data)


@FUZZ
@given(st.sampled_from([HEADER6, HEADER3]), st.binary(max_size=300))
def test_valid_header_then_binary(header: str, tail: bytes) -> None:
    read_all(header.encode() + tail)


@FUZZ
@given(st.sampled_from([HEADER6, HEADER3]), st.lists(row, max_size=30))
@example(HEADER6, ["0,0,0,1,0,0,0", "0,0,0,1,0,0,0", "0,0,0,1,0,0,0"])
@example(HEADER3, ["0,0,0,1"])
def test_structured_rows(header: str, rows: list[str]) -> None:
    read_all((header + "\n".join(rows)).encode("utf-8", errors="surrogatepass"))


@st.composite
def plausible_recording(draw: st.DrawFn) -> bytes:
    """A mostly valid 6-axis file with a few corrupted cells or rows."""
    n = draw(st.integers(2, 60))
    rate = draw(st.sampled_from([1.0, 9.0, 10.0, 25.0, 100.0, 400.0, 1000.0, 5000.0]))
    t = np.arange(n) / rate + draw(st.floats(-1e6, 1e6))
    acc = np.tile([0.0, 0.0, 1.0], (n, 1)) * draw(st.sampled_from([1.0, 9.80665, 0.0, 1e5]))
    gyr = np.zeros((n, 3))
    rows = [",".join(f"{v:.6f}" for v in (t[i], *acc[i], *gyr[i])) for i in range(n)]
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, n - 1))
        op = draw(st.sampled_from(["cell", "drop", "dup", "swap", "truncate"]))
        if op == "cell":
            cells = rows[i].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(number)
            rows[i] = ",".join(cells)
        elif op == "drop":
            rows[i] = ""
        elif op == "dup":
            rows[i:i] = [rows[i], rows[i]]
        elif op == "swap" and i + 1 < len(rows):
            rows[i], rows[i + 1] = rows[i + 1], rows[i]
        else:
            rows[i] = rows[i][: draw(st.integers(0, len(rows[i])))]
    header = draw(st.sampled_from([HEADER6, HEADER3, HEADER6.replace("_g", "_ms2"),
                                   HEADER6.replace("dps", "rads"), "Time_S, ACC_X_G,acc_y_g,"
                                   "acc_z_g\n", "time_s,acc_x_g,acc_y_g\n"]))
    return (header + "\n".join(rows) + draw(st.sampled_from(["", "\n", "\r\n"]))).encode()


@FUZZ
@given(plausible_recording())
def test_corrupted_recordings(data: bytes) -> None:
    read_all(data)


sidecar_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=60),
        st.dictionaries(
            st.sampled_from(["placement", "sample_rate_hz", "labels", "sensor", "synthetic"]),
            sidecar_value,
            max_size=4,
        ).map(json.dumps),
        st.builds(lambda sets: json.dumps({"labels": {"sets": sets}}),
                  st.lists(st.dictionaries(st.sampled_from(["reps", "start_s", "exercise"]),
                                           sidecar_value, max_size=3), max_size=3)),
    )
)
def test_sidecar(sidecar: str) -> None:
    data = HEADER3 + "".join(f"{i / 100:.2f},0,0,1\n" for i in range(20))
    read_all(data.encode(), sidecar=sidecar)


def test_absurd_values_are_named_without_numpy_warnings(tmp_path: Path) -> None:
    # Found by the fuzzing above: the unit check's norm overflowed and numpy printed a
    # RuntimeWarning before the one-line error.
    path = tmp_path / "rec.csv"
    path.write_text(HEADER3 + "0,1e200,1e200,1e200\n0.01,1e200,0,1\n0.02,0,0,1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match=r"rec\.csv:2: acceleration .* beyond any IMU"):
            list(CsvRecording(path).chunks())
