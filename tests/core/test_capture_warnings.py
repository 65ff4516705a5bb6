"""Raw BLE captures run through analyze/replay with their decode problems as warnings."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

from repsense.sensors.witmotion import NOTIFY_UUID


def frame(acc_g: tuple[float, float, float]) -> str:
    acc = [round(a / 16 * 32768) for a in acc_g]
    return (bytes([0x55, 0x61]) + struct.pack("<9h", *acc, 0, 0, 0, 0, 0, 0)).hex()


def test_malformed_notification_is_a_warning_not_a_crash(tmp_path):
    path = tmp_path / "cap.jsonl"
    lines = [json.dumps({"format": "repsense.raw/1", "protocol": "witmotion",
                         "device": {"name": "WT901BLE67", "address": "AA:BB"},
                         "config": {"rate_hz": 50}})]
    for i in range(1000):
        t = 100 + i * 0.02
        lines.append(json.dumps({"t": t, "char": NOTIFY_UUID, "hex": frame((0, 0, 1))}))
        if i == 500:
            lines.append(json.dumps({"t": t, "char": NOTIFY_UUID, "hex": "55610102"}))
    path.write_text("\n".join(lines) + "\n")
    for cmd in (["analyze", str(path), "--format", "json"],
                ["replay", str(path), "--speed", "0", "--json", "--no-mqtt"]):
        res = subprocess.run([sys.executable, "-m", "repsense", *cmd], capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        text = res.stdout
        assert "sensor_malformed" in text
    out = json.loads(subprocess.run(
        [sys.executable, "-m", "repsense", "analyze", str(path), "--format", "json"],
        capture_output=True, text=True, timeout=120).stdout)
    assert out["total_reps"] == 0
    assert [w["code"] for w in out["warnings"]] == ["sensor_malformed"]
