"""Polar PMD: control point bytes, raw and delta-compressed frames, pairing, timing, drift."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from repsense.samples import SampleChunk
from repsense.sensors import match_advertisement
from repsense.sensors.polar_pmd import (
    ACC,
    CONTROL_UUID,
    DATA_UUID,
    GYRO,
    PolarPmdDriver,
    PolarPmdEncoder,
    delta_decode,
    delta_encode,
    parse_control_response,
    parse_data_frame,
    start_request,
)

# H10 ACC frame: type 02, timestamp 0x0102030405060708 ns, frame type 01 (16-bit raw, mG),
# one sample (-1000, 0, 1000) mG.
H10_FRAME = bytes.fromhex("02 0807060504030201 01 18fc 0000 e803")

# Delta payload worked by hand: reference (100, -5, 1000) as int16 LE, then one block of
# width 3, count 2 with deltas (1, -1, 2) and (0, 3, -4) packed LSB first:
# bits 0-17 = 1,0,0 | 1,1,1 | 0,1,0 | 0,0,0 | 1,1,0 | 0,0,1 -> bytes b9 30 02.
DELTA_PAYLOAD = bytes.fromhex("6400 fbff e803 03 02 b9 30 02")
DELTA_SAMPLES = [[100, -5, 1000], [101, -6, 1002], [101, -3, 998]]


def test_h10_start_request_matches_polar_documentation():
    # 200 Hz, 16 bit, +-8 g: the example request of Polar's PMD documentation.
    assert start_request(ACC, 200, range_=8).hex(" ") == "02 02 00 01 c8 00 01 01 10 00 02 01 08 00"
    w = PolarPmdDriver(200, variant="h10").configure(200)
    assert [x.data for x in w] == [start_request(ACC, 200, range_=8)]
    assert w[0].char == CONTROL_UUID and w[0].wait_notify


def test_verity_configure_enters_sdk_mode_then_acc_and_gyro():
    w = PolarPmdDriver(104, variant="verity_sense", gyro_range_dps=2000).configure(104)
    assert [x.data.hex(" ") for x in w] == [
        "02 09",
        "02 02 00 01 68 00 01 01 10 00 02 01 08 00 04 01 03",
        "02 05 00 01 68 00 01 01 10 00 02 01 d0 07 04 01 03",
    ]


def test_h10_raw_frame_hand_computed():
    f = parse_data_frame(H10_FRAME)
    assert f.mtype == ACC and f.timestamp_ns == 0x0102030405060708 and f.frame_type == 1
    np.testing.assert_array_equal(f.values, [[-1.0, 0.0, 1.0]])


def test_delta_frame_hand_computed_both_ways():
    np.testing.assert_array_equal(delta_decode(DELTA_PAYLOAD, 3, 16), DELTA_SAMPLES)
    assert delta_encode(np.array(DELTA_SAMPLES)) == DELTA_PAYLOAD
    # As a Verity gyro frame (type 05, frame type 0x80) with factor 0.5 dps/LSB.
    frame = bytes([GYRO]) + struct.pack("<Q", 10**18) + b"\x80" + DELTA_PAYLOAD
    f = parse_data_frame(frame, {GYRO: 0.5})
    np.testing.assert_array_equal(f.values, np.array(DELTA_SAMPLES) * 0.5)
    # As ACC compressed type 1 (0x81): sample x factor = mG.
    frame = bytes([ACC]) + struct.pack("<Q", 10**18) + b"\x81" + DELTA_PAYLOAD
    f = parse_data_frame(frame, {ACC: 2.0})
    np.testing.assert_allclose(f.values, np.array(DELTA_SAMPLES) * 2.0 / 1000)


@pytest.mark.parametrize("block", [1, 5, 12, 255])
def test_delta_round_trip_random(block):
    rng = np.random.default_rng(block)
    s = np.cumsum(rng.integers(-3000, 3000, (40, 3)), axis=0).clip(-32768, 32767)
    s[0] = [-32768, 32767, 0]
    np.testing.assert_array_equal(delta_decode(delta_encode(s, block=block), 3), s)


def test_start_response_factor_is_used():
    d = PolarPmdDriver(52, variant="verity_sense")
    enc = PolarPmdEncoder(variant="verity_sense")
    for w in d.configure(52):
        (note,) = enc.on_write(w.char, w.data)
        assert note.indicate and note.data[:4] == bytes([0xF0, w.data[0], w.data[1], 0])
        assert not d.decode(note.char, note.data, 0.0).problems
    assert d.factors[ACC] == pytest.approx(8000 / 32768)
    assert d.factors[GYRO] == pytest.approx(1000 / 32768)


def test_rejected_start_is_a_config_problem():
    d = PolarPmdDriver(100)
    enc = PolarPmdEncoder(variant="h10")
    (note,) = enc.on_write(CONTROL_UUID, start_request(ACC, 100, range_=16))
    resp = parse_control_response(note.data)
    assert resp.status == 9  # invalid range
    res = d.decode(CONTROL_UUID, note.data, 1.0)
    assert [p.kind for p in res.problems] == ["config"]
    (note,) = enc.on_write(CONTROL_UUID, start_request(GYRO, 100))
    assert parse_control_response(note.data).status == 3  # H10 has no gyro


def test_matches_and_variant():
    m = match_advertisement("Polar H10 A1B2C3D4", ["0000180d-0000-1000-8000-00805f9b34fb"])
    assert m.protocol == "polar_pmd" and m.model == "Polar H10"
    assert not m.create().has_gyro
    m = match_advertisement("Polar Sense B5C6D7E8", [])
    assert m.model == "Polar Verity Sense"
    assert m.create(52).has_gyro and m.create(52).rate_hz == 52.0


def test_h10_round_trip(link, imu):
    data = imu(100, 20)
    r = link(PolarPmdEncoder(variant="h10"), PolarPmdDriver(100), data, conn_interval_s=0.03)
    assert not r.problems and len(r.chunk) == len(data) and r.chunk.gyr is None
    np.testing.assert_allclose(r.chunk.acc, data.acc, atol=0.0005 + 1e-12)
    np.testing.assert_allclose(np.diff(r.chunk.t), 0.01, atol=2e-4)


def test_verity_round_trip_pairs_acc_and_gyro(link, imu):
    data = imu(104, 20)
    enc = PolarPmdEncoder(variant="verity_sense", samples_per_frame=30)
    r = link(enc, PolarPmdDriver(104, variant="verity_sense"), data, conn_interval_s=0.05)
    assert not r.problems
    assert len(r.chunk) == len(data)
    np.testing.assert_allclose(r.chunk.acc, data.acc, atol=8 / 32768)
    np.testing.assert_allclose(r.chunk.gyr, data.gyr, atol=1000 / 32768)
    assert all(n[2][9] in (0x80, 0x81) for n in r.notes)  # delta-compressed frames


def test_lost_frame_detected_from_timestamps(link, imu):
    data = imu(100, 10)
    r = link(
        PolarPmdEncoder(variant="h10", samples_per_frame=20),
        PolarPmdDriver(100),
        data,
        conn_interval_s=0.2,
        drop=lambda i, _: i == 10,
    )
    lost = [p for p in r.problems if p.kind == "lost"]
    assert [p.lost_samples for p in lost] == [20]
    assert len(r.chunk) == len(data) - 20


def test_lost_gyro_frame_drops_unpaired_acc_and_says_so(link, imu):
    data = imu(52, 10)
    enc = PolarPmdEncoder(variant="verity_sense", samples_per_frame=10)
    r = link(
        enc,
        PolarPmdDriver(52, variant="verity_sense"),
        data,
        conn_interval_s=0.2,
        drop=lambda i, payload: payload[0] == GYRO and i == 11,
    )
    lost = sum(p.lost_samples for p in r.problems if p.kind == "lost")
    assert lost == 10
    assert len(r.chunk) == len(data) - 10


def test_sensor_clock_drift_is_estimated(link, imu):
    data = imu(50, 120)
    enc = PolarPmdEncoder(variant="h10", clock_ppm=300.0)
    driver = PolarPmdDriver(50)
    r = link(enc, driver, data, conn_interval_s=0.05)
    assert not r.problems
    # Sensor timestamps run 300 ppm fast: host seconds per sensor second = 1/(1+300e-6).
    assert driver.drift_ppm == pytest.approx(-300, abs=30)
    err = (r.chunk.t - 1000.0) - data.t
    assert np.ptp(err[-2000:]) < 0.01  # corrected: no 36 ms ramp over the last 40 s


def test_other_measurement_types_are_ignored():
    d = PolarPmdDriver(100)
    ecg = bytes([0]) + struct.pack("<Q", 5) + b"\x00" + bytes(9)
    res = d.decode(DATA_UUID, ecg, 1.0)
    assert res.chunk is None and not res.problems and d.ignored_frames == 1


@pytest.mark.parametrize(
    "bad",
    [
        H10_FRAME[:10],
        H10_FRAME[:-1],
        H10_FRAME[:9] + b"\x07" + H10_FRAME[10:],  # unknown frame type
        bytes([GYRO]) + H10_FRAME[1:],  # gyro must be compressed
        bytes([ACC]) + struct.pack("<Q", 1) + b"\x81" + DELTA_PAYLOAD[:-1],
        bytes([ACC]) + struct.pack("<Q", 1) + b"\x81" + DELTA_PAYLOAD[:7],
        bytes([ACC]) + struct.pack("<Q", 1) + b"\x81" + DELTA_PAYLOAD[:6] + b"\x00\x02",
    ],
)
def test_malformed_frames(bad):
    d = PolarPmdDriver(100, variant="verity_sense")
    res = d.decode(DATA_UUID, bad, 1.0)
    assert res.chunk is None and [p.kind for p in res.problems] == ["malformed"]


def test_timestamps_spread_samples_between_frames():
    d = PolarPmdDriver(100)
    base = 10**18
    f1 = bytes([ACC]) + struct.pack("<Q", base) + b"\x01" + bytes(6 * 4)
    f2 = bytes([ACC]) + struct.pack("<Q", base + 40_400_000) + b"\x01" + bytes(6 * 4)
    d.decode(DATA_UUID, f1, 5.0)
    res = d.decode(DATA_UUID, f2, 5.0404)
    # 4 samples over 40.4 ms: spacing 10.1 ms taken from the sensor timestamps.
    np.testing.assert_allclose(np.diff(res.chunk.t), 0.0101, atol=1e-6)


def test_encoder_stops_on_disconnect():
    enc = PolarPmdEncoder(variant="h10")
    enc.on_write(CONTROL_UUID, start_request(ACC, 50, range_=8))
    assert enc.streaming
    enc.on_disconnect()
    chunk = SampleChunk(np.zeros(1), np.zeros((1, 3)), None)
    assert not enc.streaming and enc.encode(chunk) == []


def _h10(ts_ns: int, n: int = 4) -> bytes:
    return bytes([ACC]) + struct.pack("<Q", ts_ns) + b"\x01" + bytes(6 * n)


def test_corrupted_timestamp_costs_one_frame():
    d = PolarPmdDriver(100)
    base = 10**18
    kinds = []
    for i in range(10):
        ts = base + (i + 1) * 40_000_000
        if i == 5:
            ts += 3600 * 10**9  # a flipped high byte: an hour ahead
        res = d.decode(DATA_UUID, _h10(ts), 2 + i * 0.04)
        kinds.append([p.kind for p in res.problems] or (len(res.chunk) if res.chunk else 0))
    # The bad frame is skipped; its 4 samples then show up as lost, nothing else breaks.
    assert kinds == [4, 4, 4, 4, 4, ["malformed"], ["lost"], 4, 4, 4]


def test_sensor_clock_reset_is_accepted_after_three_frames():
    d = PolarPmdDriver(100)
    for i in range(5):
        d.decode(DATA_UUID, _h10(10**18 + i * 40_000_000), 2 + i * 0.04)
    out = []
    for i in range(5):  # the clock was set back a day
        res = d.decode(DATA_UUID, _h10(10**18 - 86400 * 10**9 + i * 40_000_000), 2.2 + i * 0.04)
        out.append(res.chunk is not None)
    assert out == [False, False, True, True, True]


def test_gyro_start_rejected_falls_back_to_accelerometer_only():
    d = PolarPmdDriver(52, variant="verity_sense")
    enc = PolarPmdEncoder(variant="verity_sense")
    probs = []
    for w in d.configure(52):
        if w.data[:2] == bytes([2, GYRO]):
            note = enc.on_write(w.char, bytes([2, GYRO]) + bytes([0, 1, 7, 0]))[0]  # bad rate
        else:
            (note,) = enc.on_write(w.char, w.data)
        probs += d.decode(note.char, note.data, 0.0).problems
    assert [p.kind for p in probs] == ["config"] and "accelerometer only" in probs[0].message
    assert not d.has_gyro
    n = 20
    notes = enc.encode(SampleChunk(np.arange(n) / 52, np.tile([0, 0, 1.0], (n, 1)), None))
    out = [d.decode(x.char, x.data, 1.0 + i * 0.1) for i, x in enumerate(notes)]
    assert sum(len(r.chunk) for r in out if r.chunk is not None) == n
    assert all(r.chunk.gyr is None for r in out if r.chunk is not None)


def test_stalled_gyro_stream_does_not_hold_accelerometer_forever():
    d = PolarPmdDriver(52, variant="verity_sense")
    enc = PolarPmdEncoder(variant="verity_sense", samples_per_frame=13)
    for w in d.configure(52):
        for note in enc.on_write(w.char, w.data):
            d.decode(note.char, note.data, 0.0)
    data = SampleChunk(np.arange(52 * 6) / 52, np.tile([0, 0, 1.0], (312, 1)), np.zeros((312, 3)))
    got = lost = 0
    for i, note in enumerate(enc.encode(data)):
        if note.data[0] == GYRO and i > 4:
            continue  # the gyro stream stops after its first frames
        res = d.decode(note.char, note.data, 1.0 + i * 0.125)
        got += 0 if res.chunk is None else len(res.chunk)
        lost += sum(p.lost_samples for p in res.problems)
    assert got == 26  # the paired part
    assert lost >= 312 - 26 - 2 * 52 - 13  # all but the last ~2 s are given up, reported
    assert sum(len(q[0]) for q in d._acc_q) <= 2 * 52 + 13  # noqa: SLF001 - bounded queue


def test_already_in_state_on_start_is_not_a_problem():
    d = PolarPmdDriver(104, variant="verity_sense")
    enc = PolarPmdEncoder(variant="verity_sense")
    enc.on_write(CONTROL_UUID, bytes([2, 9]))  # SDK mode survived a reconnect
    (note,) = enc.on_write(CONTROL_UUID, d.configure(104)[0].data)
    assert parse_control_response(note.data).status == 6
    assert not d.decode(note.char, note.data, 0.0).problems


def test_frame_of_another_sample_size_is_malformed():
    # We ask for 16-bit samples: a header saying 8-bit would read 6 bytes as 2 samples.
    d = PolarPmdDriver(100)
    eight_bit = H10_FRAME[:9] + b"\x00" + H10_FRAME[10:]
    res = d.decode(DATA_UUID, eight_bit, 1.0)
    assert res.chunk is None and [p.kind for p in res.problems] == ["malformed"]


def test_frame_type_changing_mid_stream_is_malformed():
    d = PolarPmdDriver(100, variant="verity_sense")
    raw = H10_FRAME  # 0x01 frames first ...
    assert d.decode(DATA_UUID, raw, 1.0).problems == []
    ts = 0x0102030405060708 + 3 * 10**7  # three sample periods on
    compressed = bytes([ACC]) + struct.pack("<Q", ts) + b"\x81" + DELTA_PAYLOAD
    res = d.decode(DATA_UUID, compressed, 1.02)  # ... then 0x81: a corrupted header
    assert res.chunk is None and [p.kind for p in res.problems] == ["malformed"]
