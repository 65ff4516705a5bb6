"""Helpers shared by the MQTT tests (not fixtures)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from repsense.publish.config import ClientTuning
from repsense.testing.broker import Received

FAST = ClientTuning(keepalive_s=5, reconnect_min_s=0.05, reconnect_max_s=0.3,
                    connect_timeout_s=2.0)
FAST_ENV = "keepalive_s=5,reconnect_min_s=0.05,reconnect_max_s=0.3,connect_timeout_s=2"


def topic_kind(topic: str) -> str | None:
    """Which schema a published topic's payload follows."""
    parts = topic.split("/")
    if parts[0] == "homeassistant":
        return "ha_discovery" if parts[-1] == "config" else None
    if len(parts) >= 4 and parts[1] == "gateway":
        return {"state": "gateway_state", "info": "gateway_info"}.get(parts[3])
    tail = "/".join(parts[2:])
    if tail.startswith("events/"):
        return tail.split("/", 1)[1]
    return {"state": "state", "availability": "availability", "imu": "imu",
            "command": "command", "command/response": "command_response"}.get(tail)


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a ``repsense`` subprocess: isolated dirs, fast MQTT timings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPSENSE_")}
    env.update({
        "REPSENSE_CONFIG_DIR": str(tmp_path / "config"),
        "REPSENSE_DATA_DIR": str(tmp_path / "data"),
        "REPSENSE_MQTT_TUNING": FAST_ENV,
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "repsense", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def events_by_id(messages: list[Received]) -> dict[str, dict[str, Any]]:
    """De-duplicated event payloads keyed by ``id`` (what a consumer would keep)."""
    out: dict[str, dict[str, Any]] = {}
    for m in messages:
        if "/events/" in m.topic and m.payload:
            doc = m.json()
            out[doc["id"]] = doc
    return out


def run_main(args: list[str], capsys: Any) -> tuple[int, str, str]:
    """Run the CLI in this process (fast); returns (exit code, stdout, stderr)."""
    from repsense.cli import main

    capsys.readouterr()
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse usage errors
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err
