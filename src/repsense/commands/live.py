"""``repsense live``: a training session with a sensor, a plan and a live view."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from repsense.ble.backend import add_backend_arguments
from repsense.errors import InputError
from repsense.exercises import EXERCISE_IDS, check_exercise
from repsense.publish.options import add_mqtt_arguments

EPILOG = """\
keys in the full-screen view:
  n next exercise   p previous exercise   u undo last rep   e / space end set
  q end session     k keep the plan / s switch (when asked about the exercise)
The same actions arrive as MQTT commands. Ctrl-C ends the session cleanly (it is saved).

examples:
  repsense live --sensor sim:romanian_deadlift --plan hamstrings-glutes-gym --speed 20
  repsense live --sensor left-thigh --plan heavy-3x3-6 --mqtt mqtt://localhost:1883
  repsense live --sensor sim:recordings/leg_curl_prone_shank_50hz.csv --plain --speed 20

Settings also come from the config file and REPSENSE_* variables (see `repsense config show`).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "live",
        help="train with a sensor: follow a plan, see reps and tempo live, store the session",
        description="Run a live training session: stream a sensor (a paired profile, a "
        "Bluetooth address, or sim:EXERCISE / sim:RECORDING for the virtual sensor), follow a "
        "plan set by set, show reps, tempo against the target, rest countdown and link status "
        "full-screen (or one line per event with --plain or without a terminal), publish to "
        "MQTT, and store the session (raw samples, events, summary) in the history.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sensor", default=None, metavar="PROFILE|ADDRESS|sim:EXERCISE|sim:FILE",
                   help="the sensor: a profile from `repsense pair`, a Bluetooth address, "
                   "sim:EXERCISE (simulated lifter on the virtual BLE sensor; with --plan it "
                   "does the whole plan) or sim:FILE.csv (a recording on the virtual sensor); "
                   "default: live.sensor from the config")
    p.add_argument("--plan", default=None, metavar="NAME|FILE",
                   help="plan to follow: a name from `repsense plans` or a .toml file")
    p.add_argument("--exercise", default=None, metavar="ID",
                   help="without a plan: the exercise (auto recognises); with a plan: start at "
                   "this exercise. One of auto, " + ", ".join(EXERCISE_IDS))
    p.add_argument("--placement", default=None, choices=("auto", "thigh", "shank"),
                   help="where the sensor is strapped (default: the plan's, else the profile's)")
    p.add_argument("--set-gap", type=float, default=None, metavar="S",
                   help="seconds without a rep that end a set (default 15)")
    p.add_argument("--speed", type=float, default=None, metavar="X",
                   help="for sim: sensors, run X times faster than real time (0 = as fast as "
                   "possible, in-process); default 1")
    p.add_argument("--plain", action="store_true", default=None,
                   help="one line per event instead of the full-screen view (automatic when "
                   "stdout is not a terminal)")
    p.add_argument("--no-bell", dest="bell", action="store_false", default=None,
                   help="no terminal bell when rest is over")
    p.add_argument("--batch-s", type=float, default=None, metavar="S",
                   help="push samples to the pipeline in batches of S seconds (0-1, default "
                   "0.2; 0 = every packet): less CPU per sensor, reps show up to S later")
    p.add_argument("--seed", type=int, default=None, help="random seed of the simulated lifter")
    p.add_argument("--sim-transport", choices=("ble", "direct"), default="ble",
                   help="sim: through the virtual BLE sensor (default) or directly in-process")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="where sessions are stored (default: REPSENSE_DATA_DIR, the config, or "
                   "the platform's user data directory)")
    add_mqtt_arguments(p)
    add_backend_arguments(p)
    p.set_defaults(func=run)


class _StatusRelay:
    """MQTT status lines: to stderr until the runner routes them into its view."""

    def __init__(self) -> None:
        self.target: Any = None

    def __call__(self, message: str) -> None:
        if self.target is not None:
            self.target(message)
        else:
            print(f"repsense live: mqtt: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from repsense.live.config import Config, data_dir, mask_text
    from repsense.live.plans import find_plan
    from repsense.live.runner import LiveOptions, run_live
    from repsense.live.sources import open_source

    cfg = Config(flags={
        "live.sensor": args.sensor,
        "live.plan": args.plan,
        "live.speed": args.speed,
        "live.plain": args.plain,
        "live.bell": args.bell,
        "live.batch_s": args.batch_s,
        "analysis.exercise": args.exercise,
        "analysis.placement": args.placement,
        "mqtt.url": getattr(args, "mqtt", None),
        "paths.data_dir": args.data_dir,
    })
    sensor = str(cfg.get("live.sensor"))
    speed = float(cfg.get("live.speed"))
    if speed < 0:
        raise InputError(f"--speed {speed:g}: give 0 (as fast as possible) or a positive factor")
    if not sensor.startswith("sim:") and speed != 1.0:
        raise InputError(f"--speed {speed:g}: only sim: sensors can run faster than real time; "
                         "drop --speed for a real sensor")
    batch_s = float(cfg.get("live.batch_s"))
    if not 0.0 <= batch_s <= 1.0:
        raise InputError(f"--batch-s {batch_s:g}: give 0 (every packet) to 1 second")
    if args.set_gap is not None and not 2.0 <= args.set_gap <= 600.0:
        raise InputError(f"--set-gap {args.set_gap}: give a quiet period of 2-600 seconds")
    exercise = check_exercise(str(cfg.get("analysis.exercise")))
    plan_ref = cfg.get("live.plan")
    plan = find_plan(str(plan_ref)) if plan_ref else None
    if plan is not None and exercise != "auto" and exercise not in {e.id for e in plan.exercises}:
        raise InputError(f"--exercise {exercise}: plan '{plan.name}' has no {exercise}; "
                         "pick one of " + ", ".join(dict.fromkeys(e.id for e in plan.exercises)))
    from repsense.ble.backend import backend_from_args
    from repsense.publish.options import open_sink_from_args

    backend, specs = backend_from_args(args)
    if sensor.startswith("sim:") and specs:
        raise InputError("--virtual: sim: sensors bring their own virtual sensor; use --virtual "
                         "with --sensor NAME|ADDRESS of the virtual sensor")
    source = open_source(sensor, plan, speed=speed, seed=args.seed,
                         transport=args.sim_transport, backend=backend, virtual_specs=specs)
    url = None if args.no_mqtt else cfg.get("mqtt.url")
    relay = _StatusRelay()
    sink = open_sink_from_args(args, sensor_id_default=_sensor_id(sensor), status=relay)
    options = LiveOptions(
        sensor=sensor, plan=plan, exercise=exercise if plan is None else "auto",
        placement=str(cfg.get("analysis.placement")), speed=speed,
        plain=bool(cfg.get("live.plain")), bell=bool(cfg.get("live.bell")),
        set_gap_s=args.set_gap, data_dir=data_dir(cfg),
        mqtt_label="off" if sink is None else f"→ {mask_text(str(url))}",
        mqtt_flush_s=args.mqtt_flush_timeout, batch_s=batch_s,
    )

    def prepare(runner: Any) -> None:
        if plan is not None and exercise != "auto":
            runner.session.act(f"exercise:{exercise}")
        if runner.interactive:  # keep the full screen clean: status lines go into the view
            relay.target = runner.state.messages.append

    try:
        result, runner = run_live(options, source, sink, out=sys.stdout, on_runner=prepare)
    except BaseException:
        if sink is not None:
            sink.close(args.mqtt_flush_timeout)
        raise
    relay.target = None
    report = runner.mqtt_report
    if isinstance(report, Exception):
        print(f"repsense live: mqtt: closing failed: {report}", file=sys.stderr)
    elif report is not None and getattr(report, "pending", 0):
        print(f"repsense live: mqtt: {report.pending} messages not yet taken by the broker stay "
              f"in {report.outbox} and go out next time", file=sys.stderr)
    s = result.summary
    print(f"session {result.session_id} saved in {result.path}: {s.get('total_sets', 0)} sets, "
          f"{s.get('total_reps', 0)} reps ({s.get('end_reason', '')}); "
          f"`repsense report {result.session_id}` draws it")
    return 0


def _sensor_id(sensor: str) -> str:
    """A default MQTT sensor id from ``--sensor``."""
    if sensor.startswith("sim:"):
        tail = sensor[4:].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return f"sim-{tail}" if tail else "sim"
    return sensor.replace(":", "").lower()
