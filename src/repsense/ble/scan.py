"""Discover supported sensors nearby with ``bleak.BleakScanner``."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from repsense.ble.backend import BleBackend, select_backend
from repsense.ble.errors import ble_errors
from repsense.ble.registry import detect
from repsense.sensors.base import BATTERY_SERVICE, parse_battery_level


@dataclass
class FoundSensor:
    """A supported sensor seen while scanning."""

    name: str | None
    address: str
    rssi: int
    protocol: str
    model: str
    battery_pct: int | None
    device: BLEDevice | None = None
    advertisement: AdvertisementData | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("device")
        d.pop("advertisement")
        return d


def battery_from_advertisement(adv: AdvertisementData) -> int | None:
    """Battery percent if the advertisement carries Battery Service data (0x180F)."""
    data = adv.service_data.get(BATTERY_SERVICE)
    return None if data is None else parse_battery_level(data)


def identify(
    device: BLEDevice, adv: AdvertisementData, protocol: str | None = None
) -> FoundSensor | None:
    """A :class:`FoundSensor` if the advertisement is one of our protocols.

    ``protocol`` forces the protocol (a sensor whose advertisement does not say).
    """
    name = adv.local_name or device.name
    if protocol is not None:
        from repsense.ble.registry import driver_class

        cls = driver_class(protocol)
    else:
        cls = detect(name, list(adv.service_uuids), dict(adv.manufacturer_data))
    if cls is None:
        return None
    return FoundSensor(
        name=name,
        address=device.address,
        rssi=int(adv.rssi),
        protocol=cls.protocol,
        model=cls.model_name(name),
        battery_pct=battery_from_advertisement(adv),
        device=device,
        advertisement=adv,
    )


async def scan(timeout: float = 5.0, backend: BleBackend | None = None) -> list[FoundSensor]:
    """Scan for ``timeout`` seconds; supported sensors, strongest signal first.

    Raises :class:`repsense.ble.errors.BleError` with an actionable line when
    Bluetooth is unavailable (no adapter, powered off, permission denied).
    """
    backend = backend or select_backend()
    with ble_errors():
        found = await BleakScanner.discover(
            timeout=timeout, return_adv=True, **backend.scanner_kwargs()
        )
    sensors = [s for dev, adv in found.values() if (s := identify(dev, adv)) is not None]
    sensors.sort(key=lambda s: -s.rssi)
    return sensors


async def find_sensor(
    address_or_name: str,
    timeout: float = 10.0,
    backend: BleBackend | None = None,
    protocol: str | None = None,
) -> FoundSensor | None:
    """Scan until the sensor with this address (or advertised name) shows up.

    ``protocol`` accepts a device whose advertisement is not recognised.
    """
    backend = backend or select_backend()
    want = address_or_name.strip()
    hit: asyncio.Future[FoundSensor] = asyncio.get_running_loop().create_future()

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        if hit.done():
            return
        name = adv.local_name or device.name
        if device.address.upper() == want.upper() or (name is not None and name == want):
            sensor = identify(device, adv, protocol)
            if sensor is not None:
                hit.set_result(sensor)

    with ble_errors(want):
        async with BleakScanner(on_adv, **backend.scanner_kwargs()):
            try:
                return await asyncio.wait_for(hit, timeout)
            except TimeoutError:
                return None
