"""Session history on disk.

Every ``repsense live`` session is a directory ``<data dir>/sessions/<id>/``:

``samples.csv`` (+ ``samples.json`` sidecar)
    The raw samples as a canonical recording (written atomically by
    :class:`repsense.io.csv_writer.RecordingWriter`), so ``analyze``,
    ``replay`` and ``report`` read a session like any recording.
``events.jsonl``
    One JSON object per line: every pipeline event (``to_dict()``), user
    actions (``{"type": "action", ...}``) and session notices
    (``{"type": "notice", ...}``), appended and flushed as they happen.
``summary.json``
    The session: plan, sets done against the plan, reps with tempo and cues,
    totals.  Written at the start with ``"status": "running"`` and replaced
    (atomically) when the session ends with ``"status": "complete"``; a
    session whose process was killed stays ``running``.

The session id is the UTC start time, ``YYYYMMDD-HHMMSS`` (with ``-2``,
``-3`` ... if two sessions start in the same second).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repsense.errors import InputError
from repsense.io.csv_writer import RecordingWriter
from repsense.samples import SampleChunk

SUMMARY_SCHEMA = "repsense.session/1"
WRITE_BLOCK_SAMPLES = 500
"""Samples gathered before one write to ``samples.csv`` (5 s at 100 Hz)."""


def _atomic_json(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class SessionWriter:
    """Writes one session's samples, events and summary.

    Use :meth:`SessionStore.create` to make one.
    """

    def __init__(self, path: Path, session_id: str, started: datetime) -> None:
        self.path = path
        self.session_id = session_id
        self.started = started
        self._samples: RecordingWriter | None = None
        # Samples are written in blocks: numpy's savetxt costs about as much per call
        # as for a few hundred rows, and the file is only published on close anyway.
        self._pending: list[SampleChunk] = []
        self._pending_n = 0
        self._events = open(path / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self.closed = False

    @property
    def samples_path(self) -> Path:
        return self.path / "samples.csv"

    @property
    def sample_count(self) -> int:
        return self._pending_n + (0 if self._samples is None else self._samples.samples)

    def write_samples(self, chunk: SampleChunk) -> None:
        """Append samples (the CSV appears under its name only on :meth:`close`)."""
        if len(chunk) == 0:
            return
        if self._samples is None:
            self._samples = RecordingWriter(self.samples_path, has_gyro=chunk.gyr is not None)
        if self._samples.has_gyro and chunk.gyr is None:
            return  # cannot happen with one sensor; never write a ragged CSV
        self._pending.append(chunk)
        self._pending_n += len(chunk)
        if self._pending_n >= WRITE_BLOCK_SAMPLES:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending and self._samples is not None:
            self._samples.write(SampleChunk.concat(self._pending))
        self._pending, self._pending_n = [], 0

    def write_event(self, record: dict[str, Any]) -> None:
        """Append one JSON line and flush it (events survive a crash)."""
        self._events.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._events.flush()

    def write_summary(self, summary: dict[str, Any]) -> None:
        """Replace ``summary.json`` atomically."""
        _atomic_json(self.path / "summary.json", summary)

    def close(self, summary: dict[str, Any], sample_meta: dict[str, Any] | None = None) -> Path:
        """Finish the samples file (with its sidecar), the events and the summary."""
        if self.closed:
            return self.path
        self.closed = True
        if self._samples is not None:
            self._write_pending()
            self._samples.close(sample_meta or {})
        self._events.close()
        self.write_summary(summary)
        return self.path


@dataclass(frozen=True)
class StoredSession:
    """A session read back from the store."""

    id: str
    path: Path
    summary: dict[str, Any]

    @property
    def samples_path(self) -> Path:
        return self.path / "samples.csv"

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    def events(self) -> list[dict[str, Any]]:
        """All JSON lines of ``events.jsonl`` (a torn last line is skipped)."""
        out = []
        if not self.events_path.exists():
            return out
        with open(self.events_path, encoding="utf-8") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a crash can leave half a line at the end
        return out


class SessionStore:
    """The session history under ``<data dir>/sessions``."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "sessions"

    def create(self, started: datetime | None = None) -> SessionWriter:
        """Make a new, uniquely named session directory."""
        started = started or utc_now()
        self.root.mkdir(parents=True, exist_ok=True)
        base = started.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
        for n in range(1, 1000):
            sid = base if n == 1 else f"{base}-{n}"
            try:
                (self.root / sid).mkdir()
            except FileExistsError:
                continue
            return SessionWriter(self.root / sid, sid, started)
        raise RuntimeError(f"{self.root}: cannot create a session directory")

    def ids(self) -> list[str]:
        """Session ids, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and (p / "summary.json").exists())

    def load(self, ref: str) -> StoredSession:
        """Read a session by id, unique id prefix, ``latest``, or its directory path."""
        path = self.resolve(ref)
        try:
            summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}/summary.json: unreadable ({exc}); the session is damaged") \
                from None
        return StoredSession(path.name, path, summary)

    def resolve(self, ref: str) -> Path:
        """The directory of session ``ref`` (see :meth:`load`)."""
        p = Path(ref).expanduser()
        if (p / "summary.json").is_file():
            return p
        ids = self.ids()
        if ref in ("latest", "last"):
            if not ids:
                raise InputError(f"no sessions yet in {self.root}; run `repsense live` first")
            return self.root / ids[-1]
        if ref in ids:
            return self.root / ref
        # a prefix, with or without the dash: 20260302-10 or 2026030210
        bare = ref.replace("-", "")
        matches = [i for i in ids if i.startswith(ref) or i.replace("-", "").startswith(bare)]
        if len(matches) == 1:
            return self.root / matches[0]
        if len(matches) > 1:
            raise InputError(f"session '{ref}' is ambiguous ({', '.join(matches[:4])}...); "
                             "give more of the id")
        raise InputError(f"no session '{ref}' in {self.root}; see `repsense sessions` for the ids")

    def list(self) -> list[StoredSession]:
        """All readable sessions, oldest first (damaged ones are skipped)."""
        out = []
        for sid in self.ids():
            try:
                out.append(self.load(sid))
            except InputError:
                continue
        return out
