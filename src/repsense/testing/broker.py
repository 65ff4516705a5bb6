"""A real Mosquitto broker for tests, and a subscriber that records what it sees.

Usage::

    from repsense.testing.broker import MosquittoBroker, MessageCollector

    with MosquittoBroker(tmp_path) as broker:          # free port, anonymous
        with MessageCollector(broker.url, ["repsense/#"]) as sub:
            ...                                          # publish something
            sub.wait_for(lambda msgs: len(msgs) >= 3)    # wait on a condition
        broker.stop(kill=True)                           # SIGKILL, like a crash
        broker.start()                                   # same port again

Authentication: ``MosquittoBroker(tmp_path, auth=BrokerAuth({"alice": "s3cret"}))``
writes a Mosquitto password file (hashed here, PBKDF2-SHA512 as
``mosquitto_passwd`` does) and turns anonymous access off.  TLS:
``MosquittoBroker(tmp_path, tls=BrokerTLS(ca, cert, key))`` makes the listener a
TLS one (URL ``mqtts://127.0.0.1:<port>``); see :func:`repsense.testing.pki.make_test_pki`
for throw-away certificates.  ``persistence=True`` keeps sessions, subscriptions
and queued messages across restarts (saved after every change), so a test
subscriber with a persistent session misses nothing while the broker is down.

The broker binary is ``$REPSENSE_MOSQUITTO`` or ``mosquitto`` on ``PATH`` or
``/usr/sbin/mosquitto`` (Debian installs it there, outside a normal user's PATH).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

__all__ = [
    "BrokerAuth",
    "BrokerTLS",
    "MessageCollector",
    "MosquittoBroker",
    "Received",
    "find_mosquitto",
    "free_port",
    "mosquitto_password_hash",
]


def find_mosquitto() -> str:
    """Path of the ``mosquitto`` binary; raises ``FileNotFoundError`` with a fix."""
    env = os.environ.get("REPSENSE_MOSQUITTO")
    candidates = [env] if env else []
    found = shutil.which("mosquitto")
    if found:
        candidates.append(found)
    candidates += ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto",
                   "/opt/homebrew/sbin/mosquitto"]
    for cand in candidates:
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise FileNotFoundError(
        "mosquitto broker not found; install it (Debian/Ubuntu: apt-get install mosquitto) "
        "or set REPSENSE_MOSQUITTO to its path"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def mosquitto_password_hash(password: str, *, iterations: int = 101) -> str:
    """One password-file hash in Mosquitto 2's ``$7$`` format (PBKDF2-SHA512)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


@dataclass(frozen=True)
class BrokerAuth:
    """Users the broker accepts (anonymous clients are refused)."""

    users: dict[str, str]
    allow_anonymous: bool = False


@dataclass(frozen=True)
class BrokerTLS:
    """A TLS listener: CA that signed client certs, server cert and key (PEM files)."""

    cafile: Path
    certfile: Path
    keyfile: Path
    require_certificate: bool = False


class MosquittoBroker:
    """A Mosquitto process on ``127.0.0.1:<port>`` with a config file written here.

    Parameters
    ----------
    workdir
        Directory for the config, password file, persistence and log
        (a test's ``tmp_path``).
    port
        Fixed port; default a free one chosen at construction (kept across
        restarts).
    auth, tls
        Optional password file / TLS listener, see :class:`BrokerAuth`, :class:`BrokerTLS`.
    persistence
        Keep sessions and queued messages on disk across restarts.
    extra_config
        Lines appended to the generated config.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        port: int | None = None,
        auth: BrokerAuth | None = None,
        tls: BrokerTLS | None = None,
        *,
        persistence: bool = False,
        extra_config: str = "",
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.auth = auth
        self.tls = tls
        self.persistence = persistence
        self.extra_config = extra_config
        self.host = "127.0.0.1"
        self.config_path = self.workdir / f"mosquitto-{self.port}.conf"
        self.log_path = self.workdir / f"mosquitto-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._binary = find_mosquitto()

    # -- URLs ---------------------------------------------------------------
    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:<port>`` (``mqtts://`` with TLS), no credentials."""
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{self.host}:{self.port}"

    def url_for(self, user: str, password: str | None = None) -> str:
        """The URL with ``user[:password]@`` in it."""
        cred = user if password is None else f"{user}:{password}"
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{cred}@{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- lifecycle ----------------------------------------------------------
    def _write_config(self) -> None:
        lines = [f"listener {self.port} {self.host}"]
        if self.tls:
            lines += [
                f"cafile {self.tls.cafile}",
                f"certfile {self.tls.certfile}",
                f"keyfile {self.tls.keyfile}",
                f"require_certificate {'true' if self.tls.require_certificate else 'false'}",
            ]
        if self.auth:
            pwfile = self.workdir / f"passwords-{self.port}"
            pwfile.write_text(
                "".join(f"{u}:{mosquitto_password_hash(p)}\n" for u, p in self.auth.users.items())
            )
            pwfile.chmod(0o600)
            lines += [
                f"password_file {pwfile}",
                f"allow_anonymous {'true' if self.auth.allow_anonymous else 'false'}",
            ]
        else:
            lines.append("allow_anonymous true")
        if self.persistence:
            store = self.workdir / f"persist-{self.port}"
            store.mkdir(exist_ok=True)
            # Save after every change so that even SIGKILL keeps subscriptions.
            lines += [
                "persistence true",
                f"persistence_location {store}/",
                "autosave_on_changes true",
                "autosave_interval 1",
            ]
        else:
            lines.append("persistence false")
        if os.geteuid() == 0:
            # Mosquitto drops root for the 'mosquitto' user, who cannot read tmp dirs.
            lines.append(f"user {pwd.getpwuid(os.getuid()).pw_name}")
        lines += ["log_dest stderr", "log_type error", "log_type warning", "log_type notice",
                  "log_type information", "connection_messages true", "log_timestamp true"]
        if self.extra_config:
            lines.append(self.extra_config)
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self, timeout_s: float = 10.0) -> MosquittoBroker:
        """Start (or restart after :meth:`stop`) and wait until the port accepts."""
        if self.running:
            return self
        self._write_config()
        # The log is appended to across restarts: only what this start writes counts.
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self._proc = subprocess.Popen(
                [self._binary, "-c", str(self.config_path)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self._proc.returncode}: {self.log_tail()}"
                )
            # Only once this broker says it runs: a connection alone could reach another
            # process that took the port first (this one then exits, "Address already
            # in use", and the tests would talk to a stranger's broker).
            if self._says_running(offset):
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.5):
                        return self
                except OSError:
                    pass
            time.sleep(0.02)
        self.stop(kill=True)
        raise TimeoutError(f"mosquitto did not listen on {self.port}: {self.log_tail()}")

    def _says_running(self, offset: int) -> bool:
        """Has the log, from ``offset`` on, the line mosquitto writes once it listens?"""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return False
        return re.search(r"mosquitto version \S+ running", text) is not None

    def stop(self, kill: bool = False, timeout_s: float = 10.0) -> None:
        """Stop the broker: SIGTERM (saves persistence) or SIGKILL (``kill=True``)."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout_s)
        self._proc = None

    def restart(self, kill: bool = False) -> MosquittoBroker:
        """:meth:`stop` then :meth:`start` on the same port."""
        self.stop(kill=kill)
        return self.start()

    def log_tail(self, n: int = 20) -> str:
        """Last ``n`` lines of the broker's log (for assertion messages)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-n:])

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MosquittoBroker({self.url}, running={self.running})"


@dataclass(frozen=True)
class Received:
    """One message a :class:`MessageCollector` saw."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: Any = None
    received_at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.payload)


class MessageCollector:
    """A paho subscriber that keeps every message; tests wait on conditions.

    Parameters
    ----------
    url
        ``mqtt://[user:pass@]host:port`` or ``mqtts://...``.
    topics
        Topic filters, subscribed with QoS 1 on every (re)connect.
    client_id, persistent
        With ``persistent=True`` the broker keeps the session (subscriptions and
        queued QoS 1 messages) while this client or the broker is away.
    cafile, certfile, keyfile
        TLS files for ``mqtts://``.
    protocol
        ``mqtt.MQTTv5`` (default) or ``mqtt.MQTTv311``.
    """

    def __init__(
        self,
        url: str,
        topics: Sequence[str] = ("#",),
        *,
        client_id: str | None = None,
        persistent: bool = False,
        cafile: str | os.PathLike[str] | None = None,
        certfile: str | os.PathLike[str] | None = None,
        keyfile: str | os.PathLike[str] | None = None,
        protocol: int = mqtt.MQTTv5,
    ) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        self.topics = list(topics)
        self.persistent = persistent
        self.protocol = protocol
        self.messages: list[Received] = []
        self.connected = threading.Event()
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        cid = client_id or f"collector-{secrets.token_hex(4)}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=protocol,
                                  clean_session=None if protocol == mqtt.MQTTv5 else not persistent)
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        if parts.scheme == "mqtts":
            self.client.tls_set(ca_certs=str(cafile) if cafile else None,
                                certfile=str(certfile) if certfile else None,
                                keyfile=str(keyfile) if keyfile else None)
        self.client.reconnect_delay_set(0.05, 0.5)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    # -- paho callbacks (network thread) -----------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            return
        self.connected.set()
        client.subscribe([(t, 1) for t in self.topics])

    def _on_subscribe(self, *_a: Any) -> None:
        self._subscribed.set()

    def _on_disconnect(self, *_a: Any) -> None:
        self.connected.clear()
        self._subscribed.clear()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Received(msg.topic, bytes(msg.payload), msg.qos,
                                          bool(msg.retain), getattr(msg, "properties", None)))
            self._cond.notify_all()

    # -- API ------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> MessageCollector:
        """Connect, subscribe and wait for the SUBACK."""
        props = None
        if self.protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600 if self.persistent else 0
        self.client.connect_async(self.host, self.port, keepalive=5,
                                  clean_start=not self.persistent if self.protocol == mqtt.MQTTv5
                                  else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
                                  properties=props)
        self.client.loop_start()
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise TimeoutError(f"collector could not subscribe on {self.host}:{self.port}")
        return self

    def wait_subscribed(self, timeout_s: float = 10.0) -> bool:
        """Wait until (re)subscribed after a reconnect."""
        return self._subscribed.wait(timeout_s)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> MessageCollector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def snapshot(self, topic_filter: str | None = None) -> list[Received]:
        """Messages so far, optionally only those matching an MQTT topic filter."""
        with self._cond:
            msgs = list(self.messages)
        if topic_filter is None:
            return msgs
        return [m for m in msgs if mqtt.topic_matches_sub(topic_filter, m.topic)]

    def wait_for(
        self,
        predicate: Callable[[list[Received]], bool],
        timeout_s: float = 10.0,
        topic_filter: str | None = None,
    ) -> list[Received]:
        """Wait until ``predicate(messages)`` holds; return them or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                msgs = self.messages if topic_filter is None else [
                    m for m in self.messages if mqtt.topic_matches_sub(topic_filter, m.topic)]
                if predicate(list(msgs)):
                    return list(msgs)
                left = deadline - time.monotonic()
                if left <= 0:
                    topics = sorted({m.topic for m in self.messages})
                    raise TimeoutError(
                        f"condition not met within {timeout_s} s; {len(self.messages)} messages "
                        f"on {topics[:20]}")
                self._cond.wait(min(left, 0.5))

    def wait_json(self, topic: str, predicate: Callable[[Any], bool] = lambda _p: True,
                  timeout_s: float = 10.0) -> Any:
        """Wait for a JSON message on ``topic`` (exact or filter) matching ``predicate``."""
        found: list[Any] = []

        def check(msgs: list[Received]) -> bool:
            for m in reversed(msgs):
                with contextlib.suppress(ValueError):
                    doc = m.json()
                    if predicate(doc):
                        found.append(doc)
                        return True
            return False

        self.wait_for(check, timeout_s, topic_filter=topic)
        return found[0]

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False,
                properties: Properties | None = None) -> None:
        """Publish and wait until the broker has it."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        info.wait_for_publish(10)

    def ids(self, topic_filter: str) -> list[str]:
        """The ``"id"`` of every JSON message matching ``topic_filter``, in arrival order."""
        out = []
        for m in self.snapshot(topic_filter):
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                out.append(m.json()["id"])
        return out


def iter_json(msgs: Iterable[Received]) -> Iterable[Any]:
    """Decode each message's JSON payload (skipping empty retained-clears)."""
    for m in msgs:
        if m.payload:
            yield m.json()
