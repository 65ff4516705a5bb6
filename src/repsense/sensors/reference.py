"""The repsense reference sensor: our own GATT protocol for a DIY IMU board.

The full specification, with a worked example, is in
``firmware_notes/reference_protocol.md``; this module is its executable form
(host-side :class:`ReferenceDriver`, device-side :class:`ReferenceEncoder`).

Summary
-------
Service ``52530001-7265-7073-656e-73652d696d75`` ("RS" + "repsense-imu"),
plus Battery (0x180F) and Device Information (0x180A).

* Data ``52530002-…`` (notify): frames of batched samples::

      off size field
      0   u8   version = 0x01
      1   u8   flags: bit0 GYRO (gyro words present), bit1 RESTART (the sample
               counter restarted since the previous frame: boot, rate or range
               change), bits 2-7 reserved (0, ignored by decoders)
      2   u16  counter of the first sample in this frame (LE, wraps at 65536)
      4   u8   n = number of samples in this frame (>= 1)
      5   u8   rate code (ODR): 0=12.5 1=26 2=52 3=104 4=208 5=416 Hz
      6   u8   accelerometer range, g (2, 4, 8 or 16)
      7   u8   gyroscope range code: dps = 125 << code (0..4: 125..2000)
      8   n x (ax, ay, az[, gx, gy, gz]) int16 LE;
               acc_g = raw * range_g / 32768, gyr_dps = raw * range_dps / 32768

* Control ``52530003-…`` (read, write with response): opcodes
  ``01 RR`` set rate code, ``02 AA GG`` set ranges (g, gyro code),
  ``03 FF`` start (FF bit0 = gyro), ``04`` stop, ``05 BB`` samples per
  notification (0 = as many as the MTU allows).  Reading it returns the status
  ``state, rate code, acc g, gyro code, batch, flags, last error``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
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
from repsense.sensors.timing import CounterTimer

SERVICE_UUID = "52530001-7265-7073-656e-73652d696d75"
DATA_UUID = "52530002-7265-7073-656e-73652d696d75"
CONTROL_UUID = "52530003-7265-7073-656e-73652d696d75"

FRAME_VERSION = 0x01
HEADER = struct.Struct("<BBHBBBB")  # version, flags, counter, n, rate code, acc g, gyro code
HEADER_SIZE = HEADER.size  # 8
FLAG_GYRO = 0x01
FLAG_RESTART = 0x02

RATES_HZ: tuple[float, ...] = (12.5, 26.0, 52.0, 104.0, 208.0, 416.0)
ACC_RANGES_G: tuple[int, ...] = (2, 4, 8, 16)
GYRO_RANGES_DPS: tuple[int, ...] = (125, 250, 500, 1000, 2000)

OP_SET_RATE = 0x01
OP_SET_RANGE = 0x02
OP_START = 0x03
OP_STOP = 0x04
OP_SET_BATCH = 0x05

OPCODES = (OP_SET_RATE, OP_SET_RANGE, OP_START, OP_STOP, OP_SET_BATCH)

STATE_STOPPED = 0
STATE_STREAMING = 1

ERR_OK = 0
ERR_BAD_OPCODE = 1
ERR_BAD_PARAM = 2

NAME_PREFIX = "repsense"
ATT_MTU_DEFAULT = 23


def rate_code(rate_hz: float) -> int:
    """Code of the supported rate nearest to ``rate_hz``."""
    return int(np.argmin([abs(r - rate_hz) for r in RATES_HZ]))


def gyro_code(range_dps: float) -> int:
    """Code of a gyroscope range (``ValueError`` if unsupported)."""
    if int(range_dps) not in GYRO_RANGES_DPS:
        raise ValueError(f"gyro range {range_dps} dps not in {GYRO_RANGES_DPS}")
    return GYRO_RANGES_DPS.index(int(range_dps))


def max_batch(mtu: int, gyro: bool) -> int:
    """Most samples per notification for an ATT MTU (payload = MTU - 3)."""
    per = 12 if gyro else 6
    return max(1, min(255, (mtu - 3 - HEADER_SIZE) // per))


@dataclass(frozen=True)
class ReferenceFrame:
    """One parsed data frame (raw counts)."""

    counter: int
    restart: bool
    rate_hz: float
    acc_range_g: int
    gyro_range_dps: int
    acc_raw: np.ndarray
    gyr_raw: np.ndarray | None

    @property
    def n(self) -> int:
        return int(self.acc_raw.shape[0])

    def acc_g(self) -> np.ndarray:
        return self.acc_raw.astype(np.float64) * (self.acc_range_g / 32768.0)

    def gyr_dps(self) -> np.ndarray | None:
        if self.gyr_raw is None:
            return None
        return self.gyr_raw.astype(np.float64) * (self.gyro_range_dps / 32768.0)


def parse_frame(data: bytes) -> ReferenceFrame:
    """Parse one data notification; ``ValueError`` says what is wrong."""
    if len(data) < HEADER_SIZE:
        raise ValueError(f"frame shorter than the {HEADER_SIZE}-byte header")
    version, flags, counter, n, rcode, acc_g, gcode = HEADER.unpack_from(data)
    if version != FRAME_VERSION:
        raise ValueError(f"unknown frame version {version}")
    if n == 0:
        raise ValueError("frame with zero samples")
    if rcode >= len(RATES_HZ):
        raise ValueError(f"unknown rate code {rcode}")
    if acc_g not in ACC_RANGES_G:
        raise ValueError(f"unknown accelerometer range {acc_g} g")
    if gcode >= len(GYRO_RANGES_DPS):
        raise ValueError(f"unknown gyro range code {gcode}")
    gyro = bool(flags & FLAG_GYRO)
    words = 6 if gyro else 3
    if len(data) != HEADER_SIZE + 2 * words * n:
        raise ValueError(f"length does not match {n} samples{' with gyro' if gyro else ''}")
    vals = np.frombuffer(data, dtype="<i2", offset=HEADER_SIZE).reshape(n, words)
    return ReferenceFrame(
        counter=counter,
        restart=bool(flags & FLAG_RESTART),
        rate_hz=RATES_HZ[rcode],
        acc_range_g=acc_g,
        gyro_range_dps=GYRO_RANGES_DPS[gcode],
        acc_raw=vals[:, :3],
        gyr_raw=vals[:, 3:] if gyro else None,
    )


def encode_frame(
    counter: int,
    acc_raw: np.ndarray,
    gyr_raw: np.ndarray | None,
    *,
    rate_hz: float,
    acc_range_g: int,
    gyro_range_dps: int,
    restart: bool = False,
) -> bytes:
    """Bytes of one data frame from raw int16 counts (``n`` rows of x, y, z)."""
    acc_raw = np.asarray(acc_raw, dtype="<i2").reshape(-1, 3)
    n = acc_raw.shape[0]
    if not 1 <= n <= 255:
        raise ValueError(f"a frame holds 1-255 samples, got {n}")
    flags = (FLAG_GYRO if gyr_raw is not None else 0) | (FLAG_RESTART if restart else 0)
    head = HEADER.pack(
        FRAME_VERSION,
        flags,
        counter & 0xFFFF,
        n,
        rate_code(rate_hz),
        acc_range_g,
        gyro_code(gyro_range_dps),
    )
    body = acc_raw if gyr_raw is None else np.hstack([acc_raw, np.asarray(gyr_raw, "<i2")])
    return head + np.ascontiguousarray(body, dtype="<i2").tobytes()


def control_set_rate(rate_hz: float) -> bytes:
    return bytes([OP_SET_RATE, rate_code(rate_hz)])


def control_set_range(acc_range_g: int, gyro_range_dps: int) -> bytes:
    if acc_range_g not in ACC_RANGES_G:
        raise ValueError(f"accelerometer range {acc_range_g} g not in {ACC_RANGES_G}")
    return bytes([OP_SET_RANGE, acc_range_g, gyro_code(gyro_range_dps)])


def control_start(gyro: bool) -> bytes:
    return bytes([OP_START, 0x01 if gyro else 0x00])


def control_stop() -> bytes:
    return bytes([OP_STOP])


def control_set_batch(n: int) -> bytes:
    return bytes([OP_SET_BATCH, max(0, min(255, int(n)))])


class ReferenceDriver(SensorDriver):
    """Host side of the reference protocol.

    Parameters
    ----------
    rate_hz
        Requested rate; the nearest of 12.5, 26, 52, 104, 208, 416 Hz is used.
    acc_range_g, gyro_range_dps
        Full-scale ranges to configure (frames carry their own scale, so the
        decoder always uses what the sensor reports).
    gyro
        Stream the gyroscope too.
    batch
        Samples per notification (0 = as many as the MTU allows).
    """

    protocol: ClassVar[str] = "repsense"
    service_uuid: ClassVar[str] = SERVICE_UUID
    supported_rates_hz: ClassVar[tuple[float, ...]] = RATES_HZ
    default_rate_hz: ClassVar[float] = 104.0

    def __init__(
        self,
        rate_hz: float | None = None,
        *,
        acc_range_g: int = 8,
        gyro_range_dps: int = 1000,
        gyro: bool = True,
        batch: int = 0,
    ) -> None:
        if acc_range_g not in ACC_RANGES_G:
            raise ValueError(f"acc_range_g must be one of {ACC_RANGES_G}")
        gyro_code(gyro_range_dps)
        self.rate_hz = self.nearest_rate(rate_hz)
        self.acc_range_g = int(acc_range_g)
        self.gyro_range_dps = int(gyro_range_dps)
        self.has_gyro = bool(gyro)
        self.batch = int(batch)
        self.notify_uuids = (DATA_UUID,)
        self._timer = CounterTimer(self.rate_hz)
        self.frames = 0

    @classmethod
    def matches(
        cls, name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes]
    ) -> bool:
        if any(normalize_uuid(u) == SERVICE_UUID for u in service_uuids):
            return True
        return bool(name) and name.lower().startswith(NAME_PREFIX)

    @classmethod
    def model_name(cls, name: str | None) -> str:
        return "repsense reference sensor"

    def configure(self, rate_hz: float) -> list[GattWrite]:
        self.rate_hz = self.nearest_rate(rate_hz)
        self._timer.set_rate(self.rate_hz)
        return [
            GattWrite(CONTROL_UUID, control_set_rate(self.rate_hz)),
            GattWrite(CONTROL_UUID, control_set_range(self.acc_range_g, self.gyro_range_dps)),
            GattWrite(CONTROL_UUID, control_set_batch(self.batch)),
            GattWrite(CONTROL_UUID, control_start(self.has_gyro)),
        ]

    def stop(self) -> list[GattWrite]:
        return [GattWrite(CONTROL_UUID, control_stop())]

    def config(self) -> dict[str, Any]:
        return {
            "rate_hz": self.rate_hz,
            "acc_range_g": self.acc_range_g,
            "gyro_range_dps": self.gyro_range_dps,
            "gyro": self.has_gyro,
            "batch": self.batch,
        }

    @property
    def drift_ppm(self) -> float | None:
        return self._timer.sync.drift_ppm

    def decode(self, char: str, data: bytes, arrival_s: float) -> DecodeResult:
        if normalize_uuid(char) != DATA_UUID:
            return DecodeResult()
        try:
            frame = parse_frame(bytes(data))
        except (ValueError, TypeError, struct.error) as exc:
            return DecodeResult(
                problems=[_util.malformed(arrival_s, f"reference frame: {exc}", data)]
            )
        if self.has_gyro and frame.gyr_raw is None:
            return DecodeResult(
                problems=[
                    _util.malformed(
                        arrival_s, "reference frame without gyro on a gyro stream", data
                    )
                ]
            )
        problems: list[DecodeProblem] = []
        if frame.rate_hz != self._timer.rate_hz:
            self._timer.set_rate(frame.rate_hz)
            self.rate_hz = frame.rate_hz
            frame_restart = True
        else:
            frame_restart = frame.restart
        if frame_restart and self.frames:
            self._timer.restart()
        block = self._timer.times(frame.counter, frame.n, arrival_s)
        if block.rejected:
            return DecodeResult(
                problems=[_util.malformed(arrival_s, f"reference frame: {block.rejected}", data)]
            )
        self.frames += 1
        if block.lost > 0:
            why = (
                "sensor restarted its counter; gap measured on the host clock"
                if frame_restart
                else f"counter jumped to {frame.counter}"
            )
            gap_t = block.gap_start_s if block.gap_start_s is not None else float(block.t[0])
            problems.append(_util.lost(gap_t, block.lost, why))
        gyr = frame.gyr_dps() if self.has_gyro else None
        return DecodeResult(_util.chunk(block.t, frame.acc_g(), gyr), problems)


class ReferenceEncoder(SensorEncoder):
    """Device side of the reference protocol (what the firmware sketch does).

    The sample counter is free-running: samples passed to :meth:`encode`
    while the host has not started streaming (or while disconnected, via
    :meth:`skip`) advance the counter without being sent, exactly like the
    firmware, so the host measures the gap.
    """

    protocol: ClassVar[str] = "repsense"

    def __init__(
        self,
        *,
        name: str = "repsense-IMU",
        rate_hz: float = 104.0,
        acc_range_g: int = 8,
        gyro_range_dps: int = 1000,
        gyro: bool = True,
        mtu: int = 247,
        battery: int = 87,
        serial: str = "RS-0001",
        counter_start: int = 0,
    ) -> None:
        self.name = name
        self.rate_hz = RATES_HZ[rate_code(rate_hz)]
        self.acc_range_g = acc_range_g
        self.gyro_range_dps = gyro_range_dps
        self.gyro = gyro
        self.gyro_hw = gyro
        self.mtu = mtu
        self.batch = 0
        self.battery = battery
        self.serial = serial
        self.streaming = False
        self.counter = counter_start & 0xFFFF
        self.last_error = 0
        self._restart = True

    def gatt(self) -> GattProfile:
        return GattProfile(
            name=self.name,
            services=(
                GattService(
                    SERVICE_UUID,
                    (
                        GattCharacteristic(DATA_UUID, ("notify",), description="sample frames"),
                        GattCharacteristic(
                            CONTROL_UUID, ("read", "write"), self.status(), "control / status"
                        ),
                    ),
                ),
                *standard_services(
                    manufacturer="repsense",
                    model="repsense reference IMU",
                    serial=self.serial,
                    firmware="1.0.0",
                    hardware="XIAO nRF52840 Sense",
                    battery=self.battery,
                ),
            ),
            advertised_services=(SERVICE_UUID,),
        )

    def status(self) -> bytes:
        """Value of a control characteristic read."""
        return bytes(
            [
                STATE_STREAMING if self.streaming else STATE_STOPPED,
                rate_code(self.rate_hz),
                self.acc_range_g,
                gyro_code(self.gyro_range_dps),
                self.batch,
                FLAG_GYRO if self.gyro else 0,
                self.last_error,
            ]
        )

    def on_write(self, char: str, data: bytes) -> list[GattNotification]:
        if normalize_uuid(char) != CONTROL_UUID:
            raise ValueError(f"characteristic {char} is not writable")
        try:
            self._control(bytes(data))
        except ValueError:
            self.last_error = (
                ERR_BAD_OPCODE if not data or data[0] not in OPCODES else ERR_BAD_PARAM
            )
            raise
        self.last_error = ERR_OK
        return []

    def _control(self, data: bytes) -> None:
        if not data:
            raise ValueError("empty control write")
        op, args = data[0], data[1:]
        if op == OP_SET_RATE and len(args) == 1 and args[0] < len(RATES_HZ):
            if RATES_HZ[args[0]] != self.rate_hz:
                self.rate_hz = RATES_HZ[args[0]]
                self._restart_counter()
        elif op == OP_SET_RANGE and len(args) == 2 and args[0] in ACC_RANGES_G and args[1] < 5:
            if (args[0], GYRO_RANGES_DPS[args[1]]) != (self.acc_range_g, self.gyro_range_dps):
                self.acc_range_g = args[0]
                self.gyro_range_dps = GYRO_RANGES_DPS[args[1]]
                self._restart_counter()
        elif op == OP_START and len(args) <= 1:
            self.gyro = bool(args[0] & 0x01) and self.gyro_hw if args else self.gyro_hw
            self.streaming = True
        elif op == OP_STOP and not args:
            self.streaming = False
        elif op == OP_SET_BATCH and len(args) == 1:
            self.batch = args[0]
        else:
            raise ValueError(f"control write {data.hex(' ')} rejected")

    def on_disconnect(self) -> None:
        # Like the firmware: stop sending (the host re-sends START after a
        # reconnect) but keep sampling, so the counter measures the gap.
        self.streaming = False

    def _restart_counter(self) -> None:
        self.counter = 0
        self._restart = True

    def skip(self, n: int) -> None:
        """``n`` samples were taken but not sent (link down): advance the counter."""
        self.counter = (self.counter + int(n)) & 0xFFFF

    def encode(self, chunk: SampleChunk) -> list[GattNotification]:
        n = len(chunk)
        if n == 0:
            return []
        if not self.streaming:
            self.skip(n)
            return []
        acc = _util.to_int16(chunk.acc, self.acc_range_g / 32768.0)
        gyr = None
        if self.gyro:
            g = chunk.gyr if chunk.gyr is not None else np.zeros((n, 3))
            gyr = _util.to_int16(g, self.gyro_range_dps / 32768.0)
        per = max_batch(self.mtu, self.gyro)
        if self.batch:
            per = min(per, self.batch)
        out = []
        for s in range(0, n, per):
            e = min(n, s + per)
            frame = encode_frame(
                self.counter,
                acc[s:e],
                None if gyr is None else gyr[s:e],
                rate_hz=self.rate_hz,
                acc_range_g=self.acc_range_g,
                gyro_range_dps=self.gyro_range_dps,
                restart=self._restart,
            )
            self._restart = False
            self.counter = (self.counter + (e - s)) & 0xFFFF
            out.append(GattNotification(DATA_UUID, frame))
        return out
