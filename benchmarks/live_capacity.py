"""How many 100 Hz sensors one core carries through the live pipeline into a real Mosquitto.

Every virtual sensor has its own :class:`~repsense.pipeline.Pipeline` and its
own :class:`~repsense.publish.mqtt.MqttSink` (as ``repsense live`` makes them),
publishing to a real Mosquitto started by :mod:`repsense.testing.broker`.
Samples come from a recording in ``recordings/`` (looped, each sensor at a
different offset) in chunks of 10 samples, i.e. one 100 ms tick.

1. Throughput: N sensors' data as fast as possible; process CPU time (all
   threads, paho's included) per sensor-second of data gives the cost of one
   sensor as a fraction of a core, and so the capacity.
2. Paced check: the largest N under one core (capped by ``--max-n``) runs in
   real time for ``--paced-s`` seconds; the lag behind the 100 ms schedule and
   the publish queue must not grow.

Usage::

    python benchmarks/live_capacity.py [--json] [--sim-s 60] [--paced-s 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, emit, machine_info, table  # noqa: E402
from _live import DEFAULT_RECORDING, VirtualSensor, load, make_sink, tmpdir  # noqa: E402
from repsense.pipeline import Pipeline  # noqa: E402
from repsense.testing.broker import MosquittoBroker  # noqa: E402

RATE = 100.0
TICK_S = 0.1
PER_CHUNK = int(RATE * TICK_S)


def build(n: int, data: Any, meta: dict[str, Any], url: str | None, outbox: Path
          ) -> list[VirtualSensor]:
    sensors = []
    for i in range(n):
        s = VirtualSensor(f"s{i:03d}", data, PER_CHUNK, offset=i * 137)
        s.pipeline = Pipeline(placement=meta.get("placement", "auto"), sample_rate_hz=RATE,
                              session_id=s.name)
        if url:
            s.sink = make_sink(url, s.name, outbox)
        sensors.append(s)
    return sensors


def tick(sensors: list[VirtualSensor]) -> int:
    n_events = 0
    for s in sensors:
        events = s.pipeline.push(s.next_chunk())
        n_events += len(events)
        if s.sink is not None:
            for ev in events:
                s.sink.handle(ev)
    return n_events


def close(sensors: list[VirtualSensor]) -> int:
    pending = 0
    for s in sensors:
        if s.sink is not None:
            s.sink.wait_idle(10.0)
            pending += s.sink.pending
            s.sink.close(1.0)
    return pending


def throughput(n: int, sim_s: float, data: Any, meta: dict[str, Any], url: str | None
               ) -> dict[str, Any]:
    sensors = build(n, data, meta, url, tmpdir())
    ticks = int(sim_s / TICK_S)
    c0, w0 = time.process_time(), time.perf_counter()
    events = sum(tick(sensors) for _ in range(ticks))
    for s in sensors:  # the sinks' threads finish their publishing inside the measurement
        if s.sink is not None:
            s.sink.wait_idle(10.0)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    pending = close(sensors)
    per = cpu / (n * sim_s)
    return {"sensors": n, "mqtt": bool(url), "sim_s": sim_s, "events": events, "cpu_s": cpu,
            "wall_s": wall, "cpu_per_sensor_%": 100.0 * per, "sensors_per_core": 1.0 / per,
            "unsent": pending}


def paced(n: int, secs: float, data: Any, meta: dict[str, Any], url: str) -> dict[str, Any]:
    sensors = build(n, data, meta, url, tmpdir())
    ticks = int(secs / TICK_S)
    lags = []
    c0 = time.process_time()
    start = time.perf_counter()
    for k in range(ticks):
        due = start + k * TICK_S
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        lags.append(time.perf_counter() - due)
        tick(sensors)
    wall = time.perf_counter() - start
    cpu = time.process_time() - c0
    queued = sum(s.sink.pending for s in sensors)
    pending = close(sensors)
    third = max(1, len(lags) // 3)
    first, last = sum(lags[:third]) / third, sum(lags[-third:]) / third
    return {"sensors": n, "seconds": secs, "cpu_%_of_one_core": 100.0 * cpu / wall,
            "lag_first_third_ms": 1000 * first, "lag_last_third_ms": 1000 * last,
            "lag_max_ms": 1000 * max(lags), "queued_at_end": queued, "unsent_after_close": pending,
            "backlog_growing": last > first + 0.05 or last > TICK_S}


def profile_ticks(data: Any, meta: dict[str, Any], top: int = 15) -> list[dict[str, Any]]:
    """Top functions by own time while 20 pipelines eat 60 s of 100 ms chunks."""
    import cProfile
    import pstats

    sensors = build(20, data, meta, None, tmpdir())
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(600):
        tick(sensors)
    prof.disable()
    st = pstats.Stats(prof)
    total = st.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _c) in st.stats.items():  # type: ignore[attr-defined]
        short = file.split("/src/")[-1] if "/src/" in file else Path(file).name
        rows.append({"function": f"{short}:{line}({func})", "calls": nc,
                     "own_%": 100.0 * tt / total, "cum_%": 100.0 * ct / total})
    rows.sort(key=lambda r: r["own_%"], reverse=True)
    return rows[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--recording", type=Path, default=DEFAULT_RECORDING)
    parser.add_argument("--sim-s", type=float, default=60.0, help="seconds of data per sensor")
    parser.add_argument("--sizes", default="1,20,100")
    parser.add_argument("--paced-s", type=float, default=20.0)
    parser.add_argument("--max-n", type=int, default=400)
    parser.add_argument("--profile", action="store_true",
                        help="cProfile 20 sensors without MQTT: where a tick's time goes")
    args = parser.parse_args()

    data, meta = load(args.recording)
    rows = []
    with MosquittoBroker(tmpdir()) as broker:
        for n in [int(x) for x in args.sizes.split(",")]:
            rows.append(throughput(n, args.sim_s, data, meta, None))
            rows.append(throughput(n, args.sim_s, data, meta, broker.url))
        best = rows[-1]["sensors_per_core"]
        n_paced = max(1, min(args.max_n, int(0.9 * best)))
        check = paced(n_paced, args.paced_s, data, meta, broker.url) if args.paced_s else None
    hot = profile_ticks(data, meta) if args.profile else None
    result = {"benchmark": "live_capacity", "command": command_line(), "machine": machine_info(),
              "recording": str(args.recording), "rate_hz": RATE, "chunk_samples": PER_CHUNK,
              "throughput": rows, "paced": check, "profile": hot,
              "target_sensors_per_core": 200,
              "target_met": bool(check and not check["backlog_growing"]
                                 and check["sensors"] >= 200
                                 and check["cpu_%_of_one_core"] < 100)}
    text = [table(rows, list(rows[0].keys()),
                  "Throughput (as fast as possible; CPU of the whole process, all threads)")]
    if check:
        text += ["", table([check], list(check.keys()), "Paced in real time")]
    if hot:
        text += ["", table(hot, list(hot[0].keys()), "cProfile, 20 sensors x 60 s, no MQTT")]
    text += ["", f"target >= 200 sensors per core met: {result['target_met']}"]
    emit(result, args.json, "\n".join(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
