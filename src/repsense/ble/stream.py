"""Live streaming from a BLE sensor, with reconnection, as an async iterator.

Usage::

    async with SensorStream("left-thigh", pipeline=Pipeline()) as stream:
        async for item in stream:
            match item:
                case Samples(chunk=chunk, events=events): ...
                case Problem(problem=p, events=w): ...  # malformed / lost packets (+ warning)
                case LinkEvent(state=state): ...    # connected, disconnected, reconnecting...
                case BatteryLevel(percent=pct): ...
                case Events(events=events): ...    # pipeline.finish() at close

The stream owns one driver object and (optionally) one
:class:`repsense.pipeline.Pipeline` for the whole session.  When the link
drops it reconnects with exponential backoff and resumes with the *same*
driver and pipeline: the driver's counters and clock fit measure the gap
(reported as lost samples, never invented), and nothing is replayed, so no
rep is counted twice or lost at the seam.  bleak is used unchanged; the
backend (system adapter or the virtual Bumble air) comes from
:mod:`repsense.ble.backend`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakError

from repsense.ble.backend import BleBackend, select_backend
from repsense.ble.errors import BleError, explain
from repsense.ble.profiles import SensorProfile, find_profile, looks_like_address
from repsense.ble.registry import driver_class
from repsense.ble.scan import FoundSensor, find_sensor
from repsense.errors import InputError
from repsense.events import Event
from repsense.samples import SampleChunk
from repsense.sensors.base import (
    BATTERY_LEVEL,
    DIS_FIRMWARE,
    DIS_HARDWARE,
    DIS_MANUFACTURER,
    DIS_MODEL,
    DIS_SERIAL,
    DecodeProblem,
    DecodeResult,
    SensorDriver,
    normalize_uuid,
    parse_battery_level,
    parse_dis_string,
)

log = logging.getLogger(__name__)

DIS_FIELDS = {
    DIS_MANUFACTURER: "manufacturer",
    DIS_MODEL: "model",
    DIS_SERIAL: "serial",
    DIS_FIRMWARE: "firmware",
    DIS_HARDWARE: "hardware",
}


# -- what the stream yields ---------------------------------------------------------


@dataclass(frozen=True)
class Samples:
    """Decoded samples (host-clock times) and the pipeline events they produced."""

    chunk: SampleChunk
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    """A malformed notification (skipped) or lost samples (counted, not invented).

    With a pipeline, ``events`` holds the warning it made of the problem
    (``Pipeline.report_problem``), in stream order with the sample events.
    """

    problem: DecodeProblem
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class LinkEvent:
    """The link changed state.

    ``state`` is ``connected``, ``disconnected``, ``reconnecting`` (``attempt``
    counts from 1, ``delay_s`` is the backoff before it) or ``closed``.
    """

    state: str
    time_s: float
    attempt: int = 0
    delay_s: float = 0.0
    message: str = ""
    rssi: int | None = None


@dataclass(frozen=True)
class BatteryLevel:
    """Battery percentage read from the sensor."""

    percent: int
    time_s: float


@dataclass(frozen=True)
class Events:
    """Events from ``pipeline.finish()`` when the stream closes."""

    events: list[Event]


StreamItem = Samples | Problem | LinkEvent | BatteryLevel | Events


@dataclass
class StreamStats:
    """Counters for status displays and ``repsense pair``."""

    notifications: int = 0
    samples: int = 0
    malformed: int = 0
    lost_samples: int = 0
    reconnects: int = 0
    first_sample_s: float | None = None
    last_sample_s: float | None = None
    first_arrival_s: float | None = None
    last_arrival_s: float | None = None
    arrived_after_first: int = 0
    """Samples (received + lost) that arrived after the first data notification."""

    @property
    def measured_rate_hz(self) -> float | None:
        """Samples per second of host (arrival) time, lost ones included.

        Measured on arrival times rather than on the driver's sample times,
        which are partly derived from the nominal rate.
        """
        if self.first_arrival_s is None or self.last_arrival_s is None:
            return None
        span = self.last_arrival_s - self.first_arrival_s
        return self.arrived_after_first / span if span > 0 else None

    @property
    def loss_pct(self) -> float:
        total = self.samples + self.lost_samples
        return 100.0 * self.lost_samples / total if total else 0.0


# -- resolving what to connect to ---------------------------------------------------


@dataclass
class SensorTarget:
    """Everything needed to connect: address, protocol and (if known) the scan result."""

    address: str
    protocol: str
    rate_hz: float | None = None
    name: str | None = None
    profile: SensorProfile | None = None
    found: FoundSensor | None = None


async def resolve_target(
    spec: str | SensorProfile | SensorTarget,
    backend: BleBackend | None = None,
    *,
    timeout: float = 10.0,
    protocol: str | None = None,
    rate_hz: float | None = None,
) -> SensorTarget:
    """Turn a profile name, address or advertised name into a :class:`SensorTarget`.

    Profiles are used as stored (no scan needed).  Addresses and names are
    looked up with a scan so the protocol can be detected from the
    advertisement; ``protocol`` skips the detection for an address.
    """
    if isinstance(spec, SensorTarget):
        return spec
    if isinstance(spec, SensorProfile):
        return SensorTarget(spec.address, spec.protocol, rate_hz or spec.rate_hz, spec.name, spec)
    profile = find_profile(spec)
    if profile is not None:
        return await resolve_target(profile, backend, rate_hz=rate_hz)
    if protocol is not None:
        driver_class(protocol)  # validates the name
    backend = backend or select_backend()
    # Even with a known protocol, the advertisement tells the model variant.
    found = await find_sensor(spec, timeout=timeout, backend=backend, protocol=protocol)
    if found is None:
        what = "address" if looks_like_address(spec) else "profile or sensor name"
        raise BleError(
            f"sensor '{spec}' ({what}) was not found within {timeout:g} s: it is not paired "
            "under that name, out of range, asleep or connected to another device (a phone "
            "app?); disconnect it there, wake it, bring it closer and check 'repsense scan'"
        )
    return SensorTarget(found.address, protocol or found.protocol, rate_hz, found.name, None, found)


# -- the stream ---------------------------------------------------------------------


class SensorStream:
    """Connect to a sensor, configure it, and iterate over what it sends.

    Parameters
    ----------
    target
        A profile name, Bluetooth address, advertised name, :class:`SensorProfile`
        or :class:`SensorTarget`.
    backend
        ``"system"``, ``"virtual"``, a :class:`BleBackend` or ``None``
        (``$REPSENSE_BLE_BACKEND``, else the system adapter).
    pipeline
        Optional :class:`repsense.pipeline.Pipeline`; chunks are pushed into it
        and its events come back in :class:`Samples` (and :class:`Events` at close).
    rate_hz
        Sample rate to configure (default: the profile's, else the driver's default).
    protocol
        Skip advertisement detection for a bare address.
    reconnect
        Reconnect after link loss (default).  ``reconnect_timeout_s`` bounds
        the total time spent trying (``None``: keep trying until closed).
    backoff_s
        ``(first, max)`` delay between reconnection attempts; doubles each time.
    on_notification
        ``f(arrival_s, char_uuid, data)`` for every notification (raw capture).
    clock
        Host clock for arrival times (default: the backend's).
    coalesce_s
        Decoded samples are gathered into chunks of at least this much sample
        time before they go to the pipeline and the consumer (sensors such as
        WitMotion send one sample per notification; pushing each alone costs
        far more CPU).  0 passes every notification's samples on at once.
    """

    def __init__(
        self,
        target: str | SensorProfile | SensorTarget,
        *,
        backend: str | BleBackend | None = None,
        pipeline: Any | None = None,
        rate_hz: float | None = None,
        protocol: str | None = None,
        reconnect: bool = True,
        reconnect_timeout_s: float | None = 60.0,
        backoff_s: tuple[float, float] = (0.25, 8.0),
        connect_timeout_s: float = 10.0,
        on_notification: Callable[[float, str, bytes], None] | None = None,
        clock: Callable[[], float] | None = None,
        queue_size: int = 0,
        coalesce_s: float = 0.05,
    ) -> None:
        self._spec = target
        self.backend = backend if isinstance(backend, BleBackend) else select_backend(backend)
        self.pipeline = pipeline
        self._rate_hz = rate_hz
        self._protocol = protocol
        self.reconnect = reconnect
        self.reconnect_timeout_s = reconnect_timeout_s
        self.backoff_s = backoff_s
        self.connect_timeout_s = connect_timeout_s
        self.on_notification = on_notification
        self._clock = clock
        self.target: SensorTarget | None = None
        self.driver: SensorDriver | None = None
        self.client: BleakClient | None = None
        self.device_info: dict[str, str] = {}
        self.battery_pct: int | None = None
        self.rssi: int | None = None
        self.stats = StreamStats()
        self._queue: asyncio.Queue[StreamItem | None] = asyncio.Queue(queue_size)
        self._lost = asyncio.Event()
        self._closing = False
        self._closed = False
        self._close_started = False
        self._close_done = asyncio.Event()
        self._pipeline_failed = False
        self.final_events: list[Event] = []
        """``pipeline.finish()`` events of :meth:`close` (also yielded as :class:`Events`;
        kept here for a consumer that stopped iterating on an error)."""
        self._task: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Future[bytes]] = {}
        self._error: BaseException | None = None
        self._notify_chars: list[str] = []
        self._config_problems: list[DecodeProblem] = []
        self.coalesce_s = coalesce_s
        self._pending: list[SampleChunk] = []

    # -- public API -------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        if self._clock is None:
            self._clock = self.backend.clock()
        return self._clock

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    async def start(self) -> SensorStream:
        """Resolve the target and make the first connection (errors raise :class:`BleError`)."""
        self.target = await resolve_target(
            self._spec,
            self.backend,
            timeout=self.connect_timeout_s,
            protocol=self._protocol,
            rate_hz=self._rate_hz,
        )
        cls = driver_class(self.target.protocol)
        found = self.target.found
        profile = self.target.profile
        if profile is not None and profile.driver_config:
            # The variant and options found at pairing (e.g. Polar Verity Sense).
            config = {**profile.driver_config, "rate_hz": self.target.rate_hz}
            self.driver = cls.from_config(config)
        elif found is not None and found.advertisement is not None:
            adv = found.advertisement
            self.rssi = found.rssi
            self.driver = cls.from_advertisement(
                adv.local_name, list(adv.service_uuids), dict(adv.manufacturer_data),
                rate_hz=self.target.rate_hz,
            )
        else:
            self.driver = cls(rate_hz=self.target.rate_hz)  # type: ignore[call-arg]
        try:
            await self._connect(first=True)
        except (BleakError, OSError, TimeoutError) as exc:
            line = explain(exc, self.target.address) or f"connection failed: {exc}"
            raise BleError(line) from exc
        self._task = asyncio.create_task(self._supervise(), name="repsense-ble-stream")
        return self

    async def close(self) -> None:
        """Stop streaming, disconnect, finish the pipeline; the iterator then ends."""
        if self._closed:
            return
        if self._close_started:  # another task is closing: wait for it
            await self._close_done.wait()
            return
        self._close_started = True
        self._closing = True
        self._lost.set()  # wake the supervisor
        try:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            client = self.client
            if client is not None and client.is_connected:
                with contextlib.suppress(BleakError, OSError, TimeoutError):
                    for w in self.driver.stop() if self.driver else []:
                        await client.write_gatt_char(w.char, w.data, response=w.response)
                with contextlib.suppress(BleakError, OSError, TimeoutError):
                    await client.disconnect()
            self.client = None
            self._flush()
            if self.pipeline is not None and not self._pipeline_failed:
                self.final_events = list(self.pipeline.finish())
                self._put(Events(self.final_events))
            self._put(LinkEvent("closed", self.clock()))
        finally:
            self._closed = True
            self._put(None)
            self._close_done.set()

    async def __aenter__(self) -> SensorStream:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamItem]:
        while True:
            item = await self._queue.get()
            if item is None:
                if self._error is not None:
                    raise self._error
                return
            yield item

    # -- connection handling ----------------------------------------------------------

    def _put(self, item: StreamItem | None) -> None:
        self._queue.put_nowait(item)

    def _on_disconnect(self, _client: BleakClient) -> None:
        if not self._closing:
            self._lost.set()

    async def _connect(self, first: bool) -> None:
        assert self.target is not None and self.driver is not None
        target = self.target
        device = target.found.device if (first and target.found is not None) else target.address
        bonded = bool(target.profile and target.profile.bonded)
        client = BleakClient(
            device,
            self._on_disconnect,
            timeout=self.connect_timeout_s,
            pair=bonded,
            **self.backend.client_kwargs(),
        )
        self._lost.clear()
        await client.connect()
        self.client = client
        try:
            await self._setup(client, first)
        except Exception:
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await client.disconnect()
            self.client = None
            raise
        self._put(LinkEvent("connected", self.clock(), rssi=self.rssi))

    async def _setup(self, client: BleakClient, first: bool) -> None:
        driver = self.driver
        assert driver is not None
        services = client.services
        if first:
            for uuid, key in DIS_FIELDS.items():
                if services.get_characteristic(uuid) is not None:
                    with contextlib.suppress(BleakError):
                        self.device_info[key] = parse_dis_string(
                            bytes(await client.read_gatt_char(uuid))
                        )
        else:
            driver.reconnected()
        battery = services.get_characteristic(BATTERY_LEVEL)
        if battery is not None:
            with contextlib.suppress(BleakError):
                pct = parse_battery_level(bytes(await client.read_gatt_char(BATTERY_LEVEL)))
                if pct is not None:
                    self.battery_pct = pct
                    self._put(BatteryLevel(pct, self.clock()))
            if "notify" in battery.properties:
                with contextlib.suppress(BleakError):
                    await client.start_notify(battery, self._on_battery)
        missing = [u for u in driver.notify_uuids if services.get_characteristic(u) is None]
        if missing:
            raise InputError(
                f"sensor {client.address} does not have characteristic {missing[0]} of the "
                f"{driver.protocol} protocol; is it the right kind of sensor (see 'repsense scan')?"
            )
        for uuid in driver.notify_uuids:
            await client.start_notify(uuid, self._on_notify)
        rate = driver.rate_hz if driver.rate_hz else driver.nearest_rate(None)
        self._config_problems = []
        for write in driver.configure(rate):
            char = normalize_uuid(write.char)
            waiter = None
            if write.wait_notify:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters[char] = waiter
            await client.write_gatt_char(char, write.data, response=write.response)
            if waiter is not None:
                try:
                    await asyncio.wait_for(waiter, 2.0)
                except TimeoutError:
                    log.warning("no answer on %s to a configuration write", char)
                finally:
                    self._waiters.pop(char, None)
        if self._config_problems:
            p = self._config_problems[0]
            raise BleError(
                f"sensor {client.address} rejected the configuration ({p.message}); try "
                "another --rate, or update the sensor's firmware"
            )

    def _on_notify(self, char: BleakGATTCharacteristic, data: bytearray) -> None:
        if self._closed:  # a straggler after close(): the pipeline is finished
            return
        arrival = self.clock()
        uuid = char.uuid
        payload = bytes(data)
        self.stats.notifications += 1
        if self.on_notification is not None:
            self.on_notification(arrival, uuid, payload)
        assert self.driver is not None
        try:
            result = self.driver.decode(uuid, payload, arrival)
        except Exception as exc:  # a decoder bug must not kill the session: skip the bytes
            log.exception("decoder failed on %s", payload.hex())
            result = DecodeResult(problems=[DecodeProblem(
                "malformed", arrival, f"decoder error {type(exc).__name__}: {exc}; "
                f"notification skipped ({len(payload)} bytes)")])
        st = self.stats
        lost = 0
        if result.problems:
            self._flush()  # samples before the problem go first, as in a replayed capture
        for p in result.problems:
            if p.kind == "config":
                self._config_problems.append(p)
            if p.kind == "malformed":
                st.malformed += 1
            lost += int(p.lost_samples)
            report = getattr(self.pipeline, "report_problem", None)
            self._put(Problem(p, list(report(p)) if report is not None else []))
        st.lost_samples += lost
        chunk = result.chunk
        if chunk is not None and len(chunk):
            if st.first_arrival_s is None:
                st.first_arrival_s = arrival
            else:
                st.arrived_after_first += len(chunk) + lost
            st.last_arrival_s = arrival
            st.samples += len(chunk)
            if st.first_sample_s is None:
                st.first_sample_s = float(chunk.t[0])
            st.last_sample_s = float(chunk.t[-1])
            self._pending.append(chunk)
            if float(chunk.t[-1] - self._pending[0].t[0]) >= self.coalesce_s:
                self._flush()
        waiter = self._waiters.get(uuid)
        if waiter is not None and not waiter.done():
            waiter.set_result(payload)

    def _on_battery(self, char: BleakGATTCharacteristic, data: bytearray) -> None:
        arrival = self.clock()
        if self.on_notification is not None:
            self.on_notification(arrival, char.uuid, bytes(data))
        pct = parse_battery_level(bytes(data))
        if pct is not None and pct != self.battery_pct:
            self.battery_pct = pct
            self._put(BatteryLevel(pct, arrival))

    def _flush(self) -> None:
        """Hand the gathered samples to the pipeline and the consumer."""
        if not self._pending:
            return
        chunk = SampleChunk.concat(self._pending)
        self._pending = []
        try:
            events = list(self.pipeline.push(chunk)) if self.pipeline is not None else []
        except Exception as exc:  # surface pipeline bugs to the consumer, not to Bumble's log
            self._pipeline_failed = True
            self._error = exc
            self._put(None)
            return
        self._put(Samples(chunk, events))

    async def _supervise(self) -> None:
        """Wait for link loss; reconnect with exponential backoff until closed."""
        try:
            while not self._closing:
                await self._lost.wait()
                if self._closing:
                    return
                self.client = None
                self._flush()
                lost_at = self.clock()
                self._put(LinkEvent("disconnected", lost_at, message="link lost"))
                if not self.reconnect:
                    self._error = BleError(
                        f"sensor {self.target.address if self.target else ''} disconnected"
                    )
                    self._put(None)
                    return
                await self._reconnect()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surface anything unexpected to the consumer
            self._error = exc
            self._put(None)

    async def _reconnect(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        delay, max_delay = self.backoff_s
        attempt = 0
        while not self._closing:
            attempt += 1
            self._put(LinkEvent("reconnecting", self.clock(), attempt=attempt, delay_s=delay))
            await asyncio.sleep(delay)
            try:
                await self._connect(first=False)
                self.stats.reconnects += 1
                return
            except (BleakError, OSError, TimeoutError) as exc:
                log.info("reconnect attempt %d failed: %s", attempt, exc)
            delay = min(delay * 2, max_delay)
            if (
                self.reconnect_timeout_s is not None
                and loop.time() - started > self.reconnect_timeout_s
            ):
                addr = self.target.address if self.target else "the sensor"
                self._error = BleError(
                    f"lost {addr} and could not reconnect within {self.reconnect_timeout_s:g} s; "
                    "check that it is on, charged and in range, then start again"
                )
                self._put(None)
                return


async def stream_items(
    target: str | SensorProfile | SensorTarget, **kwargs: Any
) -> AsyncIterator[StreamItem]:
    """Shorthand: ``async for item in stream_items("left-thigh", pipeline=p)``."""
    async with SensorStream(target, **kwargs) as stream:
        async for item in stream:
            yield item
