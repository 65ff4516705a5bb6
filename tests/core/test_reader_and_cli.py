"""Recording reader checks and the analyze/replay command contracts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from repsense.errors import InputError
from repsense.io.csv_recording import CsvRecording
from repsense.io.csv_writer import write_recording

from .synth import make


@pytest.fixture
def rec(tmp_path: Path) -> Path:
    chunk, sched = make(sets=2, reps=4, rate=50.0)
    path = tmp_path / "rec.csv"
    labels = {"sets": [{"reps": 4}, {"reps": 4}]}
    write_recording(path, [chunk], {"placement": "thigh", "sample_rate_hz": 50, "labels": labels},
                    has_gyro=True)
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "repsense", *args],
                          capture_output=True, text=True, timeout=120)


def write(tmp_path: Path, text: str, name: str = "bad.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD_ROWS = "".join(f"{i * 0.02:.2f},0,0,1\n" for i in range(200))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("time_s,acc_x_g,acc_y_g,acc_z_g\n", "no samples"),
        ("t,acc_x_g,acc_y_g,acc_z_g\n0,0,0,1\n", "time_s"),
        ("time_s,acc_x,acc_y,acc_z\n0,0,0,1\n", "acc_x_g"),
        ("time_s,acc_x_g,acc_y_g,acc_z_g\n0,0,0,1\n0.02,x,0,1\n", "line 3".replace("line ", ":")),
        ("time_s,acc_x_g,acc_y_g,acc_z_g\n0,0,0,1\n0.02,nan,0,1\n", "nan"),
        ("time_s,acc_x_g,acc_y_g,acc_z_g\n" + GOOD_ROWS + "1.0,0,0,1\n", "backwards"),
        ("time_s,acc_x_g,acc_y_g,acc_z_g\n" + "".join(f"{i},0,0,1\n" for i in range(50)), "Hz"),
        ("time_s,acc_x_g,acc_y_g,acc_z_g\n" + GOOD_ROWS.replace(",0,0,1", ",0,0,9.81"), "m/s"),
        ("time_s,acc_x_g,acc_y_g,acc_z_g\n" + "0,0,0,1\n" * 5, "stays"),
    ],
)
def test_reader_rejects_with_one_clear_line(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        for _ in CsvRecording(path).chunks():
            pass
    msg = str(err.value)
    assert str(path) in msg
    assert needle in msg
    assert "\n" not in msg


def test_reader_converts_units_and_ignores_extra_columns(tmp_path):
    rows = "".join(f"{i * 0.01:.2f},7,0,0,9.80665,0,0,{np.pi}\n" for i in range(100))
    path = write(tmp_path, "time_s,note,acc_x_ms2,acc_y_ms2,acc_z_ms2,gyr_x_rads,gyr_y_rads,"
                 "gyr_z_rads\n" + rows)
    chunk = next(CsvRecording(path).chunks())
    assert chunk.acc[0] == pytest.approx([0, 0, 1])
    assert chunk.gyr is not None and chunk.gyr[0] == pytest.approx([0, 0, 180])


def test_reader_streams_in_bounded_chunks(rec):
    sizes = [len(c) for c in CsvRecording(rec, chunk_rows=100).chunks()]
    assert max(sizes) == 100 and len(sizes) > 5


def test_analyze_json_contract(rec):
    res = cli("analyze", str(rec), "--format", "json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["schema"] == "repsense.analysis/1"
    assert set(out) == {"schema", "source", "duration_s", "sample_rate_hz", "sets",
                        "total_reps", "warnings"}
    assert out["sample_rate_hz"] == pytest.approx(50.0)
    assert [len(s["reps"]) for s in out["sets"]] == [4, 4]
    assert out["total_reps"] == 8
    s = out["sets"][1]
    assert {"index", "exercise", "confidence", "start_s", "end_s", "rest_before_s",
            "velocity_loss_pct", "reps"} <= set(s)
    assert s["rest_before_s"] == pytest.approx(30.0, abs=0.5)
    rep = s["reps"][0]
    assert set(rep) == {"index", "start_s", "end_s", "concentric_s", "eccentric_s",
                        "top_pause_s", "bottom_pause_s", "tempo", "rom_deg", "peak_speed_dps",
                        "concentric_peak_dps", "eccentric_peak_dps", "partial",
                        "starts_concentric"}
    assert isinstance(rep["starts_concentric"], bool)
    assert 0 < rep["concentric_peak_dps"] <= rep["peak_speed_dps"] + 1e-6
    assert 0 < rep["eccentric_peak_dps"] <= rep["peak_speed_dps"] + 1e-6


def test_analyze_table_and_replay(rec):
    table = cli("analyze", str(rec), "--exercise", "glute_bridge")
    assert table.returncode == 0
    assert "Set 2: glute_bridge" in table.stdout
    replay = cli("replay", str(rec), "--speed", "0", "--no-mqtt")
    if replay.returncode == 2 and "--no-mqtt" in replay.stderr:  # before MQTT is wired in
        replay = cli("replay", str(rec), "--speed", "0")
    assert replay.returncode == 0, replay.stderr
    lines = replay.stdout.splitlines()
    assert sum(" rep " in line for line in lines) == 8
    assert "session over: 2 sets, 8 reps" in lines[-1]


@pytest.mark.parametrize(
    "args",
    [["analyze", "missing.csv"], ["analyze", "{rec}", "--exercise", "squat_jump"],
     ["analyze", "{rec}", "--set-gap", "0.1"], ["replay", "{rec}", "--speed", "-1"],
     ["analyze", "notes.txt"]],
)
def test_bad_options_exit_2_one_line(rec, args):
    res = cli(*[a.replace("{rec}", str(rec)) for a in args])
    assert res.returncode == 2
    assert res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_every_command_explains_itself():
    res = cli("--help")
    assert res.returncode == 0
    assert "analyze" in res.stdout and "replay" in res.stdout
    for name in ("analyze", "replay"):
        sub = cli(name, "--help")
        assert sub.returncode == 0 and "usage" in sub.stdout


def test_written_recordings_get_normal_permissions(rec):
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(rec.stat().st_mode) == 0o666 & ~umask


def test_deadlift_from_the_floor_counts_pulls_not_excursions():
    """Bending down to the bar and standing up after the last pull are not reps."""
    from repsense.analysis import analyze_recording

    path = Path(__file__).parents[2] / "recordings" / "deadlift_thigh_50hz_walking.csv"
    labels = json.loads(path.with_suffix(".json").read_text())["labels"]["sets"]
    result = analyze_recording(path, exercise="deadlift")
    for lab in labels:
        found = [s for s in result["sets"]
                 if s["start_s"] < lab["end_s"] and s["end_s"] > lab["start_s"]]
        assert [len(s["reps"]) for s in found] == [lab["reps"]]
        assert all(s["exercise"] == "deadlift" for s in found)
