"""Polar Measurement Data (PMD): Polar H10 (accelerometer) and Verity Sense (SDK mode, acc + gyro).

From Polar's BLE SDK technical documentation and its open-source SDK (see
``firmware_notes/polar_pmd.md`` for the full write-up):

* Service ``fb005c80-02e7-f387-1cad-8acd2d8df0c8``; control point
  ``fb005c81-…`` (read, write, indicate) and data ``fb005c82-…`` (notify).
* Control point requests: ``01 TT`` get settings, ``02 TT <settings>`` start,
  ``03 TT`` stop (``TT`` measurement type: 2 ACC, 5 GYRO, 9 SDK mode).
  Settings are ``type, count, value`` triples: 0 sample rate (u16),
  1 resolution (u16), 2 range (u16), 4 channels (u8), 5 factor (f32, only in
  responses).  Responses are indications ``F0 op TT status more [params]``;
  a start response may carry the factor that scales compressed samples.
* Data frame: ``u8 measurement type, u64 LE timestamp (ns since
  2000-01-01, of the frame's *last* sample), u8 frame type, payload``.
  Frame type bit 7 (0x80) marks a delta-compressed frame: a reference sample
  (channels x resolution bits, LE) then blocks ``u8 bit width, u8 count,
  count x channels signed deltas`` packed LSB first, each block padded to a
  byte; samples are the running sum of the deltas.
* H10 ACC: frame type 0x01, 3 x int16 mG per sample, 25/50/100/200 Hz,
  ±2/4/8 g.  Verity Sense in SDK mode: ACC frame type 0x81 (compressed,
  16-bit, sample x factor = mG), GYRO frame type 0x80 (compressed, 16-bit,
  sample x factor = °/s), 26/52/104/208/416 Hz.
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
    uuid16,
)
from repsense.sensors.timing import ClockSync, TimestampTimer

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
HEART_RATE_SERVICE = uuid16(0x180D)
HEART_RATE_MEASUREMENT = uuid16(0x2A37)

# Measurement types
ECG, PPG, ACC, PPI, GYRO, MAG, SDK_MODE = 0, 1, 2, 3, 5, 6, 9
TYPE_MASK = 0x3F
TYPE_NAMES = {
    ECG: "ECG",
    PPG: "PPG",
    ACC: "ACC",
    PPI: "PPI",
    GYRO: "GYRO",
    MAG: "MAG",
    SDK_MODE: "SDK",
}

# Control point op codes and responses
OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
RESPONSE = 0xF0
FEATURES = 0x0F
STATUS_SUCCESS = 0
STATUS_INVALID_OP_CODE = 1
STATUS_INVALID_MEASUREMENT_TYPE = 2
STATUS_NOT_SUPPORTED = 3
STATUS_INVALID_PARAMETER = 5
STATUS_ALREADY_IN_STATE = 6
STATUS_INVALID_SAMPLE_RATE = 8
STATUS_INVALID_RANGE = 9
STATUS_NAMES = {
    0: "success",
    1: "invalid op code",
    2: "invalid measurement type",
    3: "not supported",
    4: "invalid length",
    5: "invalid parameter",
    6: "already in state",
    7: "invalid resolution",
    8: "invalid sample rate",
    9: "invalid range",
    10: "invalid MTU",
    11: "invalid number of channels",
    12: "invalid state",
    13: "device in charger",
}

# Setting types: id -> field size (bytes)
SET_SAMPLE_RATE, SET_RESOLUTION, SET_RANGE, SET_RANGE_MILLIUNIT, SET_CHANNELS, SET_FACTOR = range(6)
SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}

DELTA_BIT = 0x80
HEADER = struct.Struct("<BQB")  # measurement type, timestamp ns, frame type
HEADER_SIZE = HEADER.size  # 10
NS = 1_000_000_000
#: Seconds from the Polar epoch (2000-01-01 UTC) to the Unix epoch's 2026-01-01.
DEFAULT_EPOCH_OFFSET_S = 820_454_400.0

VARIANTS = ("h10", "verity_sense")
H10_RATES = (25.0, 50.0, 100.0, 200.0)
H10_ACC_RANGES = (2, 4, 8)
VERITY_RATES = (26.0, 52.0, 104.0, 208.0, 416.0)
VERITY_ACC_RANGES = (2, 4, 8, 16)
VERITY_GYRO_RANGES = (250, 500, 1000, 2000)


# -- settings and control point -------------------------------------------------


def encode_settings(settings: dict[int, int | float]) -> bytes:
    """Serialise ``{setting type: value}`` as ``type, 1, value`` triples (factor as f32)."""
    out = bytearray()
    for key, value in settings.items():
        out += bytes([key, 1])
        if key == SET_FACTOR:
            out += struct.pack("<f", float(value))
        else:
            out += int(value).to_bytes(SETTING_SIZES[key], "little")
    return bytes(out)


def parse_settings(data: bytes) -> dict[int, list[float]]:
    """Parse ``type, count, values…`` settings; ``ValueError`` on truncation or unknown types."""
    out: dict[int, list[float]] = {}
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise ValueError("truncated setting")
        key, count = data[i], data[i + 1]
        i += 2
        if key not in SETTING_SIZES:
            raise ValueError(f"unknown setting type {key}")
        size = SETTING_SIZES[key]
        if i + size * count > len(data):
            raise ValueError("truncated setting values")
        vals: list[float] = []
        for _ in range(count):
            raw = data[i : i + size]
            if key == SET_FACTOR:
                vals.append(struct.unpack("<f", raw)[0])
            else:
                vals.append(int.from_bytes(raw, "little"))
            i += size
        out[key] = vals
    return out


def start_request(
    mtype: int,
    rate_hz: float | None = None,
    *,
    resolution: int = 16,
    range_: int | None = None,
    channels: int | None = None,
) -> bytes:
    """``02 TT <settings>`` start-measurement request."""
    settings: dict[int, int | float] = {}
    if rate_hz is not None:
        settings[SET_SAMPLE_RATE] = int(rate_hz)
        settings[SET_RESOLUTION] = resolution
    if range_ is not None:
        settings[SET_RANGE] = range_
    if channels is not None:
        settings[SET_CHANNELS] = channels
    return bytes([OP_START, mtype]) + encode_settings(settings)


def stop_request(mtype: int) -> bytes:
    return bytes([OP_STOP, mtype])


@dataclass(frozen=True)
class ControlResponse:
    """A parsed control point response (``F0 op type status more params``)."""

    op: int
    mtype: int
    status: int
    more: bool
    params: bytes

    @property
    def ok(self) -> bool:
        return self.status == STATUS_SUCCESS


def parse_control_response(data: bytes) -> ControlResponse:
    if len(data) < 4 or data[0] != RESPONSE:
        raise ValueError("not a control point response")
    more = len(data) > 4 and data[4] != 0
    params = bytes(data[5:]) if data[3] == STATUS_SUCCESS else b""
    return ControlResponse(data[1], data[2] & TYPE_MASK, data[3], more, params)


def control_response(op: int, mtype: int, status: int, params: bytes = b"") -> bytes:
    return bytes([RESPONSE, op, mtype, status, 0]) + params


# -- delta compression --------------------------------------------------------


def _signed_width(deltas: np.ndarray) -> int:
    """Smallest two's-complement bit width (>= 2) that holds every delta."""
    if deltas.size == 0:
        return 2
    hi = int(max(deltas.max(), -deltas.min() - 1, 0))
    return max(2, hi.bit_length() + 1)


def delta_encode(samples: np.ndarray, resolution: int = 16, block: int = 12) -> bytes:
    """Delta-compressed payload of integer ``samples`` (n, channels).

    Reference sample (``resolution`` bits per channel, little-endian, signed),
    then blocks of up to ``block`` samples: ``u8 width, u8 count`` and the
    deltas packed LSB first, channel by channel, padded to a whole byte.
    """
    s = np.asarray(samples, dtype=np.int64)
    n, ch = s.shape
    nbytes = (resolution + 7) // 8
    ref = s[0] & ((1 << (8 * nbytes)) - 1)
    out = bytearray(b"".join(int(v).to_bytes(nbytes, "little") for v in ref))
    deltas = np.diff(s, axis=0)
    for start in range(0, n - 1, block):
        d = deltas[start : start + block]
        w = _signed_width(d)
        u = (d.reshape(-1) & ((1 << w) - 1)).astype(np.uint64)
        bits = ((u[:, None] >> np.arange(w, dtype=np.uint64)) & 1).astype(np.uint8)
        out += bytes([w, d.shape[0]]) + np.packbits(bits.reshape(-1), bitorder="little").tobytes()
    return bytes(out)


def delta_decode(payload: bytes, channels: int, resolution: int = 16) -> np.ndarray:
    """Inverse of :func:`delta_encode`: samples (n, channels); ``ValueError`` if malformed."""
    nbytes = (resolution + 7) // 8
    refsize = channels * nbytes
    if len(payload) < refsize:
        raise ValueError("compressed frame shorter than its reference sample")
    ref = np.array(
        [
            int.from_bytes(payload[i * nbytes : (i + 1) * nbytes], "little", signed=True)
            for i in range(channels)
        ],
        dtype=np.int64,
    )
    parts = [ref[None, :]]
    i = refsize
    buf = np.frombuffer(payload, dtype=np.uint8)
    while i < len(payload):
        if i + 2 > len(payload):
            raise ValueError("truncated delta block header")
        w, count = payload[i], payload[i + 1]
        i += 2
        if w == 0 or w > 32 or count == 0:
            raise ValueError(f"bad delta block (width {w}, count {count})")
        nbits = w * count * channels
        nb = (nbits + 7) // 8
        if i + nb > len(payload):
            raise ValueError("truncated delta block")
        bits = np.unpackbits(buf[i : i + nb], bitorder="little")[:nbits].reshape(-1, w)
        vals = bits.astype(np.int64) @ (np.int64(1) << np.arange(w, dtype=np.int64))
        vals = np.where(vals >= (1 << (w - 1)), vals - (1 << w), vals)
        parts.append(vals.reshape(count, channels))
        i += nb
    allv = np.concatenate(parts, axis=0)
    return np.cumsum(allv, axis=0)


# -- data frames --------------------------------------------------------------


@dataclass(frozen=True)
class PmdFrame:
    """One parsed data frame: measurement type, last-sample timestamp, values in units."""

    mtype: int
    timestamp_ns: int
    frame_type: int
    values: np.ndarray
    """(n, 3): ACC in g, GYRO in °/s."""


def _int24(raw: bytes) -> np.ndarray:
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return np.where(v >= 1 << 23, v - (1 << 24), v)


def parse_data_frame(data: bytes, factors: dict[int, float] | None = None) -> PmdFrame:
    """Parse an ACC or GYRO data frame; ``ValueError`` says what is wrong.

    ``factors`` maps measurement type to the factor of compressed frames
    (from the start response); defaults are used when missing.
    """
    if len(data) <= HEADER_SIZE:
        raise ValueError("frame shorter than the 10-byte header plus data")
    mtype_raw, ts, ftype = HEADER.unpack_from(data)
    mtype = mtype_raw & TYPE_MASK
    payload = bytes(data[HEADER_SIZE:])
    compressed = bool(ftype & DELTA_BIT)
    kind = ftype & 0x7F
    factor = (factors or {}).get(mtype, DEFAULT_FACTORS.get(mtype, 1.0))
    if mtype == ACC:
        if compressed:
            if kind not in (0, 1):
                raise ValueError(f"unsupported compressed ACC frame type {kind}")
            raw = delta_decode(payload, 3, 16).astype(np.float64)
            # Type 0 arrives in g x factor, type 1 in mG x factor.
            vals = raw * factor if kind == 0 else raw * factor / 1000.0
        else:
            size = {0: 1, 1: 2, 2: 3}.get(kind)
            if size is None:
                raise ValueError(f"unsupported ACC frame type {kind}")
            if len(payload) % (3 * size):
                raise ValueError("ACC payload is not whole samples")
            if size == 1:
                ints = np.frombuffer(payload, dtype=np.int8)
            elif size == 2:
                ints = np.frombuffer(payload, dtype="<i2")
            else:
                ints = _int24(payload)
            vals = ints.astype(np.float64).reshape(-1, 3) / 1000.0  # mG -> g
    elif mtype == GYRO:
        if not compressed or kind != 0:
            raise ValueError(f"unsupported GYRO frame type 0x{ftype:02x}")
        vals = delta_decode(payload, 3, 16).astype(np.float64) * factor
    else:
        raise ValueError(f"measurement type {mtype} is not ACC or GYRO")
    return PmdFrame(mtype, int(ts), int(ftype), vals)


def encode_data_frame(mtype: int, timestamp_ns: int, frame_type: int, payload: bytes) -> bytes:
    return HEADER.pack(mtype, int(timestamp_ns) & 0xFFFFFFFFFFFFFFFF, frame_type) + payload


#: How long accelerometer samples wait for their gyroscope partner (s).
PAIR_WAIT_S = 2.0

#: Factors used when a start response carries none (full scale / 2^15).
DEFAULT_FACTORS: dict[int, float] = {ACC: 8000.0 / 32768.0, GYRO: 2000.0 / 32768.0}


# -- driver -------------------------------------------------------------------


class PolarPmdDriver(SensorDriver):
    """Host side of Polar PMD streaming.

    Parameters
    ----------
    rate_hz
        H10: 25/50/100/200 Hz (default 100).  Verity Sense SDK mode:
        26/52/104/208/416 Hz (default 104).
    variant
        ``"h10"`` (accelerometer only) or ``"verity_sense"``.
    acc_range_g, gyro_range_dps
        Ranges to request (H10 ±2/4/8 g; Verity ±2-16 g, 250-2000 °/s).
    gyro
        Verity Sense only: stream the gyroscope too (default True).
    sdk_mode
        Verity Sense only: enter SDK mode first (needed for rates other than 52 Hz).
    """

    protocol: ClassVar[str] = "polar_pmd"
    service_uuid: ClassVar[str] = SERVICE_UUID
    default_rate_hz: ClassVar[float] = 100.0

    def __init__(
        self,
        rate_hz: float | None = None,
        *,
        variant: str = "h10",
        acc_range_g: int = 8,
        gyro_range_dps: int = 1000,
        gyro: bool | None = None,
        sdk_mode: bool = True,
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        self.variant = variant
        verity = variant == "verity_sense"
        rates = VERITY_RATES if verity else H10_RATES
        if rate_hz is None:
            rate_hz = 104.0 if verity else 100.0
        self.rate_hz = float(min(rates, key=lambda r: abs(r - float(rate_hz))))
        ranges = VERITY_ACC_RANGES if verity else H10_ACC_RANGES
        if acc_range_g not in ranges:
            raise ValueError(f"acc_range_g must be one of {ranges}")
        if verity and gyro_range_dps not in VERITY_GYRO_RANGES:
            raise ValueError(f"gyro_range_dps must be one of {VERITY_GYRO_RANGES}")
        self.acc_range_g = int(acc_range_g)
        self.gyro_range_dps = int(gyro_range_dps)
        self.has_gyro = bool(verity if gyro is None else gyro) and verity
        self.sdk_mode = bool(sdk_mode) and verity
        self.notify_uuids = (CONTROL_UUID, DATA_UUID)
        self.factors: dict[int, float] = {
            ACC: self.acc_range_g * 1000.0 / 32768.0,
            GYRO: self.gyro_range_dps / 32768.0,
        }
        self._sync = ClockSync()
        self._timers: dict[int, TimestampTimer] = {}
        self._frame_types: dict[int, int] = {}  # measurement type -> frame type of its stream
        self._origin: float | None = None
        self._acc_q: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # sensor_s, host_t, acc
        self._gyr_q: list[tuple[np.ndarray, np.ndarray]] = []  # sensor_s, gyr
        self.ignored_frames = 0
        self.samples = 0

    supported_rates_hz: ClassVar[tuple[float, ...]] = ()

    @classmethod
    def matches(
        cls, name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes]
    ) -> bool:
        if any(normalize_uuid(u) == SERVICE_UUID for u in service_uuids):
            return True
        if not name:
            return False
        n = name.lower()
        return n.startswith(("polar h10", "polar sense", "polar oh1", "polar verity"))

    @staticmethod
    def variant_for_name(name: str | None) -> str:
        n = (name or "").lower()
        return "verity_sense" if ("sense" in n or "verity" in n) else "h10"

    @classmethod
    def model_name(cls, name: str | None) -> str:
        return "Polar Verity Sense" if cls.variant_for_name(name) == "verity_sense" else "Polar H10"

    @classmethod
    def from_advertisement(
        cls,
        name: str | None,
        service_uuids: list[str],
        manufacturer_data: dict[int, bytes],
        rate_hz: float | None = None,
    ) -> PolarPmdDriver:
        return cls(rate_hz=rate_hz, variant=cls.variant_for_name(name))

    @property
    def rates(self) -> tuple[float, ...]:
        return VERITY_RATES if self.variant == "verity_sense" else H10_RATES

    def configure(self, rate_hz: float) -> list[GattWrite]:
        self.rate_hz = float(min(self.rates, key=lambda r: abs(r - float(rate_hz))))
        for timer in self._timers.values():
            timer.set_rate(self.rate_hz)
        writes = []
        if self.sdk_mode:
            writes.append(GattWrite(CONTROL_UUID, start_request(SDK_MODE), wait_notify=True))
        channels = 3 if self.variant == "verity_sense" else None
        writes.append(
            GattWrite(
                CONTROL_UUID,
                start_request(ACC, self.rate_hz, range_=self.acc_range_g, channels=channels),
                wait_notify=True,
            )
        )
        if self.has_gyro:
            writes.append(
                GattWrite(
                    CONTROL_UUID,
                    start_request(GYRO, self.rate_hz, range_=self.gyro_range_dps, channels=3),
                    wait_notify=True,
                )
            )
        return writes

    def stop(self) -> list[GattWrite]:
        writes = [GattWrite(CONTROL_UUID, stop_request(ACC), wait_notify=True)]
        if self.has_gyro:
            writes.append(GattWrite(CONTROL_UUID, stop_request(GYRO), wait_notify=True))
        if self.sdk_mode:
            writes.append(GattWrite(CONTROL_UUID, stop_request(SDK_MODE), wait_notify=True))
        return writes

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "rate_hz": self.rate_hz,
            "variant": self.variant,
            "acc_range_g": self.acc_range_g,
        }
        if self.variant == "verity_sense":
            cfg.update(
                gyro=self.has_gyro, gyro_range_dps=self.gyro_range_dps, sdk_mode=self.sdk_mode
            )
        return cfg

    @property
    def drift_ppm(self) -> float | None:
        return self._sync.drift_ppm

    def reconnected(self) -> None:
        # Pending unpaired samples belong to the old link; the timers keep the clock.
        self._acc_q.clear()
        self._gyr_q.clear()
        self._frame_types.clear()

    def decode(self, char: str, data: bytes, arrival_s: float) -> DecodeResult:
        c = normalize_uuid(char)
        data = bytes(data)
        if c == CONTROL_UUID:
            return self._control(data, arrival_s)
        if c != DATA_UUID:
            return DecodeResult()
        if len(data) >= 1 and (data[0] & TYPE_MASK) not in (ACC, GYRO):
            self.ignored_frames += 1  # ECG, PPG, …: not ours, not an error
            return DecodeResult()
        try:
            frame = parse_data_frame(data, self.factors)
        except (ValueError, TypeError, struct.error) as exc:
            return DecodeResult(problems=[_util.malformed(arrival_s, f"Polar PMD: {exc}", data)])
        if frame.mtype == GYRO and not self.has_gyro:
            self.ignored_frames += 1
            return DecodeResult()
        # A started stream keeps its frame type, and its samples are the 16 bits we
        # asked for; anything else is a corrupted header, whose samples would be read
        # at the wrong size.
        ftype = self._frame_types.setdefault(frame.mtype, frame.frame_type)
        if frame.frame_type != ftype or frame.frame_type in (0x00, 0x02):
            return DecodeResult(problems=[_util.malformed(
                arrival_s, f"Polar PMD: frame type 0x{frame.frame_type:02x} in a stream of "
                f"0x{ftype:02x}", data)])
        n = frame.values.shape[0]
        ts_s = frame.timestamp_ns / NS
        if self._origin is None:
            self._origin = ts_s - (n - 1) / self.rate_hz
        timer = self._timers.get(frame.mtype)
        if timer is None:
            # Both streams share one clock fit, so they share its sensor-time origin.
            timer = TimestampTimer(self.rate_hz, self._sync, origin_s=self._origin)
            self._timers[frame.mtype] = timer
        block = timer.times(ts_s, n, arrival_s)
        if block.rejected:
            return DecodeResult(
                problems=[_util.malformed(arrival_s, f"Polar: {block.rejected}", data)]
            )
        sensor = block.sensor_s if block.sensor_s is not None else np.full(n, ts_s)
        problems: list[DecodeProblem] = []
        if frame.mtype == ACC and block.lost > 0:
            gap_t = block.gap_start_s if block.gap_start_s is not None else float(block.t[0])
            problems.append(_util.lost(gap_t, block.lost, "Polar timestamp jumped"))
        if not self.has_gyro:
            self.samples += n
            return DecodeResult(_util.chunk(block.t, frame.values, None), problems)
        if frame.mtype == ACC:
            self._acc_q.append((sensor, block.t, frame.values))
        else:
            self._gyr_q.append((sensor, frame.values))
        out, dropped = self._pair()
        if out is not None:
            self.samples += len(out)
        if dropped:
            problems.append(
                _util.lost(arrival_s, dropped, "accelerometer samples without gyroscope partner")
            )
        return DecodeResult(out, problems)

    def _pair(self) -> tuple[SampleChunk | None, int]:
        """Pair queued ACC and GYRO samples by sensor time (same rate, same IMU).

        Returns the paired samples ready to go out and how many accelerometer
        samples were given up for lack of a gyroscope partner.  Samples past
        what both streams have delivered wait, but never longer than
        ``PAIR_WAIT_S`` of sensor time.
        """
        if not self._acc_q:
            return None, 0
        sa = np.concatenate([q[0] for q in self._acc_q])
        ta = np.concatenate([q[1] for q in self._acc_q])
        va = np.concatenate([q[2] for q in self._acc_q])
        tol = 0.5 / self.rate_hz
        if self._gyr_q:
            sg = np.concatenate([q[0] for q in self._gyr_q])
            vg = np.concatenate([q[1] for q in self._gyr_q])
            j = np.clip(np.searchsorted(sg, sa), 1, max(1, len(sg) - 1))
            j = np.minimum(j, len(sg) - 1)
            left = np.abs(sa - sg[j - 1]) <= np.abs(sa - sg[j])
            j = np.where(left & (j > 0), j - 1, j)
            matched = np.abs(sa - sg[j]) < tol
            horizon = min(sa[-1], sg[-1]) + tol
        else:
            sg, vg = np.empty(0), np.empty((0, 3))
            j = np.zeros(len(sa), dtype=np.int64)
            matched = np.zeros(len(sa), dtype=bool)
            horizon = -np.inf
        done_a = (sa <= horizon) | (sa < sa[-1] - PAIR_WAIT_S)
        use = matched & done_a
        dropped = int((done_a & ~matched).sum())
        keep_a = ~done_a
        keep_g = (sg > horizon) & (sg >= (sg[-1] if len(sg) else 0.0) - PAIR_WAIT_S)
        self._acc_q = [(sa[keep_a], ta[keep_a], va[keep_a])] if keep_a.any() else []
        self._gyr_q = [(sg[keep_g], vg[keep_g])] if keep_g.any() else []
        if not use.any():
            return None, dropped
        return _util.chunk(ta[use], va[use], vg[j[use]]), dropped

    def _control(self, data: bytes, arrival_s: float) -> DecodeResult:
        if data[:1] == bytes([FEATURES]):
            return DecodeResult()
        try:
            resp = parse_control_response(data)
        except ValueError as exc:
            return DecodeResult(
                problems=[_util.malformed(arrival_s, f"Polar control point: {exc}", data)]
            )
        if resp.status == STATUS_ALREADY_IN_STATE and resp.op in (OP_START, OP_STOP):
            return DecodeResult()  # e.g. SDK mode survived a reconnect: nothing to do
        if not resp.ok:
            name = STATUS_NAMES.get(resp.status, f"status {resp.status}")
            what = TYPE_NAMES.get(resp.mtype, str(resp.mtype))
            msg = f"Polar rejected op 0x{resp.op:02x} for {what}: {name}"
            if resp.op == OP_START and resp.mtype == GYRO and self.has_gyro and not self.samples:
                # Before any sample went out the stream can still drop the gyroscope
                # consistently; later it cannot (chunks must agree on having one).
                self.has_gyro = False
                msg += "; continuing with the accelerometer only"
            return DecodeResult(
                problems=[DecodeProblem(kind="config", time_s=float(arrival_s), message=msg)]
            )
        if resp.op == OP_START and resp.params:
            try:
                settings = parse_settings(resp.params)
            except ValueError as exc:
                return DecodeResult(
                    problems=[_util.malformed(arrival_s, f"Polar start response: {exc}", data)]
                )
            if settings.get(SET_FACTOR):
                self.factors[resp.mtype] = float(settings[SET_FACTOR][0])
        return DecodeResult()


# -- encoder ------------------------------------------------------------------


class PolarPmdEncoder(SensorEncoder):
    """Device side: a Polar H10 or Verity Sense serving PMD.

    Parameters
    ----------
    variant
        ``"h10"`` or ``"verity_sense"``.
    samples_per_frame
        Samples per data frame (both raw and compressed frames fit an MTU of
        232 at 36 samples).
    clock_ppm
        Simulated sensor clock error: timestamps run this much fast.
    epoch_offset_s
        Sensor time (s since 2000-01-01) of sample time 0.
    """

    protocol: ClassVar[str] = "polar_pmd"

    def __init__(
        self,
        *,
        variant: str = "h10",
        name: str | None = None,
        samples_per_frame: int = 36,
        clock_ppm: float = 0.0,
        epoch_offset_s: float = DEFAULT_EPOCH_OFFSET_S,
        battery: int = 90,
        serial: str = "A1B2C3D4",
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        self.variant = variant
        self.verity = variant == "verity_sense"
        self.name = name or (f"Polar Sense {serial}" if self.verity else f"Polar H10 {serial}")
        self.samples_per_frame = samples_per_frame
        self.clock_scale = 1.0 + clock_ppm * 1e-6
        self.epoch_offset_ns = int(round(epoch_offset_s * NS))
        self.battery = battery
        self.serial = serial
        self.sdk = False
        self.active: dict[int, dict[int, int]] = {}  # mtype -> selected settings
        self.rate_hz = 100.0
        self.factors = {ACC: 8000.0 / 32768.0, GYRO: 1000.0 / 32768.0}

    @property
    def streaming(self) -> bool:  # type: ignore[override]
        return ACC in self.active

    def features(self) -> bytes:
        if self.verity:
            return bytes([FEATURES, 0x02 | 0x04 | 0x08 | 0x20 | 0x40, 0x02])
        return bytes([FEATURES, 0x01 | 0x04, 0x00])

    def gatt(self) -> GattProfile:
        model = "Polar Sense" if self.verity else "Polar H10"
        return GattProfile(
            name=self.name,
            services=(
                GattService(
                    HEART_RATE_SERVICE,
                    (GattCharacteristic(HEART_RATE_MEASUREMENT, ("notify",)),),
                ),
                GattService(
                    SERVICE_UUID,
                    (
                        GattCharacteristic(
                            CONTROL_UUID,
                            ("read", "write", "indicate"),
                            self.features(),
                            "PMD control point",
                        ),
                        GattCharacteristic(DATA_UUID, ("notify",), description="PMD data"),
                    ),
                ),
                *standard_services(
                    manufacturer="Polar Electro Oy",
                    model=model,
                    serial=self.serial,
                    firmware="3.1.1" if not self.verity else "2.1.0",
                    battery=self.battery,
                ),
            ),
            advertised_services=(HEART_RATE_SERVICE,),
        )

    def available_settings(self, mtype: int) -> dict[int, tuple[int, ...]]:
        if mtype == ACC and not self.verity:
            return {
                SET_SAMPLE_RATE: tuple(int(r) for r in H10_RATES),
                SET_RESOLUTION: (16,),
                SET_RANGE: H10_ACC_RANGES,
            }
        if mtype == ACC:
            rates = VERITY_RATES if self.sdk else (52.0,)
            return {
                SET_SAMPLE_RATE: tuple(int(r) for r in rates),
                SET_RESOLUTION: (16,),
                SET_RANGE: VERITY_ACC_RANGES if self.sdk else (8,),
                SET_CHANNELS: (3,),
            }
        if mtype == GYRO and self.verity:
            rates = VERITY_RATES if self.sdk else (52.0,)
            return {
                SET_SAMPLE_RATE: tuple(int(r) for r in rates),
                SET_RESOLUTION: (16,),
                SET_RANGE: VERITY_GYRO_RANGES if self.sdk else (2000,),
                SET_CHANNELS: (3,),
            }
        return {}

    def on_write(self, char: str, data: bytes) -> list[GattNotification]:
        if normalize_uuid(char) != CONTROL_UUID:
            raise ValueError(f"characteristic {char} is not writable")
        if len(data) < 2:
            raise ValueError("control point write too short")
        op, mtype = data[0], data[1] & TYPE_MASK

        def reply(status: int, params: bytes = b"") -> list[GattNotification]:
            return [
                GattNotification(
                    CONTROL_UUID, control_response(op, mtype, status, params), indicate=True
                )
            ]

        if op == OP_GET_SETTINGS:
            avail = self.available_settings(mtype)
            if not avail:
                return reply(STATUS_NOT_SUPPORTED)
            params = bytearray()
            for key, vals in avail.items():
                params += bytes([key, len(vals)])
                for v in vals:
                    params += int(v).to_bytes(SETTING_SIZES[key], "little")
            return reply(STATUS_SUCCESS, bytes(params))
        if op == OP_START:
            if mtype == SDK_MODE:
                if not self.verity:
                    return reply(STATUS_NOT_SUPPORTED)
                if self.sdk:
                    return reply(STATUS_ALREADY_IN_STATE)
                self.sdk = True
                self.active.clear()
                return reply(STATUS_SUCCESS)
            avail = self.available_settings(mtype)
            if not avail:
                return reply(STATUS_NOT_SUPPORTED)
            if mtype in self.active:
                return reply(STATUS_ALREADY_IN_STATE)
            try:
                req = {k: int(v[0]) for k, v in parse_settings(bytes(data[2:])).items()}
            except ValueError:
                return reply(STATUS_INVALID_PARAMETER)
            if req.get(SET_SAMPLE_RATE) not in avail[SET_SAMPLE_RATE]:
                return reply(STATUS_INVALID_SAMPLE_RATE)
            if req.get(SET_RANGE, avail[SET_RANGE][-1]) not in avail[SET_RANGE]:
                return reply(STATUS_INVALID_RANGE)
            req.setdefault(SET_RANGE, avail[SET_RANGE][-1])
            self.active[mtype] = req
            self.rate_hz = float(req[SET_SAMPLE_RATE])
            if not self.verity:
                return reply(STATUS_SUCCESS)
            scale = 1000.0 if mtype == ACC else 1.0
            self.factors[mtype] = req[SET_RANGE] * scale / 32768.0
            return reply(STATUS_SUCCESS, encode_settings({SET_FACTOR: self.factors[mtype]}))
        if op == OP_STOP:
            if mtype == SDK_MODE:
                if not self.sdk:
                    return reply(STATUS_ALREADY_IN_STATE)
                self.sdk = False
                self.active.clear()
                return reply(STATUS_SUCCESS)
            if mtype not in self.active:
                return reply(STATUS_ALREADY_IN_STATE)
            del self.active[mtype]
            return reply(STATUS_SUCCESS)
        return reply(STATUS_INVALID_OP_CODE)

    def on_disconnect(self) -> None:
        # Polar sensors stop online streams when the link drops.
        self.active.clear()
        self.sdk = False

    def timestamp_ns(self, t: np.ndarray) -> np.ndarray:
        """Sensor timestamps (ns since 2000) of sample times ``t`` (s)."""
        return self.epoch_offset_ns + np.rint(np.asarray(t) * self.clock_scale * NS).astype(
            np.int64
        )

    def encode(self, chunk: SampleChunk) -> list[GattNotification]:
        n = len(chunk)
        if n == 0 or not self.streaming:
            return []
        ts = self.timestamp_ns(chunk.t)
        out: list[GattNotification] = []
        k = max(1, self.samples_per_frame)
        for s in range(0, n, k):
            e = min(n, s + k)
            last = int(ts[e - 1])
            if self.verity:
                acc = np.rint(chunk.acc[s:e] * 1000.0 / self.factors[ACC])
                acc = np.clip(acc, -32768, 32767).astype(np.int64)
                out.append(
                    GattNotification(
                        DATA_UUID, encode_data_frame(ACC, last, DELTA_BIT | 1, delta_encode(acc))
                    )
                )
                if GYRO in self.active:
                    g = chunk.gyr[s:e] if chunk.gyr is not None else np.zeros((e - s, 3))
                    gyr = np.clip(np.rint(g / self.factors[GYRO]), -32768, 32767).astype(np.int64)
                    out.append(
                        GattNotification(
                            DATA_UUID,
                            encode_data_frame(GYRO, last, DELTA_BIT | 0, delta_encode(gyr)),
                        )
                    )
            else:
                mg = _util.to_int16(chunk.acc[s:e] * 1000.0, 1.0)
                out.append(
                    GattNotification(DATA_UUID, encode_data_frame(ACC, last, 0x01, mg.tobytes()))
                )
        return out
