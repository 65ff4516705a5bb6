"""``BleakScanner`` backend that scans Bumble's in-process link.

Selected with ``BleakScanner(backend=BumbleScanner)``; everything above it
(``discover``, ``find_device_by_address``, detection callbacks, service
filters) is bleak's own code.
"""

from __future__ import annotations

import struct
from typing import Any, Literal

from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Device

from repsense.ble.bumble_backend._convert import uuid_str
from repsense.ble.bumble_backend.air import get_air

_UUID_LISTS = {
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
}


def advertisement_data(adv: Advertisement) -> tuple[str | None, AdvertisementData]:
    """Translate one Bumble advertisement report into bleak's ``AdvertisementData``."""
    from bumble.core import UUID

    name: str | None = None
    services: list[str] = []
    service_data: dict[str, bytes] = {}
    manufacturer: dict[int, bytes] = {}
    tx_power: int | None = None
    for ad_type, raw in adv.data.ad_structures:
        raw = bytes(raw)
        if ad_type in _UUID_LISTS:
            size = _UUID_LISTS[ad_type]
            for i in range(0, len(raw) - size + 1, size):
                u = uuid_str(UUID.from_bytes(raw[i : i + size]))
                if u not in services:
                    services.append(u)
        elif ad_type in (AdvertisingData.COMPLETE_LOCAL_NAME, AdvertisingData.SHORTENED_LOCAL_NAME):
            if name is None or ad_type == AdvertisingData.COMPLETE_LOCAL_NAME:
                name = raw.decode("utf-8", "replace")
        elif ad_type == AdvertisingData.SERVICE_DATA_16_BIT_UUID and len(raw) >= 2:
            service_data[uuid_str(UUID.from_bytes(raw[:2]))] = raw[2:]
        elif ad_type == AdvertisingData.SERVICE_DATA_128_BIT_UUID and len(raw) >= 16:
            service_data[uuid_str(UUID.from_bytes(raw[:16]))] = raw[16:]
        elif ad_type == AdvertisingData.MANUFACTURER_SPECIFIC_DATA and len(raw) >= 2:
            manufacturer[struct.unpack_from("<H", raw)[0]] = raw[2:]
        elif ad_type == AdvertisingData.TX_POWER_LEVEL and len(raw) == 1:
            tx_power = struct.unpack("b", raw)[0]
    return name, AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=services,
        tx_power=tx_power,
        rssi=int(adv.rssi),
        platform_data=(adv,),
    )


class BumbleScanner(BaseBleakScanner):
    """Scan the virtual air of the running event loop with an emulated central."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode == "active"
        self._device: Device | None = None
        self._controller = None

    async def start(self) -> None:
        self.seen_devices = {}
        air = get_air()
        self._device, self._controller = air.new_device("repsense-scanner")
        self._device.on("advertisement", self._on_advertisement)
        await self._device.power_on()
        await self._device.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        device, controller = self._device, self._controller
        self._device = self._controller = None
        if device is None:
            return
        device.remove_listener("advertisement", self._on_advertisement)
        try:
            await device.stop_scanning()
        finally:
            get_air().remove(controller)

    def _on_advertisement(self, adv: Advertisement) -> None:
        name, data = advertisement_data(adv)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = str(adv.address).split("/")[0].upper()
        device = self.create_or_update_device(address, address, name, adv.address, data)
        self.call_detection_callbacks(device, data)
