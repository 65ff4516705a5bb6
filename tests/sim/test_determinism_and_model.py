"""Seeds, chunking, rates, accelerometer-only output and the LSM6DS3 error model."""

from __future__ import annotations

import numpy as np
import pytest

from repsense.samples import SampleChunk
from repsense.sim import SimulatedSession
from repsense.sim.imu_model import ACC_LSB_G, GYR_LSB_DPS, ImuConfig, ImuModel


def _sim(**kw: object) -> SimulatedSession:
    base = dict(exercise="glute_bridge", sets=2, reps=3, rest_s=20, nuisance="full")
    base.update(kw)
    return SimulatedSession(**base)  # type: ignore[arg-type]


def test_same_seed_same_output_and_labels() -> None:
    a, b = _sim(seed=9), _sim(seed=9)
    ca, cb = a.sample(), b.sample()
    np.testing.assert_array_equal(ca.t, cb.t)
    np.testing.assert_array_equal(ca.acc, cb.acc)
    np.testing.assert_array_equal(ca.gyr, cb.gyr)
    assert a.labels == b.labels


def test_other_seed_other_output() -> None:
    ca, cb = _sim(seed=1).sample(), _sim(seed=2).sample()
    n = min(len(ca), len(cb))
    assert not np.allclose(ca.acc[:n], cb.acc[:n])


def test_output_does_not_depend_on_chunk_size() -> None:
    sim = _sim(seed=3)
    small = SampleChunk.concat(list(sim.chunks(chunk_s=0.1)))
    big = SampleChunk.concat(list(sim.chunks(chunk_s=7.3)))
    np.testing.assert_array_equal(small.acc, big.acc)
    assert all(len(c) == 5 for c in list(sim.chunks(chunk_s=0.1))[:-1])


@pytest.mark.parametrize("rate", [10.0, 400.0])
def test_rates(rate: float) -> None:
    sim = _sim(seed=4, rate_hz=rate, sets=1, reps=2)
    c = sim.sample()
    dt = np.diff(c.t)
    np.testing.assert_allclose(dt, 1 / rate, rtol=1e-9)
    assert len(c) == pytest.approx(sim.duration_s * rate, abs=2)
    assert np.linalg.norm(c.acc, axis=1).mean() == pytest.approx(1.0, abs=0.08)


def test_accel_only() -> None:
    sim = _sim(seed=5, accel_only=True, sets=1, reps=2)
    chunks = list(sim.chunks(1.0))
    assert all(c.gyr is None for c in chunks)
    assert not sim.has_gyro
    assert sim.meta["simulator"]["accel_only"] is True


def test_timestamp_jitter_keeps_time_increasing() -> None:
    c = _sim(seed=6, jitter_ms=5, sets=1, reps=2).sample()
    dt = np.diff(c.t)
    assert (dt > 0).all()
    assert dt.std() > 1e-3


def test_imu_quantises_clips_and_adds_datasheet_noise() -> None:
    rng = np.random.default_rng(0)
    cfg = ImuConfig(rate_hz=50, acc_range_g=8, gyr_range_dps=1000)
    imu = ImuModel(cfg, internal_hz=400, rng=rng)
    n_out = 500
    acc = np.tile([0.0, 0.0, 1.0], (n_out * imu.step, 1))
    acc[2000:2100, 0] = 20.0  # a hard knock beyond the full scale
    gyr = np.zeros((n_out * imu.step, 3))
    t = np.arange(n_out) / 50
    a, g = imu.process(t, acc, gyr)
    assert g is not None
    lsb = ACC_LSB_G[8]
    np.testing.assert_allclose(a / lsb, np.round(a / lsb), atol=1e-6)
    np.testing.assert_allclose(g / GYR_LSB_DPS[1000], np.round(g / GYR_LSB_DPS[1000]),
                               atol=1e-6)
    assert np.abs(a).max() <= 8.0 + 1e-9
    assert a[:, 0].max() == pytest.approx(32767 * lsb, abs=1e-9)  # saturated register
    quiet = a[:200]
    # offset is at most a few tens of mg, white noise ~ 90 ug/sqrt(Hz) * sqrt(25 Hz)
    assert np.abs(quiet.mean(axis=0) - [0, 0, 1]).max() < 0.1
    assert 0.1e-3 < quiet.std(axis=0).mean() < 2e-3


def test_ideal_mode_has_no_errors() -> None:
    c = SimulatedSession(exercise="leg_curl", sets=1, reps=1, ideal=True, seed=1).sample()
    np.testing.assert_allclose(np.linalg.norm(c.acc[:50], axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(c.gyr[:50], 0.0, atol=1e-6)
