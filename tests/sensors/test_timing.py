"""Sample-time reconstruction: clock fit, drift, counters, arrival-only sensors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repsense.sensors.timing import ArrivalTimer, ClockSync, CounterTimer, TimestampTimer


def ble_arrivals(sample_t: np.ndarray, rng, ci=0.0075, jitter=0.004, stall_p=0.01):
    """Arrival at the next connection event plus exponential delay and rare stalls."""
    events = np.ceil(sample_t / ci) * ci
    delay = rng.exponential(jitter, sample_t.size)
    delay += np.where(rng.random(sample_t.size) < stall_p, rng.uniform(0.05, 0.3, sample_t.size), 0)
    return np.maximum.accumulate(events + 0.002 + delay)


@pytest.mark.parametrize("ppm", [-400.0, 0.0, 150.0])
def test_clock_sync_estimates_drift_from_jittery_arrivals(ppm):
    rng = np.random.default_rng(3)
    sensor = np.arange(0, 90, 0.2)  # one notification per 200 ms of sensor time
    host_true = 50.0 + sensor * (1 + ppm * 1e-6)
    arrival = ble_arrivals(host_true, rng)
    sync = ClockSync()
    for x, y in zip(sensor, arrival, strict=True):
        sync.add(x, y)
    assert sync.drift_ppm == pytest.approx(ppm, abs=40)
    mapped = sync.to_host(sensor[-50:])
    # The map sits on the lower envelope: a constant latency, tiny scatter.
    err = mapped - host_true[-50:]
    assert np.ptp(err) < 0.002
    assert 0 <= np.median(err) < 0.012


def test_clock_sync_needs_span_before_estimating_drift():
    sync = ClockSync(min_span_s=2.0)
    for i in range(10):
        sync.add(i * 0.1, 5 + i * 0.1)
    assert sync.drift_ppm is None and sync.scale == 1.0


def test_counter_timer_wrap_loss_and_duplicates():
    tm = CounterTimer(100.0, bits=16)
    b = tm.times(65530, 4, 1.0)
    assert b.lost == 0 and len(b.t) == 4
    b = tm.times(65534, 4, 1.04)  # wraps to 2
    assert b.lost == 0
    b = tm.times(5, 2, 1.07)  # counter 2..4 missing
    assert b.lost == 3
    assert b.t[0] - tm._last_t == pytest.approx(-0.01)  # noqa: SLF001 - spacing kept
    dup = tm.times(5, 2, 1.08)
    assert dup.rejected and len(dup.t) == 0


def test_counter_timer_output_is_monotonic_under_bursts():
    rng = np.random.default_rng(0)
    tm = CounterTimer(208.0)
    k = np.arange(0, 208 * 30, 10)
    arr = ble_arrivals(k / 208.0 + 9 / 208.0, rng, ci=0.03, stall_p=0.05)
    ts = np.concatenate([tm.times(int(c) % 65536, 10, a).t for c, a in zip(k, arr, strict=True)])
    d = np.diff(ts)
    assert (d > 0).all()
    # Steady state: spacing is the sample period; fit corrections are slewed in at
    # most 0.5 % of elapsed time, so no spacing is off by more than a few percent.
    late = d[len(d) // 2 :]
    assert np.allclose(late, 1 / 208, rtol=0.06)
    assert np.mean(late) == pytest.approx(1 / 208, rel=1e-3)


def test_timestamp_timer_spreads_and_detects_gap():
    tm = TimestampTimer(50.0)
    b1 = tm.times(100.0, 5, 3.0)
    np.testing.assert_allclose(np.diff(b1.t), 0.02)
    b2 = tm.times(100.1, 5, 3.1)
    assert b2.lost == 0
    b3 = tm.times(100.3, 5, 3.3)  # 0.2 s for 5 samples: 5 lost
    assert b3.lost == 5
    np.testing.assert_allclose(b3.sensor_s, 100.3 - 0.02 * np.arange(4, -1, -1))


def test_arrival_timer_fits_true_rate_and_ignores_short_stalls():
    rng = np.random.default_rng(5)
    true_rate = 99.0  # nominal 100: a 1 % slow module
    n = 99 * 40
    st = np.arange(n) / true_rate
    arr = ble_arrivals(st, rng, ci=0.015, stall_p=0.02)
    tm = ArrivalTimer(100.0)
    blocks = [tm.times(1, a) for a in arr]
    assert sum(b.lost for b in blocks) == 0
    t = np.concatenate([b.t for b in blocks])
    assert np.mean(np.diff(t[-1000:])) == pytest.approx(1 / true_rate, rel=2e-3)
    assert tm.sync.drift_ppm == pytest.approx((100 / 99 - 1) * 1e6, abs=500)


def test_arrival_timer_reports_long_silence():
    tm = ArrivalTimer(50.0)
    for i in range(500):
        tm.times(1, 10 + i / 50 + 0.01)
    b = tm.times(1, 10 + 600 / 50 + 0.01)  # samples 500..599 never came
    assert b.lost == pytest.approx(100, abs=1)


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        ArrivalTimer(0)


steps = st.lists(
    st.tuples(st.integers(0, 70_000), st.integers(1, 40), st.floats(0, 5, allow_nan=False)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=120, deadline=None)
@given(steps=steps)
def test_counter_timer_never_raises_and_never_goes_back(steps):
    tm = CounterTimer(104.0)
    last = -np.inf
    arrival = 100.0
    for counter, n, dt in steps:
        arrival += dt
        b = tm.times(counter % 65536, n, arrival)
        assert b.lost >= 0
        if b.rejected:
            assert len(b.t) == 0
            continue
        assert len(b.t) == n and np.isfinite(b.t).all()
        assert b.t[0] > last and (np.diff(b.t) > 0).all()
        last = b.t[-1]


@settings(max_examples=120, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.floats(-10, 10, allow_nan=False), st.integers(1, 40), st.floats(0, 3)),
        min_size=1,
        max_size=60,
    )
)
def test_timestamp_and_arrival_timers_never_go_back(steps):
    ts_timer, arr_timer = TimestampTimer(50.0), ArrivalTimer(50.0)
    ts, arrival = 1e9, 10.0
    last_ts = last_arr = -np.inf
    for jump, n, dt in steps:
        ts += jump
        arrival += dt
        b = ts_timer.times(ts, n, arrival)
        if not b.rejected:
            assert len(b.t) == n and b.t[0] > last_ts and (np.diff(b.t) > 0).all()
            last_ts = b.t[-1]
        a = arr_timer.times(n, arrival)
        assert len(a.t) == n and a.t[0] > last_arr and (np.diff(a.t) > 0).all()
        last_arr = a.t[-1]
