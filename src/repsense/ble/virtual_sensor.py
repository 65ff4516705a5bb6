"""A virtual BLE sensor: a Bumble GATT peripheral serving one of our protocols.

It advertises like the real device, serves its GATT layout, applies the
host's configuration writes and streams samples from a recording, the
simulator or a "standing still" source, encoded to the exact notification
bytes by the protocol's :class:`~repsense.sensors.base.SensorEncoder`.  It
lives on the in-process air of :mod:`repsense.ble.bumble_backend`, so the
production bleak code reaches it through ``backend=BumbleClient``.

The sensor keeps its own clock (the air's, which may run ``speed`` times
faster than real time): a sample with recording time ``t`` is sent when the
sensor clock reaches ``t`` after playback started, so bursts, counters and
timestamps look like a real sensor's.  Playback starts once a host has
subscribed and started streaming (the user begins exercising after
pairing).

Fault injection (:class:`Faults`): drop the link at given sensor times and
stay away (out of range) for a while, optionally buffering the samples taken
meanwhile like firmware with a ring buffer; insert malformed notifications;
lose notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from bumble import gatt
from bumble.att import ATT_Error, ErrorCode
from bumble.core import UUID, AdvertisingData
from bumble.device import AdvertisingEventProperties, AdvertisingParameters, Connection, Device

from repsense.ble.bumble_backend._convert import bumble_uuid
from repsense.ble.bumble_backend.air import Air, get_air
from repsense.ble.registry import encoder_class
from repsense.samples import SampleChunk
from repsense.sensors.base import GattNotification, SensorEncoder, normalize_uuid

log = logging.getLogger(__name__)

_PROPS = {
    "read": gatt.Characteristic.Properties.READ,
    "write": gatt.Characteristic.Properties.WRITE,
    "write-without-response": gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
    "notify": gatt.Characteristic.Properties.NOTIFY,
    "indicate": gatt.Characteristic.Properties.INDICATE,
}
_ADDRESSES = iter(f"C0:5E:45:00:{i >> 8:02X}:{i & 0xFF:02X}" for i in range(1, 65536))


@dataclass
class Faults:
    """What goes wrong, on purpose.

    Parameters
    ----------
    drop_at_s
        Sensor times (seconds after playback start) at which the link drops.
    down_s
        How long the sensor then stays unreachable (not advertising), sensor seconds.
    buffer_while_down
        Keep the samples taken while disconnected and send them after the host
        reconnects (firmware ring buffer); otherwise they are lost (counted by
        the protocol's counter, never sent).
    malformed_every
        Insert a garbage notification after every N-th data notification (0 = never).
    lose_every
        Drop every N-th data notification (0 = never).
    seed
        Seed for the garbage bytes.
    """

    drop_at_s: list[float] = field(default_factory=list)
    down_s: float = 1.0
    buffer_while_down: bool = False
    malformed_every: int = 0
    lose_every: int = 0
    seed: int = 0


class StillSource:
    """Endless samples of a sensor lying still with a fixed gravity direction."""

    def __init__(self, gravity: Iterable[float] = (0.0, 0.0, 1.0), noise_g: float = 0.003,
                 seed: int = 0, wobble_deg: float = 0.0) -> None:
        g = np.asarray(list(gravity), dtype=float)
        self.gravity = g / np.linalg.norm(g)
        self.noise_g = noise_g
        self.wobble_deg = wobble_deg
        self._rng = np.random.default_rng(seed)

    def samples(self, t: np.ndarray) -> SampleChunk:
        """Samples at times ``t``; ``wobble_deg`` sways the sensor about x at 1 Hz (fidgeting)."""
        n = len(t)
        angle = np.radians(self.wobble_deg) * np.sin(2 * np.pi * t)
        c, s = np.cos(angle), np.sin(angle)
        gx, gy, gz = self.gravity
        acc = np.column_stack([np.full(n, gx), c * gy - s * gz, s * gy + c * gz])
        acc += self._rng.normal(0.0, self.noise_g, (n, 3))
        gyr = self._rng.normal(0.0, 0.2, (n, 3))
        gyr[:, 0] += self.wobble_deg * 2 * np.pi * np.cos(2 * np.pi * t)
        return SampleChunk(t, acc, gyr)


def load_source(source: Any) -> SampleChunk | StillSource:
    """Samples to play: a ``.csv`` recording, ``sim:EXERCISE``, ``still`` or chunks."""
    if source is None or (isinstance(source, str) and source in ("", "still")):
        return StillSource()
    if isinstance(source, StillSource):
        return source
    if isinstance(source, SampleChunk):
        return source
    if isinstance(source, (str, Path)):
        text = str(source)
        if text.startswith("sim:"):
            return _simulate(text[4:])
        from repsense.io.open import open_recording

        rec = open_recording(Path(text))
        return SampleChunk.concat(list(rec.chunks()))
    return SampleChunk.concat(list(source))


def _simulate(spec: str) -> SampleChunk:
    """``sim:EXERCISE`` through the simulator (``repsense.sim``)."""
    import repsense.sim as sim

    exercise = spec or "leg_curl"
    session = sim.SimulatedSession(exercise=exercise)  # type: ignore[attr-defined]
    return SampleChunk.concat(list(session.chunks(1.0)))


class VirtualSensor:
    """A virtual peripheral for one protocol.

    Parameters
    ----------
    protocol
        ``repsense``, ``witmotion``, ``thingy52`` or ``polar_pmd``.
    source
        What to stream: a recording path, ``sim:EXERCISE``, ``still``/``None``
        (standing still, endless) or :class:`SampleChunk` (s).
    address
        Bluetooth address (a fresh one per sensor by default).
    speed
        Sensor-clock seconds per wall-clock second (sets the air's time scale).
    faults
        :class:`Faults` to inject.
    loop_source
        Start the source again when it ends (for long manual tests).
    encoder_options
        Keyword arguments for the protocol's encoder (``name``, ``rate_hz``, ...).
    """

    def __init__(
        self,
        protocol: str,
        source: Any = None,
        *,
        address: str | None = None,
        speed: float = 1.0,
        faults: Faults | None = None,
        loop_source: bool = False,
        tick_s: float = 0.004,
        advertise_battery: int | None = None,
        **encoder_options: Any,
    ) -> None:
        self.protocol = protocol
        self.encoder: SensorEncoder = encoder_class(protocol)(**encoder_options)
        self.source = load_source(source)
        self.address = (address or next(_ADDRESSES)).upper()
        self.speed = float(speed)
        self.faults = faults or Faults()
        self.loop_source = loop_source
        self.tick_s = tick_s
        self._next_tick = 0.0  # wall time (monotonic) of the next tick
        self.advertise_battery = advertise_battery
        self.profile = self.encoder.gatt()
        self.name = self.profile.name
        self.air: Air | None = None
        self.device: Device | None = None
        self._controller = None
        self._chars: dict[str, gatt.Characteristic] = {}
        self._subscribed: set[str] = set()
        self._connection: Connection | None = None
        self._adv_set = None
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random(self.faults.seed)
        self._down_until: float | None = None
        self._buffer: list[SampleChunk] = []
        self._last_write = -1.0
        self._data_sent = 0
        self._data_uuids = self._guess_data_uuids()
        # What happened, for tests and docs.
        self.finished = asyncio.Event()
        self.playing = asyncio.Event()
        self.samples_sent = 0
        self.samples_lost = 0
        self.notifications_sent = 0
        self.malformed_sent = 0
        self.drops = 0
        self.connections = 0

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> VirtualSensor:
        """Power on, advertise and start the sensor clock."""
        self.air = get_air()
        if self.speed != self.air.time_scale:
            self.air.set_time_scale(self.speed)
        self.device, self._controller = self.air.new_device(self.name, self.address)
        self.air.peripherals[self.address] = self
        for service in self.profile.services:
            self.device.add_service(self._service(service))
        self.device.on("connection", self._on_connection)
        self.device.on("characteristic_subscription", self._on_subscription)
        await self.device.power_on()
        await self._advertise()
        self.air.drivers += 1
        self._task = asyncio.create_task(self._drive(), name=f"virtual-{self.protocol}")
        return self

    async def _drive(self) -> None:
        """Play the source, then keep ticking the air clock until stopped."""
        await self._run()
        while True:
            await self._tick()

    async def stop(self) -> None:
        """Stop streaming, disconnect and leave the air."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect_all()
        if self.air is not None and self._controller is not None:
            self.air.remove(self._controller)
            self.air.peripherals.pop(self.address, None)
            self.air.drivers -= 1
        self._controller = None

    async def __aenter__(self) -> VirtualSensor:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- GATT server --------------------------------------------------------------------

    def _service(self, service: Any) -> gatt.Service:
        chars = []
        for c in service.characteristics:
            props = gatt.Characteristic.Properties(0)
            for p in c.properties:
                props |= _PROPS[p]
            perms = gatt.Characteristic.Permissions(0)
            if "read" in c.properties:
                perms |= gatt.Characteristic.READABLE
            if "write" in c.properties or "write-without-response" in c.properties:
                perms |= gatt.Characteristic.WRITEABLE
            uuid = normalize_uuid(c.uuid)
            value: Any = c.value
            if perms & gatt.Characteristic.WRITEABLE or "read" in c.properties:
                value = gatt.CharacteristicValue(
                    read=lambda _conn, u=uuid, v=c.value: self._read(u, v),
                    write=(lambda conn, data, u=uuid: self._write(u, bytes(data)))
                    if perms & gatt.Characteristic.WRITEABLE
                    else None,
                )
            perms = perms or gatt.Characteristic.READABLE
            char = gatt.Characteristic(bumble_uuid(uuid), props, perms, value)
            self._chars[uuid] = char
            chars.append(char)
        return gatt.Service(bumble_uuid(normalize_uuid(service.uuid)), chars)

    def _read(self, uuid: str, static: bytes) -> bytes:
        from repsense.sensors.base import BATTERY_LEVEL

        if uuid == BATTERY_LEVEL and getattr(self, "_battery_value", None) is not None:
            return self._battery_value
        reader = getattr(self.encoder, "read", None)
        if reader is not None:
            value = reader(uuid)
            if value is not None:
                return bytes(value)
        status = getattr(self.encoder, "status", None)
        if status is not None and static and "write" in self._props(uuid):
            return bytes(status())
        return static

    def _props(self, uuid: str) -> tuple[str, ...]:
        try:
            return self.profile.characteristic(uuid).properties
        except KeyError:
            return ()

    def _write(self, uuid: str, data: bytes) -> None:
        try:
            answers = self.encoder.on_write(uuid, data)
        except ValueError as exc:
            log.info("virtual %s rejected write %s: %s", self.protocol, data.hex(), exc)
            raise ATT_Error(ErrorCode.VALUE_NOT_ALLOWED) from exc
        self._last_write = self._now()
        if answers:
            # Answer after the write response, as the real device does.
            asyncio.get_running_loop().call_soon(
                lambda: asyncio.ensure_future(self._send(answers, data_path=False))
            )

    def _on_subscription(self, _bearer: Any, characteristic: gatt.Characteristic,
                         notify: bool, indicate: bool) -> None:
        uuid = next((u for u, c in self._chars.items() if c is characteristic), None)
        if uuid is None:
            return
        if notify or indicate:
            self._subscribed.add(uuid)
            answers = self.encoder.on_subscribe(uuid)
            if answers:
                asyncio.ensure_future(self._send(answers, data_path=False))
        else:
            self._subscribed.discard(uuid)
        self._last_write = self._now()

    # -- advertising and connections ------------------------------------------------------

    def _advertising_data(self) -> bytes:
        structures: list[tuple[int, bytes]] = [(AdvertisingData.FLAGS, b"\x06")]
        sixteen = [u for u in self.profile.advertised_services if normalize_uuid(u).endswith(
            "-0000-1000-8000-00805f9b34fb")]
        long_ = [u for u in self.profile.advertised_services if u not in sixteen]
        if sixteen:
            structures.append((AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                               b"".join(bytes(bumble_uuid(normalize_uuid(u)[4:8]))
                                        for u in sixteen)))
        if long_:
            structures.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                               b"".join(bytes(UUID(normalize_uuid(u))) for u in long_)))
        structures.append((AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()))
        if self.advertise_battery is not None:  # Battery Service data: 0x180F + percent
            structures.append((AdvertisingData.SERVICE_DATA_16_BIT_UUID,
                               b"\x0f\x18" + bytes([self.advertise_battery])))
        for company, payload in self.profile.manufacturer_data.items():
            structures.append((AdvertisingData.MANUFACTURER_SPECIFIC_DATA,
                               int(company).to_bytes(2, "little") + bytes(payload)))
        return bytes(AdvertisingData(structures))

    async def _advertise(self) -> None:
        assert self.device is not None
        if self._adv_set is not None:
            if not self._adv_set.enabled:
                await self._adv_set.start()
            return
        props = AdvertisingEventProperties(is_connectable=True, is_scannable=False, is_legacy=False)
        # Extended advertising: Bumble's emulated controller sends no scan
        # responses, and name + 128-bit UUID do not fit 31 legacy bytes.
        self._adv_set = await self.device.create_advertising_set(
            advertising_parameters=AdvertisingParameters(
                advertising_event_properties=props,
                primary_advertising_interval_min=20,
                primary_advertising_interval_max=20,
            ),
            advertising_data=self._advertising_data(),
            auto_restart=False,
        )

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        self.connections += 1
        connection.on("disconnection", lambda _reason: self._on_disconnection(connection))

    def _on_disconnection(self, connection: Connection) -> None:
        if self._connection is connection:
            self._connection = None
        self._subscribed.clear()
        self.encoder.on_disconnect()
        if self._down_until is None and self._task is not None and not self._task.done():
            asyncio.ensure_future(self._advertise())

    async def _disconnect_all(self) -> None:
        if self.device is None:
            return
        for conn in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await conn.disconnect()

    async def set_battery(self, percent: int) -> None:
        """Change the Battery Level value and notify subscribers (if the layout has one)."""
        from repsense.sensors.base import BATTERY_LEVEL

        char = self._chars.get(BATTERY_LEVEL)
        if char is None or self.device is None:
            return
        value = bytes([max(0, min(100, int(percent)))])
        self._battery_value = value
        await self.device.notify_subscribers(char, value)

    async def drop_link(self, down_s: float | None = None) -> None:
        """Drop the connection now and stay unreachable for ``down_s`` sensor seconds."""
        down = self.faults.down_s if down_s is None else down_s
        self.drops += 1
        self._down_until = self._now() + down
        if self._adv_set is not None and self._adv_set.enabled:
            await self._adv_set.stop()
        await self._disconnect_all()

    # -- streaming ---------------------------------------------------------------------

    def _now(self) -> float:
        return self.air.now() if self.air is not None else 0.0

    async def _tick(self) -> float:
        """Wait for the next tick and advance the air clock; returns the new air time.

        Ticks are periodic (every ``tick_s`` of wall time, like connection events),
        not ``tick_s`` after the last burst was handled: sleeping a full tick after
        the work made a busy host lose the air clock's 10 ms step cap at high
        ``speed`` although the loop was idle part of the time.  A late tick does not
        try to catch up (the air clock's cap handles stalls).
        """
        now = time.monotonic()
        self._next_tick = max(self._next_tick + self.tick_s, now)
        await asyncio.sleep(self._next_tick - now)
        return self.air.tick() if self.air is not None else 0.0

    @property
    def data_notifications(self) -> int:
        """Data notifications made so far, those dropped by ``lose_every`` included."""
        return self._data_sent

    @property
    def connected(self) -> bool:
        return self._connection is not None

    def _ready(self) -> bool:
        """A host is connected, subscribed to the data and has started the stream."""
        return (
            self.connected
            and all(u in self._subscribed for u in self._data_uuids)
            and bool(getattr(self.encoder, "streaming", True))
        )

    async def _run(self) -> None:
        """Wait for the host to start streaming, then play the source on the sensor clock."""
        settle = 0.05
        while not (self._ready() and self._now() - self._last_write > settle * self.speed):
            await self._tick()
        self.playing.set()
        source = self.source
        if isinstance(source, SampleChunk):
            source = self._resample(source)
        rate = float(self.encoder.rate_hz)
        t_play0 = self._now()
        src_t0 = float(source.t[0]) if isinstance(source, SampleChunk) else 0.0
        sent_until = 0  # index of the next sample (finite sources)
        next_t = 0.0  # sensor time of the next sample, relative to playback start
        drops = sorted(self.faults.drop_at_s)
        while True:
            now = await self._tick() - t_play0
            if isinstance(source, SampleChunk):
                rel = source.t - src_t0
                stop = int(np.searchsorted(rel, now, side="right"))
                if stop > sent_until:
                    chunk = source.slice(sent_until, stop)
                    chunk = SampleChunk(chunk.t - src_t0 + t_play0, chunk.acc, chunk.gyr)
                    sent_until = stop
                    await self._emit(chunk)
                if sent_until >= len(source):
                    if self.loop_source:
                        t_play0 += float(rel[-1]) + 1.0 / rate
                        sent_until = 0
                        continue
                    await self._flush_buffer_when_possible()
                    self.finished.set()
                    return
            else:
                n = int(np.floor((now - next_t) * rate)) + 1 if now >= next_t else 0
                if n > 0:
                    t = t_play0 + next_t + np.arange(n) / rate
                    next_t += n / rate
                    await self._emit(source.samples(t))
            if drops and now >= drops[0]:
                drops.pop(0)
                await self.drop_link()
            if self._down_until is not None and self._now() >= self._down_until:
                self._down_until = None
                await self._advertise()

    def _guess_data_uuids(self) -> tuple[str, ...]:
        uuids = getattr(self.encoder, "data_uuids", None)
        if uuids:
            return tuple(normalize_uuid(u) for u in uuids)
        # Notify characteristics outside the standard Battery service carry data.
        return tuple(
            normalize_uuid(c.uuid)
            for s in self.profile.services
            if not normalize_uuid(s.uuid).startswith("0000180")
            for c in s.characteristics
            if "notify" in c.properties
        )

    def _resample(self, chunk: SampleChunk) -> SampleChunk:
        """The source at the encoder's configured rate (linear interpolation if it differs)."""
        rate = float(self.encoder.rate_hz)
        dt = np.diff(chunk.t)
        src_rate = 1.0 / float(np.median(dt)) if len(dt) else rate
        if abs(src_rate - rate) / rate < 0.005:
            return chunk
        t = np.arange(chunk.t[0], chunk.t[-1], 1.0 / rate)
        acc = np.column_stack([np.interp(t, chunk.t, chunk.acc[:, i]) for i in range(3)])
        gyr = None
        if chunk.gyr is not None:
            gyr = np.column_stack([np.interp(t, chunk.t, chunk.gyr[:, i]) for i in range(3)])
        return SampleChunk(t, acc, gyr)

    async def _emit(self, chunk: SampleChunk) -> None:
        if not self._ready():
            if self.faults.buffer_while_down and self.playing.is_set():
                self._buffer.append(chunk)
                return
            self.encoder.encode(chunk)  # the sensor keeps counting; nothing goes out
            self.samples_lost += len(chunk)
            return
        if self._buffer:
            pending, self._buffer = SampleChunk.concat([*self._buffer, chunk]), []
            chunk = pending
        await self._send(self.encoder.encode(chunk), data_path=True)
        self.samples_sent += len(chunk)

    async def _flush_buffer_when_possible(self) -> None:
        while self._buffer:
            if self._down_until is not None and self._now() >= self._down_until:
                self._down_until = None
                await self._advertise()
            if self._ready():
                pending, self._buffer = SampleChunk.concat(self._buffer), []
                await self._send(self.encoder.encode(pending), data_path=True)
                self.samples_sent += len(pending)
                return
            await self._tick()

    def _junk(self, good: bytes) -> bytes:
        """A malformed notification: a real one cut short, or random bytes."""
        if good and len(good) > 2 and self._rng.random() < 0.5:
            return good[: self._rng.randrange(1, len(good) - 1)]
        return bytes(self._rng.randrange(256) for _ in range(self._rng.randrange(1, 12)))

    async def _send(self, notifications: list[GattNotification], *, data_path: bool) -> None:
        if self.device is None:
            return
        f = self.faults
        for note in notifications:
            uuid = normalize_uuid(note.char)
            char = self._chars.get(uuid)
            if char is None or self._connection is None:
                continue
            if data_path:
                self._data_sent += 1
                if f.lose_every and self._data_sent % f.lose_every == 0:
                    continue
            try:
                if note.indicate:
                    await self.device.indicate_subscribers(char, note.data)
                else:
                    await self.device.notify_subscribers(char, note.data)
                self.notifications_sent += 1
                if data_path and f.malformed_every and self._data_sent % f.malformed_every == 0:
                    junk = self._junk(note.data)
                    await self.device.notify_subscribers(char, junk)
                    self.malformed_sent += 1
            except Exception as exc:  # the link went away mid-send
                log.debug("virtual %s: send failed: %s", self.protocol, exc)
                return


# -- "--virtual SPEC" ---------------------------------------------------------------------


def parse_spec(spec: str) -> VirtualSensor:
    """A :class:`VirtualSensor` from ``PROTOCOL[:SOURCE][,key=value...]``.

    Keys: ``name``, ``address``, ``rate`` (Hz), ``speed``, ``loop`` (0/1),
    ``drop_at`` (sensor seconds, ``+``-separated), ``down`` (s), ``buffer``
    (0/1), ``malformed_every``, ``lose_every``, ``seed``, ``gravity``
    (``x+y+z`` for the still source), ``wobble`` (degrees of sway: "not standing
    still"), ``battery_adv`` (percent advertised as Battery Service data), and
    any keyword option of the protocol's encoder (``variant=verity_sense``,
    ``clock_ppm=40`` ...).
    """
    from repsense.errors import InputError

    head, *opts = [p.strip() for p in spec.split(",")]
    protocol, _, source = head.partition(":")
    kv: dict[str, str] = {}
    for o in opts:
        key, sep, value = o.partition("=")
        if not sep:
            raise InputError(f"--virtual '{spec}': option '{o}' is not key=value")
        kv[key.strip().lower()] = value.strip()
    try:
        faults = Faults(
            drop_at_s=[float(x) for x in kv.pop("drop_at", "").split("+") if x],
            down_s=float(kv.pop("down", 1.0)),
            buffer_while_down=kv.pop("buffer", "0") in ("1", "true", "yes"),
            malformed_every=int(kv.pop("malformed_every", 0)),
            lose_every=int(kv.pop("lose_every", 0)),
            seed=int(kv.pop("seed", 0)),
        )
        speed = float(kv.pop("speed", 1.0))
        loop = kv.pop("loop", "0") in ("1", "true", "yes")
        address = kv.pop("address", None)
        enc: dict[str, Any] = {}
        if "name" in kv:
            enc["name"] = kv.pop("name")
        if "rate" in kv:
            enc["rate_hz"] = float(kv.pop("rate"))
        gravity = kv.pop("gravity", None)
        wobble = float(kv.pop("wobble", 0.0))
        battery = kv.pop("battery_adv", None)
        battery_adv = None if battery is None else int(battery)
    except ValueError as exc:
        raise InputError(
            f"--virtual '{spec}': {exc}; see docs/ble.md for the option list"
        ) from None
    # Anything else must be an option of the protocol's encoder (variant=verity_sense,
    # clock_ppm=40, ...).
    try:
        params = inspect.signature(encoder_class(protocol.strip()).__init__).parameters
    except (ValueError, TypeError):
        params = {}
    for key in [k for k in kv if k in params and k != "self"]:
        enc[key] = _number_or_text(kv.pop(key))
    if kv:
        raise InputError(
            f"--virtual '{spec}': unknown option(s) {', '.join(sorted(kv))}; known: name, "
            "address, rate, speed, loop, drop_at, down, buffer, malformed_every, lose_every, "
            "seed, gravity, wobble, battery_adv and the encoder's options "
            f"({', '.join(p for p in params if p not in ('self', 'name', 'rate_hz'))})"
        )
    src: Any = source or None
    if gravity is not None or wobble:
        g = [0.0, 0.0, 1.0] if gravity is None else [float(x) for x in gravity.split("+")]
        src = StillSource(g, wobble_deg=wobble)
    return VirtualSensor(protocol.strip(), src, address=address, speed=speed, faults=faults,
                         loop_source=loop, advertise_battery=battery_adv, **enc)


def _number_or_text(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


@contextlib.asynccontextmanager
async def virtual_sensors(specs: Iterable[str | VirtualSensor]):
    """Start virtual sensors for the duration of the block (``--virtual`` options)."""
    sensors = [parse_spec(s) if isinstance(s, str) else s for s in specs]
    started: list[VirtualSensor] = []
    try:
        for s in sensors:
            started.append(await s.start())
        yield started
    finally:
        for s in started:
            await s.stop()
