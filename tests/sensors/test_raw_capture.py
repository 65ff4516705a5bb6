"""Raw capture format repsense.raw/1: write, read back through the same driver, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from repsense.errors import InputError
from repsense.io.open import open_recording
from repsense.io.raw_capture import FORMAT, RawCapture, RawCaptureWriter
from repsense.samples import SampleChunk
from repsense.sensors import DRIVERS, ENCODERS
from repsense.sensors.base import DecodeProblem
from repsense.sensors.reference import DATA_UUID, ReferenceDriver, ReferenceEncoder


def capture(tmp_path, link, imu, protocol="repsense", drop=None, name="cap.jsonl", **kw):
    """Stream through a simulated link, recording every notification; returns (path, live)."""
    drv = DRIVERS[protocol](**kw)
    data = imu(drv.rate_hz, 12)
    live = link(ENCODERS[protocol](), drv, data, drop=drop)
    path = tmp_path / name
    with RawCaptureWriter(
        path,
        protocol,
        {"name": "dev", "address": "AA:BB"},
        drv.config(),
        extra={"placement": "thigh", "side": "left"},
    ) as w:
        for t, char, payload in live.notes:
            w.write(t, char, payload)
    return path, live


@pytest.mark.parametrize("protocol", ["repsense", "witmotion", "thingy52", "polar_pmd"])
def test_round_trip_decodes_like_live(tmp_path, link, imu, protocol):
    path, live = capture(tmp_path, link, imu, protocol)
    lines = path.read_text().splitlines()
    head = json.loads(lines[0])
    assert head["format"] == FORMAT and head["protocol"] == protocol
    assert head["device"] == {"name": "dev", "address": "AA:BB"}
    rec = json.loads(lines[1])
    assert set(rec) == {"t", "char", "hex"} and rec["char"] == rec["char"].lower()
    cap = RawCapture(path, relative_time=False)
    out = SampleChunk.concat(list(cap.chunks()))
    assert len(out) == len(live.chunk)
    np.testing.assert_array_equal(out.acc, live.chunk.acc)
    np.testing.assert_allclose(out.t, live.chunk.t, atol=2e-6)
    assert cap.has_gyro == (live.chunk.gyr is not None)
    assert cap.meta["placement"] == "thigh" and cap.meta["sample_rate_hz"] > 0
    assert cap.counts["notifications"] == len(live.notes)


def test_relative_time_and_open_recording(tmp_path, link, imu):
    path, _ = capture(tmp_path, link, imu)
    cap = open_recording(path)
    assert isinstance(cap, RawCapture) and cap.name == "cap"
    first = next(iter(cap.chunks()))
    assert first.t[0] == 0.0  # relative time: the first sample is at 0


def test_problems_exposed_in_order(tmp_path, link, imu):
    path, live = capture(tmp_path, link, imu, drop=lambda i, _: i in (3, 4, 30))
    lines = path.read_text().splitlines()
    lines.insert(10, json.dumps({"t": json.loads(lines[9])["t"], "char": DATA_UUID, "hex": "0102"}))
    path.write_text("\n".join(lines) + "\n")
    cap = RawCapture(path)
    items = list(cap.items())
    probs = [x for x in items if isinstance(x, DecodeProblem)]
    assert [p.kind for p in probs] == ["lost", "malformed", "lost"]
    assert cap.problems == probs
    assert cap.counts["malformed"] == 1
    assert cap.counts["lost_samples"] == sum(p.lost_samples for p in probs) > 0
    # A problem comes after the samples before it and before the samples after it.
    times = [x.time_s if isinstance(x, DecodeProblem) else x.t[0] for x in items]
    assert times == sorted(times)


def test_sidecar_is_merged(tmp_path, link, imu):
    path, _ = capture(tmp_path, link, imu)
    (tmp_path / "cap.json").write_text(json.dumps({"labels": {"sets": [{"reps": 3}]}}))
    assert RawCapture(path).meta["labels"]["sets"][0]["reps"] == 3


def test_writer_refuses_to_overwrite(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text("keep me")
    with pytest.raises(InputError, match="already exists"):
        RawCaptureWriter(p, "repsense", {"name": None, "address": None}, {"rate_hz": 104.0})
    assert p.read_text() == "keep me"
    with pytest.raises(ValueError):
        RawCaptureWriter(tmp_path / "y.jsonl", "nope", {}, {"rate_hz": 1})


def test_writer_flushes_each_line(tmp_path):
    p = tmp_path / "live.jsonl"
    w = RawCaptureWriter(p, "repsense", {"name": "a", "address": "b"}, ReferenceDriver().config())
    enc = ReferenceEncoder()
    enc.streaming = True
    note = enc.encode(SampleChunk(np.zeros(1), np.array([[0, 0, 1.0]]), np.zeros((1, 3))))[0]
    w.write(12.5, note.char.upper(), note.data)
    # Readable while still open (a crash keeps everything written so far).
    assert len(p.read_text().splitlines()) == 2
    assert json.loads(p.read_text().splitlines()[1])["char"] == DATA_UUID
    w.close()


HEADER = {
    "format": FORMAT,
    "protocol": "repsense",
    "device": {"name": "d", "address": "a"},
    "config": {"rate_hz": 104.0},
}
GOOD = {
    "t": 1.0,
    "char": DATA_UUID,
    "hex": "010134120203080300000000001000000000000000f800040010004000e00000",
}


def write(tmp_path, lines) -> object:
    p = tmp_path / "bad.jsonl"
    p.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return p


@pytest.mark.parametrize(
    ("lines", "where", "what"),
    [
        ([], ":", "empty"),
        (["{not json"], ":1:", "header is not valid JSON"),
        ([{**HEADER, "format": "other"}], ":1:", "not a repsense raw capture"),
        ([{**HEADER, "format": "repsense.raw/2"}], ":1:", "newer"),
        ([{**HEADER, "protocol": "fitbit"}], ":1:", "unknown protocol"),
        ([{k: v for k, v in HEADER.items() if k != "device"}], ":1:", "device"),
        ([{**HEADER, "config": {}}], ":1:", "rate_hz"),
        ([{**HEADER, "config": {"rate_hz": 104, "bogus": 1}}], ":1:", "config is not valid"),
        ([{**HEADER, "placement": "wrist"}], ":1:", "placement"),
        ([HEADER, GOOD, "{oops"], ":3:", "not valid JSON"),
        ([HEADER, GOOD, {"t": 2.0, "hex": "00"}], ":3:", "missing field 'char'"),
        ([HEADER, {**GOOD, "t": "soon"}], ":2:", "field 't'"),
        ([HEADER, {**GOOD, "hex": "zz"}], ":2:", "not hexadecimal"),
        ([HEADER, {**GOOD, "t": 5.0}, GOOD], ":3:", "backwards"),
        ([HEADER], ":", "no decodable samples"),
    ],
)
def test_bad_captures_name_file_and_line(tmp_path, lines, where, what):
    p = write(tmp_path, lines) if lines else tmp_path / "bad.jsonl"
    if not lines:
        p.write_text("")
    with pytest.raises(InputError) as exc:
        list(RawCapture(p).chunks())
    msg = str(exc.value)
    assert str(p) + where in msg and what in msg


def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        RawCapture("/nonexistent/cap.jsonl")


def test_example_line_decodes(tmp_path):
    p = write(tmp_path, [HEADER, GOOD])
    out = list(RawCapture(p).chunks())
    np.testing.assert_array_equal(out[0].acc, [[0, 0, 1.0], [-0.5, 0.25, 1.0]])


def test_capture_rate_wins_over_sidecar(tmp_path, link, imu):
    path, _ = capture(tmp_path, link, imu, "witmotion")
    (tmp_path / "cap.json").write_text(json.dumps({"sample_rate_hz": 104, "placement": "shank"}))
    meta = RawCapture(path).meta
    assert meta["sample_rate_hz"] == 50.0 and meta["placement"] == "shank"
