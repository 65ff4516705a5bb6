"""How many 100 Hz sensors one core carries through the live pipeline into a real Mosquitto.

Every virtual sensor gets 10 samples (one 100 ms BLE tick) per tick from a
recording in ``recordings/`` (looped, each sensor at a different offset),
gathers them like ``repsense live`` does (:class:`~repsense.live.batching.SampleBatcher`,
``--batch-s``, default 0.2 s; sensors' batches are staggered as real sensors'
would be) and pushes each batch into its own :class:`~repsense.pipeline.Pipeline`;
events go to the sensor's :class:`~repsense.publish.mqtt.MqttSink`, publishing
to a real Mosquitto started by :mod:`repsense.testing.broker`, either all over
one shared :class:`~repsense.publish.mqtt.MqttGateway` (``--mqtt shared``, the
default) or with one connection and outbox per sensor (``--mqtt per-sensor``,
what one ``repsense live`` process per sensor amounts to).  The notification
chunks are cut before the clock starts (the harness is not the live path).

1. Throughput: N sensors' data as fast as possible; process CPU time (all
   threads, paho's included) per sensor-second of data gives the cost of one
   sensor as a fraction of a core, and so the capacity.  The old live path
   (``--batch-s 0``, a connection per sensor) is measured beside it at the
   largest size for comparison (``--no-compare`` skips that).
2. Paced check: the largest N under one core (0.9 x the capacity, capped by
   ``--max-n``, or ``--paced-n``) runs in real time for ``--paced-s``
   seconds; the lag behind the 100 ms schedule and the publish queue must not
   grow.

Usage::

    python benchmarks/live_capacity.py [--json] [--sim-s 60] [--paced-s 20] [--batch-s 0.2]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, emit, machine_info, table  # noqa: E402
from _live import (  # noqa: E402
    DEFAULT_RECORDING,
    VirtualSensor,
    gateway_sink,
    load,
    make_gateway,
    make_sink,
    tmpdir,
)
from repsense.live.batching import DEFAULT_BATCH_S, SampleBatcher  # noqa: E402
from repsense.pipeline import Pipeline  # noqa: E402
from repsense.testing.broker import MosquittoBroker  # noqa: E402

RATE = 100.0
TICK_S = 0.1
PER_CHUNK = int(RATE * TICK_S)


class Fleet:
    """N sensors with their pipelines, batchers and sinks (and the shared gateway, if any)."""

    def __init__(self, n: int, data: Any, meta: dict[str, Any], url: str | None, mqtt: str,
                 batch_s: float, ticks: int) -> None:
        self.mqtt = mqtt if url else "off"
        self.gateway = make_gateway(url, tmpdir()) if url and mqtt == "shared" else None
        outbox = tmpdir()
        self.sensors: list[VirtualSensor] = []
        per_batch = max(1, round(batch_s / TICK_S))
        for i in range(n):
            s = VirtualSensor(f"s{i:03d}", data, PER_CHUNK, offset=i * 137)
            s.pipeline = Pipeline(placement=meta.get("placement", "auto"), sample_rate_hz=RATE,
                                  session_id=s.name)
            if self.gateway is not None:
                s.sink = gateway_sink(self.gateway, s.name)
            elif url:
                s.sink = make_sink(url, s.name, outbox)
            s.batcher = SampleBatcher(batch_s)  # type: ignore[attr-defined]
            # Real sensors are not in step: sensor i's first batch is cut short so that
            # batches end on different ticks.
            s.phase = i % per_batch  # type: ignore[attr-defined]
            # The BLE notifications, cut before the clock starts.
            s.chunks = [s.next_chunk() for _ in range(ticks)]  # type: ignore[attr-defined]
            self.sensors.append(s)

    def tick(self, k: int) -> int:
        n_events = 0
        for s in self.sensors:
            batch = s.batcher.add(s.chunks[k])  # type: ignore[attr-defined]
            if batch is None and k + 1 == s.phase:  # type: ignore[attr-defined]
                batch = s.batcher.take()  # type: ignore[attr-defined]
            if batch is None:
                continue
            events = s.pipeline.push(batch)
            n_events += len(events)
            if s.sink is not None:
                for ev in events:
                    s.sink.handle(ev)
        return n_events

    def flush(self) -> int:
        """Push what the batchers still hold (the end of the data), as the runner does."""
        n_events = 0
        for s in self.sensors:
            batch = s.batcher.take()  # type: ignore[attr-defined]
            if batch is not None:
                events = s.pipeline.push(batch)
                n_events += len(events)
                for ev in events if s.sink is not None else []:
                    s.sink.handle(ev)
        return n_events

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        if self.gateway is not None:
            self.gateway.wait_idle(timeout_s)
            return
        deadline = time.monotonic() + timeout_s
        for s in self.sensors:
            if s.sink is not None:
                s.sink.wait_idle(max(0.0, deadline - time.monotonic()))

    def pending(self) -> int:
        return sum(s.sink.pending for s in self.sensors if s.sink is not None)

    def close(self) -> int:
        """Close every sink (and the gateway); messages left unacknowledged."""
        self.wait_idle()
        pending = 0
        for s in self.sensors:
            if s.sink is not None:
                pending += s.sink.close(1.0).pending
        if self.gateway is not None:
            pending = self.gateway.close(2.0).pending
        return pending


def throughput(n: int, sim_s: float, data: Any, meta: dict[str, Any], url: str | None,
               mqtt: str, batch_s: float) -> dict[str, Any]:
    ticks = int(sim_s / TICK_S)
    fleet = Fleet(n, data, meta, url, mqtt, batch_s, ticks)
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    events = sum(fleet.tick(k) for k in range(ticks)) + fleet.flush()
    fleet.wait_idle()  # the sinks' threads finish their publishing inside the measurement
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    pending = fleet.close()
    per = cpu / (n * sim_s)
    return {"sensors": n, "batch_s": batch_s, "mqtt": fleet.mqtt, "sim_s": sim_s,
            "events": events, "cpu_s": cpu, "wall_s": wall,
            "cpu_per_sensor_%": 100.0 * per, "sensors_per_core": 1.0 / per, "unsent": pending}


def paced(n: int, secs: float, data: Any, meta: dict[str, Any], url: str, mqtt: str,
          batch_s: float) -> dict[str, Any]:
    ticks = int(secs / TICK_S)
    fleet = Fleet(n, data, meta, url, mqtt, batch_s, ticks)
    gc.collect()
    lags = []
    c0 = time.process_time()
    start = time.perf_counter()
    for k in range(ticks):
        due = start + k * TICK_S
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        lags.append(time.perf_counter() - due)
        fleet.tick(k)
    fleet.flush()
    wall = time.perf_counter() - start
    cpu = time.process_time() - c0
    queued = fleet.pending()
    pending = fleet.close()
    third = max(1, len(lags) // 3)
    first, last = sum(lags[:third]) / third, sum(lags[-third:]) / third
    return {"sensors": n, "batch_s": batch_s, "mqtt": mqtt, "seconds": secs,
            "cpu_%_of_one_core": 100.0 * cpu / wall,
            "lag_first_third_ms": 1000 * first, "lag_last_third_ms": 1000 * last,
            "lag_max_ms": 1000 * max(lags), "queued_at_end": queued,
            "unsent_after_close": pending,
            "backlog_growing": last > first + 0.05 or last > TICK_S}


def profile_ticks(data: Any, meta: dict[str, Any], batch_s: float, top: int = 15
                  ) -> list[dict[str, Any]]:
    """Top functions by own time while 20 pipelines eat 60 s of data (no MQTT)."""
    import cProfile
    import pstats

    fleet = Fleet(20, data, meta, None, "off", batch_s, 600)
    prof = cProfile.Profile()
    prof.enable()
    for k in range(600):
        fleet.tick(k)
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
    parser.add_argument("--batch-s", type=float, default=DEFAULT_BATCH_S,
                        help="live.batch_s: seconds of samples per pipeline push (0 = per tick)")
    parser.add_argument("--mqtt", choices=("shared", "per-sensor"), default="shared",
                        help="one MqttGateway for all sensors, or a connection per sensor")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the old path (batch 0, per-sensor MQTT) at the largest size")
    parser.add_argument("--paced-s", type=float, default=20.0)
    parser.add_argument("--paced-n", type=int, default=0, help="sensors in the paced check "
                        "(default 0.9 x the measured capacity, capped by --max-n)")
    parser.add_argument("--max-n", type=int, default=400)
    parser.add_argument("--profile", action="store_true",
                        help="cProfile 20 sensors without MQTT: where a tick's time goes")
    args = parser.parse_args()

    data, meta = load(args.recording)
    rows = []
    sizes = [int(x) for x in args.sizes.split(",")]
    with MosquittoBroker(tmpdir()) as broker:
        for n in sizes:
            rows.append(throughput(n, args.sim_s, data, meta, None, "off", args.batch_s))
            rows.append(throughput(n, args.sim_s, data, meta, broker.url, args.mqtt,
                                   args.batch_s))
        best = rows[-1]["sensors_per_core"]
        if not args.no_compare:
            rows.append(throughput(sizes[-1], args.sim_s, data, meta, None, "off", 0.0))
            rows.append(throughput(sizes[-1], args.sim_s, data, meta, broker.url, "per-sensor",
                                   0.0))
        n_paced = args.paced_n or max(1, min(args.max_n, int(0.9 * best)))
        check = paced(n_paced, args.paced_s, data, meta, broker.url, args.mqtt,
                      args.batch_s) if args.paced_s else None
    hot = profile_ticks(data, meta, args.batch_s) if args.profile else None
    result = {"benchmark": "live_capacity", "command": command_line(), "machine": machine_info(),
              "recording": str(args.recording), "rate_hz": RATE, "chunk_samples": PER_CHUNK,
              "batch_s": args.batch_s, "mqtt_mode": args.mqtt,
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
