"""Raw BLE captures: every notification as it arrived, decodable later by the same driver.

Format ``repsense.raw/1`` (a contract; outside tools read it), JSON Lines::

    {"format": "repsense.raw/1", "protocol": "repsense", "device": {"name": "repsense-IMU",
     "address": "F1:22:33:44:55:66"}, "config": {"rate_hz": 104.0, ...}}
    {"t": 1764178000.012345, "char": "52530002-7265-7073-656e-73652d696d75", "hex": "0103..."}
    ...

Line 1 is the header: ``protocol`` is one of ``repsense``, ``witmotion``,
``thingy52``, ``polar_pmd``; ``config`` is the driver's configuration
(:meth:`repsense.sensors.base.SensorDriver.config`, always with
``rate_hz``).  Optional header fields: ``placement`` (``thigh``/``shank``),
``side``, ``started_at`` (ISO 8601), ``software``.  Every further line is one
notification or indication: ``t`` the host arrival time in seconds (one
steady clock for the whole capture; written at full float precision, so a
replay decodes exactly what the live driver decoded), ``char`` the
characteristic's 128-bit UUID in lower case, ``hex`` the payload.  Readers
ignore unknown fields.

:class:`RawCapture` satisfies :class:`repsense.io.open.RecordingSource`; a
sidecar ``NAME.json`` beside ``NAME.jsonl`` (labels, placement) is merged
into ``meta``.  Decode problems (malformed notifications, lost samples,
rejected configuration) are collected in :attr:`RawCapture.problems` and
also yielded in stream order by :meth:`RawCapture.items`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from repsense.errors import InputError
from repsense.exercises import PLACEMENTS
from repsense.io.sidecar import read_sidecar
from repsense.samples import SampleChunk
from repsense.sensors import PROTOCOLS, make_driver
from repsense.sensors.base import DecodeProblem, SensorDriver, normalize_uuid

FORMAT = "repsense.raw/1"
BACKWARDS_TOLERANCE_S = 0.001


def _bad(path: Path, line: int, what: str) -> InputError:
    return InputError(f"{path}:{line}: {what}")


def parse_header(path: Path, text: str) -> dict[str, Any]:
    """Check line 1 of a capture and return it (``InputError`` naming what is wrong)."""
    try:
        head = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            path,
            1,
            f"header is not valid JSON ({exc.msg}); a raw capture starts with "
            f'{{"format": "{FORMAT}", ...}}',
        ) from None
    if not isinstance(head, dict):
        raise _bad(path, 1, f'header must be a JSON object {{"format": "{FORMAT}", ...}}')
    fmt = head.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith("repsense.raw/"):
            raise _bad(
                path,
                1,
                f"capture format '{fmt}' is newer than this repsense reads "
                f"({FORMAT}); update repsense",
            )
        raise _bad(
            path, 1, f"'format' is {fmt!r}, not '{FORMAT}'; this is not a repsense raw capture"
        )
    protocol = head.get("protocol")
    if protocol not in PROTOCOLS:
        raise _bad(path, 1, f"unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}")
    device = head.get("device")
    if not isinstance(device, dict):
        raise _bad(path, 1, 'missing "device": {"name": ..., "address": ...}')
    for key in ("name", "address"):
        if device.get(key) is not None and not isinstance(device.get(key), str):
            raise _bad(path, 1, f"device.{key} must be a string")
    config = head.get("config")
    if not isinstance(config, dict):
        raise _bad(path, 1, 'missing "config": {"rate_hz": ...}')
    rate = config.get("rate_hz")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
        raise _bad(path, 1, "config.rate_hz must be a positive number (the configured rate)")
    placement = head.get("placement", config.get("placement"))
    if placement is not None and placement not in PLACEMENTS:
        raise _bad(path, 1, f"placement is {placement!r}; use 'thigh' or 'shank'")
    return head


class RawCapture:
    """A raw capture read lazily and decoded through the protocol's driver.

    Parameters
    ----------
    path
        The ``.jsonl`` file.
    chunk_samples
        Decoded notifications are joined into chunks of about this many
        samples (a chunk is cut early before each problem, to keep order).
    relative_time
        The first sample is at t = 0 (like a CSV recording) and ``origin_s``
        holds that instant on the capture's clock; ``False`` keeps the
        capture's host clock.

    Attributes
    ----------
    problems
        Every :class:`~repsense.sensors.base.DecodeProblem` met so far, in
        stream order (filled while iterating :meth:`chunks`/:meth:`items`).
    counts
        ``notifications``, ``samples``, ``malformed``, ``lost_samples`` of
        the last full pass.
    """

    kind = "raw"

    def __init__(
        self, path: str | Path, *, chunk_samples: int = 2048, relative_time: bool = True
    ) -> None:
        self.path = Path(path)
        self.chunk_samples = chunk_samples
        self.relative_time = relative_time
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file; give the path of a raw capture .jsonl")
        with self._open() as f:
            first = self._first_line(f)
        self.header = parse_header(self.path, first)
        self.protocol: str = self.header["protocol"]
        self.device: dict[str, Any] = dict(self.header["device"])
        self.config: dict[str, Any] = dict(self.header["config"])
        driver = self.new_driver()
        self.has_gyro = bool(driver.has_gyro)
        self.meta: dict[str, Any] = self._meta(driver)
        self.problems: list[DecodeProblem] = []
        self.counts: dict[str, int] = {}
        self.origin_s: float | None = None

    @property
    def name(self) -> str:
        return self.path.stem

    def new_driver(self) -> SensorDriver:
        """A fresh driver for this capture's protocol and config (line 1)."""
        try:
            return make_driver(self.protocol, self.config)
        except (TypeError, ValueError) as exc:
            raise _bad(
                self.path, 1, f"config is not valid for protocol '{self.protocol}' ({exc})"
            ) from None

    def _open(self) -> IO[str]:
        return open(self.path, encoding="utf-8")

    def _first_line(self, f: IO[str]) -> str:
        try:
            text = f.readline()
        except UnicodeDecodeError:
            raise InputError(f"{self.path}: not UTF-8 text; a raw capture is JSON Lines") from None
        if not text.strip():
            raise InputError(
                f"{self.path}: the file is empty; a raw capture starts with a "
                f'header line {{"format": "{FORMAT}", ...}}'
            )
        return text

    def _meta(self, driver: SensorDriver) -> dict[str, Any]:
        head = self.header
        meta: dict[str, Any] = {
            "sensor": self.device.get("name") or driver.model_name(None),
            "sample_rate_hz": float(driver.rate_hz),
            "synthetic": bool(head.get("synthetic", False)),
            "source": f"raw BLE capture ({self.protocol})",
            "protocol": self.protocol,
            "device": self.device,
            "config": self.config,
        }
        for key in ("placement", "side"):
            value = head.get(key, self.config.get(key))
            if value is not None:
                meta[key] = value
        if "started_at" in head:
            meta["started_at"] = head["started_at"]
        side = read_sidecar(self.path)
        # The capture knows its own rate and source; the sidecar adds labels, placement…
        for key in ("sample_rate_hz", "protocol", "device", "config"):
            side.pop(key, None)
        meta.update(side)
        return meta

    # -- reading --------------------------------------------------------

    def notifications(self) -> Iterator[tuple[int, float, str, bytes]]:
        """``(line, t, char, payload)`` of every notification line, checked."""
        last_t: float | None = None
        with self._open() as f:
            self._first_line(f)
            line_no = 1
            while True:
                try:
                    text = f.readline()
                except UnicodeDecodeError:
                    raise InputError(
                        f"{self.path}: after line {line_no} the file is not UTF-8 text; it may be "
                        "truncated or binary"
                    ) from None
                if not text:
                    break
                line_no += 1
                if not text.strip():
                    continue
                t, char, payload = self._parse_line(text, line_no)
                if last_t is not None and t < last_t - BACKWARDS_TOLERANCE_S:
                    raise _bad(
                        self.path,
                        line_no,
                        f"time t goes backwards ({last_t:.6f} -> "
                        f"{t:.6f}); captures must use one steady clock",
                    )
                last_t = t if last_t is None else max(last_t, t)
                yield line_no, t, char, payload

    def _parse_line(self, text: str, line_no: int) -> tuple[float, str, bytes]:
        try:
            rec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _bad(
                self.path,
                line_no,
                f"not valid JSON ({exc.msg}); the capture may be "
                "truncated — remove the broken line",
            ) from None
        if not isinstance(rec, dict):
            raise _bad(
                self.path, line_no, 'a notification line is {"t": ..., "char": ..., "hex": ...}'
            )
        missing = [k for k in ("t", "char", "hex") if k not in rec]
        if missing:
            raise _bad(
                self.path,
                line_no,
                f"missing field {', '.join(repr(m) for m in missing)}; "
                'a notification line is {"t": ..., "char": ..., "hex": ...}',
            )
        t = rec["t"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise _bad(self.path, line_no, f"field 't' is {t!r}, not a time in seconds")
        char = rec["char"]
        if not isinstance(char, str) or not char:
            raise _bad(self.path, line_no, "field 'char' must be a characteristic UUID string")
        hx = rec["hex"]
        if not isinstance(hx, str):
            raise _bad(self.path, line_no, "field 'hex' must be a hex string")
        try:
            payload = bytes.fromhex(hx)
        except ValueError:
            raise _bad(
                self.path, line_no, f"field 'hex' is not hexadecimal bytes ('{hx[:24]}')"
            ) from None
        return float(t), normalize_uuid(char), payload

    def items(self) -> Iterator[SampleChunk | DecodeProblem]:
        """Sample chunks and decode problems, in stream order.

        With ``relative_time`` the first sample is at t = 0 and problem times
        use the same base (``origin_s`` is that instant on the capture's
        clock).  Restarts decoding from the beginning with a fresh driver each
        call (and resets :attr:`problems`).
        """
        driver = self.new_driver()
        self.problems = []
        counts = {"notifications": 0, "samples": 0, "malformed": 0, "lost_samples": 0}
        pending: list[SampleChunk] = []
        pending_n = 0
        base: float | None = None  # subtracted before decoding (keeps float precision)
        shift: float | None = None  # subtracted after decoding: first sample -> 0
        early: list[DecodeProblem] = []  # problems before the first sample
        for _line, t, char, payload in self.notifications():
            if base is None:
                base = t if self.relative_time else 0.0
                if not self.relative_time:
                    shift = 0.0
            counts["notifications"] += 1
            result = driver.decode(char, payload, t - base)
            chunk = result.chunk if result.chunk is not None and len(result.chunk) else None
            if shift is None and chunk is not None:
                shift = float(chunk.t[0])
                self.origin_s = base + shift
                for p in early:
                    yield replace(p, time_s=p.time_s - shift)
                early = []
            if result.problems:
                if pending:
                    yield SampleChunk.concat(pending)
                    pending, pending_n = [], 0
                for p in result.problems:
                    if p.kind == "malformed":
                        counts["malformed"] += 1
                    counts["lost_samples"] += p.lost_samples
                    if shift is None:
                        early.append(p)
                    else:
                        p = replace(p, time_s=p.time_s - shift)
                        yield p
                    self.problems.append(p)
            if chunk is not None:
                assert shift is not None
                if shift:
                    chunk = SampleChunk(chunk.t - shift, chunk.acc, chunk.gyr)
                pending.append(chunk)
                pending_n += len(chunk)
                counts["samples"] += len(chunk)
                if pending_n >= self.chunk_samples:
                    yield SampleChunk.concat(pending)
                    pending, pending_n = [], 0
        if pending:
            yield SampleChunk.concat(pending)
        yield from early
        self.counts = counts
        if counts["samples"] == 0:
            raise InputError(
                f"{self.path}: the capture holds {counts['notifications']} notifications but no "
                "decodable samples; check that it was recorded from a streaming sensor"
            )

    def chunks(self) -> Iterator[SampleChunk]:
        """Sample chunks only (problems go to :attr:`problems`)."""
        for item in self.items():
            if isinstance(item, SampleChunk):
                yield item


class RawCaptureWriter:
    """Streaming writer of a raw capture; every line is flushed as written.

    Parameters
    ----------
    path
        Output ``.jsonl`` path.  An existing file is not overwritten unless
        ``overwrite`` is true (``InputError``).
    protocol
        Protocol name (``driver.protocol``).
    device
        ``{"name": ..., "address": ...}``.
    config
        The driver's :meth:`~repsense.sensors.base.SensorDriver.config`.
    extra
        Optional header fields (``placement``, ``side``, ``software`` …).
    """

    def __init__(
        self,
        path: str | Path,
        protocol: str,
        device: dict[str, Any],
        config: dict[str, Any],
        *,
        extra: dict[str, Any] | None = None,
        overwrite: bool = False,
    ) -> None:
        self.path = Path(path)
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}")
        if "rate_hz" not in config:
            raise ValueError("config needs rate_hz")
        head: dict[str, Any] = {
            "format": FORMAT,
            "protocol": protocol,
            "device": {"name": device.get("name"), "address": device.get("address")},
            "config": dict(config),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        head.update(extra or {})
        try:
            # Kept open for the whole recording; closed by close()/__exit__.
            self._f: IO[str] | None = open(  # noqa: SIM115
                self.path, "w" if overwrite else "x", encoding="utf-8", newline="\n"
            )
        except FileExistsError:
            raise InputError(
                f"{self.path}: already exists; choose another name or remove the old capture"
            ) from None
        except OSError as exc:
            raise InputError(f"{self.path}: cannot create the capture ({exc.strerror})") from None
        self.lines = 0
        self._write(head)

    def _write(self, obj: dict[str, Any]) -> None:
        if self._f is None:
            raise ValueError("capture writer is closed")
        self._f.write(json.dumps(obj, separators=(", ", ": ")) + "\n")
        self._f.flush()
        self.lines += 1

    def write(self, t: float, char: str, data: bytes) -> None:
        """Append one notification that arrived at host time ``t`` on ``char``.

        ``t`` is written at full float precision (JSON round-trips it exactly):
        the driver timed the live samples from this very value, and a replay
        must decode the same bits to give the same sample and event times.
        Rounding it (to microseconds, say) moved replayed sample times by a
        fraction of a microsecond: enough to put an event time on the other
        side of a millisecond, or to tip a detector decision and move a rep by
        milliseconds.
        """
        self._write({"t": float(t), "char": normalize_uuid(char), "hex": bytes(data).hex()})

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def __enter__(self) -> RawCaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
