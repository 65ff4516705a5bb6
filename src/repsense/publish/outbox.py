"""A durable, bounded on-disk outbox for MQTT messages (stdlib ``sqlite3``).

Every event message is written here *before* it is handed to the MQTT
client, and deleted only when the broker has acknowledged it (PUBACK for
QoS 1).  What the broker never acknowledged - because it was down, the
connection dropped, or repsense itself was killed - is still in the file and
is sent again by the next :class:`~repsense.publish.mqtt.MqttSink` that opens
it.  Consumers de-duplicate by the payload's ``id`` (at-least-once delivery).

The database uses WAL journaling with ``synchronous=NORMAL``: a committed
row survives a crash of the process (SIGKILL); only a power cut can lose the
last few.  One process at a time may own an outbox file (an ``flock`` on
``<file>.lock``); a second one gets :class:`OutboxBusy`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

try:  # POSIX only; elsewhere the lock is skipped
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["DEFAULT_MAX_ROWS", "Outbox", "OutboxBusy", "OutboxRow"]

DEFAULT_MAX_ROWS = 50_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    topic    TEXT    NOT NULL,
    payload  BLOB    NOT NULL,
    qos      INTEGER NOT NULL DEFAULT 1,
    retain   INTEGER NOT NULL DEFAULT 0,
    created  REAL    NOT NULL
);
"""


class OutboxBusy(RuntimeError):
    """Another process holds this outbox file."""


@dataclass(frozen=True)
class OutboxRow:
    """One stored message."""

    seq: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    created: float


class Outbox:
    """Durable FIFO of MQTT messages, safe to use from several threads.

    Parameters
    ----------
    path
        The sqlite file (parent directories are created).
    max_rows
        Bound; :meth:`add` refuses new messages (returns ``None``) when full.
    """

    def __init__(self, path: str | os.PathLike[str], max_rows: int = DEFAULT_MAX_ROWS) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._lockfile = None
        if fcntl is not None:
            self._lockfile = open(f"{self.path}.lock", "a+")  # noqa: SIM115 - held while open
            try:
                fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._lockfile.close()
                raise OutboxBusy(
                    f"{self.path} is in use by another repsense process; give this one its own "
                    "--mqtt-outbox FILE (or --sensor-id)") from None
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._count = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        except BaseException:
            if self._lockfile is not None:
                self._lockfile.close()
            raise
        self._closed = False

    def __len__(self) -> int:
        return self._count

    @property
    def full(self) -> bool:
        return self._count >= self.max_rows

    def add(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int | None:
        """Store a message durably; its ``seq``, or ``None`` when the outbox is full."""
        with self._lock:
            if self._count >= self.max_rows:
                return None
            cur = self._db.execute(
                "INSERT INTO outbox(topic, payload, qos, retain, created) VALUES (?,?,?,?,?)",
                (topic, payload, qos, int(retain), time.time()),
            )
            self._count += 1
            return int(cur.lastrowid or 0)

    def delete(self, seqs: Iterable[int]) -> int:
        """Remove acknowledged messages (one transaction); how many were there."""
        ids = [(int(s),) for s in seqs]
        if not ids:
            return 0
        with self._lock:
            if self._closed:
                return 0
            self._db.execute("BEGIN")
            before = self._db.total_changes
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", ids)
            removed = self._db.total_changes - before
            self._db.execute("COMMIT")
            self._count -= removed
            return removed

    def pending(self, limit: int | None = None) -> list[OutboxRow]:
        """Stored messages, oldest first."""
        sql = "SELECT seq, topic, payload, qos, retain, created FROM outbox ORDER BY seq"
        with self._lock:
            rows = self._db.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return [OutboxRow(int(s), t, bytes(p), int(q), bool(r), float(c))
                for s, t, p, q, r, c in rows]

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
        if self._lockfile is not None:
            self._lockfile.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
