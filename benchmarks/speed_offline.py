"""Offline speed and memory of ``repsense analyze`` against a plain loadtxt + find_peaks script.

Each measurement is a fresh subprocess pinned to one CPU (``sched_setaffinity``
and single-threaded BLAS), exactly as a user runs it, including interpreter
start-up and imports.  Peak RSS is the child's own ``ru_maxrss`` from
``os.wait4``.  The real-time factor is seconds of data per wall-clock second.

Usage::

    python benchmarks/speed_offline.py [--json] [--repeat 3] \
        [--curve 600,3600,10800,36000] [--profile]

Targets (issue 8): >= 3000x real time for one hour of 100 Hz 6-axis data on
one core, peak RSS <= 150 MB, and memory flat from 10 minutes to 10 hours.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, command_line, emit, machine_info, table  # noqa: E402
from synth import recording  # noqa: E402

PY = sys.executable
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _pin() -> None:  # runs in the child before exec
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def measure(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd`` pinned to one CPU; wall time, CPU time, peak RSS and exit status."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV,
                            preexec_fn=_pin)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "peak_rss_mb": ru.ru_maxrss / 1024.0,
        "rc": proc.returncode,
        "stderr": err.strip()[-500:],
    }


def analyze_cmd(path: Path) -> list[str]:
    return [PY, "-m", "repsense", "analyze", str(path), "--format", "json"]


def baseline_cmd(path: Path) -> list[str]:
    return [PY, str(REPO / "benchmarks" / "baseline.py"), str(path)]


def startup_cmd() -> list[str]:
    return [PY, "-c", "import repsense.analysis, repsense.cli; repsense.cli.build_parser()"]


def best_of(cmd: list[str], repeat: int) -> dict[str, Any]:
    """Median wall/CPU over ``repeat`` runs (max RSS)."""
    runs = [measure(cmd) for _ in range(repeat)]
    bad = [r for r in runs if r["rc"] != 0]
    if bad:
        raise SystemExit(f"{' '.join(cmd)} failed (rc {bad[0]['rc']}): {bad[0]['stderr']}")
    return {
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "wall_min_s": min(r["wall_s"] for r in runs),
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "runs": repeat,
    }


def profile(path: Path, top: int = 20) -> list[dict[str, Any]]:
    """cProfile of ``analyze_recording`` in process: the top functions by own time."""
    from repsense.analysis import analyze_recording

    prof = cProfile.Profile()
    prof.enable()
    analyze_recording(path)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = file.split("/src/")[-1] if "/src/" in file else Path(file).name
        rows.append({"function": f"{short}:{line}({func})", "calls": nc, "own_s": tt,
                     "cum_s": ct, "own_%": 100.0 * tt / total if total else 0.0})
    rows.sort(key=lambda r: r["own_s"], reverse=True)
    return rows[:top]


def py_spy(path: Path, out: Path, top: int = 15) -> dict[str, Any] | None:
    """Sample a whole ``repsense analyze`` run (start-up included) with py-spy, if installed.

    Returns the top frames by own samples and by inclusive samples, and the
    share of samples spent importing modules.
    """
    exe = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not Path(exe).exists():
        return None
    subprocess.run([exe, "record", "-r", "500", "-f", "raw", "-o", str(out), "--",
                    *analyze_cmd(path)], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=ENV)
    if not out.exists():
        return None
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = importing = 0
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        frames = [_short_frame(f) for f in stack.split(";") if f]
        total += count
        if any("_find_and_load" in f or "<module>" in f and "__main__" not in f
               for f in frames[1:]):
            importing += count
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + count
        for f in set(frames):
            incl[f] = incl.get(f, 0) + count

    def rank(d: dict[str, int]) -> list[dict[str, Any]]:
        items = sorted(d.items(), key=lambda kv: kv[1], reverse=True)[:top]
        return [{"frame": k, "%": 100.0 * v / total} for k, v in items]

    return {"samples": total, "import_%": 100.0 * importing / max(total, 1),
            "own": rank(own), "inclusive": rank({k: v for k, v in incl.items()
                                                 if "repsense" in k})}


def _short_frame(frame: str) -> str:
    """``func (path:line)`` -> ``func (repsense/x.py:line)``."""
    frame = frame.replace("/src/repsense/", "/repsense/")
    if "(" in frame:
        func, _, loc = frame.partition(" (")
        loc = loc.rstrip(")")
        loc = loc[loc.find("repsense/"):] if "repsense/" in loc else Path(loc).name
        return f"{func} ({loc})"
    return frame


def main() -> int:
    parser = argparse.ArgumentParser(description="Offline speed and memory of repsense analyze.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hours", type=float, default=1.0, help="length of the main file")
    parser.add_argument("--curve", default="600,3600,10800,36000",
                        help="durations (s) for the memory curve; '' to skip")
    parser.add_argument("--profile", action="store_true", help="cProfile hotspots (+py-spy SVG)")
    args = parser.parse_args()

    main_s = args.hours * 3600.0
    path = recording(main_s)
    size_mb = path.stat().st_size / 1e6
    startup = best_of(startup_cmd(), args.repeat)
    ana = best_of(analyze_cmd(path), args.repeat)
    base = best_of(baseline_cmd(path), args.repeat)
    rows = []
    for name, r in (("repsense analyze", ana), ("loadtxt+find_peaks", base),
                    ("startup only (imports)", startup)):
        rows.append({
            "what": name,
            "wall s": r["wall_s"],
            "cpu s": r["cpu_s"],
            "x real time": main_s / r["wall_s"] if name != "startup only (imports)" else None,
            "x excl. startup": (main_s / max(r["wall_s"] - startup["wall_s"], 1e-9)
                                if name == "repsense analyze" else None),
            "peak RSS MB": r["peak_rss_mb"],
        })
    rtf = main_s / ana["wall_s"]
    result: dict[str, Any] = {
        "benchmark": "speed_offline",
        "command": command_line(),
        "machine": machine_info(),
        "file": {"path": str(path), "duration_s": main_s, "size_mb": size_mb, "rate_hz": 100,
                 "axes": 6},
        "analyze": ana,
        "baseline": base,
        "startup": startup,
        "real_time_factor": rtf,
        "baseline_real_time_factor": main_s / base["wall_s"],
        "speed_ratio_vs_baseline": base["wall_s"] / ana["wall_s"],
        "targets": {"real_time_factor": 3000, "peak_rss_mb": 150},
        "targets_met": {"real_time_factor": rtf >= 3000, "peak_rss_mb": ana["peak_rss_mb"] <= 150},
    }
    text = [f"{main_s / 3600:g} h of 100 Hz 6-axis data ({size_mb:.0f} MB CSV), one CPU, "
            f"median of {args.repeat} runs", table(rows, list(rows[0].keys())), ""]
    text.append(f"repsense / baseline speed ratio: {result['speed_ratio_vs_baseline']:.2f} "
                f"(>1 = repsense faster)")

    if args.curve:
        curve = []
        for dur in [float(d) for d in args.curve.split(",") if d]:
            p = recording(dur)
            r = measure(analyze_cmd(p))
            b = measure(baseline_cmd(p))
            curve.append({"duration h": dur / 3600.0, "file MB": p.stat().st_size / 1e6,
                          "analyze wall s": r["wall_s"], "x real time": dur / r["wall_s"],
                          "analyze peak RSS MB": r["peak_rss_mb"],
                          "baseline peak RSS MB": b["peak_rss_mb"], "rc": r["rc"]})
        result["memory_curve"] = curve
        rss = [c["analyze peak RSS MB"] for c in curve]
        result["memory_growth_mb"] = max(rss) - min(rss)
        result["targets_met"]["memory_flat"] = result["memory_growth_mb"] <= 10.0
        text += ["", "Memory curve (one run each; flat = growth <= 10 MB)",
                 table(curve, list(curve[0].keys())),
                 f"analyze RSS growth 10 min -> {curve[-1]['duration h']:g} h: "
                 f"{result['memory_growth_mb']:.1f} MB"]

    if args.profile:
        hot = profile(path)
        result["profile"] = hot
        text += ["", "cProfile, analyze_recording in process, top functions by own time",
                 table(hot, ["function", "calls", "own_s", "cum_s", "own_%"])]
        spy = py_spy(path, Path("/tmp/repsense-bench/analyze_pyspy.txt"))
        if spy:
            result["py_spy"] = spy
            text += ["", f"py-spy, whole `repsense analyze` process ({spy['samples']} samples at "
                     f"500 Hz): {spy['import_%']:.0f}% of samples inside imports",
                     table(spy["own"], ["frame", "%"], "own time"), "",
                     table(spy["inclusive"], ["frame", "%"], "inclusive, repsense frames")]
    text += ["", "targets met: " + ", ".join(f"{k}={v}" for k, v in result["targets_met"].items())]
    emit(result, args.json, "\n".join(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
