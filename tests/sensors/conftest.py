"""Shared helpers for the sensor protocol tests: a tiny simulated BLE link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from repsense.samples import SampleChunk
from repsense.sensors.base import DecodeProblem, SensorDriver, SensorEncoder


def motion(rate_hz: float, duration_s: float, seed: int = 0) -> SampleChunk:
    """Leg-curl-ish synthetic IMU data on the sensor's clock (t from 0)."""
    n = int(round(rate_hz * duration_s))
    t = np.arange(n) / rate_hz
    rng = np.random.default_rng(seed)
    ang = 0.9 * (1 - np.cos(2 * np.pi * t / 3.0)) / 2
    acc = np.column_stack([np.sin(ang), 0.05 * np.sin(7 * t), np.cos(ang)]) + rng.normal(
        0, 0.01, (n, 3)
    )
    gyr = np.column_stack(
        [np.degrees(np.gradient(ang, t)), 5 * np.sin(3 * t), -3 * np.cos(2 * t)]
    ) + rng.normal(0, 0.5, (n, 3))
    return SampleChunk(t, acc, gyr)


@dataclass
class LinkResult:
    chunk: SampleChunk
    problems: list[DecodeProblem]
    notes: list[tuple[float, str, bytes]] = field(default_factory=list)
    sent_samples: int = 0
    dropped_samples: int = 0


def run_link(
    encoder: SensorEncoder,
    driver: SensorDriver,
    data: SampleChunk,
    *,
    conn_interval_s: float = 0.0075,
    jitter_s: float = 0.004,
    drop: Callable[[int, bytes], bool] | None = None,
    host_offset_s: float = 1000.0,
    seed: int = 1,
) -> LinkResult:
    """Configure ``driver`` against ``encoder`` and stream ``data`` through them.

    Samples are handed to the encoder one connection interval at a time; each
    notification "arrives" at the end of its interval plus random latency.
    ``drop(i, payload)`` True drops notification ``i`` (a lost packet).
    """
    rng = np.random.default_rng(seed)
    for c in driver.notify_uuids:
        encoder.on_subscribe(c)
    for w in driver.configure(driver.rate_hz):
        for note in encoder.on_write(w.char, w.data):
            res = driver.decode(note.char, note.data, host_offset_s)
            assert not res.problems, res.problems
    t = data.t
    edges = np.searchsorted(t, np.arange(t[0], t[-1] + 2 * conn_interval_s, conn_interval_s))
    outs: list[SampleChunk] = []
    problems: list[DecodeProblem] = []
    notes: list[tuple[float, str, bytes]] = []
    i = 0
    sent = dropped = 0
    last_arrival = -np.inf
    for s, e in zip(edges[:-1], edges[1:], strict=True):
        if e <= s:
            continue
        ev_end = t[e - 1] + conn_interval_s
        for note in encoder.encode(data.slice(s, e)):
            arrival = max(last_arrival, host_offset_s + ev_end + rng.exponential(jitter_s))
            last_arrival = arrival
            if drop is not None and drop(i, note.data):
                i += 1
                dropped += 1
                continue
            i += 1
            sent += 1
            notes.append((arrival, note.char, note.data))
            res = driver.decode(note.char, note.data, arrival)
            problems += res.problems
            if res.chunk is not None:
                outs.append(res.chunk)
    return LinkResult(SampleChunk.concat(outs), problems, notes, sent, dropped)


@pytest.fixture
def link() -> Callable[..., LinkResult]:
    return run_link


@pytest.fixture
def imu() -> Callable[..., SampleChunk]:
    return motion
