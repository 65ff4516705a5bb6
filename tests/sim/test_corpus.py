"""The labelled corpus in recordings/: complete, documented, reproducible, and countable."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from repsense.cli import main
from repsense.io.csv_recording import CsvRecording
from repsense.samples import SampleChunk

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "recordings"
FILES = sorted(CORPUS.glob("*.csv"))


def test_corpus_is_there_and_small() -> None:
    assert len(FILES) >= 20
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < 20e6


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_file_is_labelled_documented_and_scripted(path: Path) -> None:
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["synthetic"] is True
    assert meta["sensor"].startswith("repsense-sim")
    assert meta["labels"]["sets"] and all(s["reps"] >= 1 for s in meta["labels"]["sets"])
    readme = (CORPUS / "README.md").read_text()
    script = (CORPUS / "make_corpus.sh").read_text()
    assert path.name in readme
    assert f"$o/{path.name}" in script
    with path.open() as f:
        header = f.readline().strip()
    gyro = not meta["simulator"]["accel_only"]
    assert header.count(",") == (6 if gyro else 3)


def test_corpus_covers_what_it_promises() -> None:
    metas = [json.loads(p.with_suffix(".json").read_text()) for p in FILES]
    exercises = {s["exercise"] for m in metas for s in m["labels"]["sets"]}
    assert exercises == {"leg_curl", "deadlift", "romanian_deadlift", "single_leg_deadlift",
                         "glute_bridge", "hip_thrust", "generic"}
    rates = {m["sample_rate_hz"] for m in metas}
    assert min(rates) <= 10 and max(rates) >= 200
    assert any(m["simulator"]["accel_only"] for m in metas)
    assert any(m["simulator"]["nuisance"] == "full" for m in metas)
    assert any(r["partial"] for m in metas for s in m["labels"]["sets"] for r in s["rep_detail"])


def test_demo_replays_from_its_recorded_command(tmp_path: Path) -> None:
    demo = CORPUS / "demo_romanian_deadlift.csv"
    meta = json.loads(demo.with_suffix(".json").read_text())
    assert 50 < meta["simulator"]["duration_s"] < 90
    argv = shlex.split(meta["command"])
    out = tmp_path / "again.csv"
    argv[argv.index("-o") + 1] = str(out)
    assert main(argv[1:]) == 0
    a = SampleChunk.concat(list(CsvRecording(demo).chunks()))
    b = SampleChunk.concat(list(CsvRecording(out).chunks()))
    np.testing.assert_allclose(a.acc, b.acc, atol=1e-3)  # the committed file is up to date
    assert json.loads(out.with_suffix(".json").read_text())["labels"] == meta["labels"]


# Recordings the lead's detector counts exactly today (see recordings/README.md for the rest).
COUNTED = [
    "demo_romanian_deadlift.csv",
    "leg_curl_standing_shank_25hz.csv",
    "hip_thrust_shank_50hz.csv",
    "accel_only_glute_bridge_thigh_100hz.csv",
    "single_leg_deadlift_stance_thigh_50hz.csv",
    "generic_leg_raise_thigh_25hz.csv",
]


@pytest.mark.parametrize("name", COUNTED)
def test_analyze_reproduces_the_labelled_counts(name: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / name
    want = [s["reps"] for s in json.loads(path.with_suffix(".json").read_text())["labels"]["sets"]]
    assert main(["analyze", str(path), "--format", "json"]) == 0
    got = [len(s["reps"]) for s in json.loads(capsys.readouterr().out)["sets"]]
    assert got == want
