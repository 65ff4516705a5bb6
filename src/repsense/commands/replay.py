"""``repsense replay``: a recording fed through the live pipeline at a chosen speed."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from repsense.commands._options import add_analysis_options, check_analysis_options
from repsense.console import ConsoleSink
from repsense.errors import InputError
from repsense.io.open import open_recording
from repsense.publish.options import add_mqtt_arguments, open_sink_from_args
from repsense.samples import SampleChunk, recut
from repsense.sensors.base import DecodeProblem

PACKET_S = 0.05  # how much signal one "notification" carries when pacing


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="play a recording through the live pipeline, printing events as they happen",
        description="Feed a recording (.csv or raw capture .jsonl) through the same pipeline a "
        "live sensor uses, at --speed times real time, and print reps, sets and rest as they "
        "happen.",
    )
    p.add_argument("path", help="recording .csv or capture .jsonl")
    p.add_argument("--speed", type=float, default=1.0,
                   help="times real time; 0 = as fast as possible (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object per event")
    add_analysis_options(p)
    add_mqtt_arguments(p, default_url="mqtt://localhost:1883")
    p.set_defaults(func=run)


def paced(
    items: Iterator[SampleChunk | DecodeProblem], speed: float
) -> Iterator[SampleChunk | DecodeProblem]:
    """Re-cut chunks into ~50 ms packets and release them at ``speed`` × real time."""
    if speed <= 0:
        yield from items
        return
    wall0: float | None = None
    t0 = 0.0
    for item in items:
        if isinstance(item, DecodeProblem):
            yield item
            continue
        for part in recut([item], PACKET_S):
            if wall0 is None:
                wall0, t0 = time.monotonic(), float(part.t[0])
            delay = wall0 + (float(part.t[-1]) - t0) / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield part


def run(args: argparse.Namespace) -> int:
    from repsense.analysis import feed, pipeline_for, source_items  # scipy: not for --help

    check_analysis_options(args)
    if args.speed < 0:
        raise InputError(f"--speed {args.speed}: give 0 (as fast as possible) or a positive factor")
    source = open_recording(args.path)
    # A new session id per run: consumers de-duplicate by event id, and a second
    # replay of the same file is a new session, not a repeat of the first.
    session_id = f"{source.name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    pipeline = pipeline_for(source, args.exercise, args.placement,
                            session_id=session_id, set_gap_s=args.set_gap)
    sinks = [ConsoleSink(json_lines=args.json)]
    # MQTT: an unreachable broker is one line on stderr; events wait in the outbox.
    mqtt = open_sink_from_args(args, sensor_id_default=source.name,
                               session_id=session_id, exercise=args.exercise,
                               source=str(args.path))
    if mqtt is not None:
        mqtt.command_unavailable = "replay plays a recording; commands need `repsense live`"
        mqtt.update_state(link="replaying")
        sinks.append(mqtt)
    try:
        for item in paced(source_items(source), args.speed):
            if mqtt is not None and isinstance(item, SampleChunk):
                mqtt.handle_samples(item)
            for ev in feed(pipeline, item):
                for sink in sinks:
                    sink.handle(ev)
        for ev in pipeline.finish():
            for sink in sinks:
                sink.handle(ev)
    finally:
        for sink in sinks:
            sink.close(args.mqtt_flush_timeout)
    return 0
