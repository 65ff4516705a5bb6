"""The report picture (matplotlib, Agg backend) and its HTML wrapper.

One figure per session or recording, four panels read top to bottom:

1. **Movement angle over the session** — tilt against the rest pose, the
   phases of every rep shaded (eccentric, concentric, pauses), each rep
   marked, each set labelled with its exercise and reps against target.
2. **One set up close** — the same for the set with the most reps, with rep
   numbers, where the shading can be read.
3. **Tempo per rep** — stacked bars of the four phases against the plan's
   target tempo (dashed: target rep time; dotted: target eccentric).
4. **Velocity loss per set** — how much the lifting speed dropped from the
   best early rep to the last one; 20-30 % is where many programmes stop a set.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display needed, ever (headless servers, SSH, CI)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from repsense.errors import InputError  # noqa: E402
from repsense.report.data import ReportData, ReportSet  # noqa: E402

COLORS = {
    "eccentric": "#4C78A8",
    "bottom": "#9D9D9D",
    "concentric": "#54A24B",
    "top": "#F2B447",
}
LABELS = {
    "eccentric": "eccentric (lowering)",
    "bottom": "pause at the bottom",
    "concentric": "concentric (lifting)",
    "top": "pause at the top",
}
PHASES = ("eccentric", "bottom", "concentric", "top")
DPI = 100
FIGSIZE = (14.0, 13.0)


def rep_phases(s: ReportSet, rep: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Time span ``(start, width)`` of each phase of a rep (near pause: the dwell before it)."""
    start, end = float(rep["start_s"]), float(rep["end_s"])
    ecc, conc = float(rep["eccentric_s"]), float(rep["concentric_s"])
    top, bottom = float(rep["top_pause_s"]), float(rep["bottom_pause_s"])
    if s.starts_concentric:
        return {"concentric": (start, conc), "top": (start + conc, top),
                "eccentric": (end - ecc, ecc), "bottom": (start - bottom, bottom)}
    return {"eccentric": (start, ecc), "bottom": (start + ecc, bottom),
            "concentric": (end - conc, conc), "top": (start - top, top)}


def _time_unit(data: ReportData) -> tuple[float, str]:
    return (60.0, "min") if data.duration_s > 600 else (1.0, "s")


def _shade(ax: Any, sets: list[ReportSet], t0: float, scale: float, y0: float,
           height: float) -> None:
    spans: dict[str, list[tuple[float, float]]] = {p: [] for p in PHASES}
    for s in sets:
        for rep in s.reps:
            for phase, (a, w) in rep_phases(s, rep).items():
                if w > 0.05:
                    spans[phase].append(((a - t0) / scale, w / scale))
    for phase in PHASES:
        if spans[phase]:
            ax.broken_barh(spans[phase], (y0, height), facecolors=COLORS[phase], alpha=0.35,
                           linewidth=0, label=LABELS[phase], gid=f"phase-{phase}")


def _angle_at(data: ReportData, times: np.ndarray) -> np.ndarray:
    return np.interp(times, data.t, data.angle)


def _far_times(s: ReportSet) -> np.ndarray:
    out = []
    for rep in s.reps:
        away = float(rep["concentric_s"] if s.starts_concentric else rep["eccentric_s"])
        far = float(rep["top_pause_s"] if s.starts_concentric else rep["bottom_pause_s"])
        out.append(float(rep["start_s"]) + away + far / 2)
    return np.asarray(out)


def _groups(sets: list[ReportSet]) -> list[tuple[str, ReportSet, ReportSet]]:
    """Runs of consecutive sets of one exercise: (name, first set, last set)."""
    out: list[tuple[str, ReportSet, ReportSet]] = []
    for s in sets:
        name = s.name or s.label
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1], s)
        else:
            out.append((name, s, s))
    return out


def _reps_text(s: ReportSet) -> str:
    return f"{len(s.reps)}/{s.target_reps}" if s.target_reps else f"{len(s.reps)}"


def _overview(ax: Any, data: ReportData) -> None:
    scale, unit = _time_unit(data)
    t0 = float(data.t[0])
    x = (data.t - t0) / scale
    top = max(10.0, float(np.nanmax(data.angle)) * 1.25) if len(data.angle) else 90.0
    _shade(ax, data.sets, t0, scale, 0.0, top)
    ax.plot(x, data.angle, color="#222222", linewidth=0.8, label="movement angle", gid="angle")
    marks_t = np.concatenate([_far_times(s) for s in data.sets]) if data.sets else np.empty(0)
    if marks_t.size:
        ax.plot((marks_t - t0) / scale, _angle_at(data, marks_t), linestyle="none", marker="v",
                markersize=4, color="#C0392B", label="rep", gid="rep-markers")
    for k, s in enumerate(data.sets):
        mid = ((s.start_s + s.end_s) / 2 - t0) / scale
        y = top * (0.97 if k % 2 == 0 or len(data.sets) <= 8 else 0.89)
        ax.text(mid, y, _reps_text(s), ha="center", va="top", fontsize=7, color="#333333",
                gid=f"set-label-{s.index}")
    for name, first, last in _groups(data.sets):
        mid = ((first.start_s + last.end_s) / 2 - t0) / scale
        ax.text(mid, 1.01, name, ha="center", va="bottom", fontsize=8, fontweight="bold",
                transform=ax.get_xaxis_transform(), clip_on=False)
    ax.set_xlim(float(x[0]), float(x[-1]))
    ax.set_ylim(0.0, top)
    ax.set_title("Movement angle over the session, reps marked and phases shaded "
                 "(numbers: reps / target)", loc="left", fontsize=11, fontweight="bold", pad=18)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("angle from rest pose (°)")
    ax.grid(True, axis="y", alpha=0.3)


def _detail(ax: Any, data: ReportData) -> ReportSet | None:
    if not data.sets:
        ax.text(0.5, 0.5, "no sets found", ha="center", va="center", transform=ax.transAxes)
        ax.set_title("One set up close", loc="left", fontsize=11, fontweight="bold")
        ax.set_axis_off()
        return None
    s = _representative(data.sets)
    pad = 3.0
    a, b = s.start_s - pad, s.end_s + pad
    sel = (data.t >= a) & (data.t <= b)
    t, ang = data.t[sel], data.angle[sel]
    top = max(10.0, float(ang.max()) * 1.2) if ang.size else 90.0
    _shade(ax, [s], s.start_s, 1.0, 0.0, top)
    ax.plot(t - s.start_s, ang, color="#222222", linewidth=1.2, gid="detail-angle")
    far = _far_times(s)
    if far.size:
        ax.plot(far - s.start_s, _angle_at(data, far), linestyle="none", marker="v",
                markersize=6, color="#C0392B", gid="detail-rep-markers")
        for i, ft in enumerate(far, start=1):
            ax.text(ft - s.start_s, float(_angle_at(data, np.asarray([ft]))[0]) + top * 0.04,
                    str(i), ha="center", va="bottom", fontsize=8, color="#C0392B")
    ax.set_xlim(a - s.start_s, b - s.start_s)
    ax.set_ylim(0.0, top)
    target = f", target tempo {s.target_tempo.text}" if s.target_tempo else ""
    ax.set_title(f"Set {s.index} up close: {s.label}, {_reps_text(s)} reps{target}", loc="left",
                 fontsize=11, fontweight="bold")
    ax.set_xlabel("time from the set's first rep (s)")
    ax.set_ylabel("angle (°)")
    ax.grid(True, axis="y", alpha=0.3)
    return s


def _representative(sets: list[ReportSet]) -> ReportSet:
    """The set to show up close: the first that met its rep target, else the longest."""
    for s in sets:
        if s.target_reps and s.reps:
            lo, _, hi = s.target_reps.partition("-")
            if int(lo) <= len(s.reps) <= int(hi or lo):
                return s
    return max(sets, key=lambda x: (len(x.reps), -x.index))


def _tempo(ax: Any, data: ReportData) -> None:
    x = 0.0
    ticks, ticklabels = [], []
    xs: list[float] = []
    vals = {p: [] for p in PHASES}
    many = sum(len(s.reps) for s in data.sets) > 80  # then label sets, not reps
    spans: dict[int, tuple[float, float]] = {}
    for s in data.sets:
        first = x
        for i, rep in enumerate(s.reps, start=1):
            xs.append(x)
            vals["eccentric"].append(float(rep["eccentric_s"]))
            vals["bottom"].append(float(rep["bottom_pause_s"]))
            vals["concentric"].append(float(rep["concentric_s"]))
            vals["top"].append(float(rep["top_pause_s"]))
            if not many and (len(s.reps) <= 12 or i % 5 == 0 or i == 1):
                ticks.append(x)
                ticklabels.append(str(i))
            x += 1.0
        spans[s.index] = (first, x - 1.0)
        if many and s.reps:
            ticks.append((first + x - 1.0) / 2)
            ticklabels.append(str(s.index))
        if s.target_tempo is not None and s.reps:
            tt = s.target_tempo
            # drawn over the bars (zorder) so a target inside a bar stays visible
            ax.hlines(tt.rep_s, first - 0.45, x - 0.55, colors="#111111", linestyles="dashed",
                      linewidth=1.2, gid="target-rep", zorder=5)
            ax.hlines(tt.eccentric_s, first - 0.45, x - 0.55, colors="#0B2E59",
                      linestyles="dotted", linewidth=1.8, gid="target-eccentric", zorder=5)
        x += 1.5  # gap between sets
    for name, a, b in _groups(data.sets):
        if a.index in spans and b.index in spans:
            mid = (spans[a.index][0] + spans[b.index][1]) / 2
            ax.text(mid, 1.01, name, ha="center", va="bottom", fontsize=8, fontweight="bold",
                    transform=ax.get_xaxis_transform(), clip_on=False)
    bottom = np.zeros(len(xs))
    for phase in PHASES:
        v = np.asarray(vals[phase])
        ax.bar(xs, v, bottom=bottom, width=0.8, color=COLORS[phase], label=LABELS[phase],
               gid=f"tempo-{phase}")
        bottom += v
    ax.set_xticks(ticks)
    ax.set_xticklabels(ticklabels, fontsize=7)
    ax.set_xlim(-1.0, max(x - 0.5, 1.0))
    ax.set_title("Tempo per rep against the target", loc="left", fontsize=11,
                 fontweight="bold", pad=18)
    ax.set_xlabel("set (one bar per rep)" if many else "rep within its set")
    ax.set_ylabel("seconds")
    ax.grid(True, axis="y", alpha=0.3)
    handles = [Patch(color=COLORS[p], label=LABELS[p]) for p in PHASES]
    from matplotlib.lines import Line2D

    handles += [Line2D([], [], color="#111111", linestyle="dashed", label="target rep time"),
                Line2D([], [], color="#0B2E59", linestyle="dotted", label="target eccentric")]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              framealpha=0.9)


def _velocity(ax: Any, data: ReportData) -> None:
    labels = [f"{s.index}: {s.label}" for s in data.sets]
    if len(labels) > 12:  # the exercise names stand above the tempo panel; keep this short
        labels = [str(s.index) for s in data.sets]
    vals = [s.velocity_loss_pct for s in data.sets]
    xs = np.arange(len(vals))
    heights = [0.0 if v is None else float(v) for v in vals]
    colors = ["#CCCCCC" if v is None else ("#C0392B" if v >= 30 else
              "#F2B447" if v >= 20 else "#54A24B") for v in vals]
    ax.bar(xs, heights, color=colors, width=0.7, gid="velocity-loss")
    for x, v in zip(xs, vals, strict=True):
        ax.text(x, (v or 0.0) + 0.5, "n/a" if v is None else f"{v:.0f}%", ha="center",
                va="bottom", fontsize=7)
    ax.axhline(20, color="#F2B447", linestyle="dashed", linewidth=1)
    ax.axhline(30, color="#C0392B", linestyle="dashed", linewidth=1)
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylim(0, max(40.0, max(heights, default=0.0) * 1.2))
    ax.set_title("Velocity loss per set (best early rep → last rep; dashed: 20 % and 30 %)",
                 loc="left", fontsize=11, fontweight="bold")
    ax.set_xlabel("set")
    ax.set_ylabel("velocity loss (%)")
    ax.grid(True, axis="y", alpha=0.3)


def build_figure(data: ReportData) -> Figure:
    """The report figure (not saved)."""
    fig = plt.figure(figsize=FIGSIZE, dpi=DPI)
    gs = fig.add_gridspec(4, 1, height_ratios=[3.0, 2.4, 2.6, 2.0], hspace=0.55)
    fig.suptitle(data.title, x=0.06, y=0.985, ha="left", fontsize=15, fontweight="bold")
    fig.text(0.06, 0.955, data.subtitle, ha="left", fontsize=10, color="#555555")
    ax1 = fig.add_subplot(gs[0])
    _overview(ax1, data)
    ax1.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, framealpha=0.9)
    _detail(fig.add_subplot(gs[1]), data)
    _tempo(fig.add_subplot(gs[2]), data)
    _velocity(fig.add_subplot(gs[3]), data)
    fig.subplots_adjust(left=0.06, right=0.9, top=0.895, bottom=0.07)
    return fig


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _html(data: ReportData, png: bytes) -> str:
    rows = []
    for s in data.sets:
        tempos = [r.get("tempo", "") for r in s.reps]
        common = max(set(tempos), key=tempos.count) if tempos else ""
        vl = "" if s.velocity_loss_pct is None else f"{s.velocity_loss_pct:.0f} %"
        rows.append(
            f"<tr><td>{s.index}</td><td>{html.escape(s.label)}</td><td>{_reps_text(s)}</td>"
            f"<td>{html.escape(common)}</td>"
            f"<td>{html.escape(s.target_tempo.text) if s.target_tempo else ''}</td>"
            f"<td>{vl}</td></tr>"
        )
    b64 = base64.b64encode(png).decode("ascii")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(data.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
img {{ max-width: 100%; height: auto; border: 1px solid #ddd; }}
table {{ border-collapse: collapse; margin-top: 1.5em; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; }}
</style></head>
<body>
<h1>{html.escape(data.title)}</h1>
<p>{html.escape(data.subtitle)}</p>
<img alt="{html.escape(data.title)}: movement angle, tempo per rep and velocity loss"
 src="data:image/png;base64,{b64}">
<table><thead><tr><th>set</th><th>exercise</th><th>reps</th><th>usual tempo</th>
<th>target tempo</th><th>velocity loss</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p><small>Made by repsense from {html.escape(data.source)}.</small></p>
</body></html>
"""


def write_report(data: ReportData, out: Path) -> Path:
    """Write the report as ``.png`` or ``.html`` (with the PNG embedded), atomically."""
    suffix = out.suffix.lower()
    if suffix not in (".png", ".html", ".htm"):
        raise InputError(f"-o {out}: give a .png or .html file name")
    if not out.parent.is_dir():
        raise InputError(f"-o {out}: folder {out.parent} does not exist; create it first")
    fig = build_figure(data)
    try:
        png = png_bytes(fig)
    finally:
        plt.close(fig)
    payload = png if suffix == ".png" else _html(data, png).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a picture is for sharing
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
