"""Open any recording repsense understands: canonical CSV or raw BLE capture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from repsense.errors import InputError
from repsense.samples import SampleChunk


class RecordingSource(Protocol):
    """What ``analyze``/``replay`` need from a recording."""

    path: Path
    meta: dict[str, Any]
    has_gyro: bool

    @property
    def name(self) -> str: ...

    def chunks(self) -> Iterator[SampleChunk]: ...


def open_recording(path: str | Path) -> RecordingSource:
    """Open ``path`` by its type: ``.csv`` canonical recording or ``.jsonl`` raw capture."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        from repsense.io.csv_recording import CsvRecording

        return CsvRecording(p)
    if suffix in (".jsonl", ".raw"):
        from repsense.io.raw_capture import RawCapture

        return RawCapture(p)
    raise InputError(
        f"{p}: unknown recording type '{suffix or '(none)'}'; give a canonical .csv "
        "recording or a .jsonl raw capture"
    )
