"""The asyncio glue behind ``repsense live``.

One event loop, one thread (MQTT commands arrive from paho's thread and are
handed over with ``call_soon_threadsafe``).  Samples flow

    source → store (raw CSV) → pipeline → events → store / MQTT / session
    session → notices → view (+ store) ; session → requests → pipeline

Keys and MQTT commands become session actions.  The session ends when the
plan is done, the user ends it (key ``q``, MQTT ``stop``), the source ends,
or on Ctrl-C; every way out goes through the same clean-up: the pipeline is
finished, the session stored, MQTT flushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from repsense import __version__
from repsense.events import Event, SetEnd
from repsense.live.batching import DEFAULT_BATCH_S, SampleBatcher
from repsense.live.plans import Plan
from repsense.live.session import LiveSession, Notice
from repsense.live.sources import PacedSource, SampleSource
from repsense.live.store import SUMMARY_SCHEMA, SessionStore, SessionWriter, iso, utc_now
from repsense.live.view import KEYS, FullScreenView, KeyReader, PlainView, ViewState
from repsense.pipeline import Pipeline
from repsense.samples import SampleChunk

REFRESH_S = 0.25


@dataclass
class LiveOptions:
    """What ``repsense live`` was asked to do (already validated)."""

    sensor: str
    plan: Plan | None = None
    exercise: str = "auto"
    placement: str = "auto"
    speed: float = 1.0
    plain: bool = False
    bell: bool = True
    set_gap_s: float | None = None
    data_dir: Path = Path(".")
    mqtt_label: str = "off"
    mqtt_flush_s: float = 5.0
    batch_s: float = DEFAULT_BATCH_S
    """Samples are pushed to the pipeline in batches of this much sensor time (cheaper per
    sample; a rep is reported up to this much later); 0 pushes every packet at once."""


@dataclass
class LiveResult:
    """How the session went."""

    session_id: str
    path: Path
    summary: dict[str, Any] = field(default_factory=dict)


class LiveRunner:
    """Runs one live session (see the module docstring).

    Parameters
    ----------
    options
        The validated options.
    source
        Where samples come from.
    sink
        An MQTT sink (``handle(event)``, ``close(timeout)``, optional
        ``update_state(dict)``, ``on_command``, ``status``) or ``None``.
    out
        Where ``--plain`` lines and the final line go.
    interactive
        Use the full-screen view and keys (otherwise one line per event).
    """

    def __init__(self, options: LiveOptions, source: SampleSource, sink: Any = None,
                 out: TextIO | None = None, interactive: bool | None = None) -> None:
        self.opt = options
        self.source = source
        self.sink = sink
        self.out = out or sys.stdout
        if interactive is None:
            interactive = not options.plain and self.out.isatty() and sys.stdin.isatty()
        self.interactive = interactive
        self.session = LiveSession(options.plan, options.exercise)
        self.store = SessionStore(options.data_dir)
        self.writer: SessionWriter | None = None
        self.pipeline: Pipeline | None = None
        self.shadow: Pipeline | None = None
        self._shadow_placement: str | None = None
        self.state = ViewState(keys=interactive)
        self.view: FullScreenView | PlainView
        self._done: asyncio.Event | None = None
        self._interrupted = False
        self._source_ended = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_link_connected: bool | None = None
        self.mqtt_report: Any = None
        self._batcher = SampleBatcher(options.batch_s)
        self._batch_timer: asyncio.TimerHandle | None = None
        self._timer_error: BaseException | None = None

    # ------------------------------------------------------------- set-up

    def _placement(self) -> str:
        if self.opt.placement != "auto":
            return self.opt.placement
        step = self.session.step
        if step is not None:
            return step.exercise.placement
        meta = self.source.meta.get("placement")
        return meta if meta in ("thigh", "shank") else "auto"

    def _make_pipelines(self, session_id: str) -> None:
        meta = self.source.meta
        rate = meta.get("sample_rate_hz")
        mounting = meta.get("mounting_up")
        self.pipeline = Pipeline(
            exercise=self.session.expected_exercise,
            placement=self._placement(),
            sample_rate_hz=float(rate) if rate else None,
            session_id=session_id,
            set_gap_s=self.opt.set_gap_s,
            mounting_up=mounting,
        )
        self._make_shadow()

    def _make_shadow(self) -> None:
        """A second pipeline in ``auto`` mode recognises the movement to check it against the
        plan: from the mounting captured at pairing if there is one, otherwise from the lever
        arm (needs a gyroscope); either way it needs to know thigh or shank."""
        meta = self.source.meta
        mounting = meta.get("mounting_up")
        placement = self._placement()
        if self.session.plan is None or placement == "auto":
            self.shadow = None
            return
        if self.shadow is not None and placement == self._shadow_placement:
            return
        rate = meta.get("sample_rate_hz")
        self.shadow = Pipeline(exercise="auto", placement=placement,
                               sample_rate_hz=float(rate) if rate else None,
                               session_id="recognition", set_gap_s=self.opt.set_gap_s,
                               mounting_up=mounting)
        self._shadow_placement = placement

    # ------------------------------------------------------------- the flow

    def _record(self, record: dict[str, Any]) -> None:
        if self.writer is not None:
            self.writer.write_event(record)

    def _handle_events(self, events: list[Event]) -> None:
        for ev in events:
            self._record(ev.to_dict())
            if self.sink is not None:
                self.sink.handle(ev)
            self._emit(self.session.feed(ev))
        self._apply_requests()

    def _emit(self, notices: list[Notice]) -> None:
        for n in notices:
            self._record(n.to_dict())
            self.view.notice(n)
        if notices:
            self._publish_state()
        if self.session.finished and self._done is not None:
            self._done.set()

    def _apply_requests(self) -> None:
        # Requests can make events that make requests: loop until quiet (bounded).
        for _ in range(10):
            reqs = self.session.take_requests()
            if not reqs:
                return
            for r in reqs:
                assert self.pipeline is not None
                if r.kind == "set_exercise" and r.exercise:
                    self.pipeline.set_exercise(r.exercise)
                    self._make_shadow()
                elif r.kind == "end_set":
                    self._handle_events(self.pipeline.end_set())

    def process_chunk(self, chunk: SampleChunk) -> None:
        """Samples in: store them, run the pipelines, update the session."""
        if len(chunk) == 0:
            return
        assert self.pipeline is not None and self.writer is not None
        self.writer.write_samples(chunk)
        if self.sink is not None and hasattr(self.sink, "handle_samples"):
            self.sink.handle_samples(chunk)
        self._handle_events(self.pipeline.push(chunk))
        if self.shadow is not None:
            for ev in self.shadow.push(chunk):
                if isinstance(ev, SetEnd):
                    self._emit(self.session.recognized(ev.start_s, ev.end_s, ev.exercise,
                                                       ev.confidence))
        self._emit(self.session.tick(float(chunk.t[-1])))

    def _take_sample(self, chunk: SampleChunk) -> None:
        """A packet from the source: into the batcher, processed when the batch is full.

        A batch that does not fill up (the sensor went quiet, the link dropped) goes
        out when a timer of ``batch_s`` (wall time, scaled by ``speed``) fires."""
        batch = self._batcher.add(chunk)
        if batch is not None:
            self._cancel_batch_timer()
            self.process_chunk(batch)
        elif self._batcher.waiting and self._batch_timer is None and self._loop is not None:
            speed = self.opt.speed if self.opt.speed > 0 else 1.0
            self._batch_timer = self._loop.call_later(self._batcher.batch_s / speed,
                                                      self._flush_batch_on_timer)

    def _flush_batch_on_timer(self) -> None:
        # A timer callback's exception would only reach asyncio's log: end the session
        # with it instead, as an error in the pump does.
        self._batch_timer = None
        try:
            self._flush_batch()
        except Exception as exc:  # noqa: BLE001 - re-raised by run() after saving
            self._timer_error = exc
            if self._done is not None:
                self._done.set()

    def _flush_batch(self) -> None:
        """Process what the batcher holds now (timer, user action, end of the session)."""
        self._cancel_batch_timer()
        batch = self._batcher.take()
        if batch is not None and not self.session.finished:
            self.process_chunk(batch)

    def _cancel_batch_timer(self) -> None:
        if self._batch_timer is not None:
            self._batch_timer.cancel()
            self._batch_timer = None

    def act(self, action: str, origin: str = "key") -> None:
        """A user action (key or MQTT command), on the loop thread."""
        # Samples that came before the action are counted before it, as without batching.
        self._flush_batch()
        self._record({"type": "action", "action": action, "origin": origin,
                      "time_s": round(self.session.now_s, 3)})
        self._emit(self.session.act(action))
        self._apply_requests()
        self.view.refresh()

    def _on_key(self, ch: str) -> None:
        action = KEYS.get(ch.lower())
        if action is not None:
            self.act(action, "key")

    def _publish_state(self) -> None:
        """Snapshot fields the MQTT state topic takes from the adapter (the sink follows the
        events for the rest)."""
        if self.sink is None or not hasattr(self.sink, "update_state"):
            return
        s = self.session
        rec = s.current or (s.sets[-1] if s.sets else None)
        target = rec.target if rec is not None and s.current is not None else None
        step = s.step
        if target is None and step is not None:
            target = (step.exercise.reps_min, step.exercise.reps_max)
        rest = s.rest.target_s if s.rest is not None and s.current is None else None
        link = self.source.link
        fields = {
            "exercise": rec.exercise if rec is not None and s.current is not None
            else s.expected_exercise,
            "target_reps": target[1] if target else None,
            "rest_target_s": rest,
            "battery_pct": link.battery_pct,
            "rssi_dbm": link.rssi_dbm,
            "packet_loss_pct": round(link.loss_pct, 2),
            "link": "streaming" if link.connected else "reconnecting",
            "plan": s.plan.name if s.plan else None,
            "plan_step": s.describe_step(step) if step is not None else None,
            "session_active": not s.finished,
        }
        try:  # a dashboard must never stop the session
            self.sink.update_state(**fields)
        except Exception as exc:  # noqa: BLE001
            self.state.messages.append(f"MQTT state not published: {exc}")

    # MQTT command -> session action
    COMMAND_ACTIONS = {
        "stop_session": "end_session",
        "mark_set_end": "end_set",
        "next_exercise": "next",
        "previous_exercise": "previous",
        "undo_last_rep": "undo",
        "keep_exercise": "keep",
        "switch_exercise": "switch",
    }

    def on_command(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        """MQTT command handler (runs on the sink's thread): check, then hand to the loop."""
        name = cmd.get("command")
        loop = self._loop
        if loop is None or self._done is None or self._done.is_set() or self.session.finished:
            return {"error": "the session has ended"}
        sid = self.writer.session_id if self.writer else None
        if name == "start_session":
            return {"session_id": sid, "note": "a session is already running"}
        if name == "load_plan":
            from repsense.errors import InputError
            from repsense.live.plans import find_plan

            if self.session.sets or self.session.current is not None:
                return {"error": "load_plan: this session has sets already; stop it and start "
                        "a new one with the plan"}
            try:
                plan = find_plan(str(cmd.get("plan")))
            except InputError as exc:
                return {"error": str(exc)}
            loop.call_soon_threadsafe(self._load_plan, plan)
            return {"plan": plan.name}
        if name == "set_exercise":
            ex = str(cmd.get("exercise"))
            if ex == "auto" and self.session.plan is not None:
                return {"error": "set_exercise: the plan names the exercises; 'auto' only "
                        "applies without a plan"}
            action = f"exercise:{ex}"
        else:
            action = self.COMMAND_ACTIONS.get(str(name), "")
        if not action:
            return {"error": f"{name} is not supported by repsense live"}
        loop.call_soon_threadsafe(self.act, action, "mqtt")
        return {"action": action, "session_id": sid}

    def _load_plan(self, plan: Plan) -> None:
        self._flush_batch()
        self._record({"type": "action", "action": f"load_plan:{plan.name}", "origin": "mqtt",
                      "time_s": round(self.session.now_s, 3)})
        self._emit(self.session.load_plan(plan))
        self.opt.plan = plan
        self.state.title = f"repsense live — {plan.title}"
        self._apply_requests()
        self.view.refresh()

    async def _pump(self) -> None:
        try:
            async for chunk in self.source:
                self._take_sample(chunk)
                if self.session.finished:
                    break
        finally:
            self._source_ended = True
            if self._done is not None:
                self._done.set()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            link = self.state.link
            src = self.source.link
            link.sensor, link.connected = src.sensor, src.connected
            link.battery_pct, link.rssi_dbm = src.battery_pct, src.rssi_dbm
            link.samples, link.lost_samples, link.reconnects = (src.samples, src.lost_samples,
                                                                src.reconnects)
            link.speed = src.speed
            if self.sink is not None:
                connected = getattr(self.sink, "connected", None)
                if connected is not None:
                    link.mqtt = "connected" if connected.is_set() else "disconnected"
                with contextlib.suppress(Exception):
                    link.mqtt_pending = int(self.sink.pending)
            if link.connected != self._last_link_connected:
                self._last_link_connected = link.connected
                self._publish_state()
            self.view.refresh()

    def _interrupt(self) -> None:
        self._interrupted = True
        self.session.finish_reason = self.session.finish_reason or "interrupted (Ctrl-C)"
        if self._done is not None:
            self._done.set()

    async def run(self) -> LiveResult:
        """Run the session to its end and store it."""
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        started = utc_now()
        # Ctrl-C from here on ends the session cleanly (even while connecting)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            self._loop.add_signal_handler(signal.SIGINT, self._interrupt)
            self._loop.add_signal_handler(signal.SIGTERM, self._interrupt)
        try:
            await self.source.start()
        except BaseException:
            self._remove_signal_handlers()
            raise
        self.writer = self.store.create(started)
        sid = self.writer.session_id
        self.state.session_id = sid
        self.state.title = f"repsense live — {self.opt.plan.title}" if self.opt.plan else \
            "repsense live"
        self.state.link.mqtt = self.opt.mqtt_label
        self._make_pipelines(sid)
        self.session.take_requests()  # the pipeline was built with the expected exercise
        self.writer.write_summary(self._summary(started, status="running"))
        if self.interactive:
            self.view = FullScreenView(self.session, self.state, bell=self.opt.bell)
        else:
            self.view = PlainView(self.out, bell=self.opt.bell and self.out.isatty())
            plan = self.opt.plan
            self.view.line(f"session {sid}: {plan.title if plan else 'free training'} on "
                           f"{self.source.name}" + (f" at ×{self.opt.speed:g}"
                                                    if self.opt.speed != 1 else ""))
            if self.session.step is not None:
                self.view.line(f"first: {self.session.describe_step(self.session.step)}")
        if self.sink is not None:
            if hasattr(self.sink, "start_session"):
                self.sink.start_session(sid, exercise=self.session.expected_exercise,
                                        source=self.source.name)
            self.sink.on_command = self.on_command
            self._publish_state()
        keys = KeyReader(self._on_key) if self.interactive else None
        self.view.start()
        if keys is not None:
            keys.start(self._loop)
        pump = asyncio.create_task(self._pump(), name="repsense-live-pump")
        ticker = asyncio.create_task(self._ticker(), name="repsense-live-ticker")
        try:
            await self._done.wait()
        finally:
            for task in (pump, ticker):
                task.cancel()
            error: BaseException | None = self._timer_error
            for task in (pump, ticker):
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception as exc:  # noqa: BLE001 - reported after the session is saved
                    error = error or exc
            if error is not None:
                self.session.finish_reason = f"error: {error}"
            if keys is not None:
                keys.close()
            self._remove_signal_handlers()
            with contextlib.suppress(Exception):
                await self.source.close()
            result = self._finish(started)
            self.view.refresh()
            self.view.stop()
        if error is not None:
            raise error  # the session is stored; the CLI reports the cause (InputError: exit 2)
        return result

    def _remove_signal_handlers(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.remove_signal_handler(signal.SIGINT)
                self._loop.remove_signal_handler(signal.SIGTERM)

    def _finish(self, started) -> LiveResult:  # noqa: ANN001 - datetime
        assert self.pipeline is not None and self.writer is not None
        if self._timer_error is None:  # samples still in the batcher belong to the session
            self._flush_batch()
        self._cancel_batch_timer()
        if self.shadow is not None:  # recognition of the last set
            for ev in self.shadow.finish():
                if isinstance(ev, SetEnd):
                    self._emit(self.session.recognized(ev.start_s, ev.end_s, ev.exercise,
                                                       ev.confidence))
        self._handle_events(self.pipeline.finish())
        if not self.session.finish_reason:
            self.session.finish_reason = "input ended" if self._source_ended else "stopped"
        summary = self._summary(started, status="complete")
        # Labels of a simulated session are in the simulator's time base, which only the
        # in-process source keeps (BLE timestamps samples with the host clock).
        keep_labels = isinstance(self.source, PacedSource)
        meta = {k: v for k, v in self.source.meta.items() if k != "labels" or keep_labels}
        meta.setdefault("sensor", self.source.name)
        if self.pipeline.rate_hz:
            meta["sample_rate_hz"] = round(float(self.pipeline.rate_hz), 3)
        meta["source"] = f"repsense live session {self.writer.session_id}"
        path = self.writer.close(summary, meta)
        if self.sink is not None:
            self.sink.on_command = None
            try:
                self.mqtt_report = self.sink.close(self.opt.mqtt_flush_s)
            except Exception as exc:  # noqa: BLE001 - the session is saved whatever MQTT does
                self.mqtt_report = exc
        return LiveResult(self.writer.session_id, path, summary)

    def _summary(self, started, status: str) -> dict[str, Any]:  # noqa: ANN001
        assert self.writer is not None
        body = self.session.summary()
        ended = utc_now()
        link = self.source.link
        return {
            "schema": SUMMARY_SCHEMA,
            "id": self.writer.session_id,
            "status": status,
            "repsense": __version__,
            "started_at": iso(started),
            "ended_at": iso(ended) if status == "complete" else None,
            "wall_duration_s": round((ended - started).total_seconds(), 1),
            "sensor": self.source.name,
            "sensor_meta": {k: v for k, v in self.source.meta.items() if k != "labels"},
            "speed": self.opt.speed,
            "placement": self._placement(),
            "samples": self.writer.sample_count,
            "sample_rate_hz": None if self.pipeline is None or not self.pipeline.rate_hz
            else round(float(self.pipeline.rate_hz), 3),
            "link": {"lost_samples": link.lost_samples, "reconnects": link.reconnects,
                     "loss_pct": round(link.loss_pct, 3)},
            "mqtt": self.opt.mqtt_label,
            "plan_detail": self.opt.plan.to_dict() if self.opt.plan else None,
            **body,
        }


def run_live(options: LiveOptions, source: SampleSource, sink: Any = None,
             out: TextIO | None = None, interactive: bool | None = None,
             on_runner: Callable[[LiveRunner], None] | None = None
             ) -> tuple[LiveResult, LiveRunner]:
    """Run a live session in a fresh event loop (the CLI entry point)."""
    runner = LiveRunner(options, source, sink, out, interactive)
    if on_runner is not None:
        on_runner(runner)
    return asyncio.run(runner.run()), runner
