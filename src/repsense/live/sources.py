"""Where a live session's samples come from: the seam between ``live`` and the transports.

A :class:`SampleSource` is an async iterator of :class:`~repsense.samples.SampleChunk`
with a :class:`~repsense.live.view.LinkStatus` it keeps up to date and a
``meta`` dict (sidecar-like: ``sensor``, ``placement``, ``sample_rate_hz``,
``mounting_up``, ``synthetic``...).  Two kinds exist:

* :class:`PacedSource` — samples already in memory or in a file (the
  simulator, a recording), released at ``speed`` × real time in short
  packets; ``speed`` 0 means as fast as possible.
* :class:`BleSource` — a sensor over Bluetooth LE through
  :class:`repsense.ble.stream.SensorStream` (production bleak code), with
  reconnection; for ``sim:`` sensors it first starts a virtual sensor on the
  in-process Bumble air that streams the simulated session, so ``sim:`` goes
  through exactly the code path a real sensor uses.

:func:`open_source` turns ``--sensor`` into one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from repsense.errors import InputError
from repsense.exercises import EXERCISES
from repsense.live.plans import Plan
from repsense.live.view import LinkStatus
from repsense.samples import SampleChunk, recut

PACKET_S = 0.05
"""Signal per packet when pacing in real time (about one BLE notification burst)."""
FAST_PACKET_S = 1.0
"""Signal per packet at ``speed`` 0 (as fast as possible)."""


class SampleSource:
    """Base of live sample sources (see the module docstring)."""

    name: str = ""
    meta: dict[str, Any]
    link: LinkStatus

    async def start(self) -> None:
        """Connect / prepare; errors raise :class:`InputError` or a transport error."""

    def __aiter__(self) -> AsyncIterator[SampleChunk]:
        raise NotImplementedError

    async def close(self) -> None:
        """Stop; the iterator ends."""


class PacedSource(SampleSource):
    """In-memory or file samples released at ``speed`` × real time.

    Parameters
    ----------
    name
        Shown in the status line.
    chunks
        The samples (any chunking).
    meta
        Sidecar-like facts about them.
    speed
        Times real time; 0 = as fast as possible (the loop still gets a turn
        between packets so keys and MQTT commands are served).
    """

    def __init__(self, name: str, chunks: Iterable[SampleChunk], meta: dict[str, Any],
                 speed: float = 1.0) -> None:
        self.name = name
        self._chunks = chunks
        self.meta = dict(meta)
        self.meta["transport"] = {"kind": "in-process"}
        self.speed = speed
        self.link = LinkStatus(sensor=name, speed=speed)
        self._closed = False

    def __aiter__(self) -> AsyncIterator[SampleChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SampleChunk]:
        packet = FAST_PACKET_S if self.speed <= 0 else PACKET_S
        wall0: float | None = None
        t0 = 0.0
        for part in recut(self._chunks, packet):
            if self._closed:
                return
            if self.speed > 0:
                if wall0 is None:
                    wall0, t0 = time.monotonic(), float(part.t[0])
                delay = wall0 + (float(part.t[-1]) - t0) / self.speed - time.monotonic()
                await asyncio.sleep(max(0.0, delay))
            else:
                await asyncio.sleep(0)
            self.link.samples += len(part)
            yield part

    async def close(self) -> None:
        self._closed = True


class BleSource(SampleSource):
    """A BLE sensor through :class:`repsense.ble.stream.SensorStream`.

    Parameters
    ----------
    target
        Profile name or address.
    backend
        ``"system"``, ``"virtual"`` or a :class:`repsense.ble.backend.BleBackend`.
    virtual
        A :class:`repsense.ble.virtual_sensor.VirtualSensor` to start first (``sim:``);
        the source ends when it has sent everything.
    extra_virtuals
        More virtual sensors to start (``--virtual SPEC``); ``target`` names one of
        them.  The source ends when all that do not loop have sent everything.
    meta
        Sidecar-like facts (the profile's placement and mounting are added).
    """

    def __init__(self, target: str, backend: Any = None, virtual: Any = None,
                 meta: dict[str, Any] | None = None, protocol: str | None = None,
                 speed: float = 1.0, extra_virtuals: list[Any] | None = None) -> None:
        self.target = target
        self.backend = backend
        self.virtual = virtual
        self.extra_virtuals = list(extra_virtuals or [])
        self.protocol = protocol
        self.meta = dict(meta or {})
        self.name = target
        self.link = LinkStatus(sensor=target, connected=False, speed=speed)
        self.stream: Any = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from repsense.ble.errors import BleError
        from repsense.ble.stream import SensorStream

        if self._virtuals():
            # the in-process link's controller chatters when it is torn down; not for users
            logging.getLogger("bumble").setLevel(logging.ERROR)
        if self.virtual is not None:
            await self.virtual.start()
            self.target = self.virtual.address
            self.protocol = self.virtual.protocol
        for v in self.extra_virtuals:
            await v.start()
        self.stream = SensorStream(self.target, backend=self.backend, protocol=self.protocol,
                                   reconnect=True, reconnect_timeout_s=None)
        try:
            await self.stream.start()
        except BleError as exc:
            await self._stop_virtual()
            raise InputError(f"--sensor {self.name}: {exc}") from None
        prof = self.stream.target.profile if self.stream.target else None
        if prof is not None:
            self.meta.setdefault("placement", prof.placement)
            self.meta.setdefault("side", prof.side)
            if prof.gravity is not None:
                self.meta.setdefault("mounting_up", list(prof.gravity))
        if self.stream.driver is not None:
            self.meta.setdefault("sample_rate_hz", float(self.stream.driver.rate_hz))
            self.meta.setdefault("sensor", self.stream.driver.protocol)
            self.meta["transport"] = {
                "kind": "ble",
                "backend": self.stream.backend.name,
                "protocol": self.stream.driver.protocol,
                "address": self.stream.target.address if self.stream.target else self.target,
                "virtual_sensor": self.virtual is not None,
            }
        self.link.connected = self.stream.connected
        self.link.rssi_dbm = self.stream.rssi
        finite = [v for v in self._virtuals() if not getattr(v, "loop_source", False)]
        if finite:
            self._watch = asyncio.create_task(self._end_with_virtual(finite))

    def _virtuals(self) -> list[Any]:
        return ([self.virtual] if self.virtual is not None else []) + self.extra_virtuals

    async def _end_with_virtual(self, finite: list[Any]) -> None:
        """A virtual sensor's source is finite: close the stream once all is sent."""
        for v in finite:
            await v.finished.wait()
        await asyncio.sleep(0.3)  # let the last notifications arrive
        await self.stream.close()

    def __aiter__(self) -> AsyncIterator[SampleChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SampleChunk]:
        from repsense.ble.stream import BatteryLevel, LinkEvent, Problem, Samples

        assert self.stream is not None
        async for item in self.stream:
            if isinstance(item, Samples):
                self.link.samples = self.stream.stats.samples
                yield item.chunk
            elif isinstance(item, LinkEvent):
                self.link.connected = item.state == "connected"
                if item.rssi is not None:
                    self.link.rssi_dbm = item.rssi
                self.link.reconnects = self.stream.stats.reconnects
            elif isinstance(item, BatteryLevel):
                self.link.battery_pct = item.percent
            elif isinstance(item, Problem):
                self.link.lost_samples = self.stream.stats.lost_samples

    async def _stop_virtual(self) -> None:
        for v in self._virtuals():
            with contextlib.suppress(Exception):
                await v.stop()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.stream is not None:
            await self.stream.close()
        await self._stop_virtual()


# ------------------------------------------------------------------ sim: and recordings


def simulated_samples(spec: str, plan: Plan | None, seed: int | None) -> tuple[
        Iterable[SampleChunk], dict[str, Any]]:
    """Samples and meta for ``sim:EXERCISE`` / ``sim:RECORDING``.

    ``sim:FILE`` (a ``.csv`` recording or ``.jsonl`` capture) plays that file.
    ``sim:EXERCISE`` runs the simulator: with a plan, the simulated lifter
    does the whole plan (``EXERCISE`` only names the default); without one,
    a few sets of ``EXERCISE``.
    """
    what = spec[4:]
    path = Path(what)
    if what.endswith((".csv", ".jsonl", ".raw")) or path.is_file():
        from repsense.io.open import open_recording

        rec = open_recording(path)
        meta = dict(rec.meta)
        meta.setdefault("source", str(path))
        return rec.chunks(), meta
    exercise = what or "romanian_deadlift"
    if exercise not in EXERCISES:
        raise InputError(
            f"--sensor {spec}: '{exercise}' is neither an exercise id nor a recording file; "
            f"use sim:EXERCISE ({', '.join(EXERCISES)}) or sim:PATH.csv"
        )
    try:
        from repsense.sim import SimulatedSession
    except ImportError:
        raise InputError(
            f"--sensor {spec}: the simulator is not available in this installation"
        ) from None
    kwargs: dict[str, Any] = {} if seed is None else {"seed": seed}
    if plan is not None:
        sim = SimulatedSession.from_plan(plan_for_simulator(plan), where=plan.source, **kwargs)
    else:
        sim = SimulatedSession(exercise=exercise, **kwargs)
    meta = dict(getattr(sim, "meta", None) or {})
    meta["duration_s"] = float(getattr(sim, "duration_s", 0.0))
    meta.setdefault("synthetic", True)
    meta.setdefault("source", f"repsense simulator ({spec})")
    chunk_s = 1.0
    return sim.chunks(chunk_s), meta


def plan_for_simulator(plan: Plan) -> dict[str, Any]:
    """The plan as the simulator takes it (parsed TOML), rests at least 5 s.

    A rest of 0 (no rest) still takes the lifter a few seconds to change station.
    """
    exercises = []
    for e in plan.exercises:
        entry: dict[str, Any] = {
            "id": e.id,
            "sets": e.sets,
            "reps": e.reps_min if e.reps_min == e.reps_max else f"{e.reps_min}-{e.reps_max}",
            "rest_s": max(5.0, e.rest_s),
            "rest_after_s": max(5.0, e.rest_after_s),
            "placement": e.placement,
            "superset_with_next": e.superset_with_next,
        }
        if e.tempo is not None:
            entry["tempo"] = e.tempo.text
        if e.variant:
            entry["variant"] = e.variant
        exercises.append(entry)
    return {"name": plan.name, "placement": plan.placement, "side": plan.side,
            "exercise": exercises}


def open_source(sensor: str, plan: Plan | None, *, speed: float, seed: int | None = None,
                transport: str = "ble", backend: Any = None,
                virtual_specs: list[str] | None = None) -> SampleSource:
    """Turn ``--sensor`` into a source.

    Parameters
    ----------
    sensor
        ``sim:EXERCISE``, ``sim:FILE``, a profile name or a Bluetooth address.
    transport
        For ``sim:``: ``ble`` (virtual BLE sensor, the default) or ``direct``
        (in-process, no BLE stack; used for ``--speed 0``).
    backend
        BLE backend for real sensors (``None``: ``$REPSENSE_BLE_BACKEND`` or system).
    virtual_specs
        ``--virtual`` specs: virtual sensors to start on the virtual air first.
    """
    if sensor.startswith("sim:"):
        chunks, meta = simulated_samples(sensor, plan, seed)
        if transport == "direct" or speed <= 0:
            meta.pop("duration_s", None)
            return PacedSource(sensor, chunks, meta, speed)
        import sys

        from repsense.ble.virtual_sensor import VirtualSensor

        minutes = float(meta.pop("duration_s", 0.0)) / 60.0
        if minutes > 5:  # rendering takes a few seconds per 10 minutes of training
            print(f"repsense live: simulating {minutes:.0f} min of training for the virtual "
                  "sensor...", file=sys.stderr, flush=True)
        samples = SampleChunk.concat(list(chunks))
        rate = meta.get("sample_rate_hz")
        enc: dict[str, Any] = {"name": "repsense-sim"}
        if rate:
            enc["rate_hz"] = float(rate)
        virtual = VirtualSensor("repsense", samples, speed=speed, **enc)
        meta = {k: v for k, v in meta.items() if k != "sample_rate_hz"}
        src = BleSource(sensor, backend="virtual", virtual=virtual, meta=meta, speed=speed)
        src.name = sensor
        src.link.sensor = sensor
        return src
    extra = []
    if virtual_specs:
        from repsense.ble.virtual_sensor import parse_spec

        extra = [parse_spec(spec) for spec in virtual_specs]
    return BleSource(sensor, backend=backend, speed=1.0, extra_virtuals=extra)
