"""``BleakClient`` backend that connects over Bumble's in-process link.

Selected with ``BleakClient(address, backend=BumbleClient)``.  Each client
brings its own emulated central (controller + host + device) onto the
:mod:`~repsense.ble.bumble_backend.air` of the running loop, connects, runs
real ATT/GATT discovery, reads, writes and subscriptions through Bumble's
GATT client, and reports unsolicited disconnections to bleak's
``disconnected_callback`` like the platform backends do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import hci
from bumble.att import ATT_Error
from bumble.core import BaseBumbleError
from bumble.core import TimeoutError as BumbleTimeout
from bumble.device import Connection, Device, Peer

from repsense.ble.bumble_backend._convert import uuid_str
from repsense.ble.bumble_backend.air import get_air

log = logging.getLogger(__name__)

PREFERRED_MTU = 247
"""ATT MTU we ask for, as BlueZ/CoreBluetooth do automatically on real links."""


class BumbleClient(BaseBleakClient):
    """A bleak client whose radio is an emulated Bumble controller."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self.address = self.address.upper()
        self._name = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._device: Device | None = None
        self._controller = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._closing = False
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    # -- properties ---------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        if self._connection is None:
            raise BleakError("Not connected")
        return int(self._connection.att_mtu)

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    # -- connection ---------------------------------------------------------------

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        timeout = float(kwargs.get("timeout", self._timeout))
        air = get_air()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Like a platform backend that scans for the address first: wait (up to
        # the timeout) for the device to advertise, else it is "not found".
        while not air.is_advertising(self.address):
            if loop.time() >= deadline:
                raise BleakDeviceNotFoundError(
                    self.address, f"Device with address {self.address} was not found."
                )
            await asyncio.sleep(0.01)
        self._device, self._controller = air.new_device("repsense-central")
        await self._device.power_on()
        try:
            # Bumble's emulated controller never completes a cancelled connection
            # attempt, so the timeout is enforced here too.
            connection = await asyncio.wait_for(
                self._device.connect(hci.Address(self.address), timeout=timeout),
                max(deadline - loop.time(), 0.05) + 0.5,
            )
        except (TimeoutError, BumbleTimeout) as exc:
            await self._release()
            raise BleakDeviceNotFoundError(
                self.address, f"Device with address {self.address} did not answer."
            ) from exc
        except BaseBumbleError as exc:
            await self._release()
            raise BleakError(f"connection to {self.address} failed: {exc}") from exc
        self._connection = connection
        self._closing = False
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            self._peer = Peer(connection)
            await self._peer.request_mtu(PREFERRED_MTU)
            if pair:
                await self.pair()
            self.services = await self._discover()
        except Exception:
            await self.disconnect()
            raise

    async def disconnect(self) -> None:
        connection, device = self._connection, self._device
        self._closing = True
        if connection is not None and device is not None:
            try:
                await device.disconnect(
                    connection, hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR
                )
            except BaseBumbleError as exc:  # already gone: nothing left to close
                log.debug("disconnect: %s", exc)
        self._connection = None
        await self._release()

    async def _release(self) -> None:
        if self._controller is not None:
            get_air().remove(self._controller)
        self._device = self._controller = None
        self._peer = None
        self.services = None
        self._subscribers.clear()

    def _on_disconnection(self, reason: int) -> None:
        unsolicited = not self._closing
        self._connection = None
        self._subscribers.clear()
        if self._controller is not None:
            get_air().remove(self._controller)
        self._device = self._controller = None
        self._peer = None
        if unsolicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        if self._connection is None:
            raise BleakError("Not connected")
        try:
            await self._connection.pair()
        except BaseBumbleError as exc:
            raise BleakError(f"pairing with {self.address} failed: {exc}") from exc

    async def unpair(self) -> None:
        if self._device is not None and self._device.keystore is not None:
            await self._device.keystore.delete(self.address)
        await self.disconnect()

    # -- discovery ----------------------------------------------------------------

    async def _discover(self) -> BleakGATTServiceCollection:
        assert self._peer is not None
        collection = BleakGATTServiceCollection()
        mtu = self.mtu_size
        for service in await self._peer.discover_services():
            bleak_service = BleakGATTService(service, service.handle, uuid_str(service.uuid))
            collection.add_service(bleak_service)
            for char in await service.discover_characteristics():
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    uuid_str(char.uuid),
                    list(gatt_char_props_to_strs(int(char.properties))),
                    lambda: mtu - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in await char.discover_descriptors():
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, uuid_str(desc.type), bleak_char)
                    )
        return collection

    # -- I/O ----------------------------------------------------------------------

    def _check(self) -> None:
        if self._connection is None:
            raise BleakError("Not connected")

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._check()
        try:
            return bytearray(await characteristic.obj.read_value())
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._check()
        try:
            return bytearray(await descriptor.obj.read_value())
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        self._check()
        try:
            await characteristic.obj.write_value(bytes(data), with_response=response)
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._check()
        try:
            await descriptor.obj.write_value(bytes(data), with_response=True)
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        self._check()

        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = deliver
        try:
            await characteristic.obj.subscribe(deliver, prefer_notify=True)
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._check()
        deliver = self._subscribers.pop(characteristic.handle, None)
        await characteristic.obj.unsubscribe(deliver)

