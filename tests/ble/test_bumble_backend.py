"""bleak's own BleakScanner/BleakClient driven over our Bumble backend."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError
from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import AdvertisingEventProperties, AdvertisingParameters

from repsense.ble.bumble_backend import BumbleClient, BumbleScanner, get_air

SVC = "6e400001-0000-4000-8000-00000000abcd"
NTF = "6e400002-0000-4000-8000-00000000abcd"
CTL = "6e400003-0000-4000-8000-00000000abcd"
ADDR = "C1:22:33:44:55:66"


async def _peripheral(writes: list[bytes]):
    device, controller = get_air().new_device("bench", ADDR)
    notify = gatt.Characteristic(
        NTF, gatt.Characteristic.Properties.NOTIFY, gatt.Characteristic.READABLE, b""
    )
    control = gatt.Characteristic(
        CTL,
        gatt.Characteristic.Properties.WRITE | gatt.Characteristic.Properties.READ,
        gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
        gatt.CharacteristicValue(read=lambda _c: b"\x2a", write=lambda _c, v: writes.append(v)),
    )
    device.add_service(gatt.Service(SVC, [notify, control]))
    await device.power_on()
    adv = bytes(
        AdvertisingData(
            [
                (AdvertisingData.FLAGS, b"\x06"),
                (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, bytes(UUID(SVC))),
                (AdvertisingData.COMPLETE_LOCAL_NAME, b"bench"),
                (AdvertisingData.MANUFACTURER_SPECIFIC_DATA, b"\x59\x00\x01\x02"),
            ]
        )
    )
    props = AdvertisingEventProperties(is_connectable=True, is_scannable=False, is_legacy=False)
    await device.create_advertising_set(
        advertising_parameters=AdvertisingParameters(
            advertising_event_properties=props,
            primary_advertising_interval_min=20,
            primary_advertising_interval_max=20,
        ),
        advertising_data=adv,
        auto_restart=True,
    )
    return device, notify


@pytest.mark.timeout(30)
def test_scan_connect_write_read_notify_and_link_loss() -> None:
    async def main() -> None:
        writes: list[bytes] = []
        device, notify = await _peripheral(writes)

        found = await BleakScanner.discover(
            timeout=0.3, return_adv=True, service_uuids=[SVC], backend=BumbleScanner
        )
        assert ADDR in found
        ble_device, adv = found[ADDR]
        assert adv.local_name == "bench"
        assert adv.service_uuids == [SVC]
        assert adv.manufacturer_data == {0x59: b"\x01\x02"}

        lost = asyncio.Event()
        client = BleakClient(ble_device, lambda _c: lost.set(), backend=BumbleClient)
        await client.connect()
        assert client.is_connected
        assert client.mtu_size > 23
        assert client.services.get_characteristic(NTF) is not None
        assert await client.read_gatt_char(CTL) == b"\x2a"
        await client.write_gatt_char(CTL, b"\x01\x02", response=True)
        assert writes == [b"\x01\x02"]

        got: list[bytes] = []
        await client.start_notify(NTF, lambda _ch, data: got.append(bytes(data)))
        for i in range(50):
            await device.notify_subscribers(notify, bytes([i]) * 30)
        for _ in range(100):
            if len(got) == 50:
                break
            await asyncio.sleep(0.01)
        assert got == [bytes([i]) * 30 for i in range(50)]

        # The peripheral drops the link: bleak's disconnected_callback fires.
        for conn in list(device.connections.values()):
            await conn.disconnect()
        await asyncio.wait_for(lost.wait(), 2)
        assert not client.is_connected

        # It advertises again and a fresh connection works.
        await asyncio.sleep(0.05)
        async with BleakClient(ADDR, backend=BumbleClient) as again:
            assert await again.read_gatt_char(CTL) == b"\x2a"

        with pytest.raises(BleakDeviceNotFoundError):
            await BleakClient("C9:99:99:99:99:99", backend=BumbleClient, timeout=1).connect()

    asyncio.run(main())
