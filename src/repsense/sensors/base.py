"""The small abstract base every sensor driver implements (the shape of bleak's backends).

A driver is sans-IO: it knows a protocol's UUIDs, how to recognise its
advertisement, which writes configure it, and how to turn notification
bytes into samples with units and times.  The BLE transport (``repsense.ble``)
and the raw-capture reader (``repsense.io.raw_capture``) both drive the same
driver objects, so a live stream and a replayed capture decode identically.

Besides the host-side :class:`SensorDriver`, every protocol module also has a
device-side :class:`SensorEncoder`: it describes the GATT layout the real
sensor serves (:class:`GattProfile`) and turns samples into the exact
notification bytes the sensor would send.  The virtual peripheral used in the
end-to-end tests serves each protocol through its encoder.

How a transport uses a driver (the contract)
--------------------------------------------
1. Connect; optionally read Battery (``BATTERY_LEVEL``) and Device
   Information (``DIS_*``) and parse them with :func:`parse_battery_level` /
   :func:`parse_dis_string`.
2. Subscribe to *every* UUID in ``driver.notify_uuids`` (some protocols answer
   configuration writes on a notify/indicate characteristic, e.g. the Polar
   control point).
3. Perform ``driver.configure(rate_hz)`` writes in order.  A write whose
   ``wait_notify`` is true is answered by the sensor with a notification or
   indication on the same characteristic: wait for it (a couple of seconds at
   most) and pass it to :meth:`SensorDriver.decode` before the next write.
4. Feed every notification, in arrival order, to
   ``driver.decode(char, data, arrival_s)`` with ``arrival_s`` from one
   steady host clock (the same clock for the whole session, across
   reconnects).  Sample times come back on that clock.  Record every
   notification (all characteristics) in the raw capture.
5. Before a planned disconnect, perform ``driver.stop()`` writes.
6. After a link loss, reconnect, call ``driver.reconnected()`` and repeat
   from step 2 with the *same* driver object: the clock fit and the sample
   counter survive, so the gap is measured and reported as lost samples.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from repsense.samples import SampleChunk

BLUETOOTH_BASE = "-0000-1000-8000-00805f9b34fb"


def uuid16(short: int) -> str:
    """The 128-bit lower-case form of a 16-bit Bluetooth SIG UUID."""
    return f"{short:08x}{BLUETOOTH_BASE}"


@lru_cache(maxsize=256)
def normalize_uuid(uuid: str) -> str:
    """Lower-case 128-bit form of ``uuid`` (accepts 16-bit ``"180f"``/``"0x180F"`` too)."""
    u = uuid.strip().lower()
    if u.startswith("0x"):
        u = u[2:]
    if len(u) in (4, 8) and all(c in "0123456789abcdef" for c in u):
        return uuid16(int(u, 16))
    return u


BATTERY_SERVICE = uuid16(0x180F)
BATTERY_LEVEL = uuid16(0x2A19)
DIS_SERVICE = uuid16(0x180A)
DIS_MANUFACTURER = uuid16(0x2A29)
DIS_MODEL = uuid16(0x2A24)
DIS_SERIAL = uuid16(0x2A25)
DIS_HARDWARE = uuid16(0x2A27)
DIS_FIRMWARE = uuid16(0x2A26)
DIS_SOFTWARE = uuid16(0x2A28)


def parse_battery_level(data: bytes) -> int | None:
    """Battery Level (0x2A19): one unsigned byte, percent; ``None`` if malformed."""
    if len(data) < 1 or data[0] > 100:
        return None
    return int(data[0])


def parse_dis_string(data: bytes) -> str:
    """A Device Information string characteristic (UTF-8, maybe NUL padded)."""
    return data.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip()


@dataclass(frozen=True)
class DecodeProblem:
    """A notification that could not be decoded, or samples that were lost."""

    kind: str
    """``"malformed"`` (bytes skipped) or ``"lost"`` (counter jumped)."""
    time_s: float
    message: str
    lost_samples: int = 0


@dataclass
class DecodeResult:
    """What one notification gave: samples (possibly none) and problems."""

    chunk: SampleChunk | None = None
    problems: list[DecodeProblem] = field(default_factory=list)


@dataclass(frozen=True)
class GattWrite:
    """One configuration write: characteristic UUID (lower-case 128-bit) and payload.

    ``wait_notify``: the sensor answers this write with a notification or
    indication on the same characteristic; wait for it and feed it to
    :meth:`SensorDriver.decode` before the next write.
    """

    char: str
    data: bytes
    response: bool = True
    wait_notify: bool = False


@dataclass(frozen=True)
class GattNotification:
    """One notification (or indication) a sensor sends: characteristic and payload."""

    char: str
    data: bytes
    indicate: bool = False


@dataclass(frozen=True)
class GattCharacteristic:
    """A characteristic of a served GATT layout.

    ``properties`` uses bleak's spelling: ``"read"``, ``"write"``,
    ``"write-without-response"``, ``"notify"``, ``"indicate"``.  ``value`` is
    the initial value returned by reads (static characteristics such as
    Device Information keep it).
    """

    uuid: str
    properties: tuple[str, ...]
    value: bytes = b""
    description: str = ""


@dataclass(frozen=True)
class GattService:
    """A primary service of a served GATT layout."""

    uuid: str
    characteristics: tuple[GattCharacteristic, ...]


@dataclass(frozen=True)
class GattProfile:
    """Everything a virtual peripheral needs to look like a real sensor.

    ``name`` is the advertised complete local name, ``advertised_services``
    the service UUIDs in the advertisement, ``manufacturer_data`` maps the
    company id to the advertised bytes.
    """

    name: str
    services: tuple[GattService, ...]
    advertised_services: tuple[str, ...] = ()
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)

    def characteristic(self, uuid: str) -> GattCharacteristic:
        """The characteristic ``uuid`` (``KeyError`` if the layout lacks it)."""
        u = normalize_uuid(uuid)
        for service in self.services:
            for char in service.characteristics:
                if char.uuid == u:
                    return char
        raise KeyError(uuid)


def standard_services(
    *,
    manufacturer: str,
    model: str,
    serial: str,
    firmware: str,
    hardware: str = "",
    battery: int = 87,
) -> tuple[GattService, ...]:
    """Battery (0x180F) and Device Information (0x180A) services with static values."""
    dis = [
        GattCharacteristic(DIS_MANUFACTURER, ("read",), manufacturer.encode()),
        GattCharacteristic(DIS_MODEL, ("read",), model.encode()),
        GattCharacteristic(DIS_SERIAL, ("read",), serial.encode()),
        GattCharacteristic(DIS_FIRMWARE, ("read",), firmware.encode()),
    ]
    if hardware:
        dis.append(GattCharacteristic(DIS_HARDWARE, ("read",), hardware.encode()))
    return (
        GattService(
            BATTERY_SERVICE,
            (GattCharacteristic(BATTERY_LEVEL, ("read", "notify"), bytes([battery])),),
        ),
        GattService(DIS_SERVICE, tuple(dis)),
    )


class SensorDriver(ABC):
    """One sensor protocol, host side.

    Class attributes name the protocol (``protocol`` as in the raw capture
    format), the service to look for and the characteristics to subscribe.
    Instances hold per-connection decoding state (sample counters, clock-drift
    fit) and are fed notifications in arrival order.

    Every driver takes ``rate_hz`` (``None`` = the protocol's default) and
    keyword options; :meth:`config` returns them as a JSON-able dict and
    ``cls.from_config(config)`` rebuilds an equivalent driver (that is how a
    raw capture is decoded by the same driver as the live stream).
    """

    protocol: ClassVar[str]
    service_uuid: ClassVar[str]
    notify_uuids: tuple[str, ...]
    has_gyro: bool
    rate_hz: float

    #: Rates the sensor can be set to (Hz); ``configure`` picks the nearest.
    supported_rates_hz: ClassVar[tuple[float, ...]] = ()
    default_rate_hz: ClassVar[float] = 100.0

    @classmethod
    @abstractmethod
    def matches(
        cls, name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes]
    ) -> bool:
        """Does an advertisement belong to this kind of sensor?"""

    @classmethod
    def model_name(cls, name: str | None) -> str:
        """A human label of the sensor model for ``scan`` output."""
        return cls.protocol

    @classmethod
    def from_advertisement(
        cls,
        name: str | None,
        service_uuids: list[str],
        manufacturer_data: dict[int, bytes],
        rate_hz: float | None = None,
    ) -> SensorDriver:
        """A driver for the advertised device (variants pick their options here)."""
        return cls(rate_hz=rate_hz)  # type: ignore[call-arg]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SensorDriver:
        """Rebuild a driver from :meth:`config` output (raw capture line 1).

        Raises ``ValueError`` on options the driver does not understand.
        """
        opts = dict(config)
        rate = opts.pop("rate_hz", None)
        for key in cls.ignored_config_keys:
            opts.pop(key, None)
        return cls(rate_hz=rate, **opts)  # type: ignore[call-arg]

    #: ``config`` keys that are informational (ignored by ``from_config``).
    ignored_config_keys: ClassVar[tuple[str, ...]] = ("placement", "side", "mtu", "note")

    @classmethod
    def nearest_rate(cls, rate_hz: float | None) -> float:
        """The supported rate closest to ``rate_hz`` (the default when ``None``)."""
        if rate_hz is None:
            return float(cls.default_rate_hz)
        if not cls.supported_rates_hz:
            return float(rate_hz)
        return float(min(cls.supported_rates_hz, key=lambda r: abs(r - rate_hz)))

    @abstractmethod
    def configure(self, rate_hz: float) -> list[GattWrite]:
        """Writes that set the rate (and ranges) and start streaming."""

    def stop(self) -> list[GattWrite]:
        """Writes that stop streaming before a planned disconnect (often none)."""
        return []

    @abstractmethod
    def decode(self, char: str, data: bytes, arrival_s: float) -> DecodeResult:
        """Decode one notification; never raises on bad bytes (reports a problem instead)."""

    def reconnected(self) -> None:  # noqa: B027 - optional hook
        """The link was lost and re-established; keep clock and counters, expect a gap."""

    def config(self) -> dict[str, Any]:
        """The ``config`` object written to line 1 of a raw capture."""
        return {"rate_hz": self.rate_hz}

    @property
    def drift_ppm(self) -> float | None:
        """Estimated sensor clock drift against the host clock (None until known)."""
        return None


class SensorEncoder(ABC):
    """One sensor protocol, device side: the GATT layout and notification bytes.

    The encoder is the virtual sensor's firmware in miniature: it applies
    configuration writes (:meth:`on_write`), and turns samples in units
    (g, deg/s) into the notifications the real sensor would send
    (:meth:`encode`).  It keeps the per-connection state (sample counter,
    clock) so consecutive ``encode`` calls continue the stream.
    """

    protocol: ClassVar[str]

    rate_hz: float
    streaming: bool
    """True once the host has started streaming (some protocols stream always)."""

    @abstractmethod
    def gatt(self) -> GattProfile:
        """The advertisement and GATT layout to serve."""

    @abstractmethod
    def on_write(self, char: str, data: bytes) -> list[GattNotification]:
        """Apply a write from the host; return notifications/indications it triggers.

        Raises ``ValueError`` for writes the real sensor would reject (the
        peripheral turns that into an ATT error).
        """

    @abstractmethod
    def encode(self, chunk: SampleChunk) -> list[GattNotification]:
        """Notifications carrying ``chunk`` (sample times are the sensor's clock, s)."""

    def on_subscribe(self, char: str) -> list[GattNotification]:
        """The host enabled notifications on ``char``; most protocols do nothing."""
        return []

    def on_disconnect(self) -> None:  # noqa: B027 - optional hook
        """The link dropped; by default the sensor keeps sampling and counting."""
