"""`repsense live` as a user runs it: a subprocess on the virtual BLE sensor (production bleak
code over Bumble), MQTT commands through a real Mosquitto, Ctrl-C, and the stored session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from repsense.cli import main
from repsense.live.store import SessionStore


def _start(cmd, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd("live", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ))


def _wait_line(proc: subprocess.Popen[str], needle: str, timeout_s: float = 60.0) -> list[str]:
    """Read stdout lines until one contains ``needle``."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"no '{needle}' in output: {''.join(lines)}")


def test_whole_plan_on_the_virtual_sensor_ends_by_itself(dirs: dict[str, Path], tiny_plan: Path,
                                                        cmd, capsys) -> None:
    out = subprocess.run(cmd("live", "--sensor", "sim:romanian_deadlift", "--plan",
                             str(tiny_plan), "--plain", "--speed", "40", "--seed", "2"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "plan done — 2/2 planned sets" in out.stdout
    assert "set 1/2 Romanian deadlift done" in out.stdout and "rest 20 s" in out.stdout
    store = SessionStore(dirs["data"])
    stored = store.load("latest")
    summary = stored.summary
    assert summary["status"] == "complete" and summary["end_reason"] == "plan done"
    assert summary["plan"]["completed"] and summary["total_reps"] >= 8
    transport = summary["sensor_meta"]["transport"]  # it came over (virtual) BLE
    assert transport == {"kind": "ble", "backend": "virtual", "protocol": "repsense",
                         "address": transport["address"], "virtual_sensor": True}
    assert stored.samples_path.is_file() and (stored.path / "samples.json").is_file()
    kinds = {e["type"] for e in stored.events()}
    assert {"set_start", "rep", "set_end", "session_end", "notice"} <= kinds
    assert main(["report", "latest"]) == 0
    assert (stored.path / "report.png").stat().st_size > 20_000
    assert main(["sessions"]) == 0 and stored.id in capsys.readouterr().out


def test_mqtt_commands_drive_the_session_and_events_are_published(
        dirs: dict[str, Path], tiny_plan: Path, cmd, mosquitto, mqtt_collector) -> None:
    sub = mqtt_collector(topics=["repsense/#"])
    proc = _start(cmd, "--sensor", "sim:romanian_deadlift", "--plan", str(tiny_plan), "--plain",
                  "--speed", "8", "--mqtt", mosquitto.url, "--sensor-id", "e2e")
    try:
        sub.wait_for(lambda m: any(x.topic == "repsense/e2e/events/rep" for x in m),
                     timeout_s=60)
        sub.publish("repsense/e2e/command", json.dumps({"command": "undo_last_rep",
                                                        "request_id": "u1"}))
        sub.publish("repsense/e2e/command", json.dumps({"command": "set_exercise",
                                                        "exercise": "auto", "request_id": "a1"}))
        sub.publish("repsense/e2e/command", json.dumps({"command": "stop_session",
                                                        "request_id": "s1"}))
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    responses = {r.json()["request_id"]: r.json()
                 for r in sub.snapshot("repsense/e2e/command/response")}
    assert responses["u1"]["status"] == "ok" and responses["s1"]["status"] == "ok"
    assert responses["a1"]["status"] == "error" and "plan" in responses["a1"]["error"]
    # flushed before exit: the session's end reached the broker
    sub.wait_for(lambda m: any(x.json().get("type") == "session_end" for x in m),
                 topic_filter="repsense/e2e/events/session", timeout_s=10)
    stored = SessionStore(dirs["data"]).load("latest")
    assert stored.summary["end_reason"] == "ended by user"
    actions = [e for e in stored.events() if e["type"] == "action"]
    assert [(a["action"], a["origin"]) for a in actions] == [("undo", "mqtt"),
                                                             ("end_session", "mqtt")]
    assert "undid rep 1" in stdout
    # the retained state snapshot carries the plan-following fields
    states = [m.json() for m in sub.snapshot("repsense/e2e/state")]
    assert any(st.get("plan") == "tiny" and st.get("plan_step", "").startswith("Romanian")
               and st.get("target_reps") == 5 and st.get("link") == "streaming"
               for st in states)


def test_ctrl_c_saves_the_session_and_flushes_mqtt(dirs: dict[str, Path], tiny_plan: Path, cmd,
                                                   mosquitto, mqtt_collector) -> None:
    sub = mqtt_collector(topics=["repsense/#"])
    proc = _start(cmd, "--sensor", "sim:romanian_deadlift", "--plan", str(tiny_plan), "--plain",
                  "--speed", "8", "--mqtt", mosquitto.url, "--sensor-id", "cc")
    try:
        _wait_line(proc, "rep 1/5")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "saved in" in stdout
    stored = SessionStore(dirs["data"]).load("latest")
    assert stored.summary["status"] == "complete"
    assert stored.summary["end_reason"].startswith("interrupted")
    assert stored.samples_path.is_file()
    sub.wait_for(lambda m: any(x.json().get("type") == "session_end" for x in m),
                 topic_filter="repsense/cc/events/session", timeout_s=10)
    assert sub.snapshot("repsense/cc/events/rep")


@pytest.mark.parametrize("args", [
    ["--sensor", "sim:squat"],
    ["--sensor", "left-thigh", "--speed", "3"],
    ["--sensor", "sim:leg_curl", "--speed", "-1"],
    ["--sensor", "sim:leg_curl", "--plan", "hamstrings-glutes-gym", "--exercise", "glute_bridge"],
    ["--sensor", "sim:leg_curl", "--plan", "no-such-plan"],
])
def test_bad_options_are_one_line_and_store_nothing(dirs: dict[str, Path], args: list[str],
                                                    capsys) -> None:
    assert main(["live", "--plain", *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("repsense live: error:")
    assert not (dirs["data"] / "sessions").exists()


def test_named_sensor_with_a_virtual_witness(dirs: dict[str, Path], cmd) -> None:
    """`--sensor NAME` found by scanning, like real hardware, served by `--virtual`."""
    rec = Path(__file__).resolve().parents[2] / "recordings" / "demo_romanian_deadlift.csv"
    out = subprocess.run(cmd("live", "--sensor", "demo-thigh", "--virtual",
                             f"repsense:{rec},name=demo-thigh,speed=30", "--plain",
                             "--exercise", "romanian_deadlift"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "session over (input ended)" in out.stdout
    summary = SessionStore(dirs["data"]).load("latest").summary
    assert summary["total_sets"] == 2 and summary["total_reps"] >= 8  # labels: 2 x 5
    assert summary["sensor_meta"]["transport"]["kind"] == "ble"
