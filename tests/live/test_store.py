"""Session history: what is written reads back the same; ids resolve; damage is reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from repsense.cli import main
from repsense.errors import InputError
from repsense.io.csv_recording import CsvRecording
from repsense.live.store import SessionStore
from repsense.samples import SampleChunk


def _chunk(t0: float, n: int) -> SampleChunk:
    t = t0 + np.arange(n) / 50.0
    acc = np.column_stack([np.sin(t), np.cos(t), np.full(n, 0.5)])
    gyr = np.column_stack([t, -t, np.zeros(n)])
    return SampleChunk(t, acc, gyr)


def test_round_trip(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    w = store.create(started)
    assert w.session_id == "20260102-030405"
    w.write_summary({"id": w.session_id, "status": "running"})
    chunks = [_chunk(0.0, 100), _chunk(2.0, 50)]
    for c in chunks:
        w.write_samples(c)
    assert not w.samples_path.exists()  # the CSV appears only when complete
    events = [{"type": "rep", "id": "x-1", "seq": 1}, {"type": "action", "action": "undo"}]
    for e in events:
        w.write_event(e)
    w.close({"id": w.session_id, "status": "complete", "total_reps": 3},
            {"sensor": "test", "placement": "thigh", "sample_rate_hz": 50.0})
    stored = store.load(w.session_id)
    assert stored.summary["status"] == "complete" and stored.events() == events
    rec = CsvRecording(stored.samples_path)
    got = SampleChunk.concat(list(rec.chunks()))
    want = SampleChunk.concat(chunks)
    assert np.allclose(got.t, want.t) and np.allclose(got.acc, want.acc, atol=1e-6)
    assert np.allclose(got.gyr, want.gyr, atol=1e-4)
    assert rec.meta["placement"] == "thigh"
    # a second session in the same second gets its own folder
    assert store.create(started).session_id == "20260102-030405-2"


def test_resolve_ids_prefixes_latest_and_paths(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    with pytest.raises(InputError, match="no sessions yet"):
        store.load("latest")
    ids = []
    for day in (1, 2, 12):
        w = store.create(datetime(2026, 3, day, 10, 0, 0, tzinfo=UTC))
        w.close({"id": w.session_id})
        ids.append(w.session_id)
    assert store.ids() == ids
    assert store.load("latest").id == ids[-1]
    assert store.load("2026030210").id == ids[1]
    assert store.load(str(store.root / ids[0])).id == ids[0]
    with pytest.raises(InputError, match="ambiguous"):
        store.load("202603")
    with pytest.raises(InputError, match="no session 'nope'"):
        store.load("nope")


def test_torn_event_line_and_damaged_summary(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    w = store.create()
    w.write_event({"type": "rep"})
    w.close({"id": w.session_id})
    with open(w.path / "events.jsonl", "a", encoding="utf-8") as f:
        f.write('{"type": "re')  # a crash mid-write
    assert store.load(w.session_id).events() == [{"type": "rep"}]
    (w.path / "summary.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="damaged"):
        store.load(w.session_id)
    assert store.list() == []  # listing skips it rather than failing


def test_sessions_command(dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions"]) == 0
    assert "no sessions yet" in capsys.readouterr().out
    store = SessionStore(dirs["data"])
    w = store.create()
    summary = {"id": w.session_id, "status": "complete", "started_at": "2026-01-01T00:00:00Z",
               "plan": {"name": "tiny", "title": "Tiny", "sets_done": 1, "total_sets": 2,
                        "completed": False},
               "total_sets": 1, "total_reps": 5, "sensor": "sim:x", "end_reason": "ended by user",
               "sets": [{"index": 1, "name": "Romanian deadlift", "set_number": 1,
                         "sets_total": 2, "reps": 5, "target_reps": "5",
                         "target_tempo": "2-0-1-0", "velocity_loss_pct": 12.0,
                         "rep_detail": [{"tempo": "2-0-1-0", "cues": ["lift faster: 1 s up"]}]}]}
    w.close(summary)
    assert main(["sessions"]) == 0
    assert w.session_id in capsys.readouterr().out
    assert main(["sessions", "show", "latest"]) == 0
    out = capsys.readouterr().out
    assert "1/2 planned sets" in out and "5/5 reps" in out and "lift faster" in out
    assert main(["sessions", "show", "latest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_reps"] == 5
    assert main(["sessions", "show", "nope"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
