"""The link drops mid-set: the session reconnects and carries on with the same set."""

from __future__ import annotations

import io
from pathlib import Path

from repsense.ble.virtual_sensor import Faults, VirtualSensor
from repsense.live.plans import load_plan_file
from repsense.live.runner import LiveOptions, run_live
from repsense.live.sources import BleSource, plan_for_simulator
from repsense.samples import SampleChunk
from repsense.sim import SimulatedSession


def test_link_drop_mid_set_reconnects_and_keeps_the_set(dirs: dict[str, Path],
                                                         tiny_plan: Path) -> None:
    plan = load_plan_file(tiny_plan)
    sim = SimulatedSession.from_plan(plan_for_simulator(plan), seed=4)
    first_set = sim.labels["sets"][0]
    drop_at = (first_set["start_s"] + first_set["end_s"]) / 2  # in the middle of set 1
    samples = SampleChunk.concat(list(sim.chunks(1.0)))
    virtual = VirtualSensor("repsense", samples, speed=40, rate_hz=sim.rate_hz,
                            faults=Faults(drop_at_s=[drop_at - float(samples.t[0])], down_s=0.5,
                                          buffer_while_down=True))
    source = BleSource("sim:romanian_deadlift", backend="virtual", virtual=virtual,
                       meta={k: v for k, v in sim.meta.items() if k != "sample_rate_hz"},
                       speed=40)
    out = io.StringIO()
    result, runner = run_live(LiveOptions(sensor="sim:romanian_deadlift", plan=plan, speed=40,
                                          data_dir=dirs["data"]), source, out=out,
                              interactive=False)
    summary = result.summary
    assert virtual.drops == 1
    assert summary["link"]["reconnects"] >= 1, out.getvalue()
    assert summary["end_reason"] == "plan done", out.getvalue()
    sets = summary["sets"]
    assert [s["set_number"] for s in sets] == [1, 2]  # the drop did not split set 1
    assert sets[0]["reps"] == first_set["reps"], out.getvalue()
