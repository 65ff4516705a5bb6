"""Fixtures for the MQTT tests: a real Mosquitto, a simulated recording, schema checks."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from repsense.analysis import pipeline_for, run_events
from repsense.events import Event
from repsense.io.open import open_recording
from repsense.publish.config import parse_mqtt_url
from repsense.publish.mqtt import MqttSink
from repsense.publish.payloads import SCHEMA_FOR_KIND, load_schema
from repsense.publish.topics import Topics
from repsense.testing.broker import Received
from repsense.testing.pytest_broker import (  # noqa: F401 - fixtures
    mosquitto,
    mosquitto_factory,
    mqtt_collector,
)

from .helpers import FAST, FAST_ENV, topic_kind


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config, no real data dir, no ambient broker settings."""
    monkeypatch.setenv("REPSENSE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("REPSENSE_DATA_DIR", str(tmp_path / "data"))
    for var in list(os.environ):
        if var.startswith("REPSENSE_MQTT_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("REPSENSE_MQTT_TUNING", FAST_ENV)


@pytest.fixture(scope="session")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated Romanian deadlift session: 2 sets of 4 reps with a rest between them."""
    from repsense.cli import main

    path = tmp_path_factory.mktemp("rec") / "rdl.csv"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = main(["simulate", "--exercise", "romanian_deadlift", "--sets", "2", "--reps", "4",
                   "--rest", "20", "--seed", "3", "-o", str(path)])
    assert rc == 0
    return path


@pytest.fixture(scope="session")
def pipeline_events(recording: Path) -> list[Event]:
    """Every event the real pipeline makes for :func:`recording`."""
    source = open_recording(recording)
    events = list(run_events(source, pipeline_for(source, session_id="t")))
    assert sum(e.type == "rep" for e in events) >= 4, "the pipeline found too few reps"
    return events


@pytest.fixture(scope="session")
def schemas() -> dict[str, dict[str, Any]]:
    """The packaged JSON Schemas by topic kind (each checked to be a valid schema)."""
    out = {}
    for kind in SCHEMA_FOR_KIND:
        doc = load_schema(kind)
        jsonschema.Draft202012Validator.check_schema(doc)
        out[kind] = doc
    return out


@pytest.fixture
def validate(schemas: dict[str, dict[str, Any]]) -> Callable[[list[Received]], int]:
    """Validate every JSON message against the schema for its topic; returns how many."""

    def check(messages: list[Received]) -> int:
        n = 0
        for m in messages:
            kind = topic_kind(m.topic)
            if kind is None or not m.payload:
                continue
            try:
                jsonschema.validate(m.json(), schemas[kind],
                                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            except jsonschema.ValidationError as exc:
                raise AssertionError(f"{m.topic}: {exc.message}\n{m.payload[:400]!r}") from None
            n += 1
        return n

    return check


@pytest.fixture
def make_sink(tmp_path: Path) -> Iterator[Callable[..., MqttSink]]:
    """Open :class:`MqttSink` objects with fast timings; closed after the test."""
    made: list[MqttSink] = []

    def make(url: str, sensor_id: str = "left_thigh", gateway_id: str = "gw1",
             outbox: Path | None = None, **kwargs: Any) -> MqttSink:
        opts: dict[str, Any] = {"tuning": FAST, "status": lambda _m: None}
        opts.update(kwargs)
        broker = parse_mqtt_url(url, **opts.pop("broker_kwargs", {}))
        sink = MqttSink(broker, Topics.make(sensor_id, gateway_id),
                        outbox_path=outbox or tmp_path / f"outbox-{len(made)}.sqlite", **opts)
        made.append(sink)
        return sink.open()

    yield make
    for sink in made:
        sink.close(0.5)
