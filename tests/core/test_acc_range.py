"""The accelerometer range check finds a range decoded wrongly and undoes it."""

from __future__ import annotations

import numpy as np
import pytest

from repsense.analysis import analyze_recording
from repsense.dsp.acc_range import AccRangeCheck
from repsense.events import SetEnd, Warning
from repsense.pipeline import Pipeline
from repsense.samples import SampleChunk
from repsense.sim import SimulatedSession


def _session(seed: int = 3, accel_only: bool = False) -> SampleChunk:
    return SimulatedSession(exercise="romanian_deadlift", variant="standard", placement="thigh",
                            sets=2, reps=6, rest_s=30.0, rate_hz=50.0, seed=seed,
                            accel_only=accel_only).sample()


def _ends(events: list) -> list[tuple[str, int]]:
    return [(e.exercise, len(e.reps)) for e in events if isinstance(e, SetEnd)]


@pytest.mark.parametrize("factor", [2.0, 4.0, 0.5, 0.25])
def test_a_range_mix_up_is_found_and_undone(factor: float) -> None:
    chunk = _session()
    check = AccRangeCheck(50.0)
    out, at = check.push(chunk.t, chunk.acc * factor)
    assert check.finding_ is not None and check.finding_.factor == factor
    assert check.finding_.time_s == pytest.approx(float(chunk.t[at]))
    assert at < 100  # within the first two seconds: the session begins at rest
    assert np.allclose(out[at:], chunk.acc[at:])
    assert "range was decoded wrongly" in check.finding_.message


@pytest.mark.parametrize("scale", [1.0, 1.05, 0.93, 1.4, 1.27])
def test_calibrated_and_uncalibrated_accelerometers_are_left_alone(scale: float) -> None:
    """1.4 g is an uncalibrated sensor (a real ESP32 recorder read 1.27-1.49 g), not
    a range: no power of two explains it."""
    chunk = _session()
    check = AccRangeCheck(50.0)
    out, at = check.push(chunk.t, chunk.acc * scale)
    assert check.decided_ and check.finding_ is None and at == len(chunk)
    assert np.array_equal(out, chunk.acc * scale)


@pytest.mark.parametrize("accel_only", [False, True])
def test_a_live_stream_counts_as_the_right_one_after_the_finding(accel_only: bool) -> None:
    """Read twice too large, a session with a gyroscope carried gravity by the gyroscope
    from the first sample on; now it counts and names as the right one, and says once
    why, between the samples before and after the correction, however it is chunked."""
    chunk = _session(accel_only=accel_only)
    wrong = SampleChunk(chunk.t, chunk.acc * 2.0, chunk.gyr)
    right = Pipeline(sample_rate_hz=50.0, placement="thigh")
    want = _ends(right.push(chunk) + right.finish())
    assert [n for _, n in want] == [6, 6]
    runs = []
    for size in (10**9, 1, 37):
        p = Pipeline(sample_rate_hz=50.0, placement="thigh")
        events = [e for k in range(0, len(wrong), size) for e in p.push(wrong.slice(k, k + size))]
        events += p.finish()
        runs.append([e.to_dict() for e in events])
        (w,) = [e for e in events if isinstance(e, Warning) and e.code == "acc_range"]
        assert "divided by 2" in w.message
        assert _ends(events) == want
    assert runs[0] == runs[1] == runs[2]


def test_analyze_goes_through_the_recording_again_with_the_correction(tmp_path) -> None:
    chunk = _session()
    path = tmp_path / "wrong.csv"
    assert chunk.gyr is not None
    np.savetxt(path, np.column_stack([chunk.t, chunk.acc * 4.0, chunk.gyr]), delimiter=",",
               fmt="%.6f", comments="",
               header="time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps")
    right = tmp_path / "right.csv"
    np.savetxt(right, np.column_stack([chunk.t, chunk.acc, chunk.gyr]), delimiter=",",
               fmt="%.6f", comments="",
               header="time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps")
    got, want = analyze_recording(path), analyze_recording(right)
    assert got["sets"] == want["sets"] and len(want["sets"]) == 2
    (w,) = [w for w in got["warnings"] if w["code"] == "acc_range"]
    assert w["time_s"] == pytest.approx(float(chunk.t[0]), abs=0.001)
    assert "from the first sample" in w["message"] and "divided by 4" in w["message"]
