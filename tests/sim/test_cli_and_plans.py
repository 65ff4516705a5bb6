"""``repsense simulate`` and sessions from plans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from repsense.cli import main
from repsense.errors import InputError
from repsense.io.csv_recording import CsvRecording
from repsense.samples import SampleChunk
from repsense.sim import SimulatedSession


def test_cli_writes_a_recording_csvrecording_reads(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "curl.csv"
    rc = main(["simulate", "--exercise", "leg_curl", "--placement", "shank", "--sets", "2",
               "--reps", "4", "--tempo", "3-1-1-0", "--rate", "100", "--rest", "15",
               "--seed", "7", "-o", str(out)])
    assert rc == 0
    assert "2 sets, 8 reps" in capsys.readouterr().out
    rec = CsvRecording(out)
    c = SampleChunk.concat(list(rec.chunks()))
    assert rec.has_gyro and len(c) > 100
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["synthetic"] is True
    assert meta["sensor"] == "repsense-sim (LSM6DS3)"
    assert meta["placement"] == "shank" and meta["side"] == "right"
    assert meta["sample_rate_hz"] == 100
    assert meta["seed"] == 7
    assert meta["source"].startswith("repsense simulate --exercise leg_curl")
    assert "--seed 7" in meta["command"]
    sets = meta["labels"]["sets"]
    assert [s["reps"] for s in sets] == [4, 4]
    assert set(sets[0]["rep_detail"][0]) >= {"start_s", "end_s", "concentric_s", "eccentric_s",
                                             "top_pause_s", "bottom_pause_s", "partial"}
    assert rec.meta["labels"] == meta["labels"]


def test_cli_command_in_sidecar_reproduces_the_file(tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert main(["simulate", "--exercise", "hip_thrust", "--sets", "1", "--reps", "3",
                 "--accel-only", "--rate", "25", "--seed", "3", "-o", str(out)]) == 0
    command = json.loads(out.with_suffix(".json").read_text())["command"].split()
    assert command[:2] == ["repsense", "simulate"]
    again = tmp_path / "b.csv"
    command[command.index("-o") + 1] = str(again)
    assert main(command[1:]) == 0
    assert out.read_text() == again.read_text()
    assert out.read_text().splitlines()[0] == "time_s,acc_x_g,acc_y_g,acc_z_g"


@pytest.mark.parametrize("args,needle", [
    (["--exercise", "leg_curl", "--rate", "5"], "--rate"),
    (["--exercise", "leg_curl", "--rate", "500"], "--rate"),
    (["--exercise", "leg_curl", "--tempo", "3-1-1"], "--tempo"),
    (["--exercise", "leg_curl", "--tempo", "a-1-1-0"], "--tempo"),
    (["--exercise", "leg_curl", "--variant", "upside_down"], "--variant"),
    (["--exercise", "leg_curl", "--sets", "0"], "sets"),
    (["--exercise", "leg_curl", "--reps", "lots"], "reps"),
    (["--exercise", "leg_curl", "--rest", "1"], "rest"),
    (["--exercise", "leg_curl", "--acc-range", "3"], "--acc-range"),
    (["--exercise", "leg_curl", "--partial", "2"], "--partial"),
    (["--sets", "2"], "--exercise"),
    (["--exercise", "nope"], "invalid choice"),
])
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            args: list[str], needle: str) -> None:
    out = tmp_path / "x.csv"
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(main(["simulate", *args, "-o", str(out)]))
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_bad_output_paths_exit_2(tmp_path: Path) -> None:
    assert main(["simulate", "--exercise", "leg_curl", "-o", str(tmp_path / "x.txt")]) == 2
    assert main(["simulate", "--exercise", "leg_curl", "-o", str(tmp_path / "no" / "x.csv")]) == 2


def test_invisible_placement_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.csv"
    assert main(["simulate", "--exercise", "leg_curl", "--placement", "thigh", "--sets", "1",
                 "--reps", "2", "-o", str(out)]) == 0
    assert "too little" in capsys.readouterr().err
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["simulator"]["warnings"]
    assert meta["labels"]["sets"][0]["reps"] == 2


def test_default_placement_is_the_one_that_sees() -> None:
    assert SimulatedSession(exercise="leg_curl", sets=1, reps=1).placement == "shank"
    assert SimulatedSession(exercise="glute_bridge", sets=1, reps=1).placement == "thigh"


PLAN = {
    "name": "t", "placement": "thigh", "side": "left",
    "exercise": [
        {"id": "generic", "variant": "reverse_hyperextension", "sets": 2, "reps": 3,
         "tempo": "1-0-1-0", "rest_s": 30, "superset_with_next": True},
        {"id": "glute_bridge", "sets": 2, "reps": 3, "tempo": "1-0-1-1", "rest_s": 30,
         "rest_after_s": 40},
        {"id": "leg_curl", "sets": 2, "reps": "3-5", "placement": "shank", "rest_s": 20},
    ],
}


def test_plan_supersets_rests_and_strap_moves() -> None:
    sim = SimulatedSession.from_plan(PLAN, seed=2, rate_hz=25)
    sets = sim.labels["sets"]
    assert [s["exercise"] for s in sets] == ["generic", "glute_bridge", "generic",
                                             "glute_bridge", "leg_curl", "leg_curl"]
    gaps = [b["start_s"] - a["end_s"] for a, b in zip(sets, sets[1:], strict=False)]
    assert gaps[0] < 20  # straight into the paired exercise
    assert gaps[1] == pytest.approx(30, abs=0.01)  # rest after the round
    assert gaps[3] == pytest.approx(40, abs=0.01)  # before the next exercise
    assert all(3 <= s["reps"] <= 5 for s in sets[4:])
    assert sets[4]["placement"] == "shank" and sets[0]["placement"] == "thigh"
    assert sim.meta["side"] == "left"
    assert "placement" not in sim.meta  # the strap moved: no single placement for the file
    c = sim.sample()
    assert np.isfinite(c.acc).all() and len(c) == pytest.approx(sim.duration_s * 25, abs=2)


def test_plan_from_toml_file(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text('name = "x"\n[[exercise]]\nid = "deadlift"\nsets = 1\nreps = 2\n')
    sim = SimulatedSession.from_plan(p, seed=1)
    assert sim.labels["sets"][0]["exercise"] == "deadlift"


@pytest.mark.parametrize("text,needle", [
    ("[[exercise]]\nid = \"squat\"\n", "squat"),
    ("name = 1\n", "no \\[\\[exercise"),
    ("[[exercise]]\nid = \"leg_curl\"\nsets = \"many\"\n", "sets"),
    ("not toml [", "TOML"),
])
def test_bad_plans(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "p.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=needle):
        SimulatedSession.from_plan(p)


def test_paired_sidecar_holds_the_standing_mounting_and_analyze_uses_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An accelerometer-only thigh on Romanian deadlifts: no lever arm, so only the
    # mounting captured at pairing can name them.  The lifter stands still at the start,
    # thigh vertical, which is what a pairing capture reads.
    args = ["simulate", "--exercise", "romanian_deadlift", "--placement", "thigh", "--sets",
            "2", "--reps", "5", "--rest", "20", "--rate", "50", "--accel-only", "--nuisance",
            "none", "--seed", "4"]
    paired, plain = tmp_path / "paired.csv", tmp_path / "plain.csv"
    assert main([*args, "--paired", "-o", str(paired)]) == 0
    assert main([*args, "-o", str(plain)]) == 0
    assert paired.read_text() == plain.read_text()  # the same recording
    meta = json.loads(paired.with_suffix(".json").read_text())
    assert "--paired" in meta["command"] and "mounting_up" not in json.loads(
        plain.with_suffix(".json").read_text())
    up = np.array(meta["mounting_up"])
    first = SampleChunk.concat(list(CsvRecording(paired).chunks())).acc[:50].mean(axis=0)
    assert abs(np.linalg.norm(up) - 1.0) < 1e-3
    assert np.degrees(np.arccos(up @ first / np.linalg.norm(first))) < 5.0
    capsys.readouterr()
    names = {}
    for path in (paired, plain):
        assert main(["analyze", str(path), "--format", "json"]) == 0
        names[path.stem] = [s["exercise"] for s in json.loads(capsys.readouterr().out)["sets"]]
    assert names == {"paired": ["romanian_deadlift"] * 2, "plain": ["generic"] * 2}
