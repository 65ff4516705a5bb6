"""WitMotion BLE 5.0: documented frame layout, commands, arrival-time timing."""

from __future__ import annotations

import numpy as np
import pytest

from repsense.sensors import match_advertisement
from repsense.sensors.witmotion import (
    NOTIFY_UUID,
    SERVICE_UUID,
    WRITE_UUID,
    WitMotionDriver,
    WitMotionEncoder,
    encode_frame,
    parse_frames,
)

# 55 61, acc (0, 0, 0x0800), gyro (0x0400, 0xFC00, 0), angle (0x2000, 0xE000, 0x4000)
FRAME = bytes.fromhex("55 61 0000 0000 0008 0004 00fc 0000 0020 00e0 0040")


def test_uuids_use_the_witmotion_suffix_not_the_bluetooth_base():
    for u in (SERVICE_UUID, NOTIFY_UUID, WRITE_UUID):
        assert u.endswith("-0000-1000-8000-00805f9a34fb")
    assert NOTIFY_UUID.startswith("0000ffe4") and WRITE_UUID.startswith("0000ffe9")


def test_documented_frame_hand_computed():
    vals, regs = parse_frames(FRAME)
    assert regs == 0
    # 2048/32768*16 = 1 g; 1024/32768*2000 = 62.5 dps; 8192/32768*180 = 45 deg
    np.testing.assert_allclose(vals[0], [0, 0, 1.0, 62.5, -62.5, 0, 45.0, -45.0, 90.0])


def test_encode_frame_is_byte_exact():
    assert encode_frame([0, 0, 1.0], [62.5, -62.5, 0], [45.0, -45.0, 90.0]) == FRAME


def test_configure_unlock_then_rate_register():
    d = WitMotionDriver(50)
    assert [w.data.hex(" ") for w in d.configure(50)] == ["ff aa 69 88 b5", "ff aa 03 08 00"]
    assert all(w.char == WRITE_UUID for w in d.configure(50))
    assert d.configure(100)[1].data.hex(" ") == "ff aa 03 09 00"
    assert d.configure(200)[1].data.hex(" ") == "ff aa 03 0b 00"
    assert d.configure(10)[1].data.hex(" ") == "ff aa 03 06 00"
    assert d.configure(20)[1].data.hex(" ") == "ff aa 03 07 00"
    assert WitMotionDriver(50, save=True).configure(50)[-1].data.hex(" ") == "ff aa 00 00 00"


def test_encoder_needs_unlock_before_rate():
    enc = WitMotionEncoder(rate_hz=10)
    enc.on_write(WRITE_UUID, bytes.fromhex("ffaa030900"))
    assert enc.rate_hz == 10.0  # still locked
    enc.on_write(WRITE_UUID, bytes.fromhex("ffaa6988b5"))
    enc.on_write(WRITE_UUID, bytes.fromhex("ffaa030900"))
    assert enc.rate_hz == 100.0
    with pytest.raises(ValueError):
        enc.on_write(WRITE_UUID, b"\x01\x02")


def test_register_reply_and_multiple_frames():
    reg = bytes.fromhex("55 71 3a 00") + bytes(16)
    d = WitMotionDriver(50)
    res = d.decode(NOTIFY_UUID, reg, 1.0)
    assert res.chunk is None and not res.problems and d.register_replies == 1
    res = d.decode(NOTIFY_UUID, FRAME + reg + FRAME, 1.1)
    assert len(res.chunk) == 2 and not res.problems


@pytest.mark.parametrize(
    "bad", [b"", FRAME[:19], FRAME + b"\x55", b"\x56" + FRAME[1:], b"\x55\x62" + FRAME[2:]]
)
def test_malformed(bad):
    res = WitMotionDriver(50).decode(NOTIFY_UUID, bad, 1.0)
    assert res.chunk is None and [p.kind for p in res.problems] == ["malformed"]


def test_matches():
    assert match_advertisement("WT901BLE67", []).protocol == "witmotion"
    assert match_advertisement("BWT901BLECL5.0", []).protocol == "witmotion"
    assert match_advertisement(None, [SERVICE_UUID]).protocol == "witmotion"
    assert match_advertisement("Fitbit", ["0000ffe5-0000-1000-8000-00805f9b34fb"]) is None


def test_round_trip_and_rate_fitted_to_arrivals(link, imu):
    # The module's real rate is 1 % off nominal; times must follow the real rate.
    true_rate = 50.5
    data = imu(true_rate, 40)
    driver = WitMotionDriver(50)
    r = link(WitMotionEncoder(rate_hz=50), driver, data, conn_interval_s=0.03)
    assert not r.problems
    assert len(r.chunk) == len(data)
    np.testing.assert_allclose(r.chunk.acc, data.acc, atol=16 / 32768)
    late = np.diff(r.chunk.t[-500:])
    assert np.mean(late) == pytest.approx(1 / true_rate, rel=1e-3)
    err = (r.chunk.t - 1000.0) - data.t
    assert np.ptp(err[-1000:]) < 0.03
    # The "drift" of a clock-less sensor is its nominal-rate error: 50/50.5 - 1.
    assert r.chunk is not None
    assert driver.drift_ppm == pytest.approx((50 / true_rate - 1) * 1e6, abs=1000)


def test_long_silence_is_reported_as_lost(link, imu):
    data = imu(50, 30)
    # The sensor's samples 600..749 (3 s) never arrive.
    gone = set(range(600, 750))
    r = link(
        WitMotionEncoder(),
        WitMotionDriver(50),
        data,
        conn_interval_s=0.02,
        drop=lambda i, _: i in gone,
    )
    lost = [p for p in r.problems if p.kind == "lost"]
    assert len(lost) == 1
    assert abs(lost[0].lost_samples - 150) <= 2
    assert len(r.chunk) == len(data) - 150
    k = 600
    assert r.chunk.t[k] - r.chunk.t[k - 1] == pytest.approx(151 / 50, abs=0.05)
