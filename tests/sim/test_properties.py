"""Any valid combination of options gives a sane recording with consistent labels."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repsense.sim import SimulatedSession, variants

VARIANTS = [(ex, v) for ex, vs in variants().items() for v in vs]
PHASE = st.sampled_from(["X", "0", "0.5", "1", "2", "4"])
MOVE = st.sampled_from(["X", "0.5", "1", "2", "4"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ex_var=st.sampled_from(VARIANTS),
    placement=st.sampled_from(["thigh", "shank"]),
    sets=st.integers(1, 2),
    reps=st.integers(1, 3),
    tempo=st.tuples(MOVE, PHASE, MOVE, PHASE),
    rest=st.floats(5, 25),
    nuisance=st.sampled_from(["none", "rest", "full"]),
    rate=st.sampled_from([10.0, 26.0, 50.0, 104.0, 400.0]),
    accel_only=st.booleans(),
    partial=st.sampled_from([0.0, 0.5]),
    seed=st.integers(0, 2**31),
)
def test_any_session_is_sane(ex_var: tuple[str, str], placement: str, sets: int, reps: int,
                             tempo: tuple[str, ...], rest: float, nuisance: str, rate: float,
                             accel_only: bool, partial: float, seed: int) -> None:
    exercise, variant = ex_var
    sim = SimulatedSession(
        exercise=exercise, variant=variant, placement=placement, sets=sets, reps=reps,
        tempo="-".join(tempo), rest_s=rest, nuisance=nuisance, rate_hz=rate,
        accel_only=accel_only, partial_prob=partial, seed=seed,
    )
    c = sim.sample()
    assert (np.diff(c.t) > 0).all()
    assert abs(len(c) - sim.duration_s * rate) <= 2
    assert np.isfinite(c.acc).all() and np.abs(c.acc).max() <= 8.0
    assert (c.gyr is None) == accel_only
    if c.gyr is not None:
        assert np.isfinite(c.gyr).all() and np.abs(c.gyr).max() <= 1000.0
    labels = sim.labels["sets"]
    assert [s["reps"] for s in labels] == [reps] * sets
    prev = 0.0
    for s in labels:
        assert s["exercise"] == exercise and s["placement"] == placement
        for r in s["rep_detail"]:
            assert prev <= r["start_s"] < r["end_s"] <= sim.duration_s
            prev = r["end_s"]
    # a still sensor reads about 1 g: the first second of every recording is rest
    first = c.acc[: max(2, int(rate))]
    assert abs(np.linalg.norm(first, axis=1).mean() - 1.0) < 0.1
