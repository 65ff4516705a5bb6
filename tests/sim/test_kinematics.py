"""Physics of the simulator: gravity, mounting, and gyro integration agree with the pose."""

from __future__ import annotations

import numpy as np
import pytest

from repsense.sim import SimulatedSession
from repsense.sim.leg import (
    Body,
    LegPose,
    derive_imu,
    random_rotation,
    rotvec_to_matrix,
    segment_rotation,
    sensor_pose,
)
from repsense.sim.trajectories import minimum_jerk

FS = 400.0


def _still(n: int, phi_t: float, phi_s: float) -> LegPose:
    return LegPose(np.full(n, phi_t), np.full(n, phi_s), np.zeros(n), np.tile([0, 0, 0.9], (n, 1)))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("placement", ["thigh", "shank"])
def test_still_sensor_reads_one_g_up_and_no_rotation(seed: int, placement: str) -> None:
    rng = np.random.default_rng(seed)
    case = random_rotation(rng)
    pose = _still(200, rng.uniform(-120, 140), rng.uniform(-120, 140))
    pos, site = sensor_pose(pose, placement, Body(), alpha_deg=rng.uniform(-90, 90))
    rot = site @ case
    acc, gyr = derive_imu(pos, rot, FS, sta=None)
    np.testing.assert_allclose(np.linalg.norm(acc, axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(gyr, 0.0, atol=1e-9)
    # specific force is the world's "up" seen through the mounting
    expected = rot[0].T @ np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(acc, np.tile(expected, (200, 1)), atol=1e-9)


def test_session_at_rest_matches_gravity_through_the_mounting() -> None:
    sim = SimulatedSession(exercise="leg_curl", placement="shank", sets=1, reps=2, seed=4,
                           ideal=True, nuisance="none")
    chunk = sim.sample()
    first = sim.labels["sets"][0]["start_s"]
    rest = chunk.t < first - 0.5
    st = sim._initial
    pose = _still(1, st.phi_t, st.phi_s)
    _, site = sensor_pose(pose, "shank", sim.body, sim.alpha)
    up = (site[0] @ st.case).T @ np.array([0.0, 0.0, 1.0])
    # before the first rep the leg eases into its rest pose; compare at the very start
    np.testing.assert_allclose(chunk.acc[:20], np.tile(up, (20, 1)), atol=2e-3)
    np.testing.assert_allclose(np.linalg.norm(chunk.acc[rest], axis=1), 1.0, atol=0.02)


def test_integrated_gyro_matches_the_orientation_change() -> None:
    n = int(3 * FS)
    t = np.arange(n) / FS
    s = minimum_jerk((t - 0.5) / 2.0)
    phi = 10 + 100 * s
    psi = 30 * s  # turning round the vertical at the same time
    wobble = np.column_stack([0.1 * np.sin(2 * np.pi * t), 0.05 * np.cos(3 * t), 0.2 * s])
    case = random_rotation(np.random.default_rng(7))
    rot = segment_rotation(phi, psi) @ rotvec_to_matrix(wobble) @ case
    pos = np.zeros((n, 3))
    _, gyr = derive_imu(pos, rot, FS, sta=None)
    r = rot[0].copy()
    w = np.radians(gyr)
    for k in range(n - 1):  # integrate body rates with the midpoint rule
        mid = 0.5 * (w[k] + w[k + 1]) / FS
        r = r @ rotvec_to_matrix(mid[None, :])[0]
    err = np.degrees(np.arccos(np.clip((np.trace(r.T @ rot[-1]) - 1) / 2, -1, 1)))
    assert err < 0.2
    total = np.degrees(np.arccos(np.clip((np.trace(rot[0].T @ rot[-1]) - 1) / 2, -1, 1)))
    assert total > 90  # a real rotation was integrated


def test_rep_turns_the_segment_by_the_exercise_range() -> None:
    sim = SimulatedSession(exercise="leg_curl", variant="seated", placement="shank", sets=1,
                           reps=3, tempo="2-1-1-1", seed=2, ideal=True, nuisance="none")
    c = sim.sample()
    reps = sim.labels["sets"][0]["rep_detail"]
    spec_range = 105.0  # seated curl: knee 10° → 115°
    for r in reps:
        near = c.acc[np.searchsorted(c.t, r["start_s"]) - 1]
        far_t = r["start_s"] + r["concentric_s"] + r["top_pause_s"] / 2
        far = c.acc[np.searchsorted(c.t, far_t)]
        ang = np.degrees(np.arccos(np.dot(near, far) / np.linalg.norm(near) / np.linalg.norm(far)))
        assert 0.88 * spec_range < ang < 1.12 * spec_range


def test_walking_has_heel_strikes_and_turns() -> None:
    sim = SimulatedSession(exercise="deadlift", placement="shank", sets=2, reps=2, rest_s=60,
                           seed=3, nuisance="full")
    walks = [b for b in sim.blocks if b.kind == "walk"]
    assert walks, "full nuisance with 60 s rest walks about"
    c = sim.sample()
    w = walks[0]
    sel = (c.t > w.t0 + 2) & (c.t < w.t1 - 2)
    assert np.linalg.norm(c.acc[sel], axis=1).max() > 2.0  # shank heel strikes
    # turning round shows up as rotation about the vertical
    up = c.acc[sel] / np.linalg.norm(c.acc[sel], axis=1)[:, None]
    yaw_rate = np.abs(np.einsum("ij,ij->i", c.gyr[sel], up))
    assert yaw_rate.max() > 60
