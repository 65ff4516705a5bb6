"""The terminal view: rendered with rich's recording console (the tmux test drives the real one)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from repsense.live.plans import find_plan, load_plan_file
from repsense.live.session import LiveSession
from repsense.live.view import LinkStatus, PlainView, ViewState, render, tempo_bar


def screen(session: LiveSession, state: ViewState, width: int = 120) -> str:
    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    console.print(render(session, state))
    return console.export_text()


def test_during_a_set_shows_exercise_set_reps_tempo_bars_and_cues(ev) -> None:
    s = LiveSession(find_plan("hamstrings-glutes-gym"))
    reps = [ev.rep(1, 10.0, ecc=3.0, conc=1.0, bottom=1.0, rom=62.0),
            ev.rep(2, 16.0, ecc=1.0, conc=1.0, bottom=1.0, rom=58.0)]
    for e in [ev.set_start(1, 10.0)] + [ev.rep_event(1, r, i + 1) for i, r in enumerate(reps)]:
        s.feed(e)
    link = LinkStatus(sensor="left-thigh", battery_pct=81, rssi_dbm=-63, samples=990,
                      lost_samples=10, mqtt="connected")
    text = screen(s, ViewState(title="repsense live — gym", session_id="S1", link=link))
    assert "Romanian deadlift" in text and "set 1/5" in text and "2 / 10 reps" in text
    assert "target tempo 3-1-1-0" in text and "ROM 58°" in text
    assert "lower slower: 3 s eccentric" in text  # rep 2 was lowered in 1 s
    assert "✓" in text  # rep 1 was on tempo
    assert "battery 81%" in text and "RSSI -63 dBm" in text and "loss 1.0%" in text
    assert "MQTT connected" in text and "n next exercise" in text
    assert "▆" in text  # tempo bars


def test_rest_countdown_then_rest_over_banner(tiny_plan: Path, ev) -> None:
    s = LiveSession(load_plan_file(tiny_plan))
    evs, reps = ev.whole_set(1, 10.0, 5)
    for e in evs:
        s.feed(e)
    s.tick(reps[-1].end_s + 15.0)  # the pipeline ends a set after 15 quiet seconds
    state = ViewState()
    text = screen(s, state)
    assert "REST 0:05" in text and "next: romanian deadlift set 2/2 (5 reps)" in text.lower()
    for n in s.tick(reps[-1].end_s + 21.0):
        assert n.kind == "rest_over"
    text = screen(s, state)
    assert "REST OVER +0:01" in text and "GO" in text


def test_link_down_and_mismatch_question_are_visible(ev) -> None:
    s = LiveSession(find_plan("hamstrings-glutes-gym"))
    evs, reps = ev.whole_set(1, 5.0, 10)
    for e in evs:
        s.feed(e)
    assert s.recognized(5.0, reps[-1].end_s, "glute_bridge", 0.9)
    state = ViewState(link=LinkStatus(sensor="x", connected=False, reconnects=2, mqtt="off"))
    state.messages.append("rest over — go")  # later messages do not hide the question
    text = screen(s, state)
    assert "reconnecting" in text and "reconnects 2" in text
    assert "looks like glute bridge" in text and "k keep plan / s switch" in text


def test_tempo_bar_lengths_follow_the_phases(ev) -> None:
    bar = tempo_bar(ev.rep(1, 0.0, ecc=2.0, conc=1.0, bottom=0.5))
    assert bar.plain.count("▆") == 9 and bar.plain.count("▁") == 2  # 3 columns a second


def test_plain_view_prints_one_line_per_notice(tiny_plan: Path, ev) -> None:
    s = LiveSession(load_plan_file(tiny_plan))
    out = io.StringIO()
    view = PlainView(out)
    for e in ev.whole_set(1, 10.0, 5)[0]:
        for n in s.feed(e):
            view.notice(n)
    lines = out.getvalue().splitlines()
    assert len(lines) == 8  # 5 reps, set started, target reached, set ended
    assert all(line.startswith("[") and " s] " in line for line in lines)
