"""Soak: a long simulated session over virtual BLE and MQTT with faults; nothing lost or doubled.

A :class:`~repsense.sim.SimulatedSession` (glute bridges, sets of 10 with
rests) streams from the Bumble virtual sensor through the production BLE
code (:class:`~repsense.live.sources.BleSource`) into the live runner and its
:class:`~repsense.publish.mqtt.MqttSink`, at ``--speed`` times real time,
while the link drops at random moments (the sensor buffers meanwhile, like
firmware with a ring buffer), garbage notifications are injected, and the
Mosquitto broker is killed and restarted ``--restarts`` times.  A persistent
subscriber collects the rep events; after de-duplication by ``id`` every rep
the session's pipeline made must have arrived exactly once, and their number
is compared with the labels and with ``analyze`` of the same samples.  RSS of
the process is sampled to show it does not grow.

Usage::

    python benchmarks/soak.py [--json] [--hours 2] [--speed 100] [--drops 6] [--restarts 2]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, emit, machine_info, table  # noqa: E402
from repsense.ble.virtual_sensor import Faults, VirtualSensor  # noqa: E402
from repsense.live.runner import LiveOptions, run_live  # noqa: E402
from repsense.live.sources import BleSource  # noqa: E402
from repsense.pipeline import Pipeline  # noqa: E402
from repsense.publish.config import ClientTuning, parse_mqtt_url  # noqa: E402
from repsense.publish.mqtt import MqttSink  # noqa: E402
from repsense.publish.topics import Topics  # noqa: E402
from repsense.samples import SampleChunk  # noqa: E402
from repsense.sim import SimulatedSession  # noqa: E402
from repsense.testing.broker import MessageCollector, MosquittoBroker  # noqa: E402

FAST = ClientTuning(keepalive_s=5, reconnect_min_s=0.1, reconnect_max_s=0.5,
                    connect_timeout_s=2.0)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def run_soak(hours: float, speed: float, drops: int, restarts: int, seed: int = 8,
             rate_hz: float = 50.0, malformed_every: int = 200, workdir: Path | None = None
             ) -> dict[str, Any]:
    """Run one soak and return what arrived, what was expected and the RSS curve."""
    work = workdir or Path(tempfile.mkdtemp(prefix="repsense-soak-"))
    rng = np.random.default_rng(seed)
    set_s, rest_s = 10 * 3.5, 90.0
    sets = max(1, int(hours * 3600 / (set_s + rest_s)))
    if sets > 50:  # the simulator's limit: longer rests fill the hours instead
        sets = 50
        rest_s = hours * 3600 / sets - set_s
    sim = SimulatedSession(exercise="glute_bridge", sets=sets, reps=10, rest_s=rest_s,
                           rate_hz=rate_hz, seed=seed, nuisance="none")
    samples = SampleChunk.concat(list(sim.chunks(10.0)))
    t0, t_end = float(samples.t[0]), float(samples.t[-1])
    duration = t_end - t0
    labelled = sum(s["reps"] for s in sim.labels["sets"])
    offline = Pipeline(exercise="auto", placement=sim.meta.get("placement", "auto"),
                       sample_rate_hz=rate_hz, session_id="offline")
    off_events = offline.push(samples) + offline.finish()
    offline_reps = sum(e.type == "rep" for e in off_events)

    drop_at = sorted(rng.uniform(0.05, 0.95, drops) * duration)
    virtual = VirtualSensor("repsense", samples, speed=speed, rate_hz=rate_hz,
                            faults=Faults(drop_at_s=list(drop_at), down_s=2.0,
                                          buffer_while_down=True,
                                          malformed_every=malformed_every, seed=seed))
    meta = {k: v for k, v in sim.meta.items() if k != "sample_rate_hz"}
    rss: list[tuple[float, float]] = []
    play: list[float | None] = [None, None]  # wall times: playback started, all sent
    with MosquittoBroker(work / "broker", persistence=True) as broker, \
            MessageCollector(broker.url, ["repsense/+/events/rep"], client_id="soak-sub",
                             persistent=True) as sub:
        sub.wait_subscribed()
        sink = MqttSink(parse_mqtt_url(broker.url), Topics.make("soak", "gw-soak"),
                        outbox_path=work / "outbox.sqlite", ha_discovery=False, tuning=FAST,
                        status=lambda _m: None).open()
        stop = threading.Event()
        wall_s = duration / speed
        restart_at = [wall_s * (k + 1) / (restarts + 1) for k in range(restarts)]

        def chaos() -> None:
            start = time.monotonic()
            pending = list(restart_at)
            k = 0
            while not stop.is_set():
                now = time.monotonic() - start
                if k % 5 == 0:
                    rss.append((now, rss_mb()))  # wall seconds since the start
                k += 1
                # When the sensor plays (a flag read from this thread, to 0.1 s)
                if play[0] is None and virtual.playing.is_set():
                    play[0] = time.monotonic()
                if play[1] is None and virtual.finished.is_set():
                    play[1] = time.monotonic()
                if pending and now >= pending[0]:
                    pending.pop(0)
                    broker.stop(kill=True)
                    time.sleep(1.0)
                    broker.start()
                stop.wait(0.1)

        th = threading.Thread(target=chaos, daemon=True)
        th.start()
        source = BleSource("sim:glute_bridge", backend="virtual", virtual=virtual, meta=meta,
                           speed=speed)
        started = time.monotonic()
        result, runner = run_live(LiveOptions(sensor="sim:glute_bridge", speed=speed, plain=True,
                                              data_dir=work / "data", mqtt_label="on"),
                                  source, sink=sink, out=io.StringIO(), interactive=False)
        wall = time.monotonic() - started
        stop.set()
        th.join()
        sink.wait_idle(20.0)
        live_reps = int(result.summary.get("total_reps") or sum(
            s.get("reps", 0) for s in result.summary.get("sets", [])))
        sub.wait_for(lambda msgs: len({json.loads(m.payload)["id"] for m in msgs}) >= live_reps,
                     timeout_s=20.0)
        msgs = sub.snapshot()
        sink.close(2.0)
    ids = [json.loads(m.payload)["id"] for m in msgs]
    unique = set(ids)
    n_rss = max(1, len(rss) // 10)
    rss_first = float(np.median([r for _, r in rss[:n_rss]])) if rss else float("nan")
    rss_last = float(np.median([r for _, r in rss[-n_rss:]])) if rss else float("nan")
    return {
        "hours": duration / 3600.0, "speed": speed, "wall_s": wall, "sets": sets,
        # what the air sustained, start-up and shut-down included (it slows down, never
        # piles up delay, when the host cannot keep up)
        "achieved_speed": duration / wall,
        "playing_speed": (duration / (play[1] - play[0]) if None not in play
                          and play[1] > play[0] else None),  # type: ignore[operator]
        "link_drops": virtual.drops, "broker_restarts": restarts,
        "reconnects": result.summary.get("link", {}).get("reconnects"),
        "labelled_reps": labelled, "offline_reps": offline_reps, "live_reps": live_reps,
        "messages": len(ids), "unique_rep_ids": len(unique), "duplicates": len(ids) - len(unique),
        "exactly_once": len(unique) == live_reps,
        "rss_first_mb": rss_first, "rss_last_mb": rss_last,
        "rss_curve": rss[:: max(1, len(rss) // 20)],
    }


def main() -> int:
    import logging

    logging.getLogger("repsense").setLevel(logging.ERROR)  # injected garbage is logged per packet
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--drops", type=int, default=6)
    parser.add_argument("--restarts", type=int, default=2)
    args = parser.parse_args()
    r = run_soak(args.hours, args.speed, args.drops, args.restarts)
    r.update(benchmark="soak", command=command_line(), machine=machine_info())
    cols = ["hours", "speed", "achieved_speed", "playing_speed", "wall_s", "link_drops",
            "broker_restarts", "reconnects",
            "labelled_reps", "offline_reps", "live_reps", "messages", "unique_rep_ids",
            "duplicates", "exactly_once", "rss_first_mb", "rss_last_mb"]
    curve = [{"wall s": t, "RSS MB": m} for t, m in r["rss_curve"]]
    emit(r, args.json, table([r], cols) + "\n\n" + table(curve, ["wall s", "RSS MB"],
                                                          "RSS over the session"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
