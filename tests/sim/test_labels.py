"""Labels agree with the motion the simulator renders."""

from __future__ import annotations

import numpy as np
import pytest

from repsense.sim import SimulatedSession, get_spec


def _tilt_speed(sim: SimulatedSession) -> tuple[np.ndarray, np.ndarray]:
    c = sim.sample()
    return c.t, np.linalg.norm(c.gyr, axis=1)


@pytest.mark.parametrize("exercise,placement", [
    ("leg_curl", "shank"), ("romanian_deadlift", "thigh"), ("deadlift", "thigh"),
    ("glute_bridge", "thigh"), ("hip_thrust", "thigh"), ("single_leg_deadlift", "thigh"),
    ("generic", "shank"),
])
def test_phases_match_the_signal(exercise: str, placement: str) -> None:
    sim = SimulatedSession(exercise=exercise, placement=placement, sets=2, reps=3,
                           tempo="2-1-1-1", rest_s=10, seed=5, ideal=True, nuisance="none")
    t, speed = _tilt_speed(sim)
    away_conc = get_spec(exercise, None).away_is_concentric()
    for s in sim.labels["sets"]:
        assert s["exercise"] == exercise
        assert s["start_s"] == s["rep_detail"][0]["start_s"]
        assert s["end_s"] == s["rep_detail"][-1]["end_s"]
        prev_end = None
        for r in s["rep_detail"]:
            away = r["concentric_s"] if away_conc else r["eccentric_s"]
            ret = r["eccentric_s"] if away_conc else r["concentric_s"]
            far = r["top_pause_s"] if away_conc else r["bottom_pause_s"]
            near = r["bottom_pause_s"] if away_conc else r["top_pause_s"]
            assert r["end_s"] - r["start_s"] == pytest.approx(away + far + ret, abs=2e-3)
            if prev_end is None:
                assert near == 0.0
            else:
                assert r["start_s"] - prev_end == pytest.approx(near, abs=2e-3)
            prev_end = r["end_s"]
            # the segment moves during the away and return movements ...
            mid_away = (t > r["start_s"] + 0.3 * away) & (t < r["start_s"] + 0.7 * away)
            assert speed[mid_away].min() > 5
            # ... and is still in the far pause and just before the rep
            if far > 0.3:
                f0 = r["start_s"] + away
                pause = (t > f0 + 0.05) & (t < f0 + far - 0.05)
                assert speed[pause].max() < 1.0
            before = (t > r["start_s"] - 0.25) & (t < r["start_s"] - 0.02)
            assert speed[before].max() < 1.0


def test_deadlift_sets_up_at_the_bottom_and_stands_up_after() -> None:
    sim = SimulatedSession(exercise="deadlift", placement="thigh", sets=1, reps=3, seed=1,
                           ideal=True, nuisance="none")
    c = sim.sample()
    s = sim.labels["sets"][0]
    up = c.acc / np.linalg.norm(c.acc, axis=1)[:, None]
    standing = up[0]
    setup = (c.t > s["start_s"] - 1.5) & (c.t < s["start_s"])
    assert np.linalg.norm(c.gyr[setup], axis=1).max() < 1.0  # >= 1.5 s still at the bar
    tilt = np.degrees(np.arccos(up[setup] @ standing))
    assert tilt.min() > 45  # thigh inclined at the bar
    end = up[-1]
    assert np.degrees(np.arccos(min(1.0, end @ standing))) < 3  # stood up after the set


def test_deadlift_lifts_at_the_concentric_tempo_and_pauses_at_lockout() -> None:
    # Tempo 4-0-1-2: each pull from the floor takes 1 s, the lockout is held 2 s and the
    # lowering takes 4 s (the simulator once did the opposite: pulled in 4 s, paused on
    # the floor).
    sim = SimulatedSession(exercise="deadlift", placement="thigh", sets=1, reps=3, seed=1,
                           tempo="4-0-1-2", ideal=True, nuisance="none")
    c = sim.sample()
    up = c.acc / np.linalg.norm(c.acc, axis=1)[:, None]
    tilt = np.degrees(np.arccos(np.clip(up @ up[0], -1.0, 1.0)))  # from standing
    bar = np.median(tilt[(c.t > sim.labels["sets"][0]["start_s"] - 1.0)
                         & (c.t < sim.labels["sets"][0]["start_s"])])
    assert bar > 45
    for r in sim.labels["sets"][0]["rep_detail"]:
        assert r["concentric_s"] < 1.5 < 3.0 < r["eccentric_s"]
        assert r["top_pause_s"] > 1.5
        lockout = r["start_s"] + r["concentric_s"] + 0.5 * r["top_pause_s"]
        halfway = r["start_s"] + r["concentric_s"] + r["top_pause_s"] + 0.5 * r["eccentric_s"]
        at = np.searchsorted(c.t, [lockout, halfway])
        assert tilt[at[0]] < 0.2 * bar  # standing tall half way through the top pause
        assert 0.2 * bar < tilt[at[1]] < 0.8 * bar  # half way down, still lowering


def test_rest_between_sets_is_the_asked_rest() -> None:
    sim = SimulatedSession(exercise="glute_bridge", sets=3, reps=4, rest_s=45, seed=2)
    sets = sim.labels["sets"]
    for a, b in zip(sets, sets[1:], strict=False):
        assert b["start_s"] - a["end_s"] == pytest.approx(45, abs=0.01)


def test_partial_reps_are_flagged_and_short() -> None:
    sim = SimulatedSession(exercise="romanian_deadlift", placement="thigh", sets=2, reps=10,
                           partial_prob=0.3, seed=3, ideal=True, nuisance="none")
    c = sim.sample()
    up = c.acc / np.linalg.norm(c.acc, axis=1)[:, None]
    flags, ranges = [], []
    for s in sim.labels["sets"]:
        for r in s["rep_detail"]:
            sel = (c.t >= r["start_s"]) & (c.t <= r["end_s"])
            u = up[sel]
            ranges.append(np.degrees(np.arccos(np.clip(u @ u[0], -1, 1))).max())
            flags.append(r["partial"])
    ranges_a, flags_a = np.array(ranges), np.array(flags)
    assert flags_a.any() and not flags_a.all()
    med = np.median(ranges_a)
    assert (ranges_a[flags_a] < 0.6 * med).all()
    assert (ranges_a[~flags_a] > 0.8 * med).all()


def test_fatigue_slows_the_concentric() -> None:
    sim = SimulatedSession(exercise="hip_thrust", sets=1, reps=10, fatigue=0.6, seed=4)
    conc = [r["concentric_s"] for r in sim.labels["sets"][0]["rep_detail"]]
    assert np.mean(conc[-3:]) > 1.3 * np.mean(conc[:3])


def test_explosive_tempo() -> None:
    sim = SimulatedSession(exercise="hip_thrust", sets=1, reps=4, tempo="2-0-X-1", seed=4)
    conc = [r["concentric_s"] for r in sim.labels["sets"][0]["rep_detail"]]
    assert max(conc) < 0.7
