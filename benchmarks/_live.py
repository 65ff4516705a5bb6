"""Shared pieces of the live benchmarks: sensors fed from recordings, a real broker."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from _common import REPO
from repsense.io.csv_recording import CsvRecording
from repsense.pipeline import Pipeline
from repsense.samples import SampleChunk

DEFAULT_RECORDING = REPO / "recordings" / "leg_curl_seated_shank_100hz.csv"


def load(path: Path) -> tuple[SampleChunk, dict[str, Any]]:
    """A whole recording in memory (they are small) and its sidecar."""
    rec = CsvRecording(path)
    return SampleChunk.concat(list(rec.chunks())), rec.meta


@dataclass
class VirtualSensor:
    """One sensor: a looping recording cut into notification-sized chunks, its pipeline, sink."""

    name: str
    data: SampleChunk
    per_chunk: int
    offset: int = 0
    pipeline: Pipeline | None = None
    sink: Any = None
    events: list[Any] = field(default_factory=list)
    _pos: int = 0
    _t0: float = 0.0

    def __post_init__(self) -> None:
        self._pos = self.offset % len(self.data)
        # One loop of the recording lasts this long (computed once: next_chunk is hot).
        self._span = float(self.data.t[-1] - self.data.t[0]) + float(
            np.median(np.diff(self.data.t)))
        self._ramp = np.arange(self.per_chunk)

    def next_chunk(self) -> SampleChunk:
        """The next ``per_chunk`` samples; the recording loops with time running on."""
        n, k, span = len(self.data), self.per_chunk, self._span
        pos = self._pos + self._ramp
        idx = pos % n
        wraps = pos // n
        t = self.data.t[idx] + (self._t0 + wraps * span)
        self._t0 += span * ((self._pos + k) // n)
        self._pos = (self._pos + k) % n
        gyr = None if self.data.gyr is None else self.data.gyr[idx]
        return SampleChunk(t, self.data.acc[idx], gyr)


def make_sink(url: str, sensor_id: str, outbox_dir: Path) -> Any:
    """An open :class:`repsense.publish.mqtt.MqttSink` for one sensor, ids kept as made."""
    from repsense.publish.config import parse_mqtt_url
    from repsense.publish.mqtt import MqttSink
    from repsense.publish.topics import Topics

    sink = MqttSink(parse_mqtt_url(url), Topics.make(sensor_id, "bench"),
                    outbox_path=outbox_dir / f"{sensor_id}.sqlite", ha_discovery=False,
                    session_suffix=None, status=lambda _m: None)
    return sink.open()


def make_gateway(url: str, outbox_dir: Path) -> Any:
    """An open :class:`repsense.publish.mqtt.MqttGateway`: one connection for all sensors."""
    from repsense.publish.config import parse_mqtt_url
    from repsense.publish.mqtt import MqttGateway

    gw = MqttGateway(parse_mqtt_url(url), "bench", outbox_path=outbox_dir / "gateway.sqlite",
                     status=lambda _m: None)
    return gw.open()


def gateway_sink(gateway: Any, sensor_id: str) -> Any:
    """A sensor's :class:`repsense.publish.mqtt.MqttSink` on a shared gateway (ids as made)."""
    return gateway.sink(sensor_id, ha_discovery=False, session_suffix=None,
                        status=lambda _m: None)


def tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="repsense-bench-"))
