"""Reference protocol: documented example frame, control bytes, round trips, counter logic."""

from __future__ import annotations

import numpy as np
import pytest

from repsense.samples import SampleChunk
from repsense.sensors import match_advertisement
from repsense.sensors.reference import (
    CONTROL_UUID,
    DATA_UUID,
    SERVICE_UUID,
    ReferenceDriver,
    ReferenceEncoder,
    encode_frame,
    max_batch,
    parse_frame,
)

# The worked example of firmware_notes/reference_protocol.md.
EXAMPLE = bytes.fromhex(
    "01 01 34 12 02 03 08 03"
    " 00 00 00 00 00 10 00 00 00 00 00 00"
    " 00 f8 00 04 00 10 00 40 00 e0 00 00"
)


def test_example_frame_decodes_to_hand_computed_values():
    f = parse_frame(EXAMPLE)
    assert f.counter == 0x1234 and f.n == 2 and not f.restart
    assert f.rate_hz == 104.0 and f.acc_range_g == 8 and f.gyro_range_dps == 1000
    np.testing.assert_array_equal(f.acc_g(), [[0, 0, 1.0], [-0.5, 0.25, 1.0]])
    np.testing.assert_array_equal(f.gyr_dps(), [[0, 0, 0], [500.0, -250.0, 0]])


def test_example_frame_encodes_byte_exactly():
    acc = np.array([[0, 0, 4096], [-2048, 1024, 4096]])
    gyr = np.array([[0, 0, 0], [16384, -8192, 0]])
    data = encode_frame(0x1234, acc, gyr, rate_hz=104, acc_range_g=8, gyro_range_dps=1000)
    assert data == EXAMPLE


def test_driver_decodes_example_with_time():
    d = ReferenceDriver(104)
    res = d.decode(DATA_UUID.upper(), EXAMPLE, 5.0)
    assert not res.problems
    assert len(res.chunk) == 2
    assert res.chunk.t[1] - res.chunk.t[0] == pytest.approx(1 / 104)
    assert res.chunk.t[1] == pytest.approx(5.0)  # last sample at its arrival for the first frame


def test_configure_writes_documented_control_bytes():
    writes = ReferenceDriver(100, acc_range_g=16, gyro_range_dps=2000).configure(100)
    assert [w.char for w in writes] == [CONTROL_UUID] * 4
    assert [w.data.hex(" ") for w in writes] == ["01 03", "02 10 04", "05 00", "03 01"]
    assert ReferenceDriver().stop()[0].data == b"\x04"


def test_encoder_applies_control_and_rejects_bad_writes():
    enc = ReferenceEncoder(rate_hz=52)
    enc.on_write(CONTROL_UUID, bytes([0x01, 0x05]))
    assert enc.rate_hz == 416.0
    enc.on_write(CONTROL_UUID, bytes([0x03, 0x00]))
    assert enc.streaming and not enc.gyro
    assert enc.status()[0] == 1
    for bad in (b"", b"\x09", b"\x01\x06", b"\x02\x03\x01", b"\x04\x00"):
        with pytest.raises(ValueError):
            enc.on_write(CONTROL_UUID, bad)
    with pytest.raises(ValueError):
        enc.on_write(DATA_UUID, b"\x03")


def test_gatt_profile_has_battery_and_device_information():
    prof = ReferenceEncoder().gatt()
    uuids = {s.uuid for s in prof.services}
    assert SERVICE_UUID in uuids
    assert "0000180f-0000-1000-8000-00805f9b34fb" in uuids
    assert "0000180a-0000-1000-8000-00805f9b34fb" in uuids
    assert prof.characteristic(DATA_UUID).properties == ("notify",)
    assert prof.advertised_services == (SERVICE_UUID,)


def test_advertisement_match():
    m = match_advertisement(None, [SERVICE_UUID])
    assert m is not None and m.protocol == "repsense"
    assert match_advertisement("repsense-IMU 12", []).protocol == "repsense"
    assert isinstance(m.create(208), ReferenceDriver)
    assert m.create(208).rate_hz == 208.0


def test_batching_follows_mtu():
    assert max_batch(247, True) == 19
    assert max_batch(247, False) == 39
    assert max_batch(23, True) == 1
    enc = ReferenceEncoder(mtu=247)
    enc.streaming = True
    n = 50
    chunk = SampleChunk(np.arange(n) / 104, np.tile([0, 0, 1.0], (n, 1)), np.zeros((n, 3)))
    notes = enc.encode(chunk)
    assert [len(x.data) for x in notes] == [8 + 19 * 12, 8 + 19 * 12, 8 + 12 * 12]
    assert all(len(x.data) <= 244 for x in notes)


def test_round_trip_exact_within_one_lsb(link, imu):
    data = imu(104, 20)
    r = link(ReferenceEncoder(), ReferenceDriver(104), data)
    assert not r.problems
    assert len(r.chunk) == len(data)
    np.testing.assert_allclose(r.chunk.acc, data.acc, atol=8 / 32768)
    np.testing.assert_allclose(r.chunk.gyr, data.gyr, atol=1000 / 32768)
    dt = np.diff(r.chunk.t)
    assert (dt > 0).all()
    # Times follow the sample clock to well within a connection interval.
    err = (r.chunk.t - 1000.0) - data.t
    assert np.ptp(err[200:]) < 0.005


def test_counter_wrap_is_seamless(link, imu):
    data = imu(416, 3)
    enc = ReferenceEncoder(rate_hz=416, counter_start=65536 - 300)
    r = link(enc, ReferenceDriver(416), data)
    assert not r.problems
    assert len(r.chunk) == len(data)
    assert enc.counter == (65536 - 300 + len(data)) % 65536


def test_lost_packets_reported_with_exact_size_never_invented(link, imu):
    data = imu(104, 10)
    gone = {5, 6, 20}
    r = link(ReferenceEncoder(), ReferenceDriver(104), data, drop=lambda i, _: i in gone)
    lost = [p for p in r.problems if p.kind == "lost"]
    dropped_samples = len(data) - len(r.chunk)
    assert dropped_samples > 0
    assert sum(p.lost_samples for p in lost) == dropped_samples
    assert len(lost) == 2  # 5+6 are one gap, 20 another
    # Times jump over the gap instead of being squeezed together.
    dt = np.diff(r.chunk.t)
    assert dt.max() > 2.5 / 104


def test_gap_longer_than_counter_wrap_is_measured(imu):
    d = ReferenceDriver(416)
    enc = ReferenceEncoder(rate_hz=416)
    enc.streaming = True
    data = imu(416, 2)
    for note in enc.encode(data):
        d.decode(note.char, note.data, 10 + data.t[-1])
    skipped = 70_000  # > 65536: the 16-bit counter wrapped during the silence
    enc.skip(skipped)
    later = SampleChunk(data.t[:20], data.acc[:20], data.gyr[:20])
    arrival = 10 + data.t[-1] + (skipped + 20) / 416
    res = d.decode(DATA_UUID, enc.encode(later)[0].data, arrival)
    assert [p.lost_samples for p in res.problems] == [skipped]


def test_duplicate_frame_is_dropped_not_double_counted():
    d = ReferenceDriver(104)
    assert len(d.decode(DATA_UUID, EXAMPLE, 1.0).chunk) == 2
    res = d.decode(DATA_UUID, EXAMPLE, 1.02)
    assert res.chunk is None and res.problems[0].kind == "malformed"


def test_rate_change_restarts_counter_without_false_loss(imu):
    d = ReferenceDriver(52)
    enc = ReferenceEncoder(rate_hz=52)
    enc.streaming = True
    a = imu(52, 2)
    for note in enc.encode(a):
        d.decode(note.char, note.data, 100 + a.t[-1])
    enc.on_write(CONTROL_UUID, bytes([0x01, 0x03]))  # 104 Hz, counter restarts
    b = imu(104, 1)
    res = d.decode(DATA_UUID, enc.encode(b.slice(0, 10))[0].data, 100 + a.t[-1] + 10 / 104)
    assert d.rate_hz == 104.0
    assert sum(p.lost_samples for p in res.problems) <= 1
    assert np.diff(res.chunk.t) == pytest.approx(np.full(9, 1 / 104))


def test_frame_without_gyro_on_gyro_stream_is_malformed():
    acc_only = encode_frame(
        1, np.zeros((2, 3)), None, rate_hz=104, acc_range_g=8, gyro_range_dps=1000
    )
    d = ReferenceDriver(104, gyro=True)
    res = d.decode(DATA_UUID, acc_only, 1.0)
    assert res.chunk is None and res.problems[0].kind == "malformed"
    d2 = ReferenceDriver(104, gyro=False)
    res2 = d2.decode(DATA_UUID, acc_only, 1.0)
    assert res2.chunk.gyr is None and len(res2.chunk) == 2


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        EXAMPLE[:7],
        EXAMPLE[:-1],
        EXAMPLE + b"\x00",
        b"\x02" + EXAMPLE[1:],  # version
        EXAMPLE[:4] + b"\x00" + EXAMPLE[5:],  # n = 0
        EXAMPLE[:5] + b"\x06" + EXAMPLE[6:],  # rate code
        EXAMPLE[:6] + b"\x03" + EXAMPLE[7:],  # acc range
        EXAMPLE[:7] + b"\x05" + EXAMPLE[8:],  # gyro code
    ],
)
def test_malformed_frames_are_reported_and_skipped(bad):
    d = ReferenceDriver(104)
    res = d.decode(DATA_UUID, bad, 1.0)
    assert res.chunk is None
    assert [p.kind for p in res.problems] == ["malformed"]
    # The stream goes on afterwards.
    assert len(d.decode(DATA_UUID, EXAMPLE, 1.1).chunk) == 2


def test_config_round_trip():
    d = ReferenceDriver(208, acc_range_g=4, gyro_range_dps=500, gyro=False, batch=5)
    d2 = ReferenceDriver.from_config(d.config())
    assert d2.config() == d.config()


def _frames(enc, data):
    return [n.data for n in enc.encode(data)]


def test_corrupted_counter_costs_one_frame_not_the_stream(imu):
    enc = ReferenceEncoder(mtu=23)  # one sample per frame
    enc.streaming = True
    data = imu(104, 2)
    frames = _frames(enc, data)
    bad = bytearray(frames[50])
    bad[3] ^= 0x40  # counter jumps by 16384 samples: impossible in 10 ms
    d = ReferenceDriver(104)
    got, probs = 0, []
    for i, f in enumerate(frames):
        res = d.decode(DATA_UUID, bytes(bad) if i == 50 else f, 3 + i / 104)
        probs += res.problems
        got += 0 if res.chunk is None else len(res.chunk)
    assert [p.kind for p in probs] == ["malformed", "lost"]  # the bad frame, then its 1 sample
    assert probs[1].lost_samples == 1
    assert got == len(frames) - 1


def test_counter_restart_without_flag_is_accepted_after_three_frames(imu):
    enc = ReferenceEncoder(mtu=23)
    enc.streaming = True
    data = imu(104, 1)
    d = ReferenceDriver(104)
    for i, f in enumerate(_frames(enc, data)):
        d.decode(DATA_UUID, f, 3 + i / 104)
    enc.counter = 30_000  # firmware bug / reboot without RESTART flag
    kinds = []
    for i, f in enumerate(_frames(enc, data.slice(0, 6))):
        res = d.decode(DATA_UUID, f, 4 + i / 104)
        kinds.append(res.chunk is not None)
    assert kinds == [False, False, True, True, True, True]


def test_encoder_status_reports_last_error_and_stops_on_disconnect():
    enc = ReferenceEncoder()
    enc.on_write(CONTROL_UUID, b"\x03\x01")
    with pytest.raises(ValueError):
        enc.on_write(CONTROL_UUID, b"\x07")
    assert enc.status()[6] == 1
    with pytest.raises(ValueError):
        enc.on_write(CONTROL_UUID, b"\x01\x09")
    assert enc.status()[6] == 2
    enc.on_write(CONTROL_UUID, b"\x05\x04")
    assert enc.status()[6] == 0 and enc.status()[4] == 4
    enc.on_disconnect()
    assert not enc.streaming
    before = enc.counter
    n = 5
    assert enc.encode(SampleChunk(np.zeros(n), np.zeros((n, 3)), np.zeros((n, 3)))) == []
    assert enc.counter == before + n  # sampling goes on while disconnected
