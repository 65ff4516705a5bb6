"""The byte examples printed in firmware_notes/ are the ones the code produces."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from repsense.sensors.polar_pmd import (
    ACC,
    PolarPmdDriver,
    delta_decode,
    parse_data_frame,
    start_request,
)
from repsense.sensors.reference import parse_frame
from repsense.sensors.thingy52 import config_bytes, parse_raw
from repsense.sensors.witmotion import parse_frames

NOTES = Path(__file__).resolve().parents[2] / "firmware_notes"


def hexes(text: str) -> set[str]:
    """Every run of 4+ space-separated hex byte pairs in ``text``."""
    return {m.group(0) for m in re.finditer(r"\b[0-9a-f]{2}(?: [0-9a-f]{2}){3,}\b", text)}


def test_reference_worked_example():
    text = (NOTES / "reference_protocol.md").read_text()
    block = text.split("### 3.2 Worked example", 1)[1].split("```")[1].strip()
    f = parse_frame(bytes.fromhex(block))
    assert f.counter == 4660 and f.n == 2
    np.testing.assert_array_equal(f.acc_g()[1], [-0.5, 0.25, 1.0])
    np.testing.assert_array_equal(f.gyr_dps()[1], [500.0, -250.0, 0.0])
    for seq in ("01 03", "02 08 03", "05 00", "03 01"):
        assert seq in text


def test_vendor_note_examples():
    wit = hexes((NOTES / "witmotion.md").read_text())
    frame = next(h for h in wit if h.startswith("55 61"))
    vals, _ = parse_frames(bytes.fromhex(frame))
    np.testing.assert_allclose(vals[0, :6], [0, 0, 1, 62.5, -62.5, 0])

    thingy = (NOTES / "thingy52.md").read_text()
    assert config_bytes(100).hex(" ") in thingy
    raw = next(h for h in hexes(thingy) if len(h.split()) == 18)
    acc, gyr, _ = parse_raw(bytes.fromhex(raw))
    np.testing.assert_array_equal(gyr, [1, -2, 100])

    polar = (NOTES / "polar_pmd.md").read_text()
    assert start_request(ACC, 100, range_=8).hex(" ") in polar
    verity = PolarPmdDriver(104, variant="verity_sense", gyro_range_dps=1000).configure(104)
    for w in verity:
        assert w.data.hex(" ") in polar
    h10 = next(h for h in hexes(polar) if h.startswith("02 08 07"))
    np.testing.assert_array_equal(parse_data_frame(bytes.fromhex(h10)).values, [[-1, 0, 1]])
    delta = next(h for h in hexes(polar) if h.startswith("64 00 fb ff"))
    assert delta_decode(bytes.fromhex(delta), 3).tolist()[-1] == [101, -3, 998]
