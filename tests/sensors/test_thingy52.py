"""Thingy:52 motion service: Q-format raw frame, configuration bytes, round trip."""

from __future__ import annotations

import numpy as np
import pytest

from repsense.samples import SampleChunk
from repsense.sensors import match_advertisement
from repsense.sensors.thingy52 import (
    CONFIG_SERVICE_UUID,
    MOTION_CONFIG_UUID,
    RAW_UUID,
    Thingy52Driver,
    Thingy52Encoder,
    config_bytes,
    encode_raw,
    parse_raw,
)

# acc (0, 0, 1024) Q6.10 -> 1 g; gyro (32, -64, 3200) Q11.5 -> 1, -2, 100 dps;
# compass (16, 0, -160) Q12.4 -> 1, 0, -10 uT
RAW = bytes.fromhex("0000 0000 0004 2000 c0ff 800c 1000 0000 60ff")


def test_uuids_on_thingy_base():
    assert RAW_UUID == "ef680406-9b35-4933-9b10-52ffa9740042"
    assert MOTION_CONFIG_UUID == "ef680401-9b35-4933-9b10-52ffa9740042"


def test_raw_frame_hand_computed():
    acc, gyr, mag = parse_raw(RAW)
    np.testing.assert_array_equal(acc, [0, 0, 1.0])
    np.testing.assert_array_equal(gyr, [1.0, -2.0, 100.0])
    np.testing.assert_array_equal(mag, [1.0, 0, -10.0])
    assert encode_raw([0, 0, 1.0], [1, -2, 100], [1, 0, -10]) == [RAW]


def test_configuration_bytes():
    assert config_bytes(100).hex(" ") == "e8 03 f4 01 f4 01 64 00 01"
    w = Thingy52Driver(60).configure(60)
    assert len(w) == 1 and w[0].char == MOTION_CONFIG_UUID and w[0].data[6:8] == b"\x3c\x00"
    with pytest.raises(ValueError):
        config_bytes(0)
    assert Thingy52Driver(500).rate_hz == 200.0


def test_encoder_validates_config_length_like_firmware():
    enc = Thingy52Encoder()
    enc.on_write(MOTION_CONFIG_UUID, config_bytes(50))
    assert enc.rate_hz == 50.0
    with pytest.raises(ValueError):
        enc.on_write(MOTION_CONFIG_UUID, config_bytes(50)[:8])
    one = SampleChunk(np.zeros(1), np.zeros((1, 3)), None)
    assert enc.encode(one) == []  # not streaming until raw notifications are enabled
    enc.on_subscribe(RAW_UUID)
    assert enc.streaming


def test_matches():
    assert match_advertisement("Thingy", []).protocol == "thingy52"
    assert match_advertisement(None, [CONFIG_SERVICE_UUID]).protocol == "thingy52"


@pytest.mark.parametrize("bad", [b"", RAW[:17], RAW + b"\x00"])
def test_malformed(bad):
    res = Thingy52Driver().decode(RAW_UUID, bad, 0.0)
    assert res.chunk is None and [p.kind for p in res.problems] == ["malformed"]


def test_round_trip(link, imu):
    data = imu(100, 15)
    r = link(Thingy52Encoder(), Thingy52Driver(100), data)
    assert not r.problems and len(r.chunk) == len(data)
    np.testing.assert_allclose(r.chunk.acc, data.acc, atol=0.5 / 1024)
    np.testing.assert_allclose(r.chunk.gyr, data.gyr, atol=0.5 / 32)
    assert (np.diff(r.chunk.t) > 0).all()
