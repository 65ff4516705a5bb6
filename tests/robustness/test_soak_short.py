"""Short soak: a few minutes of session over virtual BLE and MQTT with link drops,
garbage notifications and a broker crash: every rep arrives exactly once (after
de-duplication by id), none is invented, and RSS does not creep.

The long version is ``benchmarks/soak.py`` (2 hours at 100x).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from soak import run_soak  # noqa: E402


@pytest.mark.timeout(120)
def test_short_soak_delivers_every_rep_once(tmp_path: Path) -> None:
    r = run_soak(hours=0.06, speed=20.0, drops=2, restarts=1, malformed_every=50,
                 workdir=tmp_path)
    assert r["link_drops"] == 2
    assert r["reconnects"] >= 2, r
    # The pipeline live sees the same reps as offline, and they are the labelled ones.
    assert r["live_reps"] == r["offline_reps"] == r["labelled_reps"], r
    assert r["exactly_once"], r
    assert r["unique_rep_ids"] == r["live_reps"], r
    assert r["rss_last_mb"] - r["rss_first_mb"] < 20.0, r
