"""`repsense record` end to end: virtual sensor -> bleak -> CSV + sidecar + raw capture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from repsense.cli import main
from repsense.io.csv_recording import CsvRecording
from repsense.io.csv_writer import write_recording
from repsense.io.raw_capture import RawCapture
from repsense.samples import SampleChunk


def _source(path: Path, seconds: float = 6.0, fs: float = 100.0) -> SampleChunk:
    t = np.arange(0, seconds, 1 / fs)
    angle = np.radians(40) * np.sin(2 * np.pi * 0.5 * t)
    acc = np.column_stack([np.sin(angle), np.zeros_like(t), np.cos(angle)])
    gyr = np.column_stack([np.zeros_like(t), np.degrees(np.gradient(angle, t)), np.zeros_like(t)])
    chunk = SampleChunk(t, acc, gyr)
    write_recording(path, [chunk], None, has_gyro=True)
    return chunk


@pytest.mark.parametrize("protocol", ["repsense", "witmotion"])
def test_record_writes_csv_sidecar_and_raw_capture(
    protocol: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src.csv"
    chunk = _source(src)
    out = tmp_path / "take1"
    spec = f"{protocol}:{src},speed=5,address=C0:00:00:00:00:11,malformed_every=40"
    rc = main(["record", "C0:00:00:00:00:11", "-o", str(out), "--rate", "100",
               "--virtual", spec, "--timeout", "2"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "recorded" in captured.out
    csv, side, raw = (out.with_suffix(s) for s in (".csv", ".json", ".jsonl"))
    assert csv.is_file() and side.is_file() and raw.is_file()
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind

    rec = CsvRecording(csv)
    got = SampleChunk.concat(list(rec.chunks()))
    meta = json.loads(side.read_text())
    assert meta["synthetic"] is True and meta["labels"] == {"sets": []}
    # Every sample the sensor sent is in the CSV (none invented, none lost); the
    # virtual sensor plays the 6 s source at the rate the host configured.
    rate = meta["sample_rate_hz"]
    assert rate == (104.0 if protocol == "repsense" else 100.0)
    assert abs(len(got) - round(chunk.t[-1] * rate)) <= 2
    assert got.t[0] == 0.0 and np.all(np.diff(got.t) > 0)
    assert np.allclose(np.median(np.linalg.norm(got.acc, axis=1)), 1.0, atol=0.02)

    # The raw capture decodes through the same driver to the same samples.
    cap = RawCapture(raw)
    head = json.loads(raw.read_text().splitlines()[0])
    assert head["format"] == "repsense.raw/1" and head["protocol"] == protocol
    decoded = SampleChunk.concat(list(cap.chunks()))
    assert len(decoded) == len(got)
    assert np.allclose(decoded.acc, got.acc, atol=1e-5)
    assert "malformed" in captured.err  # the garbage notifications were reported, and skipped


def test_record_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "take"
    out.with_suffix(".csv").write_text("keep me")
    rc = main(["record", "x", "-o", str(out), "--virtual", "witmotion"])
    assert rc == 2
    assert "already exists" in capsys.readouterr().err
    assert out.with_suffix(".csv").read_text() == "keep me"


def test_record_with_duration_from_a_profile(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    spec = "thingy52,speed=5,address=C0:00:00:00:00:21,gravity=0+-1+0"
    assert main(["pair", "C0:00:00:00:00:21", "--name", "shin", "--placement", "shank",
                 "--side", "right", "--yes", "--check-s", "1", "--still-s", "1",
                 "--virtual", spec]) == 0
    out = tmp_path / "still"
    assert main(["record", "shin", "-o", str(out), "--duration", "3", "--virtual", spec]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["sensor"] == "shin" and meta["placement"] == "shank" and meta["side"] == "right"
    got = SampleChunk.concat(list(CsvRecording(out.with_suffix(".csv")).chunks()))
    assert 2.5 <= got.t[-1] <= 3.2


def test_ctrl_c_stops_the_recording_and_keeps_the_files(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "ctrlc"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPSENSE_")}
    env["REPSENSE_CONFIG_DIR"] = str(tmp_path / "config")
    # Ctrl-C at a terminal reaches a program in the foreground.  A test run started in
    # the background (`cmd &` in a script) passes SIGINT on ignored, and Python then
    # keeps ignoring it: the recorder would run on and the test hang, so the child is
    # given SIGINT's default, as a foreground program has it.
    proc = subprocess.Popen(
        [sys.executable, "-m", "repsense", "record", "repsense-IMU", "-o", str(out),
         "--virtual", "repsense,speed=5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        partial = tmp_path / ".ctrlc.jsonl.partial"
        deadline = time.monotonic() + 30
        # Wait until notifications are being captured, then press Ctrl-C.
        while time.monotonic() < deadline and not (partial.exists()
                                                   and partial.stat().st_size > 2000):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # never leave a recorder running after the test
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "stopped by Ctrl-C" in stdout
    got = SampleChunk.concat(list(CsvRecording(out.with_suffix(".csv")).chunks()))
    assert len(got) > 10
    assert RawCapture(out.with_suffix(".jsonl")).meta is not None
    assert not list(tmp_path.glob(".ctrlc*"))
