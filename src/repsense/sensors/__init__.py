"""Sensor drivers: one module per protocol, all behind :class:`repsense.sensors.base.SensorDriver`.

Registry
--------
``DRIVERS``
    protocol name (as in the raw capture format) -> driver class.
``ENCODERS``
    protocol name -> device-side encoder class (for virtual peripherals).
``driver_for_protocol(name)``
    the driver class of a protocol (``KeyError`` names the known ones).
``make_driver(name, config)``
    a driver instance from a raw-capture ``config`` dict.
``match_advertisement(name, service_uuids, manufacturer_data)``
    a :class:`SensorMatch` for a supported sensor's advertisement, or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from repsense.sensors.base import SensorDriver, SensorEncoder
from repsense.sensors.polar_pmd import PolarPmdDriver, PolarPmdEncoder
from repsense.sensors.reference import ReferenceDriver, ReferenceEncoder
from repsense.sensors.thingy52 import Thingy52Driver, Thingy52Encoder
from repsense.sensors.witmotion import WitMotionDriver, WitMotionEncoder

DRIVERS: dict[str, type[SensorDriver]] = {
    "repsense": ReferenceDriver,
    "witmotion": WitMotionDriver,
    "thingy52": Thingy52Driver,
    "polar_pmd": PolarPmdDriver,
}

ENCODERS: dict[str, type[SensorEncoder]] = {
    "repsense": ReferenceEncoder,
    "witmotion": WitMotionEncoder,
    "thingy52": Thingy52Encoder,
    "polar_pmd": PolarPmdEncoder,
}

PROTOCOLS: tuple[str, ...] = tuple(DRIVERS)


def driver_for_protocol(name: str) -> type[SensorDriver]:
    """The driver class of protocol ``name`` (``KeyError`` lists the known protocols)."""
    try:
        return DRIVERS[name]
    except KeyError:
        raise KeyError(f"unknown sensor protocol '{name}'; known: {', '.join(PROTOCOLS)}") from None


def make_driver(name: str, config: dict[str, Any] | None = None) -> SensorDriver:
    """A fresh driver of protocol ``name`` configured from a raw-capture ``config``.

    Raises ``KeyError`` (unknown protocol) or ``ValueError``/``TypeError``
    (options the driver does not accept).
    """
    return driver_for_protocol(name).from_config(dict(config or {}))


@dataclass(frozen=True)
class SensorMatch:
    """A recognised advertisement: which protocol, which model, driver options."""

    protocol: str
    model: str
    driver: type[SensorDriver]
    name: str | None
    service_uuids: tuple[str, ...] = ()
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)

    def create(self, rate_hz: float | None = None) -> SensorDriver:
        """A driver for this device (variant chosen from the advertisement)."""
        return self.driver.from_advertisement(
            self.name, list(self.service_uuids), dict(self.manufacturer_data), rate_hz
        )


def match_advertisement(
    name: str | None,
    service_uuids: list[str] | tuple[str, ...] = (),
    manufacturer_data: dict[int, bytes] | None = None,
) -> SensorMatch | None:
    """The supported sensor an advertisement belongs to, or ``None``."""
    uuids = list(service_uuids)
    mdata = dict(manufacturer_data or {})
    for protocol, cls in DRIVERS.items():
        if cls.matches(name, uuids, mdata):
            return SensorMatch(protocol, cls.model_name(name), cls, name, tuple(uuids), mdata)
    return None


__all__ = [
    "DRIVERS",
    "ENCODERS",
    "PROTOCOLS",
    "SensorMatch",
    "driver_for_protocol",
    "make_driver",
    "match_advertisement",
]
