"""A gyroscope's zero-rate offset is learned while the sensor is still and taken off."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from repsense.analysis import analyze_recording
from repsense.dsp.gyro_bias import GyroBias

from .synth import make

OFFSET = np.array([12.0, -7.0, 4.0])
RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"


def push_all(bias: GyroBias, acc: np.ndarray, gyr: np.ndarray, sizes: list[int]) -> np.ndarray:
    out, i, k = [], 0, 0
    while i < len(acc):
        j = min(len(acc), i + sizes[k % len(sizes)])
        out.append(bias.push(acc[i:j], gyr[i:j]))
        i, k = j, k + 1
    return np.concatenate(out)


def test_the_offset_seen_at_rest_is_taken_off_from_the_next_window_on() -> None:
    chunk, sched = make(sets=1, reps=4, rate=50.0, seed=3,
                        mount=Rotation.random(random_state=3))
    assert chunk.gyr is not None
    bias = GyroBias(50.0)
    out = bias.push(chunk.acc, chunk.gyr + OFFSET)
    np.testing.assert_allclose(bias.bias_, OFFSET, atol=0.2)
    # The first window (50 samples) went out as it came; from then on the offset is off.
    np.testing.assert_allclose(out[:50], chunk.gyr[:50] + OFFSET)
    assert np.abs(out[50:] - chunk.gyr[50:]).max() < 0.3
    # The reps (turning, so no evidence) did not move it.
    first_rep = int(np.searchsorted(chunk.t, sched[0][0]))
    assert np.abs(out[first_rep:] - chunk.gyr[first_rep:]).max() < 0.3


def test_a_segment_turning_slowly_teaches_no_offset() -> None:
    """Turning steadily at 3 deg/s about a horizontal axis reads like an offset to the
    gyroscope alone; the accelerometer's readings spread as gravity turns."""
    rate = 50.0
    t = np.arange(0.0, 20.0, 1.0 / rate)
    angle = np.radians(3.0 * t)
    acc = np.column_stack([np.zeros_like(t), np.sin(angle), np.cos(angle)])
    gyr = np.tile([-3.0, 0.0, 0.0], (t.size, 1)) + np.random.default_rng(0).normal(
        0.0, 0.3, (t.size, 3))
    bias = GyroBias(rate)
    out = bias.push(acc, gyr)
    assert bias.still_windows_ == 0
    np.testing.assert_array_equal(out, gyr)


def test_how_the_stream_is_chunked_changes_nothing() -> None:
    chunk, _ = make(sets=2, reps=3, rate=100.0, seed=5, mount=Rotation.random(random_state=5))
    assert chunk.gyr is not None
    gyr = chunk.gyr + OFFSET
    whole = GyroBias(100.0).push(chunk.acc, gyr)
    for sizes in ([1], [7, 130, 3], [999]):
        np.testing.assert_array_equal(push_all(GyroBias(100.0), chunk.acc, gyr, sizes), whole)


def test_a_gyroscope_that_never_changes_is_left_as_it_reads() -> None:
    """A stuck or switched-off gyroscope is the gyroscope check's to find and leave out."""
    chunk, _ = make(sets=1, reps=3, seed=2)
    stuck = np.tile([333.3, 12.1, -7.7], (len(chunk), 1))  # rounding leaves 1e-5 of spread
    bias = GyroBias(50.0)
    np.testing.assert_array_equal(bias.push(chunk.acc, stuck), stuck)
    assert bias.still_windows_ == 0


@pytest.mark.parametrize("way", [(1, 0, 0), (0, -1, 0), (0, 0, 1), (-1, 1, 1)])
def test_a_leg_raise_read_through_an_offset_gyroscope_is_no_deadlift(way, tmp_path) -> None:
    """15 deg/s of offset (an MPU-6050 allows 20) made the lever-arm fit name a thigh's
    straight-leg raise a Romanian deadlift, whichever way it pointed, and now and then
    made the gyroscope check swap a right gyroscope's axes."""
    src = RECORDINGS / "generic_leg_raise_thigh_25hz.csv"
    data = np.loadtxt(src, delimiter=",", skiprows=1)
    data[:, 4:7] += 15.0 * np.asarray(way, float) / np.linalg.norm(way)
    offset = tmp_path / src.name
    header = src.read_text().splitlines()[0]
    np.savetxt(offset, data, delimiter=",", header=header, comments="", fmt="%.6f")
    shutil.copy(src.with_suffix(".json"), offset.with_suffix(".json"))
    right, read = analyze_recording(src), analyze_recording(offset)
    assert [(len(s["reps"]), s["exercise"]) for s in read["sets"]] == [
        (len(s["reps"]), s["exercise"]) for s in right["sets"]] == [(8, "generic")] * 2
    assert not [w for w in read["warnings"] if w["code"] == "gyro_axes"]
