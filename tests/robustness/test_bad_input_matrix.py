"""Bad-input matrix: every file-taking command, every kind of broken file.

Each case runs the real CLI as a subprocess (``python -m repsense``) and
checks the promise made to users: exit status 2, exactly one line on stderr
naming the file (or the option), no traceback, no partial result on stdout
and no existing output file overwritten.  The subprocesses of one command
run concurrently so the matrix stays fast.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

HEADER6 = "time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps"
HEADER3 = "time_s,acc_x_g,acc_y_g,acc_z_g"
GOOD_ROWS = 400  # 4 s at 100 Hz of a sensor at rest before anything goes wrong


def _rows(n: int = GOOD_ROWS, rate: float = 100.0) -> list[str]:
    return [f"{i / rate:.4f},0.01,0.02,0.99,0.1,-0.2,0.3" for i in range(n)]


def _csv(rows: list[str], header: str = HEADER6) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _with(row_index: int, row: str) -> bytes:
    rows = _rows()
    rows[row_index] = row
    return _csv(rows)


def _dup3() -> bytes:
    rows = _rows()
    rows[101] = rows[102] = rows[100]
    return _csv(rows)


def _wrong_units() -> bytes:
    rows = [f"{i / 100:.2f},0.1,0.2,9.79,0,0,0" for i in range(GOOD_ROWS)]
    return _csv(rows)


RNG = np.random.default_rng(8)
BAD_FILES: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "header_only": lambda: (HEADER6 + "\n").encode(),
    "header_then_blank_lines": lambda: (HEADER6 + "\n\n\n").encode(),
    "binary_junk": lambda: RNG.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    "junk_after_header": lambda: (HEADER6 + "\n").encode() + b"\x00\xff\xfe" * 300,
    "huge_values": lambda: _with(250, "2.5,1e30,0,1,0,0,0"),
    "nan": lambda: _with(250, "2.5,nan,0,1,0,0,0"),
    "inf": lambda: _with(250, "2.5,0,0,1,inf,0,0"),
    "time_backwards": lambda: _with(300, "0.5,0,0,1,0,0,0"),
    "duplicate_timestamps_x3": _dup3,
    "rate_1hz": lambda: _csv(_rows(60, rate=1.0)),
    "rate_5khz": lambda: _csv(_rows(2000, rate=5000.0)),
    "wrong_units_ms2_in_g": _wrong_units,
    "short_row": lambda: _with(250, "2.5,0,0"),
    "text_in_number": lambda: _with(250, "2.5,0,zero,1,0,0,0"),
    "no_time_column": lambda: _csv(_rows(), header=HEADER6.replace("time_s", "t_ms")),
    "missing_axis": lambda: _csv(_rows(), header=HEADER3.replace("acc_z_g", "acc_q_g")),
}
BAD_CAPTURES: dict[str, Callable[[], bytes]] = {
    "capture_empty": lambda: b"",
    "capture_junk": lambda: b"{not json\n\x00\x01\x02\n",
    "capture_wrong_first_line": lambda: b'{"type": "notification", "data": "00"}\n',
}


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repsense", *argv], cwd=cwd, capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL,
    )


def _check(proc: subprocess.CompletedProcess[str], names: tuple[str, ...]) -> None:
    err = proc.stderr
    assert "Traceback" not in err, err
    assert proc.returncode == 2, f"exit {proc.returncode}; stderr={err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"stderr must be one line, got {len(lines)}: {err!r}"
    assert any(n in lines[0] for n in names), f"stderr must name {names}: {lines[0]!r}"


def _matrix(
    tmp: Path, command: Callable[[Path], list[str]], only: tuple[str, ...] | None = None
) -> dict[str, object]:
    cases: dict[str, tuple[Path, tuple[str, ...]]] = {}
    for name, make in BAD_FILES.items():
        path = tmp / f"{name}.csv"
        path.write_bytes(make())
        cases[name] = (path, (path.name,))
    for name, make in BAD_CAPTURES.items():
        path = tmp / f"{name}.jsonl"
        path.write_bytes(make())
        cases[name] = (path, (path.name,))
    cases["missing_file"] = (tmp / "does_not_exist.csv", ("does_not_exist.csv",))
    if only is not None:
        cases = {k: v for k, v in cases.items() if k in only}
    good = tmp / "good.csv"
    good.write_bytes(_csv(_rows()))
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, command(path), tmp) for name, (path, _) in
                   cases.items()}
        futures["unknown_exercise"] = pool.submit(_run, [*command(good), "--exercise", "squat"],
                                                  tmp)
        if only is None:
            futures["unknown_placement"] = pool.submit(
                _run, [*command(good), "--placement", "ankle"], tmp)
        results = {name: f.result() for name, f in futures.items()}
    names = {name: n for name, (_, n) in cases.items()}
    names["unknown_exercise"] = ("exercise",)
    names["unknown_placement"] = ("placement",)
    return {"results": results, "names": names}


CASES = [*BAD_FILES, *BAD_CAPTURES, "missing_file", "unknown_exercise", "unknown_placement"]
# replay shares the readers with analyze; its own risk is streaming output
# before a late error, so it gets the cases that fail mid-file (and a few others).
REPLAY_CASES = ("empty", "binary_junk", "nan", "time_backwards", "duplicate_timestamps_x3",
                "rate_5khz", "capture_junk", "unknown_exercise")


@pytest.fixture(scope="module")
def analyze_matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("analyze")
    return _matrix(tmp, lambda p: ["analyze", str(p), "--format", "json"])


@pytest.fixture(scope="module")
def replay_matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("replay")
    return _matrix(tmp, lambda p: ["replay", str(p), "--speed", "0", "--no-mqtt", "--json"],
                   only=REPLAY_CASES)


@pytest.mark.parametrize("case", CASES)
def test_analyze_bad_input(analyze_matrix: dict, case: str) -> None:
    proc = analyze_matrix["results"][case]
    _check(proc, analyze_matrix["names"][case])
    assert proc.stdout == "", f"partial result on stdout: {proc.stdout[:200]!r}"


@pytest.mark.parametrize("case", REPLAY_CASES)
def test_replay_bad_input(replay_matrix: dict, case: str) -> None:
    proc = replay_matrix["results"][case]
    _check(proc, replay_matrix["names"][case])
    # replay streams events as they happen; it must never claim the session ended.
    assert "session_end" not in proc.stdout, proc.stdout[-300:]


def test_report_bad_inputs_keep_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "existing.png"
    out.write_bytes(b"precious bytes")
    cases = {k: BAD_FILES[k] for k in ("binary_junk", "time_backwards", "wrong_units_ms2_in_g")}
    paths = {}
    for name, make in cases.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_bytes(make())
    good = tmp_path / "good.csv"
    good.write_bytes(_csv(_rows()))
    argvs = {name: ["report", str(p), "-o", str(out)] for name, p in paths.items()}
    argvs["unknown_exercise"] = ["report", str(good), "-o", str(out), "--exercise", "squat"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = {n: pool.submit(_run, a, tmp_path) for n, a in argvs.items()}
        results = {n: f.result() for n, f in results.items()}
    for name, proc in results.items():
        _check(proc, (f"{name}.csv",) if name in paths else ("exercise",))
        assert proc.stdout == "", name
    assert out.read_bytes() == b"precious bytes"


def test_simulate_bad_options_keep_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "existing.csv"
    out.write_bytes(b"precious bytes")
    sidecar = out.with_suffix(".json")
    sidecar.write_bytes(b"{}")
    bad_plan = tmp_path / "plan.toml"
    bad_plan.write_bytes(b"\x00 this is [[ not toml")
    argvs = {
        "exercise": ["--exercise", "squat"],
        "tempo": ["--exercise", "leg_curl", "--tempo", "3-x-y"],
        "rate": ["--exercise", "leg_curl", "--rate", "-5"],
        "plan": ["--plan", str(bad_plan)],
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = {n: pool.submit(_run, ["simulate", *a, "-o", str(out)], tmp_path)
                   for n, a in argvs.items()}
        results = {n: f.result() for n, f in results.items()}
    for name, proc in results.items():
        _check(proc, (name if name != "plan" else "plan.toml",))
        assert proc.stdout == "", name
    assert out.read_bytes() == b"precious bytes"
    assert sidecar.read_bytes() == b"{}"
