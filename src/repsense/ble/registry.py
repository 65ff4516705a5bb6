"""Find the sensor drivers and encoders the sensors package provides.

The protocol modules live in :mod:`repsense.sensors`; this shim looks them up
by protocol name so the transport does not hard-code the list.
"""

from __future__ import annotations

import importlib

from repsense.errors import InputError
from repsense.sensors.base import SensorDriver, SensorEncoder

PROTOCOLS = ("repsense", "witmotion", "thingy52", "polar_pmd")
_MODULES = {"repsense": "reference", "witmotion": "witmotion", "thingy52": "thingy52",
            "polar_pmd": "polar_pmd"}


def _module(protocol: str):
    try:
        return importlib.import_module(f"repsense.sensors.{_MODULES[protocol]}")
    except KeyError:
        raise InputError(
            f"protocol '{protocol}' is not supported; use one of {', '.join(PROTOCOLS)}"
        ) from None


def _find(protocol: str, base: type) -> type:
    pkg = importlib.import_module("repsense.sensors")
    table = getattr(pkg, "DRIVERS" if base is SensorDriver else "ENCODERS", None)
    if isinstance(table, dict) and protocol in table:
        return table[protocol]
    mod = _module(protocol)
    for value in vars(mod).values():
        if (
            isinstance(value, type)
            and issubclass(value, base)
            and value is not base
            and getattr(value, "protocol", None) == protocol
            and not getattr(value, "__abstractmethods__", None)
        ):
            return value
    raise InputError(f"protocol '{protocol}': no {base.__name__} found in {mod.__name__}")


def driver_class(protocol: str) -> type[SensorDriver]:
    """The host-side driver class of ``protocol``."""
    return _find(protocol, SensorDriver)


def encoder_class(protocol: str) -> type[SensorEncoder]:
    """The device-side encoder class of ``protocol`` (used by the virtual sensor)."""
    return _find(protocol, SensorEncoder)


def driver_classes() -> list[type[SensorDriver]]:
    """Every available driver class, in :data:`PROTOCOLS` order."""
    out = []
    for p in PROTOCOLS:
        try:
            out.append(driver_class(p))
        except (InputError, ImportError):
            continue
    return out


def detect(
    name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes]
) -> type[SensorDriver] | None:
    """The driver whose advertisement matcher accepts this advertisement, if any."""
    services = [u.lower() for u in service_uuids]
    for cls in driver_classes():
        try:
            if cls.matches(name, services, manufacturer_data):
                return cls
        except Exception:  # a matcher must never break a scan
            continue
    return None
