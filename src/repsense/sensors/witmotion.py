"""WitMotion BLE 5.0 IMUs: BWT901BLE5.0, WT901BLECL, WT9011DCL.

Protocol (WitMotion "BLE 5.0" datasheets; see ``firmware_notes/witmotion.md``):

* service ``0000ffe5-0000-1000-8000-00805f9a34fb``, notify
  ``0000ffe4-…-00805f9a34fb``, write ``0000ffe9-…-00805f9a34fb`` — note the
  ``…9a34fb`` suffix: these are *not* 16-bit SIG UUIDs on the Bluetooth base.
* Data: 20-byte frames ``55 61`` + 9 int16 LE: acceleration x y z
  (÷32768×16 g), angular velocity x y z (÷32768×2000 °/s), angle roll pitch
  yaw (÷32768×180 °).  Register read replies are ``55 71`` + start register
  (u16) + 8 registers; they carry no samples and are skipped.  One
  notification normally holds one frame; several back-to-back frames are
  accepted.
* Commands (5 bytes, ``FF AA reg lo hi``): unlock ``FF AA 69 88 B5`` (valid
  ~10 s), return rate ``FF AA 03 NN 00``, save ``FF AA 00 00 00``.
* No sample counter or clock: times come from arrival times fitted to the
  nominal rate (:class:`~repsense.sensors.timing.ArrivalTimer`).
"""

from __future__ import annotations

import re
import struct
from typing import Any, ClassVar

import numpy as np

from repsense.samples import SampleChunk
from repsense.sensors import _util
from repsense.sensors.base import (
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
    standard_services,
)
from repsense.sensors.timing import ArrivalTimer

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

FRAME_SIZE = 20
HEAD = 0x55
FLAG_DATA = 0x61
FLAG_REGISTER = 0x71
ACC_LSB_G = 16.0 / 32768.0
GYR_LSB_DPS = 2000.0 / 32768.0
ANGLE_LSB_DEG = 180.0 / 32768.0

_FRAME = struct.Struct("<9h")
_SCALE = np.array([ACC_LSB_G] * 3 + [GYR_LSB_DPS] * 3 + [ANGLE_LSB_DEG] * 3)

UNLOCK = bytes.fromhex("ffaa6988b5")
SAVE = bytes.fromhex("ffaa000000")
REG_RATE = 0x03

#: Return-rate register (0x03) codes of the BLE 5.0 modules.
RATE_CODES: dict[float, int] = {
    0.2: 0x01,
    0.5: 0x02,
    1.0: 0x03,
    2.0: 0x04,
    5.0: 0x05,
    10.0: 0x06,
    20.0: 0x07,
    50.0: 0x08,
    100.0: 0x09,
    200.0: 0x0B,
}
CODE_RATES = {v: k for k, v in RATE_CODES.items()}

_NAME = re.compile(r"^(B?WT9\d{2,3}|WT\d{3,4}(BLE|DCL)|WTVB|HWT9)", re.IGNORECASE)


def set_rate_command(rate_hz: float) -> bytes:
    """``FF AA 03 NN 00`` for the supported rate nearest to ``rate_hz``."""
    rate = min(RATE_CODES, key=lambda r: abs(r - rate_hz))
    return bytes([0xFF, 0xAA, REG_RATE, RATE_CODES[rate], 0x00])


def encode_frame(acc_g: np.ndarray, gyr_dps: np.ndarray, angle_deg: np.ndarray) -> bytes:
    """Bytes of ``55 61`` frames, one per row of the (n, 3) inputs."""
    acc = _util.to_int16(np.asarray(acc_g).reshape(-1, 3), ACC_LSB_G)
    gyr = _util.to_int16(np.asarray(gyr_dps).reshape(-1, 3), GYR_LSB_DPS)
    ang = _util.to_int16(np.asarray(angle_deg).reshape(-1, 3), ANGLE_LSB_DEG)
    n = acc.shape[0]
    out = np.empty((n, FRAME_SIZE), dtype=np.uint8)
    out[:, 0] = HEAD
    out[:, 1] = FLAG_DATA
    out[:, 2:] = np.ascontiguousarray(np.hstack([acc, gyr, ang]), dtype="<i2").view(np.uint8)
    return out.tobytes()


def angles_from_gravity(acc_g: np.ndarray) -> np.ndarray:
    """Roll and pitch (deg) from the accelerometer, yaw 0 — what the module reports at rest."""
    a = np.asarray(acc_g, dtype=np.float64).reshape(-1, 3)
    roll = np.degrees(np.arctan2(a[:, 1], a[:, 2]))
    pitch = np.degrees(np.arctan2(-a[:, 0], np.hypot(a[:, 1], a[:, 2])))
    return np.column_stack([roll, pitch, np.zeros(len(a))])


def parse_frames(data: bytes) -> tuple[np.ndarray, int]:
    """Parse a notification: ``(values (k, 9) float units, register replies)``.

    Values are acc g, gyro °/s, angle °.  ``ValueError`` if the bytes are not
    whole 20-byte ``55 61``/``55 71`` frames.
    """
    if len(data) == FRAME_SIZE and data[0] == HEAD and data[1] == FLAG_DATA:
        # The common case: one data frame per notification.
        return np.array(_FRAME.unpack_from(data, 2), dtype=np.float64)[None, :] * _SCALE, 0
    if len(data) == 0 or len(data) % FRAME_SIZE:
        raise ValueError("not a whole number of 20-byte frames")
    frames = np.frombuffer(data, dtype=np.uint8).reshape(-1, FRAME_SIZE)
    if (frames[:, 0] != HEAD).any():
        raise ValueError("frame does not start with 0x55")
    kind = frames[:, 1]
    data_rows = kind == FLAG_DATA
    reg_rows = kind == FLAG_REGISTER
    if not (data_rows | reg_rows).all():
        bad = int(kind[~(data_rows | reg_rows)][0])
        raise ValueError(f"unknown frame flag 0x{bad:02x}")
    raw = np.ascontiguousarray(frames[data_rows, 2:]).view("<i2").reshape(-1, 9)
    vals = raw.astype(np.float64)
    vals[:, 0:3] *= ACC_LSB_G
    vals[:, 3:6] *= GYR_LSB_DPS
    vals[:, 6:9] *= ANGLE_LSB_DEG
    return vals, int(reg_rows.sum())


class WitMotionDriver(SensorDriver):
    """Host side of the WitMotion BLE 5.0 protocol.

    Parameters
    ----------
    rate_hz
        Requested rate; nearest of 10, 20, 50, 100, 200 Hz.  50 Hz is the
        highest rate these modules deliver reliably over BLE.
    save
        Also send the save command so the rate survives a power cycle.
    """

    protocol: ClassVar[str] = "witmotion"
    service_uuid: ClassVar[str] = SERVICE_UUID
    supported_rates_hz: ClassVar[tuple[float, ...]] = (10.0, 20.0, 50.0, 100.0, 200.0)
    default_rate_hz: ClassVar[float] = 50.0

    def __init__(self, rate_hz: float | None = None, *, save: bool = False) -> None:
        self.rate_hz = self.nearest_rate(rate_hz)
        self.save = bool(save)
        self.has_gyro = True
        self.notify_uuids = (NOTIFY_UUID,)
        self._timer = ArrivalTimer(self.rate_hz)
        self.register_replies = 0

    @classmethod
    def matches(
        cls, name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes]
    ) -> bool:
        if any(normalize_uuid(u) == SERVICE_UUID for u in service_uuids):
            return True
        return bool(name) and bool(_NAME.match(name))

    @classmethod
    def model_name(cls, name: str | None) -> str:
        return f"WitMotion {name}" if name else "WitMotion BLE 5.0 IMU"

    def configure(self, rate_hz: float) -> list[GattWrite]:
        self.rate_hz = self.nearest_rate(rate_hz)
        self._timer.set_rate(self.rate_hz)
        writes = [
            GattWrite(WRITE_UUID, UNLOCK, response=False),
            GattWrite(WRITE_UUID, set_rate_command(self.rate_hz), response=False),
        ]
        if self.save:
            writes.append(GattWrite(WRITE_UUID, SAVE, response=False))
        return writes

    def config(self) -> dict[str, Any]:
        return {"rate_hz": self.rate_hz, "save": self.save}

    @property
    def drift_ppm(self) -> float | None:
        return self._timer.sync.drift_ppm

    def decode(self, char: str, data: bytes, arrival_s: float) -> DecodeResult:
        if normalize_uuid(char) != NOTIFY_UUID:
            return DecodeResult()
        try:
            vals, regs = parse_frames(bytes(data))
        except (ValueError, TypeError) as exc:
            return DecodeResult(problems=[_util.malformed(arrival_s, f"WitMotion: {exc}", data)])
        self.register_replies += regs
        n = vals.shape[0]
        if n == 0:
            return DecodeResult()
        block = self._timer.times(n, arrival_s)
        problems: list[DecodeProblem] = []
        if block.lost > 0:
            gap_t = block.gap_start_s if block.gap_start_s is not None else float(block.t[0])
            problems.append(_util.lost(gap_t, block.lost, "silence in the stream; no counter"))
        return DecodeResult(_util.chunk(block.t, vals[:, 0:3], vals[:, 3:6]), problems)


class WitMotionEncoder(SensorEncoder):
    """Device side: a WitMotion module that streams ``55 61`` frames.

    Streams as soon as notifications are enabled (like the real module).  A
    rate write is honoured only within 10 writes after the unlock command
    (the real module's 10-second unlock window, counted in writes here
    because the encoder has no clock).
    """

    protocol: ClassVar[str] = "witmotion"

    def __init__(
        self,
        *,
        name: str = "WT901BLE67",
        rate_hz: float = 50.0,
        battery: int = 80,
        serial: str = "WT0001",
    ) -> None:
        self.name = name
        self.rate_hz = float(min(RATE_CODES, key=lambda r: abs(r - rate_hz)))
        self.battery = battery
        self.serial = serial
        self.streaming = True
        self.saved = False
        self._unlocked = 0
        self.writes: list[bytes] = []

    def gatt(self) -> GattProfile:
        return GattProfile(
            name=self.name,
            services=(
                GattService(
                    SERVICE_UUID,
                    (
                        GattCharacteristic(NOTIFY_UUID, ("notify",), description="data"),
                        GattCharacteristic(
                            WRITE_UUID, ("write-without-response", "write"), description="commands"
                        ),
                    ),
                ),
                *standard_services(
                    manufacturer="WitMotion",
                    model=self.name,
                    serial=self.serial,
                    firmware="5.0",
                    battery=self.battery,
                ),
            ),
            advertised_services=(SERVICE_UUID,),
        )

    def on_write(self, char: str, data: bytes) -> list[GattNotification]:
        if normalize_uuid(char) != WRITE_UUID:
            raise ValueError(f"characteristic {char} is not writable")
        if len(data) != 5 or data[0] != 0xFF or data[1] != 0xAA:
            raise ValueError(f"not a WitMotion command: {data.hex(' ')}")
        self.writes.append(bytes(data))
        if data == UNLOCK:
            self._unlocked = 10
            return []
        if self._unlocked <= 0:
            return []  # locked: the module ignores configuration writes
        self._unlocked -= 1
        if data[2] == REG_RATE and data[3] in CODE_RATES:
            self.rate_hz = CODE_RATES[data[3]]
        elif data == SAVE:
            self.saved = True
        return []

    def encode(self, chunk: SampleChunk) -> list[GattNotification]:
        n = len(chunk)
        if n == 0 or not self.streaming:
            return []
        gyr = chunk.gyr if chunk.gyr is not None else np.zeros((n, 3))
        raw = encode_frame(chunk.acc, gyr, angles_from_gravity(chunk.acc))
        return [
            GattNotification(NOTIFY_UUID, raw[i * FRAME_SIZE : (i + 1) * FRAME_SIZE])
            for i in range(n)
        ]
