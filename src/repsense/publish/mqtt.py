"""The MQTT adapter: :class:`MqttSink` publishes one sensor's pipeline events to a broker.

Adapters (``replay``, ``live``) call, from their own thread:

* :meth:`MqttSink.handle` for every pipeline event,
* :meth:`MqttSink.update_state` for snapshot fields (battery, RSSI, link...),
* :meth:`MqttSink.handle_samples` for the opt-in raw ``imu`` stream,
* :meth:`MqttSink.close` at the end (flushes for a bounded time, reports what is pending).

None of them blocks on the network: events go into the durable
:class:`~repsense.publish.outbox.Outbox` and to paho's queue; paho's network
loop runs in its own thread (``loop_start``), a small worker thread deletes
acknowledged rows and re-announces retained topics after (re)connects, and a
command thread answers ``command`` messages so that a slow session handler
never delays acknowledgements.

The connection itself (paho client, outbox, Last Will, worker and command
threads) is an :class:`MqttGateway`.  A sink made on its own gets a private
one, as ``repsense live`` and ``replay`` do; a process that serves many
sensors opens one :class:`MqttGateway` and makes every sensor's sink on it
(:meth:`MqttGateway.sink`): one connection, one outbox and three threads for
all of them instead of per sensor, with the same topics, payloads, Home
Assistant discovery and delivery guarantees.

Delivery is at least once: a message is deleted from the outbox only after
its PUBACK; anything else is re-sent after a reconnect (paho keeps it queued)
or by the next process that opens the same outbox.  Consumers de-duplicate by
the payload's ``id``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import secrets
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from repsense import __version__
from repsense.events import Event, SessionEnd
from repsense.publish.commands import CommandError, parse_command, response_payload
from repsense.publish.config import BrokerSettings, ClientTuning
from repsense.publish.discovery import discovery_payload
from repsense.publish.outbox import DEFAULT_MAX_ROWS, Outbox
from repsense.publish.payloads import (
    SensorState,
    dumps,
    event_kind,
    event_payload,
    session_start_payload,
    utc_now_iso,
)
from repsense.publish.topics import Topics, default_gateway_id, sanitize_base, sanitize_id

__all__ = ["CloseReport", "CommandHandler", "MqttGateway", "MqttSink", "SinkStats"]

CommandHandler = Callable[[dict[str, Any]], "dict[str, Any] | None"]
"""``handler(command) -> result``: ``command`` is the validated command as a dict
(``{"command": "set_exercise", "exercise": "leg_curl", "request_id": ...}``).
Return ``None`` or a result dict (sent back as ``result``); return
``{"error": "why"}`` or raise ``ValueError`` to refuse.  Called on the sink's
command thread: hand the work to the session (a queue) and return quickly."""

ONLINE_LINKS = frozenset({"connected", "streaming", "replaying", "online"})

_SELECT_LIMIT = 1024
"""paho's network loop uses ``select()``, which cannot watch file descriptors >= FD_SETSIZE."""

_REFUSAL_HINTS = {
    "Bad user name or password": "check the user and password (REPSENSE_MQTT_PASSWORD)",
    "Not authorized": "check the user name and password (REPSENSE_MQTT_PASSWORD) and the "
                      "broker's access rules",
    "Client identifier not valid": "the broker rejects the client id",
    "Banned": "the broker has banned this client",
    "Server unavailable": "the broker is not accepting connections right now",
}


def _wait_until_none_pending(pending: Callable[[], int], timeout_s: float) -> bool:
    """Poll ``pending()`` until it is 0; ``False`` if ``timeout_s`` passed first."""
    deadline = time.monotonic() + timeout_s
    while pending():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _await_delivery(wait_idle: Callable[[float], bool],
                    infos: list[mqtt.MQTTMessageInfo | None], deadline: float) -> None:
    """Until ``deadline``: the outbox drained and these direct publishes sent."""
    wait_idle(max(0.0, deadline - time.monotonic()))
    for info in infos:
        if info is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(max(0.01, deadline - time.monotonic()))


@dataclass
class SinkStats:
    """Counters for reports and tests (per sensor; a gateway's are the totals)."""

    queued: int = 0
    acked: int = 0
    refused: int = 0
    dropped_full: int = 0
    connects: int = 0
    commands: int = 0
    command_errors: int = 0


@dataclass(frozen=True)
class CloseReport:
    """What :meth:`MqttSink.close` (or :meth:`MqttGateway.close`) left behind."""

    pending: int
    outbox: Path
    delivered: int
    dropped: int


class _StatusLines:
    """Status lines for the user, each one once unless told otherwise (any thread may say)."""

    def __init__(self, callback: Callable[[str], None]) -> None:
        self._callback = callback
        self._said: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, message: str, once: bool = True) -> None:
        with self._lock:
            if once:
                if message in self._said:
                    return
                self._said.add(message)
        with contextlib.suppress(Exception):
            self._callback(message)


class MqttGateway:
    """One MQTT connection for every sensor of a gateway process.

    One paho client (with the gateway's Last Will), one durable outbox, one
    worker thread that deletes acknowledged rows and re-announces retained
    topics, one command thread.  Sinks (:meth:`sink`) add their sensor's
    topics: retained snapshot, availability and discovery, the command
    subscription, events through the shared outbox.

    Parameters
    ----------
    broker
        Where to connect (:func:`repsense.publish.config.parse_mqtt_url`).
    gateway_id
        This gateway's id (default: the host name); every sink's topics must use it.
    outbox_path
        The durable outbox file shared by all sensors of this gateway.
    base
        Base topic (``repsense``).
    discovery_prefix
        Home Assistant discovery prefix (``homeassistant``).
    outbox_max
        Maximum stored messages; beyond it new events are refused with a message.
    tuning
        Keepalive, reconnect and first-connect timings.
    protocol
        ``"auto"`` (MQTT 5, falling back to 3.1.1 if the broker refuses 5),
        ``"5"`` or ``"3.1.1"``.
    status
        Where one-line status messages go (default: stderr).
    """

    def __init__(
        self,
        broker: BrokerSettings,
        gateway_id: str | None = None,
        *,
        outbox_path: str | os.PathLike[str],
        base: str = "repsense",
        discovery_prefix: str = "homeassistant",
        outbox_max: int = DEFAULT_MAX_ROWS,
        tuning: ClientTuning | None = None,
        protocol: str = "auto",
        status: Callable[[str], None] | None = None,
    ) -> None:
        if protocol not in ("auto", "5", "3.1.1"):
            raise ValueError(f"protocol must be auto, 5 or 3.1.1, not {protocol!r}")
        gid = sanitize_id(gateway_id, "gateway id") if gateway_id else default_gateway_id()
        self.broker = broker
        # Only the gateway topics (state, info, HA status) are used from this one.
        self.topics = Topics(sanitize_base(base), "", gid, sanitize_base(discovery_prefix))
        self.tuning = tuning or ClientTuning()
        self.protocol_choice = protocol
        self.outbox_path = Path(outbox_path)
        self.outbox_max = outbox_max
        self._status_cb = status or _stderr_status
        self.stats = SinkStats()
        self.protocol: int = mqtt.MQTTv311 if protocol == "3.1.1" else mqtt.MQTTv5
        self.connected = threading.Event()
        self.ever_connected = False
        self._first_result = threading.Event()
        self._map_lock = threading.Lock()
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq
        self._owner: dict[int, MqttSink] = {}  # outbox seq -> the sink that stored it
        self._generation = 0
        self._tasks: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._commands: queue.Queue[Any] = queue.Queue(maxsize=64)
        self._say = _StatusLines(self._status_cb)
        self._retained: dict[str, bytes] = {}
        self._retained_lock = threading.Lock()
        self._subs_lock = threading.Lock()
        self._sinks: dict[str, MqttSink] = {}  # by command topic
        self._closing = False
        self._connack_seen = False
        self._silent_hangups = 0
        self._full_warned = False
        self._opened = False
        self._threads: list[threading.Thread] = []
        self.outbox: Outbox | None = None
        self._client: mqtt.Client | None = None
        self._started = utc_now_iso()

    @property
    def gateway_id(self) -> str:
        return self.topics.gateway_id

    # ------------------------------------------------------------------ setup
    def open(self) -> MqttGateway:
        """Open the outbox, connect (waiting at most ``connect_timeout_s``) and start threads.

        Never raises for network problems: a broker that does not answer or
        refuses us gets one line on the status stream, and events wait in the
        outbox.  Raises :class:`~repsense.publish.outbox.OutboxBusy` if another
        process owns the outbox file.
        """
        if self._opened:
            return self
        self.outbox = Outbox(self.outbox_path, self.outbox_max)
        backlog = len(self.outbox)
        if backlog:
            self._say(f"{backlog} message(s) from an earlier run are waiting in "
                      f"{self.outbox_path}; sending them first")
        self._threads = [
            threading.Thread(target=self._worker, name="repsense-mqtt-worker", daemon=True),
            threading.Thread(target=self._command_worker, name="repsense-mqtt-commands",
                             daemon=True),
        ]
        for t in self._threads:
            t.start()
        self._retained_set(self.topics.gateway_info, dumps(self._gateway_info()))
        self._retained_set(self.topics.gateway_state, dumps(self._gateway_state("online")))
        with self._map_lock:
            self._client = self._make_client(self.protocol)
            self._resend_outbox_locked()
        self._opened = True
        self._connect_first()
        return self

    def sink(self, sensor_id: str, **options: Any) -> MqttSink:
        """An open :class:`MqttSink` for one more sensor on this connection.

        ``options`` are :class:`MqttSink`'s (``ha_discovery``, ``imu``,
        ``session_suffix``, ``status``).
        """
        topics = Topics.make(sensor_id, self.gateway_id, self.topics.base,
                             self.topics.discovery_prefix)
        return MqttSink(self.broker, topics, gateway=self, **options).open()

    def _make_client(self, protocol: int) -> mqtt.Client:
        gen = self._generation
        cid = f"repsense-{self.gateway_id}-{secrets.token_hex(3)}"
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=protocol,
                             clean_session=None if protocol == mqtt.MQTTv5 else True)
        b = self.broker
        if b.username:
            client.username_pw_set(b.username, b.password)
        if b.tls:
            client.tls_set(
                ca_certs=str(b.ca_file) if b.ca_file else None,
                certfile=str(b.cert_file) if b.cert_file else None,
                keyfile=str(b.key_file) if b.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        client.will_set(self.topics.gateway_state, dumps(self._gateway_state("offline", ts=False)),
                        qos=1, retain=True)
        client.reconnect_delay_set(self.tuning.reconnect_min_s,  # type: ignore[arg-type]
                                   self.tuning.reconnect_max_s)  # type: ignore[arg-type]
        client.connect_timeout = self.tuning.connect_timeout_s
        client.max_inflight_messages_set(100)
        client.on_connect = lambda c, u, f, rc, p: self._on_connect(gen, c, rc)
        client.on_disconnect = lambda c, u, f, rc, p: self._on_disconnect(gen, rc)
        client.on_publish = lambda c, u, mid, rc, p: self._tasks.put(("ack", gen, mid, rc))
        client.on_message = lambda c, u, msg: self._on_message(msg)
        client.on_subscribe = lambda c, u, mid, rcs, p: self._first_result.set()
        return client

    def _connect_first(self) -> None:
        """First connection synchronously (to get a clear reason), else keep trying in the loop."""
        assert self._client is not None
        b = self.broker
        client = self._client
        try:
            client.connect(b.host, b.port, keepalive=self.tuning.keepalive_s)
        except (OSError, ValueError) as exc:
            self._say(f"{_describe_connect_error(exc, b)}; events are kept in "
                      f"{self.outbox_path} and sent when the broker is reachable "
                      "(--no-mqtt switches MQTT off)")
            client.connect_async(b.host, b.port, keepalive=self.tuning.keepalive_s)
            client.loop_start()
            return
        self._check_select_limit(client)
        client.loop_start()
        if not self._first_result.wait(self.tuning.connect_timeout_s + 0.5):
            self._say(f"broker at {b.display()} accepted the connection but did not answer "
                      "MQTT; carrying on, events wait in the outbox")

    def _check_select_limit(self, client: mqtt.Client) -> None:
        """paho watches its socket with ``select()``: with a descriptor >= 1024 it drops the
        connection at once, for ever.  Say so instead of silently never delivering."""
        sock = client.socket()
        fileno = sock.fileno() if sock is not None else -1
        if fileno >= _SELECT_LIMIT:
            self._say(f"this process has more than {_SELECT_LIMIT} files open (socket {fileno}); "
                      "paho-mqtt cannot watch such a socket, so nothing is delivered - events "
                      f"wait in {self.outbox_path}. Serve many sensors over one connection "
                      "(MqttGateway) instead of one per sensor")

    # ----------------------------------------------------------- paho thread
    def _on_connect(self, gen: int, client: mqtt.Client, rc: Any) -> None:
        if gen != self._generation:
            return
        self._connack_seen = True
        if rc.is_failure:
            name = str(rc)
            if (name == "Unsupported protocol version" and self.protocol == mqtt.MQTTv5
                    and self.protocol_choice == "auto"):
                self._tasks.put(("fallback", gen))
                return
            hint = _REFUSAL_HINTS.get(name, "see the broker's log")
            self._say(f"broker at {self.broker.display()} refused the connection: {name}; {hint}")
            self._first_result.set()
            return
        self.stats.connects += 1
        if self.ever_connected:
            self._say(f"reconnected to {self.broker.display()}", once=False)
        self.ever_connected = True
        with self._subs_lock:
            subs = self._subscriptions()
            if subs:
                # the SUBACK sets _first_result: commands can arrive from then
                client.subscribe(subs)
            else:
                self._first_result.set()
            self.connected.set()
        # Retained topics are re-published by the worker, after paho has re-sent
        # its queue, so that an old queued snapshot never overwrites a newer one.
        self._tasks.put(("announce", gen))

    def _subscriptions(self) -> list[tuple[str, int]]:
        subs = [(topic, 1) for topic in self._sinks]
        if any(s.ha_discovery for s in self._sinks.values()):
            subs.append((self.topics.ha_status, 1))
        return subs

    def _on_disconnect(self, gen: int, rc: Any) -> None:
        if gen != self._generation:
            return
        if (not self._connack_seen and self.protocol == mqtt.MQTTv5
                and self.protocol_choice == "auto"):
            # Some MQTT 3.1.1-only brokers just hang up on an MQTT 5 CONNECT.
            self._silent_hangups += 1
            if self._silent_hangups == 2:
                self._tasks.put(("fallback", gen))
        was = self.connected.is_set()
        self.connected.clear()
        if was and not self._closing:
            self._say(f"lost the connection to {self.broker.display()} ({rc}); reconnecting, "
                      "events wait in the outbox", once=False)

    def _on_message(self, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self.topics.ha_status:
            if bytes(msg.payload).strip().lower() == b"online":
                self._tasks.put(("announce", self._generation))
            return
        sink = self._sinks.get(msg.topic)
        if sink is not None:
            try:
                self._commands.put_nowait((sink, msg))
            except queue.Full:
                sink._respond(None, None, "busy: too many commands waiting; try again", None)

    # ---------------------------------------------------------- worker thread
    def _worker(self) -> None:
        while True:
            task = self._tasks.get()
            kind = task[0]
            if kind == "stop":
                return
            try:
                if kind == "ack":
                    acks = [task]
                    # Batch the deletes of everything already acknowledged.
                    while len(acks) < 500:
                        try:
                            nxt = self._tasks.get_nowait()
                        except queue.Empty:
                            break
                        if nxt[0] != "ack":
                            self._tasks.put(nxt)
                            break
                        acks.append(nxt)
                    self._process_acks(acks)
                elif kind == "announce" and task[1] == self._generation:
                    self._announce()
                elif kind == "fallback" and task[1] == self._generation:
                    self._fallback()
                elif kind == "flush":
                    task[1].set()
            except Exception as exc:  # noqa: BLE001 - the worker must survive anything
                self._say(f"internal error in the MQTT worker: {exc!r}", once=False)

    def _process_acks(self, acks: list[tuple[Any, ...]]) -> None:
        done: list[int] = []
        with self._map_lock:
            for _, gen, mid, rc in acks:
                if gen != self._generation:
                    continue
                seq = self._inflight.pop(mid, None)
                if seq is None:
                    continue  # a retained/status message, not from the outbox
                owner = self._owner.pop(seq, None)
                if rc is not None and getattr(rc, "is_failure", False):
                    # The broker will never take it (ACL, quota); keeping it would
                    # block the outbox forever.
                    self._count(owner, "refused")
                    self._say(f"broker refused a message ({rc}); dropped it")
                else:
                    self._count(owner, "acked")
                if owner is not None:
                    owner._own_pending -= 1
                done.append(seq)
        if done and self.outbox is not None:
            self.outbox.delete(done)

    def _count(self, owner: MqttSink | None, field: str) -> None:
        """A per-sensor counter and the gateway's total (the same object for a private one)."""
        setattr(self.stats, field, getattr(self.stats, field) + 1)
        if owner is not None and owner.stats is not self.stats:
            setattr(owner.stats, field, getattr(owner.stats, field) + 1)

    def _announce(self) -> None:
        client = self._client
        if client is None or not self.connected.is_set():
            return
        with self._retained_lock:
            items = list(self._retained.items())
        for topic, payload in items:
            client.publish(topic, payload, qos=1, retain=True)

    def _fallback(self) -> None:
        """The broker refused MQTT 5: start over with a 3.1.1 client (same outbox)."""
        old = self._client
        with self._map_lock:
            self._generation += 1
            self._inflight.clear()
            self.protocol = mqtt.MQTTv311
            self._client = self._make_client(mqtt.MQTTv311)
            self._resend_outbox_locked()
        self._retained_set(self.topics.gateway_info, dumps(self._gateway_info()))
        if old is not None:
            with contextlib.suppress(Exception):
                old.disconnect()
            old.loop_stop()
            _release_sockets(old)
        self._say(f"broker at {self.broker.display()} does not speak MQTT 5; using 3.1.1")
        b = self.broker
        assert self._client is not None
        self._client.connect_async(b.host, b.port, keepalive=self.tuning.keepalive_s)
        self._client.loop_start()

    def _resend_outbox_locked(self) -> None:
        """Queue every stored message in the (new) client; caller holds ``_map_lock``."""
        assert self.outbox is not None and self._client is not None
        for row in self.outbox.pending():
            info = self._client.publish(row.topic, row.payload, qos=row.qos, retain=row.retain)
            if row.qos > 0:
                self._inflight[info.mid] = row.seq

    # --------------------------------------------------------- command thread
    def _command_worker(self) -> None:
        while True:
            item = self._commands.get()
            if item is None:
                return
            sink, msg = item
            try:
                sink._run_command(msg)
            except Exception as exc:  # noqa: BLE001 - a bad command must never kill the thread
                sink._respond(None, None, f"internal error: {exc}", None)

    # ------------------------------------------------------------ for sinks
    def _register(self, sink: MqttSink) -> None:
        """Add a sensor: its retained topics, its command subscription, the gateway info."""
        t = sink.topics
        if t.gateway_id != self.gateway_id or t.base != self.topics.base:
            raise ValueError(f"sensor {t.sensor_id}: topics of gateway {t.gateway_id} under "
                             f"{t.base!r} do not belong to gateway {self.gateway_id} under "
                             f"{self.topics.base!r}")
        with self._subs_lock:
            if t.command in self._sinks:
                raise ValueError(f"sensor id {t.sensor_id} is already on this gateway")
            self._sinks[t.command] = sink
            for topic, payload in sink._retained_payloads().items():
                self._retained_set(topic, payload)
            self._retained_set(self.topics.gateway_info, dumps(self._gateway_info()))
            client = self._client
            if client is not None and self.connected.is_set():
                subs = [(t.command, 1)]
                if sink.ha_discovery:
                    subs.append((self.topics.ha_status, 1))
                client.subscribe(subs)
                for topic in [*sink._retained_payloads(), self.topics.gateway_info]:
                    self.publish_retained(topic)

    def _unregister(self, sink: MqttSink) -> None:
        """Take a sensor off (its last retained values have been published)."""
        t = sink.topics
        with self._subs_lock:
            if self._sinks.get(t.command) is not sink:
                return
            del self._sinks[t.command]
            with self._retained_lock:
                for topic in sink._retained_topics():
                    self._retained.pop(topic, None)
            self._retained_set(self.topics.gateway_info, dumps(self._gateway_info()))
            client = self._client
            if client is not None and self.connected.is_set():
                with contextlib.suppress(Exception):
                    client.unsubscribe(t.command)
                self.publish_retained(self.topics.gateway_info)

    def _enqueue(self, owner: MqttSink, topic: str, payload: bytes) -> None:
        """Outbox first (durable), then paho (QoS 1); the row goes on PUBACK."""
        assert self.outbox is not None, "open() the gateway first"
        with self._map_lock:
            seq = self.outbox.add(topic, payload, qos=1)
            if seq is None:
                self._count(owner, "dropped_full")
                if not self._full_warned:  # once per episode of being full
                    self._full_warned = True
                    self._say(f"outbox {self.outbox_path} is full ({self.outbox_max} messages "
                              f"waiting for {self.broker.display()}); new events are NOT "
                              "stored until the broker takes some (raise --mqtt-outbox-max)",
                              once=False)
                return
            if self._full_warned:
                self._full_warned = False
                self._say(f"outbox has room again; {self.stats.dropped_full} event(s) were "
                          "dropped while it was full", once=False)
            self._count(owner, "queued")
            owner._own_pending += 1
            self._owner[seq] = owner
            client = self._client
            if client is not None:
                info = client.publish(topic, payload, qos=1)
                self._inflight[info.mid] = seq

    def _retained_set(self, topic: str, payload: bytes) -> None:
        with self._retained_lock:
            self._retained[topic] = payload

    def publish_retained(self, topic: str) -> mqtt.MQTTMessageInfo | None:
        """Send the latest retained payload now if connected (else on the next connect)."""
        client = self._client
        if client is None or not self.connected.is_set():
            return None
        with self._retained_lock:
            payload = self._retained.get(topic)
        if payload is None:
            return None
        return client.publish(topic, payload, qos=1, retain=True)

    def _publish_now(self, topic: str, payload: bytes, qos: int,
                     properties: Properties | None = None) -> None:
        """Not stored: command responses and raw samples."""
        client = self._client
        if client is not None:
            client.publish(topic, payload, qos=qos, properties=properties)

    # ------------------------------------------------------------ closing
    @property
    def pending(self) -> int:
        """Messages stored but not yet acknowledged (all sensors, earlier runs included)."""
        return len(self.outbox) if self.outbox is not None else 0

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (all acknowledged); ``False`` on timeout."""
        return _wait_until_none_pending(lambda: self.pending, timeout_s)

    def close(self, timeout_s: float = 5.0) -> CloseReport:
        """Say offline (gateway and every sensor still on it), flush for at most ``timeout_s``,
        disconnect; report what is pending.

        Waiting happens only if the broker was reachable during this run - a
        run that never reached it returns at once (events stay in the outbox).
        """
        deadline = time.monotonic() + max(0.0, timeout_s)
        infos: list[mqtt.MQTTMessageInfo | None] = []
        for sink in list(self._sinks.values()):
            infos += sink._go_offline()
        return self._close(deadline, infos)

    def _close(self, deadline: float, infos: list[mqtt.MQTTMessageInfo | None]) -> CloseReport:
        if not self._opened or self.outbox is None:
            return CloseReport(0, self.outbox_path, 0, 0)
        self._closing = True
        self._retained_set(self.topics.gateway_state, dumps(self._gateway_state("offline")))
        infos = [*infos, self.publish_retained(self.topics.gateway_state)]
        if self.ever_connected:
            _await_delivery(self.wait_idle, infos, deadline)
        # Let the worker delete the last acknowledged rows before we count.
        self._drain_tasks(0.5)
        client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                client.disconnect()
            client.loop_stop()
            # Drop the client now: its socket pair would otherwise stay open until the
            # garbage collector finds the cycle through our callbacks.
            with self._map_lock:
                self._client = None
            _release_sockets(client)
        self._tasks.put(("stop",))
        self._commands.put(None)
        for t in self._threads:
            t.join(2.0)
        pending = len(self.outbox)
        self.outbox.close()
        self._opened = False
        if pending:
            self._say(f"{pending} message(s) not acknowledged by {self.broker.display()}; "
                      f"kept in {self.outbox_path} and sent the next time repsense connects",
                      once=False)
        elif self.stats.acked:
            self._say(f"{self.stats.acked} message(s) delivered to {self.broker.display()}",
                      once=False)
        return CloseReport(pending, self.outbox_path, self.stats.acked, self.stats.dropped_full)

    def _drain_tasks(self, timeout_s: float) -> None:
        """Wait until the worker has handled everything queued so far (acks included)."""
        marker = threading.Event()
        self._tasks.put(("flush", marker))
        marker.wait(timeout_s)

    def __enter__(self) -> MqttGateway:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- helpers
    def _gateway_state(self, state: str, ts: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"state": state, "gateway_id": self.gateway_id}
        if ts:
            out["ts"] = utc_now_iso()
        return out

    def _gateway_info(self) -> dict[str, Any]:
        return {
            "gateway_id": self.gateway_id,
            "version": __version__,
            "host": socket.gethostname(),
            "sensors": sorted(s.topics.sensor_id for s in list(self._sinks.values())),
            "base_topic": self.topics.base,
            "mqtt_protocol": "5" if self.protocol == mqtt.MQTTv5 else "3.1.1",
            "started": self._started,
        }


class MqttSink:
    """Publishes one sensor's events and state to an MQTT broker.

    Parameters
    ----------
    broker
        Where to connect (:func:`repsense.publish.config.parse_mqtt_url`); with
        ``gateway`` it is the gateway's and may be ``None``.
    topics
        The topic tree (:meth:`repsense.publish.topics.Topics.make`).
    outbox_path
        The durable outbox file (one per sensor and gateway by default, see
        :func:`repsense.publish.options.default_outbox_path`); not with ``gateway``.
    outbox_max
        Maximum stored messages; beyond it new events are refused with a message.
    tuning
        Keepalive, reconnect and first-connect timings.
    protocol
        ``"auto"`` (MQTT 5, falling back to 3.1.1 if the broker refuses 5),
        ``"5"`` or ``"3.1.1"``.
    ha_discovery
        Publish Home Assistant discovery and follow ``homeassistant/status``.
    imu
        Publish :meth:`handle_samples` batches on ``<sensor>/imu``.
    session_suffix
        Appended to the pipeline's session id so that published ids are unique
        across runs and gateways (``"auto"``: UTC time + random; ``None``: keep
        the pipeline's id as it is).
    status
        Where one-line status messages go (default: stderr, or the gateway's).
    gateway
        Share this :class:`MqttGateway`'s connection and outbox (see
        :meth:`MqttGateway.sink`) instead of opening a private one; the
        connection options above are then the gateway's.
    """

    def __init__(
        self,
        broker: BrokerSettings | None,
        topics: Topics,
        *,
        outbox_path: str | os.PathLike[str] | None = None,
        outbox_max: int = DEFAULT_MAX_ROWS,
        tuning: ClientTuning | None = None,
        protocol: str = "auto",
        ha_discovery: bool = True,
        imu: bool = False,
        session_suffix: str | None = "auto",
        status: Callable[[str], None] | None = None,
        gateway: MqttGateway | None = None,
    ) -> None:
        if gateway is None:
            if broker is None or outbox_path is None:
                raise ValueError("MqttSink needs a broker and an outbox_path, or a gateway")
            gateway = MqttGateway(broker, topics.gateway_id, outbox_path=outbox_path,
                                  base=topics.base, discovery_prefix=topics.discovery_prefix,
                                  outbox_max=outbox_max, tuning=tuning, protocol=protocol,
                                  status=status)
            self._private = True
            self.stats = gateway.stats  # one sensor: its counters are the connection's
        else:
            self._private = False
            self.stats = SinkStats()
        self.gateway = gateway
        self.broker = gateway.broker
        self.topics = topics
        self.ha_discovery = ha_discovery
        self.imu_enabled = imu
        self.outbox_path = gateway.outbox_path
        if session_suffix == "auto":
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            session_suffix = f"{stamp}-{secrets.token_hex(2)}"
        self.session_suffix = session_suffix
        self._status_cb = status or gateway._status_cb
        self.on_command: CommandHandler | None = None
        self.command_unavailable = "this repsense command does not take commands"
        self.state = SensorState(sensor_id=topics.sensor_id, gateway_id=topics.gateway_id)
        self._own_pending = 0  # this sensor's rows not yet acknowledged (under the map lock)
        self._say = _StatusLines(self._status_cb)
        self._session_id: str | None = None
        self._imu_buf: list[Any] = []
        self._opened = False

    # ------------------------------------------------------ the connection
    @property
    def connected(self) -> threading.Event:
        """Set while the (possibly shared) connection is up."""
        return self.gateway.connected

    @property
    def protocol(self) -> int:
        return self.gateway.protocol

    @property
    def outbox(self) -> Outbox | None:
        return self.gateway.outbox

    # ------------------------------------------------------------------ setup
    def open(self) -> MqttSink:
        """Join the connection (a private one is opened now, see :meth:`MqttGateway.open`).

        Never raises for network problems; raises
        :class:`~repsense.publish.outbox.OutboxBusy` if another process owns a
        private outbox file.
        """
        self.gateway._register(self)
        if self._private:
            try:
                self.gateway.open()
            except BaseException:
                self.gateway._unregister(self)
                raise
        self._opened = True
        return self

    def _retained_topics(self) -> list[str]:
        t = self.topics
        return [t.availability, t.state] + ([t.ha_discovery] if self.ha_discovery else [])

    def _retained_payloads(self) -> dict[str, bytes]:
        t = self.topics
        out = {t.availability: dumps(self._availability()), t.state: dumps(self.state.to_payload())}
        if self.ha_discovery:
            out[t.ha_discovery] = dumps(discovery_payload(t))
        return out

    # --------------------------------------------------------- command thread
    def _run_command(self, msg: mqtt.MQTTMessage) -> None:
        self.gateway._count(self, "commands")
        props = getattr(msg, "properties", None)
        corr = getattr(props, "CorrelationData", None) if props is not None else None
        if msg.retain:
            # A retained command would re-run on every reconnect.
            self._respond(None, None, "retained commands are ignored; publish without retain",
                          corr)
            return
        try:
            cmd = parse_command(bytes(msg.payload))
        except CommandError as exc:
            self._respond(exc.request_id, exc.command, str(exc), corr)
            return
        if cmd.command == "ping":
            self._respond(cmd.request_id, cmd.command, None, corr,
                          {"session_id": self._session_id, "version": __version__})
            return
        handler = self.on_command
        if handler is None:
            self._respond(cmd.request_id, cmd.command, self.command_unavailable, corr)
            return
        try:
            result = handler(cmd.to_dict())
        except (ValueError, CommandError) as exc:
            self._respond(cmd.request_id, cmd.command, str(exc) or "refused", corr)
            return
        except Exception as exc:  # noqa: BLE001 - report, never crash the session
            self._respond(cmd.request_id, cmd.command, f"failed: {exc!r}", corr)
            return
        if isinstance(result, dict) and result.get("error"):
            self._respond(cmd.request_id, cmd.command, str(result["error"]), corr)
            return
        self._respond(cmd.request_id, cmd.command, None, corr,
                      result if isinstance(result, dict) else None)

    def _respond(self, request_id: Any, command: str | None, error: str | None, corr: Any,
                 result: dict[str, Any] | None = None) -> None:
        if error is not None:
            self.gateway._count(self, "command_errors")
        payload = response_payload(status="error" if error else "ok", request_id=request_id,
                                   command=command, error=error, result=result)
        props = None
        if corr is not None and self.protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.PUBLISH)
            props.CorrelationData = corr
        self.gateway._publish_now(self.topics.command_response, dumps(payload), 1, props)

    # ------------------------------------------------------ pipeline thread
    def start_session(self, session_id: str, *, exercise: str | None = None,
                      source: str | None = None, time_s: float = 0.0) -> None:
        """Announce a session (``events/session`` ``session_start``, ``seq`` 0)."""
        self._session_id = self._published_session(session_id)
        self.state.session_id = self._session_id
        self.state.session_active = True
        if exercise:
            self.state.exercise = exercise
        payload = session_start_payload(
            session_id=self._session_id, sensor_id=self.topics.sensor_id,
            gateway_id=self.topics.gateway_id, exercise=exercise, source=source, time_s=time_s)
        self._enqueue(self.topics.events("session"), dumps(payload))
        self._publish_state()

    def _published_session(self, pipeline_session: str) -> str:
        return f"{pipeline_session}-{self.session_suffix}" if self.session_suffix \
            else pipeline_session

    def handle(self, ev: Event) -> None:
        """Publish one pipeline event (never blocks on the network, never raises)."""
        try:
            pipeline_session = ev.id.rsplit("-", 1)[0]
            if self._session_id is None:
                self.start_session(pipeline_session)
            sid = self._session_id or pipeline_session
            self.state.apply(ev, sid)
            kind = event_kind(ev)
            if kind is not None:
                payload = event_payload(ev, session_id=sid, sensor_id=self.topics.sensor_id,
                                        gateway_id=self.topics.gateway_id)
                self._enqueue(self.topics.events(kind), dumps(payload))
            self._publish_state()
            if isinstance(ev, SessionEnd):
                self._session_id = None
        except Exception as exc:  # noqa: BLE001 - publishing must never stop the pipeline
            self._say(f"could not publish {getattr(ev, 'type', '?')} event: {exc!r}", once=False)

    def update_state(self, **fields: Any) -> None:
        """Set snapshot fields (``battery_pct``, ``rssi_dbm``, ``packet_loss_pct``, ``link``,
        ``target_reps``, ``rest_target_s``, ``exercise``, ``plan``, ``plan_step``...).

        ``link`` also drives ``<sensor>/availability``: ``connected``,
        ``streaming`` and ``replaying`` count as online.
        """
        link_before = self.state.link
        if not self.state.update(**fields):
            return  # nothing new: no message
        if self.state.link != link_before:
            self.gateway._retained_set(self.topics.availability, dumps(self._availability()))
            self.gateway.publish_retained(self.topics.availability)
        self._publish_state()

    def handle_samples(self, chunk: Any, batch_s: float = 0.2) -> None:
        """Raw samples for the opt-in ``imu`` topic (QoS 0, MQTT 5 message expiry)."""
        if not self.imu_enabled or len(chunk) == 0:
            return
        self._imu_buf.append(chunk)
        span = float(chunk.t[-1] - self._imu_buf[0].t[0])
        if span < batch_s:
            return
        chunks, self._imu_buf = self._imu_buf, []
        t = np.concatenate([c.t for c in chunks])
        acc = np.concatenate([c.acc for c in chunks])
        gyr = None if chunks[0].gyr is None else np.concatenate([c.gyr for c in chunks])
        payload = {
            "sensor_id": self.topics.sensor_id, "session_id": self._session_id,
            "ts": utc_now_iso(), "n": int(t.shape[0]),
            "t": np.round(t, 4).tolist(), "acc_g": np.round(acc, 4).tolist(),
            "gyr_dps": None if gyr is None else np.round(gyr, 2).tolist(),
        }
        props = None
        if self.protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.PUBLISH)
            props.MessageExpiryInterval = self.gateway.tuning.imu_expiry_s
        if self.connected.is_set():
            self.gateway._publish_now(self.topics.imu, dumps(payload), 0, props)

    def _enqueue(self, topic: str, payload: bytes) -> None:
        self.gateway._enqueue(self, topic, payload)

    def _publish_state(self) -> None:
        self.gateway._retained_set(self.topics.state, dumps(self.state.to_payload()))
        self.gateway.publish_retained(self.topics.state)

    # ------------------------------------------------------------ closing
    @property
    def pending(self) -> int:
        """Messages stored but not yet acknowledged: a private outbox's all (earlier runs
        included), on a shared gateway this sensor's."""
        return self.gateway.pending if self._private else self._own_pending

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until :attr:`pending` is 0 (all acknowledged); ``False`` on timeout."""
        return _wait_until_none_pending(lambda: self.pending, timeout_s)

    def _go_offline(self) -> list[mqtt.MQTTMessageInfo | None]:
        """Mark the sensor offline (state and availability), publish it if connected."""
        self.state.update(link="disconnected", session_active=False)
        gw = self.gateway
        gw._retained_set(self.topics.availability, dumps(self._availability()))
        gw._retained_set(self.topics.state, dumps(self.state.to_payload()))
        return [gw.publish_retained(t) for t in (self.topics.state, self.topics.availability)]

    def close(self, timeout_s: float = 5.0) -> CloseReport:
        """Say offline, flush for at most ``timeout_s``; report what is pending.

        A private connection is closed too (the gateway says offline); on a
        shared gateway the sensor just leaves it, waiting only for its own
        messages.  Waiting happens only if the broker was reachable during this
        run - a run that never reached it returns at once (events stay in the
        outbox).
        """
        gw = self.gateway
        if not self._opened:
            return CloseReport(0, self.outbox_path, 0, 0)
        self._opened = False
        deadline = time.monotonic() + max(0.0, timeout_s)
        infos = self._go_offline()
        if self._private:
            report = gw._close(deadline, infos)
            gw._unregister(self)
            return report
        if gw.ever_connected and gw._opened:  # a closed gateway delivers nothing more
            _await_delivery(self.wait_idle, infos, deadline)
        gw._unregister(self)
        return CloseReport(self._own_pending, self.outbox_path, self.stats.acked,
                           self.stats.dropped_full)

    def __enter__(self) -> MqttSink:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- helpers
    def _availability(self) -> dict[str, Any]:
        link = self.state.link
        return {"state": "online" if link in ONLINE_LINKS else "offline", "link": link,
                "ts": utc_now_iso()}


def _release_sockets(client: mqtt.Client) -> None:
    """Close the socket pair paho keeps for waking its loop (it would stay open until the
    client is garbage-collected: two file descriptors per closed connection)."""
    for name in ("_sockpairR", "_sockpairW"):
        sock = getattr(client, name, None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
            setattr(client, name, None)

def _stderr_status(message: str) -> None:
    print(f"repsense: mqtt: {message}", file=sys.stderr, flush=True)


def _describe_connect_error(exc: BaseException, b: BrokerSettings) -> str:
    where = b.display()
    if isinstance(exc, ConnectionRefusedError):
        return f"no broker answers at {where} (connection refused)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the broker host '{b.host}' ({exc.strerror or exc})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"TLS: {where} presented a certificate we do not trust "
                f"({exc.verify_message or exc.reason}); give the broker's CA with --mqtt-ca")
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer from {where} within the connect timeout"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"cannot connect to {where} ({text})"
