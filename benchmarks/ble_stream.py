"""Throughput of the BLE transport over the virtual air, per protocol.

Streams a simulated labelled session through the production path (virtual
Bumble peripheral -> bleak with the Bumble backend -> SensorStream -> driver
-> Pipeline) with the air clock unthrottled by a high ``--speed``, and reports
how many seconds of sensor data per wall-clock second the host side sustained,
notifications per second, loss and the rep count against the labels.  This is
an upper bound for the virtual stack (Bumble's in-process link is the
bottleneck for one-sample-per-notification protocols), not a property of real
radios.

Usage::

    python benchmarks/ble_stream.py [--speed 40] [--reps 10] [--no-pipeline] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from repsense.ble.stream import Events, Problem, Samples, SensorStream
from repsense.ble.virtual_sensor import VirtualSensor
from repsense.pipeline import Pipeline
from repsense.samples import SampleChunk
from repsense.sim import SimulatedSession

CASES = {
    "repsense": ("repsense", {}, 104.0),
    "witmotion": ("witmotion", {}, 100.0),
    "thingy52": ("thingy52", {}, 100.0),
    "polar_h10": ("polar_pmd", {}, 100.0),
    "polar_verity": ("polar_pmd", {"variant": "verity_sense"}, 52.0),
}


async def run_case(case: str, speed: float, reps: int, pipeline: bool) -> dict:
    protocol, options, rate = CASES[case]
    sim = SimulatedSession(exercise="leg_curl", placement="shank", sets=1, reps=reps,
                           rate_hz=rate, rest_s=10, seed=1, accel_only=case == "polar_h10")
    src = SampleChunk.concat(list(sim.chunks(1.0)))
    sensor = VirtualSensor(protocol, src, speed=speed, **options)
    await sensor.start()
    pipe = Pipeline(exercise="leg_curl", placement="shank", sample_rate_hz=rate) if pipeline \
        else None
    stream = SensorStream(sensor.address, backend="virtual", protocol=protocol, rate_hz=rate,
                          pipeline=pipe)
    await stream.start()
    await sensor.playing.wait()
    t0 = time.perf_counter()
    air0 = sensor.air.now()

    async def close_when_done() -> None:
        await sensor.finished.wait()
        await asyncio.sleep(0.1)
        await stream.close()

    closer = asyncio.create_task(close_when_done())
    reps_counted = 0
    lost = 0
    async for item in stream:
        events = item.events if isinstance(item, (Samples, Problem, Events)) else []
        reps_counted += sum(e.type == "rep" for e in events)
        if isinstance(item, Problem):
            lost += item.problem.lost_samples
    await closer
    wall = time.perf_counter() - t0
    air = sensor.air.now() - air0
    await sensor.stop()
    data_s = float(src.t[-1] - src.t[0])
    return {
        "case": case,
        "data_s": round(data_s, 1),
        "wall_s": round(wall, 2),
        "real_time_factor": round(data_s / wall, 1),
        "air_speed_achieved": round(air / wall, 1),
        "notifications_per_s": round(stream.stats.notifications / wall),
        "samples": stream.stats.samples,
        "lost_samples": lost,
        "reps": reps_counted if pipeline else None,
        "labels": sum(s["reps"] for s in sim.labels["sets"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--speed", type=float, default=40.0)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--no-pipeline", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [asyncio.run(run_case(c, args.speed, args.reps, not args.no_pipeline)) for c in CASES]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    keys = list(rows[0])
    print("  ".join(f"{k:>14}" for k in keys))
    for r in rows:
        print("  ".join(f"{r[k]!s:>14}" for k in keys))


if __name__ == "__main__":
    main()
