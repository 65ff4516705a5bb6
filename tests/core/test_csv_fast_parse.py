"""The CSV reader's plain-decimal parser gives loadtxt's doubles, bit for bit, or steps aside."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from repsense.io.csv_recording import parse_plain_decimals


def loadtxt(lines: list[str], usecols: list[int]) -> np.ndarray | None:
    try:
        return np.loadtxt(lines, delimiter=",", usecols=usecols, dtype=np.float64, ndmin=2,
                          comments=None)
    except ValueError:
        return None


def check(lines: list[str], usecols: list[int]) -> np.ndarray | None:
    fast = parse_plain_decimals(lines, usecols)
    if fast is not None:
        ref = loadtxt(lines, usecols)
        assert ref is not None, f"fast path accepted what loadtxt rejects: {lines!r}"
        assert fast.shape == ref.shape
        # Same doubles, bit for bit (-0.0 included).
        assert (fast.view(np.int64) == ref.view(np.int64)).all(), (lines, fast, ref)
    return fast


decimal = st.builds(
    lambda sign, whole, frac, point: sign + whole + (("." + frac) if point else ""),
    st.sampled_from(["", "-"]),
    st.text("0123456789", min_size=0, max_size=8),
    st.text("0123456789", min_size=0, max_size=9),
    st.booleans(),
)
cell = st.one_of(decimal, decimal, decimal, decimal, decimal, decimal,
                 st.sampled_from(["", "-", ".", "-.", "1e3", " 1", "1 ", "+1", "nan", "1.2.3",
                                  "--1", "1-", "0x1", "1_0", "\r", "é"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(cell, min_size=4, max_size=4), min_size=1, max_size=6),
       st.sampled_from([[0, 1, 2, 3], [0, 2], [3, 1]]), st.booleans())
@example([["0.5", "-0.000", ".5", "5."]], [0, 1, 2, 3], True)
@example([["-.25", "00012.3400", "123456789012345", "1.23456789"]], [0, 1, 2, 3], False)
def test_same_doubles_as_loadtxt_or_none(rows, usecols, last_newline):
    text = "\n".join(",".join(r) for r in rows) + ("\n" if last_newline else "")
    lines = text.splitlines(keepends=True)
    check(lines, usecols)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(decimal, min_size=3, max_size=3), min_size=1, max_size=8),
       st.sampled_from([[0, 1, 2], [2, 0]]))
def test_decimals_only(rows, usecols):
    lines = [",".join(r) + "\n" for r in rows]
    check(lines, usecols)


@pytest.mark.parametrize("value", [0.1, -0.26252, 3599.99, 1e-8, 123456.789, -9.87654321, 0.0])
def test_formatted_floats_round_trip(value):
    lines = [f"{value:.8f},{value:.3f},{value:.0f}\n", f"{-value:.5f},{value:.2f},{value:.1f}\n"]
    assert check(lines, [0, 1, 2]) is not None


def test_unix_times_take_the_fast_path():
    lines = ["1700000000.125,0.5\n", "1700000000.135,-0.25\n"]  # 13 digits, 10 before the point
    assert check(lines, [0, 1]) is not None


def test_typical_recording_rows_take_the_fast_path():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3000, 7)) * [1000, 1, 1, 1, 300, 300, 300]
    lines = [",".join(f"{v:.6f}" for v in row) + "\n" for row in data]
    out = check(lines, list(range(7)))
    assert out is not None and out.shape == (3000, 7)
    assert check(lines, [0, 2, 6]) is not None


@pytest.mark.parametrize("lines", [
    ["1,2\n", "\n", "3,4\n"],           # blank line: loadtxt skips it
    ["1,2\r\n", "3,4\r\n"],             # CR LF
    ["1,2\n", "3\n"],                   # ragged
    ["1e3,2\n"],                        # exponent
    ["1.123456789,2\n"],                # 9 decimals
    ["1234567890123456,2\n"],           # 16 digits: not exact in the fast path
])
def test_unusual_text_goes_to_loadtxt(lines):
    assert parse_plain_decimals(lines, [0, 1]) is None


def test_reader_same_chunks_and_errors_past_the_first_slice(tmp_path):
    from repsense.errors import InputError
    from repsense.io.csv_recording import PLAIN_ROWS, CsvRecording

    n = 2 * PLAIN_ROWS + 100
    t = np.arange(n) / 100.0
    rows = [f"{ti:.2f},{np.sin(ti):.5f},{np.cos(ti):.5f},1.00000" for ti in t]
    good = tmp_path / "good.csv"
    good.write_text("time_s,acc_x_g,acc_y_g,acc_z_g\n" + "\n".join(rows) + "\n")
    chunks = list(CsvRecording(good).chunks())
    ref = np.loadtxt(good, delimiter=",", skiprows=1)
    assert (np.concatenate([c.t for c in chunks]) == ref[:, 0]).all()
    assert (np.concatenate([c.acc for c in chunks]) == ref[:, 1:]).all()
    rows[PLAIN_ROWS + 50] = rows[PLAIN_ROWS + 50].replace("1.00000", "1.0x")
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,acc_x_g,acc_y_g,acc_z_g\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match=rf"bad.csv:{PLAIN_ROWS + 52}: column 'acc_z_g' holds"):
        list(CsvRecording(bad).chunks())
