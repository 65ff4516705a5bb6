"""Rep latency: processing + MQTT transport, and the detector's algorithmic delay.

1. **Processing + transport** (wall clock): labelled recordings from
   ``recordings/`` are fed as concurrent virtual sensors, 10 samples (100 ms)
   per tick, paced at ``--speed`` times real time, gathered into batches of
   ``--batch-s`` like ``repsense live`` does, into one
   :class:`~repsense.pipeline.Pipeline` + :class:`~repsense.publish.mqtt.MqttSink`
   each (all on one shared :class:`~repsense.publish.mqtt.MqttGateway` unless
   ``--mqtt per-sensor``), publishing to a real Mosquitto.  A subscriber in
   the same process stamps each rep message on arrival (``time.monotonic``).
   Latency = arrival minus the moment the batch holding the rep was handed to
   the pipeline, i.e. the delivery of its last sample (a sample delivery
   stands in for a BLE notification; the virtual BLE link is measured
   separately in ``ble_stream.py``).  What batching adds is reported apart,
   in sensor time: the batch's last sample minus the end of the 100 ms chunk
   that held the rep's deciding sample - it adds to the algorithmic delay.
2. **Algorithmic delay** (signal time): for every labelled rep the pipeline
   found, the event's ``time_s`` minus the labelled end of the rep
   (``rep_detail[].end_s``; for a deadlift from the floor the end of its pull,
   the lockout, when its live event comes), median per exercise.  Needs no
   broker.

Usage::

    python benchmarks/latency.py [--json] [--speed 4] [--files N] [--batch-s 0.2]

Targets (issue 8): processing + transport p95 <= 50 ms; algorithmic delay
median <= 300 ms per exercise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, command_line, emit, machine_info, table  # noqa: E402
from _live import (  # noqa: E402
    VirtualSensor,
    gateway_sink,
    load,
    make_gateway,
    make_sink,
    tmpdir,
)
from repsense.analysis import pipeline_for, run_events  # noqa: E402
from repsense.events import Rep  # noqa: E402
from repsense.exercises import EXERCISES  # noqa: E402
from repsense.io.open import open_recording  # noqa: E402
from repsense.live.batching import DEFAULT_BATCH_S, SampleBatcher  # noqa: E402
from repsense.pipeline import Pipeline  # noqa: E402
from repsense.testing.broker import MessageCollector, MosquittoBroker  # noqa: E402

TICK_S = 0.1


def labelled(dirpath: Path) -> list[Path]:
    out = []
    for p in sorted(dirpath.glob("*.csv")):
        meta_path = p.with_suffix(".json")
        if not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        sets = (meta.get("labels") or {}).get("sets") or []
        if sets and all(s.get("rep_detail") for s in sets):
            out.append(p)
    return out


def _movement(exercise: str, rep: dict[str, Any]) -> tuple[str, float, float]:
    """The labelled movement a live ``rep`` event reports: exercise, start, end (s).

    Usually the whole rep.  A deadlift from the floor is labelled pull, then
    lowering, but its live event comes at lockout and reports the pull (with the
    lowering before it, see ``ExerciseInfo.final_rep_starts_concentric``): the
    lifter's count moves when the bar is locked out, so the event is paired with
    the pull and timed from the lockout.
    """
    start, end = float(rep["start_s"]), float(rep["end_s"])
    info = EXERCISES.get(exercise)
    if info is not None and info.last_excursion_is_no_rep and rep.get("concentric_s") is not None:
        end = start + float(rep["concentric_s"])
    return exercise, start, end


def algorithmic(paths: list[Path]) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """Event time minus labelled rep end, per exercise (signal seconds)."""
    delays: dict[str, list[float]] = {}
    for p in paths:
        src = open_recording(p)
        label_reps = [_movement(s.get("exercise", "?"), r)
                      for s in src.meta["labels"]["sets"] for r in s["rep_detail"]]
        ex_given = {s.get("exercise") for s in src.meta["labels"]["sets"]}
        exercise = ex_given.pop() if len(ex_given) == 1 else "auto"
        pipe = pipeline_for(src, exercise=exercise or "auto")
        for ev in run_events(src, pipe):
            if not isinstance(ev, Rep):
                continue
            # The labelled rep this event reports: the one with the largest overlap.
            best, best_ov = None, 0.0
            for ex, a, b in label_reps:
                ov = min(b, ev.rep.end_s) - max(a, ev.rep.start_s)
                if ov > best_ov:
                    best, best_ov = (ex, b), ov
            if best:
                delays.setdefault(best[0], []).append(ev.time_s - best[1])
    rows = [{"exercise": ex, "reps": len(v), "median_ms": 1000 * statistics.median(v),
             "p95_ms": 1000 * float(np.percentile(v, 95)), "max_ms": 1000 * max(v),
             "target_met": statistics.median(v) <= 0.3}
            for ex, v in sorted(delays.items())]
    return rows, delays


def transport(paths: list[Path], speed: float, batch_s: float, mqtt: str) -> dict[str, Any]:
    """Push-to-arrival latency of rep messages over a real broker.

    Samples are gathered like ``repsense live`` does (``batch_s``, staggered
    between sensors).  Two latencies per rep: from the push of the batch that
    made it (processing + transport), and the wait in the batch (sensor time) from
    the end of the 100 ms chunk holding the rep's deciding sample.
    """
    sensors: list[VirtualSensor] = []
    outbox = tmpdir()
    pushed_at: dict[str, float] = {}
    batch_wait: dict[str, float] = {}  # sensor seconds the rep waited in its batch
    with MosquittoBroker(tmpdir()) as broker, \
            MessageCollector(broker.url, ["repsense/+/events/rep"]) as sub:
        sub.wait_subscribed()
        gateway = make_gateway(broker.url, outbox) if mqtt == "shared" else None
        longest = 0.0
        per_batch = max(1, round(batch_s / TICK_S))
        for i, p in enumerate(paths):
            data, meta = load(p)
            rate = float(meta.get("sample_rate_hz") or 1.0 / np.median(np.diff(data.t)))
            per = max(1, int(round(rate * TICK_S)))
            s = VirtualSensor(f"lat{i:02d}", data, per)
            s.pipeline = Pipeline(placement=meta.get("placement") or "auto", sample_rate_hz=rate,
                                  session_id=s.name)
            s.sink = gateway_sink(gateway, s.name) if gateway is not None else \
                make_sink(broker.url, s.name, outbox)
            s.batcher = SampleBatcher(batch_s)  # type: ignore[attr-defined]
            s.phase = i % per_batch  # type: ignore[attr-defined]  # sensors not in step
            s.waiting = []  # type: ignore[attr-defined]  # last sample time of each chunk
            sensors.append(s)
            longest = max(longest, float(data.t[-1] - data.t[0]))
        ticks = int(longest / TICK_S) + 1
        start = time.monotonic()
        for k in range(ticks):
            due = start + k * TICK_S / speed
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            for s in sensors:
                if k * s.per_chunk >= len(s.data):
                    continue
                chunk = s.next_chunk()
                s.waiting.append(float(chunk.t[-1]))  # type: ignore[attr-defined]
                batch = s.batcher.add(chunk)  # type: ignore[attr-defined]
                last = (k + 1) * s.per_chunk >= len(s.data)
                if batch is None and (k + 1 == s.phase or last):  # type: ignore[attr-defined]
                    batch = s.batcher.take()  # type: ignore[attr-defined]
                if batch is None:
                    continue
                t_push = time.monotonic()
                for ev in s.pipeline.push(batch):
                    if isinstance(ev, Rep):
                        pushed_at[ev.id] = t_push
                        held = next((t_end for t_end in s.waiting  # type: ignore[attr-defined]
                                     if t_end >= ev.time_s - 1e-9), float(batch.t[-1]))
                        batch_wait[ev.id] = float(batch.t[-1]) - held
                    s.sink.handle(ev)
                s.waiting.clear()  # type: ignore[attr-defined]
        if gateway is not None:
            gateway.wait_idle(10.0)
        for s in sensors:
            s.sink.wait_idle(10.0)
        sub.wait_for(lambda msgs: len(msgs) >= len(pushed_at), timeout_s=10.0)
        msgs = sub.snapshot()
        for s in sensors:
            s.sink.close(1.0)
        if gateway is not None:
            gateway.close(1.0)
    lat = []
    for m in msgs:
        pid = m.json().get("id")
        if pid in pushed_at:
            lat.append(m.received_at - pushed_at[pid])
    lat_ms = np.array(lat) * 1000
    wait_ms = np.array(list(batch_wait.values())) * 1000

    def pct(a: np.ndarray, q: float) -> float | None:
        return float(np.percentile(a, q)) if len(a) else None

    return {"sensors": len(sensors), "speed": speed, "batch_s": batch_s, "mqtt": mqtt,
            "reps_sent": len(pushed_at), "reps_received": len(lat),
            "p50_ms": pct(lat_ms, 50), "p95_ms": pct(lat_ms, 95), "p99_ms": pct(lat_ms, 99),
            "max_ms": float(lat_ms.max()) if lat else None,
            "batch_wait_p50_ms": pct(wait_ms, 50), "batch_wait_p95_ms": pct(wait_ms, 95),
            "batch_wait_max_ms": float(wait_ms.max()) if len(wait_ms) else None,
            "target_met": bool(lat) and float(np.percentile(lat_ms, 95)) <= 50.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dir", type=Path, default=REPO / "recordings")
    parser.add_argument("--speed", type=float, default=4.0,
                        help="times real time for the transport run")
    parser.add_argument("--files", type=int, default=0, help="use only the first N recordings")
    parser.add_argument("--batch-s", type=float, default=DEFAULT_BATCH_S,
                        help="live.batch_s: seconds of samples per pipeline push (0 = per tick)")
    parser.add_argument("--mqtt", choices=("shared", "per-sensor"), default="shared",
                        help="one MqttGateway for all sensors, or a connection per sensor")
    args = parser.parse_args()

    paths = labelled(args.dir)
    if args.files:
        paths = paths[: args.files]
    algo_rows, _ = algorithmic(paths)
    tr = transport(paths, args.speed, args.batch_s, args.mqtt)
    result = {"benchmark": "latency", "command": command_line(), "machine": machine_info(),
              "recordings": [str(p) for p in paths], "transport": tr, "algorithmic": algo_rows,
              "targets": {"transport_p95_ms": 50, "algorithmic_median_ms": 300}}
    text = [table([tr], list(tr.keys()),
                  "Processing + MQTT transport: chunk handed to the pipeline -> rep at subscriber"),
            "", table(algo_rows, list(algo_rows[0].keys()) if algo_rows else ["exercise"],
                      "Algorithmic delay: rep event time_s - labelled rep end (signal time)")]
    emit(result, args.json, "\n".join(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
