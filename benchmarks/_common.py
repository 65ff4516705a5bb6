"""Shared helpers for the benchmark scripts: machine facts, tables, JSON output.

Every benchmark prints a human table on stdout (or JSON with ``--json``) and
records the machine it ran on, so a figure in BENCHMARKS.md can be traced to
the hardware and the command that produced it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("REPSENSE_BENCH_CACHE", "/tmp/repsense-bench"))


def machine_info() -> dict[str, Any]:
    """CPU model, core count, RAM and library versions of this machine."""
    import numpy as np
    import scipy

    model = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        if m:
            model = m.group(1).strip()
    except OSError:
        pass
    ram_mb = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_mb": ram_mb,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        # Other work on the machine skews timings; the load says how busy it was.
        "loadavg_1m": os.getloadavg()[0],
    }


def fmt(value: Any, digits: int = 3) -> str:
    """Format a cell: floats rounded, None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.{digits}g}" if abs(value) >= 1000 else f"{value:.{digits}f}".rstrip(
            "0"
        ).rstrip(".") or "0"
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str = "") -> str:
    """A plain-text (Markdown-compatible) table of ``rows`` restricted to ``columns``."""
    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = []
    if title:
        lines.append(title)
    lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        lines.append(
            "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |"
        )
    return "\n".join(lines)


def emit(result: dict[str, Any], as_json: bool, text: str) -> None:
    """Print ``result`` as JSON or ``text`` (which should already include the table)."""
    if as_json:
        json.dump(result, sys.stdout, indent=2, default=_default)
        sys.stdout.write("\n")
    else:
        print(text)


def _default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def set_rep_bounds(meta: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Each labelled set's reps as ``(start_s, end_s)`` from a sidecar: the simulator's
    ``rep_detail`` or a real recording's ``rep_bounds_s`` (an empty list for a set with
    neither; none for an unlabelled recording)."""
    out: list[list[tuple[float, float]]] = []
    for s in (meta.get("labels") or {}).get("sets") or []:
        if s.get("rep_detail"):
            out.append([(float(r["start_s"]), float(r["end_s"])) for r in s["rep_detail"]])
        else:
            out.append([(float(a), float(b)) for a, b in s.get("rep_bounds_s") or []])
    return out


def write_all(script: str, out: Path,
               read: Callable[[], list[tuple[Path, Any, dict[str, Any]]]]) -> int:
    """Write every ``(path, sample chunk, sidecar)`` that ``read()`` gives; the exit code.

    All are read before any is written (nothing half written); bad input is one line
    naming the file and exit code 2.
    """
    from repsense.errors import InputError
    from repsense.io.csv_writer import write_recording

    try:
        made = read()
        for path, chunk, meta in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_recording(path, [chunk], meta, has_gyro=chunk.has_gyro)
    except (InputError, OSError) as e:
        print(f"{script}: {e}", file=sys.stderr)
        return 2
    print(f"{len(made)} recordings written to {out}")
    return 0


def write_copies(
    script: str, src: Path, out: Path,
    make: Callable[[Path], tuple[Any, dict[str, Any]] | None], problem: str | None = None,
) -> int:
    """Write ``make(csv)`` (a sample chunk and its sidecar, or ``None`` to skip) for every
    recording in ``src`` to ``out``; the exit code.  ``problem``: a bad option, reported
    like bad input (one line, exit 2, nothing written)."""
    from repsense.errors import InputError

    def read() -> list[tuple[Path, Any, dict[str, Any]]]:
        if problem:
            raise InputError(problem)
        made = [(csv.name, make(csv)) for csv in sorted(src.glob("*.csv"))]
        kept = [(out / name, *m) for name, m in made if m is not None]
        if not kept:
            raise InputError(f"{src}: no recording whose sidecar gives its reps' bounds "
                             "(rep_detail or rep_bounds_s)")
        return kept

    return write_all(script, out, read)


def convert_dataset(
    script: str, doc: str, argv: Sequence[str] | None, source_help: str, out_help: str,
    read: Callable[[Path, Path], list[tuple[Path, Any, dict[str, Any]]]],
) -> int:
    """The command line of a converter from a copy of a public dataset: ``SOURCE OUT``.

    ``read(source, out)`` gives every ``(path, sample chunk, sidecar)`` to write (see
    :func:`write_all`).
    """
    import argparse

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("source", type=Path, help=source_help)
    ap.add_argument("out", type=Path, help=out_help)
    args = ap.parse_args(argv)
    return write_all(script, args.out, lambda: read(args.source, args.out))


def command_line() -> str:
    """The command that is running, for the record."""
    return " ".join([Path(sys.executable).name, *sys.argv])
