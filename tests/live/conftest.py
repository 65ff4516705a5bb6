"""Shared fixtures of the live-session tests: private data/config dirs and event makers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from repsense.events import Rep, RepTempo, SetEnd, SetStart
from repsense.exercises import EXERCISES

TINY_PLAN = """\
name = "tiny"
title = "Tiny test plan"
[[exercise]]
id = "romanian_deadlift"
sets = 2
reps = 5
tempo = "2-0-1-0"
rest_s = 20
"""


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """REPSENSE_DATA_DIR / REPSENSE_CONFIG_DIR in a temporary folder (also for subprocesses)."""
    data, cfg = tmp_path / "data", tmp_path / "config"
    monkeypatch.setenv("REPSENSE_DATA_DIR", str(data))
    monkeypatch.setenv("REPSENSE_CONFIG_DIR", str(cfg))
    for var in list(os.environ):
        if var.startswith("REPSENSE_") and var not in ("REPSENSE_DATA_DIR", "REPSENSE_CONFIG_DIR"):
            monkeypatch.delenv(var)
    return {"data": data, "config": cfg, "tmp": tmp_path}


@pytest.fixture
def tiny_plan(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_PLAN, encoding="utf-8")
    return path


def repsense_cmd(*args: str) -> list[str]:
    """The CLI as a subprocess command line (the venv's interpreter)."""
    return [sys.executable, "-m", "repsense", *args]


class Events:
    """Makes pipeline events with increasing sequence numbers."""

    def __init__(self) -> None:
        self.seq = 0

    def _id(self) -> tuple[str, int]:
        self.seq += 1
        return f"t-{self.seq}", self.seq

    @staticmethod
    def rep(index: int, start: float, *, ecc: float = 2.0, conc: float = 1.0, top: float = 0.0,
            bottom: float = 0.0, speed: float = 100.0, rom: float = 60.0,
            partial: bool = False, conc_speed: float | None = None,
            ecc_speed: float = 50.0, exercise: str = "romanian_deadlift",
            final: bool = False) -> RepTempo:
        """A rep laid out as the pipeline lays out one of ``exercise``: live (a ``rep``
        event), or ``final`` (from ``set_end``)."""
        end = start + ecc + conc + bottom
        tempo = "-".join(str(int(round(x))) for x in (ecc, bottom, conc, top))
        conc_speed = speed if conc_speed is None else conc_speed
        info = EXERCISES[exercise]
        first = info.final_rep_starts_concentric if final else info.away_is_concentric
        return RepTempo(index, start, end, conc, ecc, top, bottom, tempo, rom, speed,
                        conc_speed, ecc_speed, partial, first)

    def set_start(self, set_index: int, t: float, exercise: str = "romanian_deadlift") -> SetStart:
        return SetStart(*self._id(), t, set_index, exercise, 1.0, t, None)

    def rep_event(self, set_index: int, rep: RepTempo, n: int,
                  exercise: str = "romanian_deadlift") -> Rep:
        return Rep(*self._id(), rep.end_s, set_index, exercise, rep, n)

    def set_end(self, set_index: int, reps: list[RepTempo], exercise: str = "romanian_deadlift",
                confidence: float = 1.0, vl: float | None = 10.0) -> SetEnd:
        end = reps[-1].end_s
        return SetEnd(*self._id(), end + 15.0, set_index, exercise, confidence, reps[0].start_s,
                      end, None, vl, tuple(reps))

    def whole_set(self, set_index: int, t0: float, n: int, exercise: str = "romanian_deadlift",
                  **kw: float) -> tuple[list, list[RepTempo]]:
        """SetStart, n Rep events and the SetEnd of a set starting at ``t0``."""
        reps = [self.rep(i + 1, t0 + 4.0 * i, exercise=exercise, **kw) for i in range(n)]
        evs: list = [self.set_start(set_index, t0, exercise)]
        evs += [self.rep_event(set_index, r, i + 1, exercise) for i, r in enumerate(reps)]
        evs.append(self.set_end(set_index, reps, exercise))
        return evs, reps


@pytest.fixture
def ev() -> Events:
    return Events()


@pytest.fixture
def cmd():
    return repsense_cmd


from repsense.testing.pytest_broker import (  # noqa: E402, F401 - fixtures
    mosquitto,
    mosquitto_factory,
    mqtt_collector,
)
