"""The shared in-process radio: one Bumble ``LocalLink`` per asyncio event loop.

Bumble's ``LocalLink`` plays the part of the air between emulated
controllers.  Every virtual peripheral and every central that our bleak
backend creates puts its own ``bumble.controller.Controller`` on the link of
the running event loop, so they can advertise to, scan for and connect to
one another exactly as separate radios would.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import weakref
from dataclasses import dataclass, field

from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

_CONTROLLER_LOG = logging.getLogger("bumble.controller")
_HOST_LOG = logging.getLogger("bumble.host")


class _QuietController(Controller):
    """Bumble's emulated controller with LE Data Length Extension, minus the cost of debug
    lines nobody reads.

    Bumble's controller defaults to 27-byte LE ACL packets (Bluetooth 4.0); current
    sensors (nRF52 and the like) negotiate 251-byte packets, and with 27 bytes every
    notification was cut into ~8 ACL packets, each with its own completed-packets
    event - about 90 % of the HCI traffic on the virtual air.  The ATT MTU is
    negotiated by the host as before; only the link-layer fragmentation changes.

    ``Controller.on_hci_packet`` / ``send_hci_packet`` build a coloured f-string
    of every HCI packet for ``logger.debug`` whether or not debug logging is on;
    on the virtual air that formatting was about a third of the BLE stack's CPU
    time (profile of ``benchmarks/soak.py``).  These overrides do what Bumble's
    do (bumble 0.0.236) and only format when the logger would print.
    """

    le_acl_data_packet_length = 251
    supported_max_tx_octets = 251
    supported_max_rx_octets = 251
    suggested_max_tx_octets = 251

    def on_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _CONTROLLER_LOG.isEnabledFor(logging.DEBUG):
            super().on_hci_packet(packet)
            return
        if isinstance(packet, hci.HCI_Command):
            self.on_hci_command_packet(packet)
        elif isinstance(packet, hci.HCI_AclDataPacket):
            self.on_hci_acl_data_packet(packet)
        elif isinstance(packet, hci.HCI_Event):
            self.on_hci_event_packet(packet)
        else:
            super().on_hci_packet(packet)  # Bumble's warning for an unknown type

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _CONTROLLER_LOG.isEnabledFor(logging.DEBUG):
            super().send_hci_packet(packet)
            return
        if self.host:
            asyncio.get_running_loop().call_soon(self.host.on_packet, bytes(packet))


class _QuietHost(Host):
    """Bumble's host, minus the per-packet debug f-strings (see :class:`_QuietController`)."""

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _HOST_LOG.isEnabledFor(logging.DEBUG) or self.snooper:
            super().send_hci_packet(packet)
            return
        if self.hci_sink:
            self.hci_sink.on_packet(bytes(packet))

    def on_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _HOST_LOG.isEnabledFor(logging.DEBUG) or self.snooper:
            super().on_hci_packet(packet)
            return
        if isinstance(packet, hci.HCI_Event):
            self.on_hci_event_packet(packet)
        elif isinstance(packet, hci.HCI_AclDataPacket):
            self.on_hci_acl_data_packet(packet)
        else:
            super().on_hci_packet(packet)  # commands, SCO, ISO: rare here, Bumble's own path


@dataclass
class Air:
    """The link of one event loop and the peripherals that are on it."""

    link: LocalLink = field(default_factory=LocalLink)
    peripherals: dict[str, object] = field(default_factory=dict)
    """Virtual peripherals by upper-case address (informational, for error messages)."""
    _central_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    time_scale: float = 1.0
    """How many seconds of air time pass per wall-clock second (virtual sensors run fast)."""
    max_step_s: float = 0.01
    """Longest wall-clock step the air clock follows in one tick (see :meth:`tick`)."""
    drivers: int = 0
    """Virtual sensors currently driving the clock with :meth:`tick`."""
    _real: float = field(default_factory=time.monotonic)
    _virtual: float = 0.0

    def tick(self) -> float:
        """Advance the air clock (called by virtual sensors every few ms).

        The clock follows wall time scaled by :attr:`time_scale`, but by at
        most :attr:`max_step_s` of wall time per tick.  When the event loop is
        stalled or saturated (garbage collection, a slow consumer, a busy CI
        machine), ticks come late and the virtual world slows down instead of
        piling up transport delay — which sensors without a sample counter
        would take for lost samples.
        """
        real = time.monotonic()
        step = min(real - self._real, self.max_step_s)
        self._real = real
        self._virtual += step * self.time_scale
        return self._virtual

    def now(self) -> float:
        """Air time in seconds.

        Between ticks it runs on with wall time, but never more than
        :attr:`max_step_s` (scaled) past the last tick, so it is monotonic and
        a stall cannot stretch it.  With no virtual sensor driving it, the
        clock simply follows wall time.
        """
        real = time.monotonic()
        if self.drivers <= 0:
            self._virtual += (real - self._real) * self.time_scale
            self._real = real
            return self._virtual
        return self._virtual + min(real - self._real, self.max_step_s) * self.time_scale

    def set_time_scale(self, scale: float) -> None:
        """Change the pace without making :meth:`now` jump."""
        self.tick() if self.drivers else self.now()
        self.time_scale = float(scale)

    def new_device(self, name: str, address: str | None = None) -> tuple[Device, Controller]:
        """A powered-off Bumble device with its own controller on this link.

        Centrals get a fresh static random address each so that several
        scanners and clients can coexist (and reconnect) without clashing.
        """
        if address is None:
            n = next(self._central_ids)
            address = f"F0:00:00:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"
        controller = _QuietController(name, link=self.link)
        device = Device(
            name=name,
            address=Address(address),
            host=_QuietHost(controller, AsyncPipeSink(controller)),
        )
        return device, controller

    def remove(self, controller: Controller) -> None:
        """Take a controller off the air (a central that closed, a sensor switched off)."""
        self.link.controllers.discard(controller)

    def is_advertising(self, address: str) -> bool:
        """Is a controller advertising (connectably) with ``address`` right now?"""
        want = Address(address)
        for c in self.link.controllers:
            legacy = c.le_legacy_advertiser
            if legacy.enabled and legacy.address == want:
                return True
            if any(s.enabled and s.address == want for s in c.advertising_sets.values()):
                return True
        return False

    def has_address(self, address: str) -> bool:
        """Is any controller on the link using ``address`` (advertising or connected)?"""
        want = Address(address)
        return any(
            c.random_address == want or c.public_address == want for c in self.link.controllers
        )


# Bumble's emulated controller warns "!!! no connection for handle" when both
# ends of an in-process link tear it down at once; harmless here, and it would
# reach the user's terminal through logging's last-resort handler.
logging.getLogger("bumble.controller").setLevel(logging.ERROR)

_AIRS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Air] = weakref.WeakKeyDictionary()


def get_air() -> Air:
    """The :class:`Air` of the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    air = _AIRS.get(loop)
    if air is None:
        air = _AIRS[loop] = Air()
    return air
