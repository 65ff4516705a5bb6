"""The full-screen view in a real terminal: tmux runs `repsense live`, we read the screen and
press keys like a lifter would."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from repsense.live.store import SessionStore

TMUX = shutil.which("tmux")


class Tmux:
    """One private tmux server (its own socket), killed at the end."""

    def __init__(self) -> None:
        assert TMUX, "tmux is needed for the terminal-view test (apt-get install tmux)"
        self.socket = f"repsense-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        out = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True,
                             timeout=20)
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "live")

    def wait_screen(self, *needles: str, timeout_s: float = 60.0) -> str:
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if all(n in text for n in needles):
                return text
            time.sleep(0.2)
        raise AssertionError(f"screen never showed {needles}:\n{text}")

    def kill(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=20)


def test_full_screen_view_and_keys(dirs: dict[str, Path], tiny_plan: Path) -> None:
    done = dirs["tmp"] / "exit-code"
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in os.environ.items()
                   if k.startswith("REPSENSE_") or k in ("PATH", "HOME", "PYTHONPATH"))
    live = shlex.join([sys.executable, "-m", "repsense", "live", "--sensor",
                       "sim:romanian_deadlift", "--plan", str(tiny_plan), "--speed", "4",
                       "--no-bell"])
    script = (f"env -u COLUMNS -u LINES TERM=xterm-256color {env} {live}; "
              f"echo $? > {shlex.quote(str(done))}; sleep 60")
    tmux = Tmux()
    try:
        # the classic 80 x 24 terminal of an SSH session
        tmux.run("new-session", "-d", "-s", "live", "-x", "80", "-y", "24", script)
        text = tmux.wait_screen("Tiny test plan", "Romanian deadlift", "set 1/2", "reps")
        assert "n next exercise" in text and "MQTT off" in text and "sensor sim:romanian" in text
        text = tmux.wait_screen("1 / 5 reps")  # the first rep counted live
        assert "target tempo 2-0-1-0" in text and "▆" in text
        tmux.run("send-keys", "-t", "live", "u")
        # at 4x a rep takes about a second: on a busy machine the next one may still be
        # counted before the key arrives, so which rep was undone is not fixed
        tmux.wait_screen("undid rep ")
        tmux.run("send-keys", "-t", "live", "q")
        deadline = time.monotonic() + 30
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done.read_text().strip() == "0"
        after = tmux.screen()
        assert "saved in" in after  # back on the normal screen with the summary line
    finally:
        tmux.kill()
    stored = SessionStore(dirs["data"]).load("latest")
    assert stored.summary["end_reason"] == "ended by user"
    actions = [(e["action"], e["origin"]) for e in stored.events() if e["type"] == "action"]
    assert actions == [("undo", "key"), ("end_session", "key")]
