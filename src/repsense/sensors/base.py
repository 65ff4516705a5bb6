"""The small abstract base every sensor driver implements (the shape of bleak's backends).

A driver is sans-IO: it knows a protocol's UUIDs, how to recognise its
advertisement, which writes configure it, and how to turn notification
bytes into samples with units and times.  The BLE transport (``repsense.ble``)
and the raw-capture reader (``repsense.io.raw_capture``) both drive the same
driver objects, so a live stream and a replayed capture decode identically.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from repsense.samples import SampleChunk


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
    """One configuration write: characteristic UUID (lower-case 128-bit) and payload."""

    char: str
    data: bytes
    response: bool = True


class SensorDriver(ABC):
    """One sensor protocol.

    Class attributes name the protocol (``protocol`` as in the raw capture
    format), the service to look for and the characteristics to subscribe.
    Instances hold per-connection decoding state (sample counters, clock-drift
    fit) and are fed notifications in arrival order.
    """

    protocol: str
    service_uuid: str
    notify_uuids: tuple[str, ...]
    has_gyro: bool

    @classmethod
    @abstractmethod
    def matches(cls, name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes]) -> bool:
        """Does an advertisement belong to this kind of sensor?"""

    @abstractmethod
    def configure(self, rate_hz: float) -> list[GattWrite]:
        """Writes that set the rate (and ranges) and start streaming."""

    @abstractmethod
    def decode(self, char: str, data: bytes, arrival_s: float) -> DecodeResult:
        """Decode one notification; never raises on bad bytes (reports a problem instead)."""

    def config(self) -> dict[str, Any]:
        """The ``config`` object written to line 1 of a raw capture."""
        return {}
