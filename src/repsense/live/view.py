"""What the lifter sees: a full-screen terminal view (rich), or one line per event.

:func:`render` turns the session state into a rich renderable and is pure, so
tests capture it with a recording :class:`rich.console.Console`.
:class:`FullScreenView` shows it on the alternate screen with
:class:`rich.live.Live` (works over SSH); :class:`PlainView` prints one line
per notice for ``--plain``, pipes and logs.  :class:`KeyReader` reads single
key presses (cbreak mode) inside the asyncio loop.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from repsense.events import RepTempo
from repsense.live.plans import Tempo
from repsense.live.session import LiveSession, Notice, SetRecord, tempo_cues
from repsense.reps.tempo import velocity_loss_pct

KEYS: dict[str, str] = {
    "n": "next",
    "p": "previous",
    "u": "undo",
    "e": "end_set",
    " ": "end_set",
    "q": "end_session",
    "k": "keep",
    "s": "switch",
}
"""Key → session action in the full-screen view."""

KEY_HELP = "n next exercise · p previous · u undo rep · e/space end set · q end session"
CHARS_PER_S = 3
"""Width of one second in the tempo bars (a 10 s rep fills 30 columns: fits 80-column SSH)."""
MAX_BAR_S = 10.0
PHASE_STYLE = {
    "eccentric": "bold blue",
    "bottom": "grey50",
    "concentric": "bold green",
    "top": "grey70",
}


@dataclass
class LinkStatus:
    """Sensor and MQTT state shown at the bottom of the view."""

    sensor: str = ""
    connected: bool = True
    battery_pct: float | None = None
    rssi_dbm: float | None = None
    lost_samples: int = 0
    samples: int = 0
    reconnects: int = 0
    mqtt: str = "off"
    """``off``, ``connected``, ``connecting``, ``disconnected``..."""
    mqtt_pending: int | None = None
    speed: float = 1.0

    @property
    def loss_pct(self) -> float:
        total = self.samples + self.lost_samples
        return 100.0 * self.lost_samples / total if total else 0.0


@dataclass
class ViewState:
    """Everything :func:`render` draws, besides the session itself."""

    title: str = "repsense live"
    session_id: str = ""
    link: LinkStatus = field(default_factory=LinkStatus)
    messages: deque[str] = field(default_factory=lambda: deque(maxlen=3))
    flash_until_s: float = 0.0
    """Sample time until which the rest-over banner flashes."""
    keys: bool = True
    max_rep_rows: int = 12
    """Rep rows shown (the newest); the full-screen view fits it to the terminal height."""


# ------------------------------------------------------------------ pieces


def _fmt_s(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def tempo_bar(rep: RepTempo | Tempo, width_s: float = MAX_BAR_S) -> Text:
    """Coloured bar of a rep's (or a target's) phases: eccentric, bottom, concentric, top."""
    phases = (
        ("eccentric", rep.eccentric_s, "▆"),
        ("bottom", rep.bottom_pause_s, "▁"),
        ("concentric", rep.concentric_s, "▆"),
        ("top", rep.top_pause_s, "▔"),
    )
    bar = Text()
    used = 0
    limit = int(width_s * CHARS_PER_S)
    for name, secs, glyph in phases:
        n = int(round(max(0.0, secs) * CHARS_PER_S))
        if secs > 0.1:
            n = max(n, 1)
        n = min(n, limit - used)
        if n > 0:
            bar.append(glyph * n, style=PHASE_STYLE[name])
            used += n
    bar.append(" " * (limit - used))
    return bar


def _header(session: LiveSession, state: ViewState) -> Text:
    t = Text()
    plan = session.plan
    t.append(plan.title if plan else "free training", style="bold")
    if plan is not None:
        t.append(f"   {len(session.done_steps)}/{plan.total_sets} sets done", style="cyan")
    t.append(f"   {session.total_reps} reps", style="cyan")
    if state.link.speed not in (1.0, 0.0):
        t.append(f"   ×{state.link.speed:g} time", style="magenta")
    return t


def _current_block(session: LiveSession) -> RenderableType:
    rec: SetRecord | None = session.current
    if rec is None and session.sets and session.rest is not None:
        rec = session.sets[-1]
    step = session.step
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="left")
    table.add_column(justify="left")
    if rec is not None:
        of = f"/{rec.sets_total}" if rec.sets_total else ""
        name = Text(f"{rec.name}", style="bold yellow")
        name.append(f"   set {rec.set_number}{of}", style="bold")
        target = rec.target[1] if rec.target else None
        count = Text(f"{rec.count}", style="bold green" if target and rec.count >= target
                     else "bold white")
        if rec.target:
            lo, hi = rec.target
            count.append(f" / {lo if lo == hi else f'{lo}-{hi}'} reps", style="white")
        else:
            count.append(" reps")
        table.add_row(name, count)
        vl = rec.velocity_loss_pct
        info = Text()
        if rec.tempo:
            info.append(f"target tempo {rec.tempo.text}   ", style="white")
        if rec.reps:
            last = rec.reps[-1]
            info.append(f"ROM {last.rom_deg:.0f}°   ")
        if vl is not None:
            style = "bold red" if vl >= 30 else ("yellow" if vl >= 20 else "green")
            info.append(f"velocity loss {vl:.0f}%", style=style)
        elif len(rec.reps) >= 2:
            live_vl = velocity_loss_pct(rec.reps)
            if live_vl is not None:
                info.append(f"velocity loss {live_vl:.0f}%")
        table.add_row(info, Text(""))
        if rec.detected and rec.detected != rec.exercise:
            table.add_row(Text(f"recognised: {rec.detected} ({rec.confidence or 0:.0%})",
                               style="dim"), Text(""))
    else:
        table.add_row(Text(f"next: {session.describe_step(step)}", style="bold yellow"),
                      Text("waiting for the first rep", style="dim"))
        if step is not None and step.exercise.notes:
            table.add_row(Text(step.exercise.notes, style="italic"), Text(""))
    return table


def _rep_table(rec: SetRecord | None, max_rows: int = 12) -> RenderableType:
    table = Table(box=None, pad_edge=False, show_header=True, header_style="dim", expand=True)
    bar_w = int(MAX_BAR_S * CHARS_PER_S)
    # fixed widths for the numbers and bars; the cue takes what is left, one line per rep
    table.add_column("rep", justify="right", width=3, no_wrap=True)
    table.add_column("tempo: ecc·pause·con·pause", no_wrap=True, width=bar_w, min_width=bar_w)
    table.add_column("", no_wrap=True, width=7, min_width=7)
    table.add_column("ROM", justify="right", width=4, min_width=4, no_wrap=True)
    table.add_column("cue", no_wrap=True, overflow="ellipsis", ratio=1)
    if rec is None:
        return table
    if rec.tempo is not None:
        table.add_row("", tempo_bar(rec.tempo), Text(rec.tempo.text, style="dim"), "",
                      Text("target", style="dim"))
    for rep in rec.reps[-max_rows:]:
        cues = tempo_cues(rep, rec.tempo)
        # the most important cue; the others are in the session summary
        more = f" (+{len(cues) - 1})" if len(cues) > 1 else ""
        cue = Text(cues[0] + more, style="yellow") if cues else Text(
            "✓" if rec.tempo else "", style="green")
        if rep.partial:
            cue = Text("partial rep", style="red")
        table.add_row(str(rep.index), tempo_bar(rep), rep.tempo, f"{rep.rom_deg:.0f}°", cue)
    return table


def _rest_block(session: LiveSession, state: ViewState) -> RenderableType | None:
    if session.rest is None or session.current is not None or session.finished:
        return None
    remaining = session.rest_remaining()
    elapsed = session.rest_elapsed() or 0.0
    nxt = session.describe_step(session.step)
    if remaining is None:
        return Text(f"resting {_fmt_s(elapsed)}", style="cyan")
    if remaining > 0:
        t = Text(f"REST {_fmt_s(remaining)}", style="bold cyan")
        t.append(f"   next: {nxt}", style="white")
        return t
    # Rest is over: flash (alternate styles on whole seconds) for a while, then stay red.
    flash = session.now_s < state.flash_until_s and int(time.monotonic() * 2) % 2 == 0
    style = "bold white on red" if flash else "bold red"
    t = Text(f" REST OVER +{_fmt_s(-remaining)} — GO: {nxt} ", style=style)
    return t


def _status_line(state: ViewState) -> Text:
    link = state.link
    t = Text()
    t.append("sensor ", style="dim")
    t.append(link.sensor or "?", style="white")
    t.append(" ● connected" if link.connected else " ○ reconnecting",
             style="green" if link.connected else "bold red")
    if link.battery_pct is not None:
        t.append(f"   battery {link.battery_pct:.0f}%",
                 style="red" if link.battery_pct < 15 else "white")
    if link.rssi_dbm is not None:
        t.append(f"   RSSI {link.rssi_dbm:.0f} dBm")
    t.append(f"   loss {link.loss_pct:.1f}%",
             style="yellow" if link.loss_pct >= 1 else "white")
    if link.reconnects:
        t.append(f"   reconnects {link.reconnects}", style="yellow")
    t.append("\nMQTT ", style="dim")  # own line: an 80-column terminal has no room beside
    mqtt_style = {"connected": "green", "off": "dim"}.get(link.mqtt, "yellow")
    t.append(link.mqtt, style=mqtt_style)
    if link.mqtt_pending:
        t.append(f" ({link.mqtt_pending} pending)", style="yellow")
    return t


def render(session: LiveSession, state: ViewState) -> RenderableType:
    """The whole screen for the current state (pure: no I/O, no side effects)."""
    rec = session.current or (session.sets[-1] if session.sets and session.rest else None)
    parts: list[RenderableType] = [_header(session, state), Text(""), _current_block(session),
                                   Text(""), _rep_table(rec, state.max_rep_rows)]
    rest = _rest_block(session, state)
    if rest is not None:
        parts += [Text(""), rest]
    if session.question is not None:
        parts += [Text(""), Text("? " + session.question_text, style="bold magenta")]
    if session.finished:
        parts += [Text(""), Text(f"session over: {session.finish_reason}", style="bold green")]
    if state.messages:  # one line each, so the screen never outgrows the terminal
        parts.append(Text(""))
        parts += [Text(m, style="dim", no_wrap=True, overflow="ellipsis") for m in state.messages]
    parts += [Text(""), _status_line(state)]
    if state.keys:
        parts.append(Text(KEY_HELP + (" · k keep plan / s switch" if session.question else ""),
                          style="dim"))
    sub = f"session {state.session_id}" if state.session_id else ""
    return Panel(Group(*parts), title=state.title, subtitle=sub, border_style="blue")


# ------------------------------------------------------------------ views


class FullScreenView:
    """The full-screen view on the terminal's alternate screen."""

    def __init__(self, session: LiveSession, state: ViewState, console: Console | None = None,
                 bell: bool = True) -> None:
        self.session = session
        self.state = state
        self.console = console or Console()
        self.bell = bell
        self._live: Live | None = None

    def start(self) -> None:
        self._live = Live(render(self.session, self.state), console=self.console, screen=True,
                          auto_refresh=False, transient=False)
        self._live.start()

    def notice(self, notice: Notice) -> None:
        if notice.kind not in ("rep", "mismatch"):  # the question has its own line
            self.state.messages.append(notice.message)
        if notice.kind == "rest_over":
            self.state.flash_until_s = notice.time_s + 10.0
            if self.bell:
                self.console.bell()
        if notice.kind == "mismatch" and self.bell:
            self.console.bell()

    def refresh(self) -> None:
        if self._live is not None:
            # ~17 lines go to the header, messages, status and keys; reps get the rest
            height = self.console.size.height
            self.state.max_rep_rows = max(2, min(12, height - 18))
            self._live.update(render(self.session, self.state), refresh=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


class PlainView:
    """One line per notice, with the sample time (``--plain`` or no terminal)."""

    def __init__(self, out: TextIO | None = None, bell: bool = False) -> None:
        self.out = out or sys.stdout
        self.bell = bell

    def start(self) -> None:
        pass

    def notice(self, notice: Notice) -> None:
        bell = "\a" if self.bell and notice.data.get("bell") else ""
        self.out.write(f"[{notice.time_s:8.1f} s] {notice.message}{bell}\n")
        self.out.flush()

    def line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def refresh(self) -> None:
        pass

    def stop(self) -> None:
        pass


class KeyReader:
    """Single key presses from a terminal, delivered inside the asyncio loop.

    Puts the terminal in cbreak mode (no echo, no line buffering; Ctrl-C still
    interrupts) and restores it on :meth:`close`.
    """

    def __init__(self, on_key: Callable[[str], None], fd: int | None = None) -> None:
        self.on_key = on_key
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved: list | None = None
        self._loop = None

    def start(self, loop) -> bool:  # noqa: ANN001 - asyncio loop
        """Start reading; ``False`` when stdin is not a terminal."""
        if not os.isatty(self.fd):
            return False
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        self._loop = loop
        loop.add_reader(self.fd, self._read)
        return True

    def _read(self) -> None:
        try:
            data = os.read(self.fd, 32).decode("utf-8", "ignore")
        except OSError:
            return
        for ch in data:
            self.on_key(ch)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.fd)
            self._loop = None
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
