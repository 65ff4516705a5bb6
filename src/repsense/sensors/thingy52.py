"""Nordic Thingy:52 — the Thingy Motion Service (TMS) raw-data stream.

From the Thingy:52 firmware (``ble_tms.h`` / ``m_motion.c``; see
``firmware_notes/thingy52.md``):

* UUID base ``ef68xxxx-9b35-4933-9b10-52ffa9740042``; motion service
  ``0x0400``, motion configuration ``0x0401`` (read/write), raw data
  ``0x0406`` (notify).  The device advertises the configuration service
  ``ef680100-…``.
* Raw data: 18 bytes = 9 int16 LE: accelerometer x y z in Q6.10 g (÷1024,
  saturating at ±32 g), gyroscope x y z in Q11.5 °/s (÷32, ±1024 °/s),
  compass x y z in Q12.4 µT (÷16).  One sample per notification.
* Configuration (9 bytes, packed LE): ``u16 pedometer_interval_ms,
  u16 temperature_interval_ms, u16 compass_interval_ms, u16 motion_freq_hz,
  u8 wake_on_motion``; ``motion_freq_hz`` 1-200 sets the raw-data rate.  The
  firmware resets on a write of any other length, and stores the config in
  flash.
* Raw data flows only while its notifications are enabled.  No counter or
  clock: times come from arrival times fitted to the nominal rate.
"""

from __future__ import annotations

import struct
from typing import Any, ClassVar

import numpy as np

from repsense.samples import SampleChunk
from repsense.sensors import _util
from repsense.sensors.base import (
    BATTERY_LEVEL,
    BATTERY_SERVICE,
    DecodeProblem,
    DecodeResult,
    GattCharacteristic,
    GattNotification,
    GattProfile,
    GattService,
    GattWrite,
    SensorDriver,
    SensorEncoder,
    normalize_uuid,
)
from repsense.sensors.timing import ArrivalTimer


def thingy_uuid(short: int) -> str:
    """A Thingy:52 UUID from its 16-bit part (e.g. ``0x0406``)."""
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


CONFIG_SERVICE_UUID = thingy_uuid(0x0100)
DEVICE_NAME_UUID = thingy_uuid(0x0101)
FIRMWARE_VERSION_UUID = thingy_uuid(0x0107)
SERVICE_UUID = thingy_uuid(0x0400)
MOTION_CONFIG_UUID = thingy_uuid(0x0401)
RAW_UUID = thingy_uuid(0x0406)

RAW = struct.Struct("<9h")
CONFIG = struct.Struct("<HHHHB")
ACC_LSB_G = 1.0 / 1024.0  # Q6.10
GYR_LSB_DPS = 1.0 / 32.0  # Q11.5
MAG_LSB_UT = 1.0 / 16.0  # Q12.4
RATE_MIN_HZ, RATE_MAX_HZ = 1, 200


def config_bytes(
    motion_freq_hz: int,
    *,
    pedometer_interval_ms: int = 1000,
    temperature_interval_ms: int = 500,
    compass_interval_ms: int = 500,
    wake_on_motion: bool = True,
) -> bytes:
    """The 9-byte motion configuration value."""
    if not RATE_MIN_HZ <= motion_freq_hz <= RATE_MAX_HZ:
        raise ValueError(f"motion_freq_hz must be {RATE_MIN_HZ}-{RATE_MAX_HZ}")
    return CONFIG.pack(
        pedometer_interval_ms,
        temperature_interval_ms,
        compass_interval_ms,
        int(motion_freq_hz),
        1 if wake_on_motion else 0,
    )


def encode_raw(
    acc_g: np.ndarray, gyr_dps: np.ndarray, mag_ut: np.ndarray | None = None
) -> list[bytes]:
    """Raw-data notifications (18 bytes each), one per row."""
    acc = _util.to_int16(np.asarray(acc_g).reshape(-1, 3), ACC_LSB_G)
    gyr = _util.to_int16(np.asarray(gyr_dps).reshape(-1, 3), GYR_LSB_DPS)
    n = acc.shape[0]
    mag = _util.to_int16(
        np.zeros((n, 3)) if mag_ut is None else np.asarray(mag_ut).reshape(-1, 3), MAG_LSB_UT
    )
    rows = np.ascontiguousarray(np.hstack([acc, gyr, mag]), dtype="<i2")
    return [rows[i].tobytes() for i in range(n)]


def parse_raw(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(acc g, gyro °/s, compass µT)`` of one raw notification; ``ValueError`` if not 18 bytes."""
    if len(data) != RAW.size:
        raise ValueError(f"raw data must be {RAW.size} bytes")
    v = np.frombuffer(data, dtype="<i2").astype(np.float64)
    return v[0:3] * ACC_LSB_G, v[3:6] * GYR_LSB_DPS, v[6:9] * MAG_LSB_UT


class Thingy52Driver(SensorDriver):
    """Host side of the Thingy:52 raw motion stream.

    Parameters
    ----------
    rate_hz
        Motion processing frequency, 1-200 Hz (default 100).  The raw stream
        is one 18-byte notification per sample, so above ~100 Hz a short
        connection interval is needed.
    """

    protocol: ClassVar[str] = "thingy52"
    service_uuid: ClassVar[str] = SERVICE_UUID
    supported_rates_hz: ClassVar[tuple[float, ...]] = ()
    default_rate_hz: ClassVar[float] = 100.0

    def __init__(self, rate_hz: float | None = None) -> None:
        rate = self.default_rate_hz if rate_hz is None else float(rate_hz)
        self.rate_hz = float(min(RATE_MAX_HZ, max(RATE_MIN_HZ, round(rate))))
        self.has_gyro = True
        self.notify_uuids = (RAW_UUID,)
        self._timer = ArrivalTimer(self.rate_hz)

    @classmethod
    def matches(
        cls, name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes]
    ) -> bool:
        uu = {normalize_uuid(u) for u in service_uuids}
        if CONFIG_SERVICE_UUID in uu or SERVICE_UUID in uu:
            return True
        return bool(name) and name.lower().startswith("thingy")

    @classmethod
    def model_name(cls, name: str | None) -> str:
        return "Nordic Thingy:52"

    def configure(self, rate_hz: float) -> list[GattWrite]:
        self.rate_hz = float(min(RATE_MAX_HZ, max(RATE_MIN_HZ, round(rate_hz))))
        self._timer.set_rate(self.rate_hz)
        return [GattWrite(MOTION_CONFIG_UUID, config_bytes(int(self.rate_hz)))]

    def config(self) -> dict[str, Any]:
        return {"rate_hz": self.rate_hz}

    @property
    def drift_ppm(self) -> float | None:
        return self._timer.sync.drift_ppm

    def decode(self, char: str, data: bytes, arrival_s: float) -> DecodeResult:
        if normalize_uuid(char) != RAW_UUID:
            return DecodeResult()
        try:
            acc, gyr, _mag = parse_raw(bytes(data))
        except (ValueError, TypeError) as exc:
            return DecodeResult(problems=[_util.malformed(arrival_s, f"Thingy:52: {exc}", data)])
        block = self._timer.times(1, arrival_s)
        problems: list[DecodeProblem] = []
        if block.lost > 0:
            gap_t = block.gap_start_s if block.gap_start_s is not None else float(block.t[0])
            problems.append(_util.lost(gap_t, block.lost, "silence in the stream; no counter"))
        return DecodeResult(_util.chunk(block.t, acc[None, :], gyr[None, :]), problems)


class Thingy52Encoder(SensorEncoder):
    """Device side: a Thingy:52 whose raw stream runs while notifications are on."""

    protocol: ClassVar[str] = "thingy52"

    def __init__(self, *, name: str = "Thingy", rate_hz: float = 100.0, battery: int = 76) -> None:
        self.name = name
        self.rate_hz = float(rate_hz)
        self.battery = battery
        self.streaming = False
        self.config = config_bytes(int(rate_hz))

    def gatt(self) -> GattProfile:
        return GattProfile(
            name=self.name,
            services=(
                GattService(
                    CONFIG_SERVICE_UUID,
                    (
                        GattCharacteristic(DEVICE_NAME_UUID, ("read", "write"), self.name.encode()),
                        GattCharacteristic(FIRMWARE_VERSION_UUID, ("read",), bytes([2, 2, 0])),
                    ),
                ),
                GattService(
                    SERVICE_UUID,
                    (
                        GattCharacteristic(MOTION_CONFIG_UUID, ("read", "write"), self.config),
                        GattCharacteristic(RAW_UUID, ("notify",), description="raw motion data"),
                    ),
                ),
                GattService(
                    BATTERY_SERVICE,
                    (GattCharacteristic(BATTERY_LEVEL, ("read", "notify"), bytes([self.battery])),),
                ),
            ),
            advertised_services=(CONFIG_SERVICE_UUID,),
        )

    def on_subscribe(self, char: str) -> list[GattNotification]:
        if normalize_uuid(char) == RAW_UUID:
            self.streaming = True
        return []

    def on_disconnect(self) -> None:
        # The firmware disables all motion features when the link drops.
        self.streaming = False

    def on_write(self, char: str, data: bytes) -> list[GattNotification]:
        c = normalize_uuid(char)
        if c == MOTION_CONFIG_UUID:
            if len(data) != CONFIG.size:
                raise ValueError("motion config must be 9 bytes (the real Thingy resets)")
            freq = CONFIG.unpack(data)[3]
            if not RATE_MIN_HZ <= freq <= RATE_MAX_HZ:
                raise ValueError(f"motion_freq_hz {freq} out of range")
            self.config = bytes(data)
            self.rate_hz = float(freq)
            return []
        if c == DEVICE_NAME_UUID:
            self.name = bytes(data).decode("utf-8", errors="replace")
            return []
        raise ValueError(f"characteristic {char} is not writable")

    def encode(self, chunk: SampleChunk) -> list[GattNotification]:
        n = len(chunk)
        if n == 0 or not self.streaming:
            return []
        gyr = chunk.gyr if chunk.gyr is not None else np.zeros((n, 3))
        return [GattNotification(RAW_UUID, b) for b in encode_raw(chunk.acc, gyr)]
