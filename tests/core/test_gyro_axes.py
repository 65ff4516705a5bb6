"""The gyroscope check finds flipped or swapped axes and wrong units, and leaves a good one be."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from repsense.analysis import analyze_recording
from repsense.dsp.gyro_axes import GyroAxesCheck
from repsense.samples import SampleChunk

from .synth import make

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
FLIP_Y = np.diag([1.0, -1.0, 1.0])
SWAP_XZ = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
WRONGS = {
    "flipped y": FLIP_Y,
    "x and z swapped": SWAP_XZ,
    "rad/s": np.eye(3) * math.pi / 180.0,
    "range 1/16": np.eye(3) * 16.0,
    "range 8x": np.eye(3) / 8.0,  # set to +-2000 deg/s, decoded as +-250
    "swapped and rad/s": SWAP_XZ * math.pi / 180.0,
}


def wronged(chunk: SampleChunk, wrong: np.ndarray) -> SampleChunk:
    assert chunk.gyr is not None
    return SampleChunk(chunk.t, chunk.acc, chunk.gyr @ wrong.T)


def check_all(chunk: SampleChunk, rate: float, sizes: list[int] | None = None
              ) -> tuple[GyroAxesCheck, np.ndarray]:
    check = GyroAxesCheck(rate)
    assert chunk.gyr is not None
    if sizes is None:
        return check, check.push(chunk.t, chunk.acc, chunk.gyr)[0]
    out, i, k = [], 0, 0
    while i < len(chunk):
        j = min(len(chunk), i + sizes[k % len(sizes)])
        out.append(check.push(chunk.t[i:j], chunk.acc[i:j], chunk.gyr[i:j])[0])
        i, k = j, k + 1
    return check, np.concatenate(out)


@pytest.mark.parametrize("seed", range(3))
def test_a_gyroscope_that_agrees_is_left_alone(seed: int) -> None:
    chunk, _ = make(sets=2, reps=5, mount=Rotation.random(random_state=seed), seed=seed)
    check, out = check_all(chunk, 50.0)
    assert check.decided_ and check.looks_ >= 1 and check.finding_ is None
    assert np.array_equal(out, chunk.gyr)


@pytest.mark.parametrize("name", list(WRONGS))
# Mountings whose movement axis the errors turn away from the tilt's own: the tilt
# cannot see an error along the up vector (about which the segment does not turn).
@pytest.mark.parametrize("seed", [1, 10, 15])
def test_wrong_axes_and_units_are_found_and_undone(name: str, seed: int) -> None:
    chunk, _ = make(sets=2, reps=5, mount=Rotation.random(random_state=seed), seed=seed)
    wrong = WRONGS[name]
    check, out = check_all(wronged(chunk, wrong), 50.0)
    finding = check.finding_
    assert finding is not None
    assert np.allclose(finding.matrix @ wrong, np.eye(3), atol=1e-9)
    assert finding.unexplained_after < 0.1
    # from the first corrected sample on, the gyroscope reads as it should
    first = int(np.searchsorted(chunk.t, finding.time_s))
    assert np.allclose(out[first:], chunk.gyr[first:])
    assert np.allclose(out[:first], (chunk.gyr @ wrong.T)[:first])
    assert "\n" not in finding.message and "corrected from" in finding.message


def test_a_flip_of_an_axis_the_movement_does_not_use_changes_nothing() -> None:
    """Turning about an axis 3° from the sensor's x-z plane, a flipped y hardly shows."""
    chunk, _ = make(sets=2, reps=5, mount=Rotation.random(random_state=12), seed=1)
    check, out = check_all(wronged(chunk, FLIP_Y), 50.0)
    assert check.decided_ and check.looks_ >= 1 and check.finding_ is None


def test_tilt_seen_through_impacts_is_no_evidence() -> None:
    """A walk's heel strikes average out to 1 g over a block, but the block means then
    carry the limb's own acceleration: on a real shank walk they "fitted" swapped axes
    to a right gyroscope.  Blocks whose readings scatter like that are not weighed."""
    chunk, _ = make(sets=2, reps=5, mount=Rotation.random(random_state=15), seed=15)
    bad = wronged(chunk, SWAP_XZ)
    clean, _ = check_all(bad, 50.0)
    assert clean.finding_ is not None  # the same swap, seen without impacts
    # Every other sample 40 % harder or softer: each 10-sample block's mean is as before,
    # the readings' size scatters by 0.4 g inside it.
    jolt = np.where(np.arange(len(bad)) % 2 == 0, 1.4, 0.6)[:, None]
    jolted = SampleChunk(bad.t, bad.acc * jolt, bad.gyr)
    check, out = check_all(jolted, 50.0)
    assert check.finding_ is None and not check.decided_
    assert np.array_equal(out, jolted.gyr)


def test_how_the_stream_is_chunked_does_not_move_the_correction() -> None:
    chunk, _ = make(sets=2, reps=5, mount=Rotation.random(random_state=4), rate=40.0)
    bad = wronged(chunk, SWAP_XZ)
    whole, out = check_all(bad, 40.0)
    for sizes in ([1], [7, 3, 50], [333]):
        parts, out_p = check_all(bad, 40.0, sizes)
        assert parts.finding_ is not None and whole.finding_ is not None
        assert parts.finding_.time_s == whole.finding_.time_s
        assert np.array_equal(out_p, out)


def write_csv(path, chunk: SampleChunk) -> None:
    assert chunk.gyr is not None
    data = np.column_stack([chunk.t, chunk.acc, chunk.gyr])
    np.savetxt(path, data, delimiter=",", fmt="%.9f",
               header="time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps",
               comments="")
    path.with_suffix(".json").write_text(json.dumps({"sample_rate_hz": 50.0}))


def test_analyze_counts_a_recording_with_swapped_gyro_axes_as_the_right_one(tmp_path) -> None:
    """A whole recording is analysed again with the correction from its first sample:
    the sets come out exactly as from the right gyroscope, with a warning that says why."""
    chunk, _ = make(sets=3, reps=6, mount=Rotation.random(random_state=7), seed=7)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    write_csv(good, chunk)
    write_csv(bad, wronged(chunk, SWAP_XZ))
    right = analyze_recording(good)
    fixed = analyze_recording(bad)
    assert [len(s["reps"]) for s in right["sets"]] == [6, 6, 6]
    assert fixed["sets"] == right["sets"]
    assert not [w for w in right["warnings"] if w["code"] == "gyro_axes"]
    (warning,) = [w for w in fixed["warnings"] if w["code"] == "gyro_axes"]
    assert warning["time_s"] == pytest.approx(float(chunk.t[0]))
    assert "(z, y, x)" in warning["message"]


def test_a_live_stream_warns_once_between_the_samples_before_and_after() -> None:
    from repsense.pipeline import Pipeline

    chunk, _ = make(sets=2, reps=5, mount=Rotation.random(random_state=1), seed=5)
    bad = wronged(chunk, FLIP_Y)

    def events(sizes: list[int] | None) -> list[dict]:
        p = Pipeline(sample_rate_hz=50.0)
        out = []
        if sizes is None:
            out += p.push(bad)
        else:
            i, k = 0, 0
            while i < len(bad):
                out += p.push(bad.slice(i, i + sizes[k % len(sizes)]))
                i, k = i + sizes[k % len(sizes)], k + 1
        return [e.to_dict() for e in out + p.finish()]

    whole = events(None)
    warnings = [e for e in whole if e["type"] == "warning" and e["code"] == "gyro_axes"]
    assert len(warnings) == 1
    for sizes in ([1], [13, 250]):
        assert events(sizes) == whole


def test_a_gyroscope_unrelated_to_the_tilt_is_left_alone() -> None:
    """Nothing fits (every scale comes out negative or useless): no correction, no crash."""
    chunk, _ = make(sets=2, reps=5, mount=Rotation.random(random_state=3), seed=3)
    noise = np.random.default_rng(0).normal(0.0, 40.0, size=chunk.acc.shape)
    check, out = check_all(SampleChunk(chunk.t, chunk.acc, noise), 50.0)
    assert check.looks_ >= 1 and check.finding_ is None
    assert np.array_equal(out, noise)


@pytest.mark.parametrize("reads", ["zeros", "a 31st"])
def test_a_gyroscope_that_reads_almost_nothing_is_left_out(reads: str, tmp_path) -> None:
    """A gyroscope switched off (columns of zeros) or read 31 times too small, a factor
    no known mix-up explains (real uci-pt subject 2 in rad/s), turns through a few
    degrees while the accelerometer sees the leg turn 120°: every rep was lost.  Now
    the recording is counted from the accelerometer alone, exactly as without the
    gyroscope's columns, with a warning that says so and names the fix."""
    chunk, _ = make(sets=3, reps=6, mount=Rotation.random(random_state=7), seed=7)
    assert chunk.gyr is not None
    gyr = np.zeros_like(chunk.gyr) if reads == "zeros" else chunk.gyr / 31.0
    check, _ = check_all(SampleChunk(chunk.t, chunk.acc, gyr), 50.0)
    assert check.finding_ is not None and check.finding_.dead
    assert "accelerometer alone" in check.finding_.message
    bad, acc_only = tmp_path / "bad.csv", tmp_path / "acc.csv"
    write_csv(bad, SampleChunk(chunk.t, chunk.acc, gyr))
    np.savetxt(acc_only, np.column_stack([chunk.t, chunk.acc]), delimiter=",", fmt="%.9f",
               header="time_s,acc_x_g,acc_y_g,acc_z_g", comments="")
    acc_only.with_suffix(".json").write_text(json.dumps({"sample_rate_hz": 50.0}))
    fixed, want = analyze_recording(bad), analyze_recording(acc_only)
    assert [len(s["reps"]) for s in want["sets"]] == [6, 6, 6]
    assert fixed["sets"] == want["sets"]
    (warning,) = [w for w in fixed["warnings"] if w["code"] == "gyro_axes"]
    assert warning["time_s"] == pytest.approx(float(chunk.t[0]))
    assert "gyr_* columns" in warning["message"]


UNCALIBRATED = {"reading 1.4 g": lambda acc: acc * 1.4,
                "offset by 0.35 g": lambda acc: acc + np.array([0.2, -0.2, 0.2])}


@pytest.mark.parametrize("off", list(UNCALIBRATED))
def test_an_uncalibrated_accelerometer_still_judges_the_gyroscope(off: str, tmp_path) -> None:
    """A real ESP32 squat recorder's accelerometer read 1.38-1.46 g at rest: no block was
    within 8 % of 1 g, so the check never saw a usable one, and with the gyroscope's
    columns zero every rep was lost without a warning.  It now judges such an
    accelerometer against the mean size of its quiet blocks: a dead gyroscope is left
    out (and the recording counted as an accelerometer-only one), one in rad/s
    corrected, a right one kept."""
    chunk, _ = make(sets=3, reps=6, mount=Rotation.random(random_state=7), seed=7)
    assert chunk.gyr is not None
    acc = UNCALIBRATED[off](chunk.acc)
    check, _ = check_all(SampleChunk(chunk.t, acc, np.zeros_like(chunk.gyr)), 50.0)
    assert check.finding_ is not None and check.finding_.dead
    check, out = check_all(SampleChunk(chunk.t, acc, chunk.gyr / 57.2958), 50.0)
    assert check.finding_ is not None and not check.finding_.dead
    assert np.allclose(out[-10:], chunk.gyr[-10:], rtol=1e-3, atol=1e-6)
    check, out = check_all(SampleChunk(chunk.t, acc, chunk.gyr), 50.0)
    assert check.decided_ and check.finding_ is None and np.array_equal(out, chunk.gyr)
    dead, acc_only = tmp_path / "dead.csv", tmp_path / "acc.csv"
    write_csv(dead, SampleChunk(chunk.t, acc, np.zeros_like(chunk.gyr)))
    np.savetxt(acc_only, np.column_stack([chunk.t, acc]), delimiter=",", fmt="%.9f",
               header="time_s,acc_x_g,acc_y_g,acc_z_g", comments="")
    acc_only.with_suffix(".json").write_text(json.dumps({"sample_rate_hz": 50.0}))
    got, want = analyze_recording(dead), analyze_recording(acc_only)
    assert sum(len(s["reps"]) for s in want["sets"]) > 0
    assert got["sets"] == want["sets"]


def test_a_dead_gyroscope_beside_a_noisy_uncalibrated_accelerometer_is_left_out() -> None:
    """Three real squat files (continuous movement, an accelerometer reading 1.4 g and
    scattering by 0.06-0.08 g inside most blocks) left the check so few usable blocks
    that a gyroscope of zeros was never judged.  Readings that never change while the
    accelerometer's direction travels 15° through any blocks are enough."""
    chunk, _ = make(sets=3, reps=6, mount=Rotation.random(random_state=7), seed=7)
    assert chunk.gyr is not None
    noisy = chunk.acc * 1.4 + np.random.default_rng(1).normal(0.0, 0.08, chunk.acc.shape)
    check, _ = check_all(SampleChunk(chunk.t, noisy, np.zeros_like(chunk.gyr)), 50.0)
    assert check.finding_ is not None and check.finding_.dead and check.looks_ == 0
    check, _ = check_all(SampleChunk(chunk.t, noisy, chunk.gyr), 50.0, sizes=[17, 250])
    assert check.finding_ is None


def test_a_live_stream_goes_on_without_a_gyroscope_that_reads_nothing() -> None:
    """Live, the samples before the finding are gone; from it on the pipeline counts
    as an accelerometer-only one does, and it says so once."""
    from repsense.events import SetEnd
    from repsense.pipeline import Pipeline

    chunk, _ = make(sets=3, reps=6, mount=Rotation.random(random_state=7), seed=7)
    assert chunk.gyr is not None
    dead = SampleChunk(chunk.t, chunk.acc, np.zeros_like(chunk.gyr))
    p = Pipeline(sample_rate_hz=50.0)
    events = [e for k in range(0, len(dead), 25) for e in p.push(dead.slice(k, k + 25))]
    events += p.finish()
    (warning,) = [e for e in events if getattr(e, "code", "") == "gyro_axes"]
    assert p.has_gyro is False and p.gyro_finding_ is not None and p.gyro_finding_.dead
    acc = Pipeline(sample_rate_hz=50.0)
    want = [e for e in acc.push(SampleChunk(chunk.t, chunk.acc, None)) + acc.finish()
            if isinstance(e, SetEnd)]
    got = [e for e in events if isinstance(e, SetEnd)]
    # the sets after the finding are the accelerometer-only ones
    after = [len(e.reps) for e in want if e.start_s > warning.time_s + 5.0]
    assert after and [len(e.reps) for e in got if e.start_s > warning.time_s + 5.0] == after
    # however the stream is chunked, the same events (the finding did not move)
    for size in (1, 7, 333):
        q = Pipeline(sample_rate_hz=50.0)
        again = [e for k in range(0, len(dead), size) for e in q.push(dead.slice(k, k + size))]
        assert [e.to_dict() for e in again + q.finish()] == [e.to_dict() for e in events]


def test_a_gyroscope_that_never_changes_is_left_out_before_the_fits_can_judge() -> None:
    """A thigh on a lying curl gives under 20° of usable tilt in a session, far short of
    the 120° the fits want; a gyroscope stuck at one reading is left out after 15°.
    A working one, however little it reads there, is not."""
    chunk, _ = make(sets=2, reps=5, mount=Rotation.random(random_state=2), seed=2)
    assert chunk.gyr is not None
    stuck = np.tile([0.5, -1.2, 0.0], (len(chunk), 1))
    check, _ = check_all(SampleChunk(chunk.t, chunk.acc, stuck), 50.0)
    assert check.finding_ is not None and check.finding_.dead and check.looks_ == 0
    check, _ = check_all(SampleChunk(chunk.t, chunk.acc, chunk.gyr / 57.3), 50.0)
    assert check.finding_ is not None and not check.finding_.dead  # rad/s: corrected


def test_a_gyroscope_in_rad_s_seen_turning_little_is_judged_when_the_stream_ends(
        tmp_path) -> None:
    """A thigh on a lying curl turns about 17° in its usable blocks over a whole session,
    under EVIDENCE_DEG: a gyroscope in rad/s under deg/s headers was never judged, and its
    tilt, 57 times too small, gave no rep at all and no warning.  When the stream ends it
    is judged on what there is: a live stream ends with a warning, and analyze goes
    through the recording again with the units corrected, as from the right gyroscope."""
    from repsense.pipeline import Pipeline
    from repsense.sim import SimulatedSession

    sim = SimulatedSession(exercise="leg_curl", variant="prone", placement="thigh", sets=2,
                           reps=6, tempo="2-0-1-1", rest_s=30.0, rate_hz=50.0, seed=81)
    chunk = sim.sample()
    rad = wronged(chunk, np.eye(3) * math.pi / 180.0)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    write_csv(good, chunk)
    write_csv(bad, rad)
    right, fixed = analyze_recording(good), analyze_recording(bad)
    assert [len(s["reps"]) for s in right["sets"]] == [6, 6]
    assert fixed["sets"] == right["sets"]
    (warning,) = [w for w in fixed["warnings"] if w["code"] == "gyro_axes"]
    assert "rad/s" in warning["message"]
    live = Pipeline(sample_rate_hz=50.0, placement="thigh")
    events = [e.to_dict() for e in live.push(rad) + live.finish()]
    (late,) = [e for e in events if e["type"] == "warning" and e["code"] == "gyro_axes"]
    assert "end of the stream" in late["message"]
    assert late["time_s"] == pytest.approx(float(chunk.t[-1]))


def test_a_right_gyroscope_on_a_slight_hinge_is_not_swapped_for_a_slightly_better_fit(
        ) -> None:
    """A single-leg deadlift's stance thigh turns about one main axis, 20° a rep.  Its
    right gyroscope left 0.198 of the tilt rate unexplained (the limb's own acceleration),
    a permutation that keeps the main axis 0.094: at twice as good, the axes were
    "corrected" and the set gained a rep (fresh seed 11, 400 Hz).  Where the axes given
    fit, another must fit three times as well."""
    from repsense.sim import SimulatedSession

    sim = SimulatedSession(exercise="single_leg_deadlift", variant="stance", placement="thigh",
                           sets=2, reps=8, tempo="3-1-1-0", rest_s=60.0, rate_hz=100.0,
                           seed=11030, nuisance="full", jitter_ms=1.0)
    check, out = check_all(sim.sample(), 100.0)
    assert check.looks_ >= 1 and check.finding_ is None


def test_an_explosive_hip_thrust_keeps_a_right_gyroscope_with_no_offset(tmp_path) -> None:
    """Explosive hip thrusts give 20° of usable tilt in a session, and most of it is the
    hips' own acceleration: a right gyroscope turns about 1° through those blocks.  With
    the simulated sensor's 3.8°/s offset it turned 7.6° (38 %), without one 6 %, and the
    stream-end judgement took it for a gyroscope that reads nothing: the sets lost their
    name.  Through every block the up vector turned in, it turns 76 % of that travel."""
    src = RECORDINGS / "hip_thrust_thigh_200hz_explosive.csv"
    data = np.loadtxt(src, delimiter=",", skiprows=1)
    data[:, 4:7] -= data[:200, 4:7].mean(axis=0)  # the offset, read over the still first second
    calibrated = tmp_path / src.name
    np.savetxt(calibrated, data, delimiter=",", header=src.read_text().splitlines()[0],
               comments="", fmt="%.6f")
    shutil.copy(src.with_suffix(".json"), calibrated.with_suffix(".json"))
    right = analyze_recording(calibrated)
    assert not [w for w in right["warnings"] if w["code"] == "gyro_axes"]
    assert [(len(s["reps"]), s["exercise"]) for s in right["sets"]] == [(6, "hip_thrust")] * 2
