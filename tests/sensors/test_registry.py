"""Registry, advertisement matching and the shared base helpers."""

from __future__ import annotations

import pytest

from repsense.sensors import (
    DRIVERS,
    ENCODERS,
    PROTOCOLS,
    driver_for_protocol,
    make_driver,
    match_advertisement,
)
from repsense.sensors.base import (
    BATTERY_LEVEL,
    GattProfile,
    normalize_uuid,
    parse_battery_level,
    parse_dis_string,
    uuid16,
)


def test_protocol_names_match_the_raw_capture_contract():
    assert PROTOCOLS == ("repsense", "witmotion", "thingy52", "polar_pmd")
    for name in PROTOCOLS:
        assert DRIVERS[name].protocol == name == ENCODERS[name].protocol


def test_driver_for_protocol_and_errors():
    assert driver_for_protocol("thingy52") is DRIVERS["thingy52"]
    with pytest.raises(KeyError, match="known: repsense, witmotion"):
        driver_for_protocol("fitbit")
    with pytest.raises(TypeError):
        make_driver("repsense", {"rate_hz": 104, "colour": "red"})
    with pytest.raises(ValueError):
        make_driver("polar_pmd", {"rate_hz": 100, "variant": "h9"})


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_config_round_trips_through_make_driver(protocol):
    d = DRIVERS[protocol]()
    cfg = {**d.config(), "placement": "thigh"}  # informational keys are ignored
    d2 = make_driver(protocol, cfg)
    assert d2.config() == d.config()
    assert d2.rate_hz == d.rate_hz > 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_encoder_profiles_serve_what_the_driver_needs(protocol):
    enc = ENCODERS[protocol]()
    prof = enc.gatt()
    assert isinstance(prof, GattProfile)
    drv = DRIVERS[protocol]()
    for uuid in drv.notify_uuids:
        props = prof.characteristic(uuid).properties
        assert "notify" in props or "indicate" in props
    for w in drv.configure(drv.rate_hz):
        props = prof.characteristic(w.char).properties
        assert ("write" if w.response else "write-without-response") in props
    assert prof.characteristic(BATTERY_LEVEL).value
    # The advertisement of the virtual sensor is recognised as its protocol.
    m = match_advertisement(prof.name, list(prof.advertised_services), prof.manufacturer_data)
    assert m is not None and m.protocol == protocol


def test_unrelated_advertisements_do_not_match():
    assert match_advertisement(None, []) is None
    assert match_advertisement("Mi Band 7", [uuid16(0xFEE0)]) is None
    assert match_advertisement("", [uuid16(0x180D)]) is None


def test_uuid_helpers():
    assert uuid16(0x180F) == "0000180f-0000-1000-8000-00805f9b34fb"
    assert normalize_uuid("0x2A19") == BATTERY_LEVEL
    assert normalize_uuid("2a19") == BATTERY_LEVEL
    assert normalize_uuid(" FB005C81-02E7-F387-1CAD-8ACD2D8DF0C8 ") == (
        "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
    )


def test_battery_and_dis_parsing():
    assert parse_battery_level(b"\x57") == 87
    assert parse_battery_level(b"") is None
    assert parse_battery_level(b"\xc8") is None
    assert parse_dis_string(b"Polar H10\x00\x00") == "Polar H10"
    assert parse_dis_string(b"\xff\xfeok").endswith("ok")


def test_malformed_notifications_are_logged(caplog):
    from repsense.sensors import _util
    from repsense.sensors.reference import DATA_UUID, ReferenceDriver

    _util._logged["malformed"] = 0
    with caplog.at_level("WARNING", logger="repsense.sensors"):
        ReferenceDriver().decode(DATA_UUID, b"\x01\x02", 1.0)
    assert "malformed notification #1" in caplog.text and "01 02" in caplog.text
