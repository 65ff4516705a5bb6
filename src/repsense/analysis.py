"""Whole-recording analysis in the ``repsense.analysis/1`` JSON contract.

This is the offline adapter: it reads a recording in chunks, pushes them
through the very same :class:`~repsense.pipeline.Pipeline` a live sensor uses,
and collects the events into one result object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from repsense.events import Event, SessionEnd, SetEnd, Warning
from repsense.io.open import RecordingSource, open_recording
from repsense.pipeline import Pipeline
from repsense.samples import SampleChunk

if TYPE_CHECKING:  # only raw captures make decode problems; CSVs need no sensor drivers
    from repsense.sensors.base import DecodeProblem

SCHEMA = "repsense.analysis/1"


def resolve_placement(placement: str, meta: dict[str, Any]) -> str:
    """``auto`` takes the sidecar's placement when it has one."""
    if placement == "auto" and meta.get("placement") in ("thigh", "shank"):
        return str(meta["placement"])
    return placement


def pipeline_for(
    source: RecordingSource, exercise: str = "auto", placement: str = "auto",
    session_id: str = "analysis", set_gap_s: float | None = None,
    gyro_matrix: np.ndarray | None = None, acc_factor: float | None = None,
) -> Pipeline:
    """A pipeline configured from a recording's sidecar and the user's options
    (and corrections found on an earlier pass, see :func:`analyze_recording`)."""
    rate = source.meta.get("sample_rate_hz")
    return Pipeline(
        exercise=exercise,
        placement=resolve_placement(placement, source.meta),
        sample_rate_hz=float(rate) if rate else None,
        session_id=session_id,
        set_gap_s=set_gap_s,
        mounting_up=source.meta.get("mounting_up"),
        gyro_matrix=gyro_matrix,
        acc_factor=acc_factor,
    )


def source_items(source: RecordingSource) -> Iterator[SampleChunk | DecodeProblem]:
    """Sample chunks and, for raw BLE captures, decode problems, in stream order."""
    items = getattr(source, "items", None)
    yield from items() if items is not None else source.chunks()


def feed(pipeline: Pipeline, item: SampleChunk | DecodeProblem) -> list[Event]:
    """Push a chunk, or turn a decode problem into a warning."""
    if isinstance(item, SampleChunk):
        return pipeline.push(item)
    return pipeline.report_problem(item)


def run_events(source: RecordingSource, pipeline: Pipeline) -> Iterator[Event]:
    """Every event of a recording, in order, as the pipeline makes them."""
    for item in source_items(source):
        yield from feed(pipeline, item)
    yield from pipeline.finish()


def summarize(events: Iterable[Event], source: RecordingSource, pipeline: Pipeline) -> dict:
    """Build the ``repsense.analysis/1`` object from a finished event stream."""
    sets: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    duration = 0.0
    for ev in events:
        if isinstance(ev, SetEnd):
            sets.append({
                "index": ev.set_index,
                "exercise": ev.exercise,
                "confidence": round(ev.confidence, 3),
                "start_s": round(ev.start_s, 3),
                "end_s": round(ev.end_s, 3),
                "rest_before_s": None if ev.rest_before_s is None else round(ev.rest_before_s, 3),
                "velocity_loss_pct": (
                    None if ev.velocity_loss_pct is None else round(ev.velocity_loss_pct, 1)
                ),
                "reps": [r.to_dict() for r in ev.reps],
                **({"note": ev.note} if ev.note else {}),
            })
        elif isinstance(ev, Warning):
            w = {"code": ev.code, "time_s": round(ev.time_s, 3), "message": ev.message}
            if ev.gap_s is not None:
                w["gap_s"] = round(ev.gap_s, 3)
            if ev.lost_samples is not None:
                w["lost_samples"] = ev.lost_samples
            warnings.append(w)
        elif isinstance(ev, SessionEnd):
            duration = ev.duration_s
    return {
        "schema": SCHEMA,
        "source": str(source.path),
        "duration_s": round(duration, 3),
        "sample_rate_hz": round(pipeline.rate_hz or 0.0, 3),
        "sets": sets,
        "total_reps": sum(len(s["reps"]) for s in sets),
        "warnings": warnings,
    }


def analyze_recording(
    path: str | Path, exercise: str = "auto", placement: str = "auto",
    set_gap_s: float | None = None,
) -> dict[str, Any]:
    """Analyse a whole recording; raises :class:`~repsense.errors.InputError` on bad input."""
    gyro_matrix: np.ndarray | None = None
    acc_factor: float | None = None
    while True:
        source = open_recording(path)
        pipeline = pipeline_for(source, exercise, placement, set_gap_s=set_gap_s,
                                gyro_matrix=gyro_matrix, acc_factor=acc_factor)
        events: list[Event] = []
        found = False
        for item in source_items(source):
            events += feed(pipeline, item)
            found = ((gyro_matrix is None and pipeline.gyro_finding_ is not None)
                     or (acc_factor is None and pipeline.acc_finding_ is not None))
            if found:
                break
        if not found:
            events += pipeline.finish()
            # judged at the end, on little tilt (see GyroAxesCheck.finish)
            found = gyro_matrix is None and pipeline.gyro_finding_ is not None
            if not found:
                return summarize(events, source, pipeline)
        # The accelerometer's range or the gyroscope's axes or units were wrong (or the
        # gyroscope read nothing), and the reps before the finding were measured so.  The
        # whole recording is at hand: go through it again with the correction (or without
        # the gyroscope) from its first sample (a live stream cannot; it warns instead),
        # without reading the rest of it first.  Each finding is made once, so this ends.
        if pipeline.gyro_finding_ is not None:
            gyro_matrix = pipeline.gyro_finding_.matrix
        if pipeline.acc_finding_ is not None:
            acc_factor = pipeline.acc_finding_.factor
