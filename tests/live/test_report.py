"""Reports: a session (made by the real runner on simulated data) and a recording become a
clean PNG / HTML with the angle trace, reps, phases, tempo bars and velocity loss."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from repsense.cli import main
from repsense.io.csv_writer import write_recording
from repsense.live.plans import load_plan_file
from repsense.live.runner import LiveOptions, run_live
from repsense.live.sources import PacedSource, plan_for_simulator
from repsense.report.data import load_report_data
from repsense.report.figure import DPI, FIGSIZE, build_figure, rep_phases
from repsense.sim import SimulatedSession


@pytest.fixture
def session_id(dirs: dict[str, Path], tiny_plan: Path) -> str:
    """A stored session: the tiny plan done by the simulated lifter, in-process, unpaced."""
    plan = load_plan_file(tiny_plan)
    sim = SimulatedSession.from_plan(plan_for_simulator(plan), seed=3)
    source = PacedSource("sim:romanian_deadlift", sim.chunks(1.0), sim.meta, speed=0)
    out = io.StringIO()
    result, _ = run_live(LiveOptions(sensor="sim:romanian_deadlift", plan=plan, speed=0,
                                     data_dir=dirs["data"]), source, out=out, interactive=False)
    assert result.summary["end_reason"] == "plan done", out.getvalue()
    return result.session_id


def _gids(fig) -> set[str]:
    return {a.get_gid() for ax in fig.axes for a in ax.get_children() if a.get_gid()}


def test_session_report_has_every_element(session_id: str, dirs: dict[str, Path]) -> None:
    data = load_report_data(session_id, data_dir=dirs["data"])
    assert len(data.sets) == 2 and data.total_reps == 10
    assert data.sets[0].target_tempo.text == "2-0-1-0" and data.sets[0].target_reps == "5"
    assert data.angle.max() > 15.0  # the hinge shows in the trace
    fig = build_figure(data)
    gids = _gids(fig)
    for gid in ("angle", "rep-markers", "phase-eccentric", "phase-concentric", "detail-angle",
                "detail-rep-markers", "tempo-eccentric", "tempo-concentric", "target-rep",
                "target-eccentric", "velocity-loss", "set-label-1", "set-label-2"):
        assert gid in gids, gid
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0].startswith("Movement angle") and titles[2].startswith("Tempo per rep")
    assert titles[3].startswith("Velocity loss")
    markers = [a for a in fig.axes[0].get_lines() if a.get_gid() == "rep-markers"][0]
    assert len(markers.get_xdata()) == 10  # every rep is marked
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


def test_report_command_writes_png_and_html(session_id: str, dirs: dict[str, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", session_id[:11]]) == 0  # a unique prefix will do
    png = dirs["data"] / "sessions" / session_id / "report.png"
    assert png.is_file() and "2 sets, 10 reps" in capsys.readouterr().out
    img = mpimg.imread(png)
    assert img.shape[:2] == (int(FIGSIZE[1] * DPI), int(FIGSIZE[0] * DPI))
    assert img[..., :3].std() > 0.05  # a picture, not a blank canvas
    html = dirs["tmp"] / "r.html"
    assert main(["report", "latest", "-o", str(html)]) == 0
    text = html.read_text(encoding="utf-8")
    assert "data:image/png;base64," in text and "<table>" in text and "2-0-1-0" in text


def test_recording_report_and_bad_input(tmp_path: Path, dirs: dict[str, Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    sim = SimulatedSession(exercise="glute_bridge", sets=1, reps=4, rest_s=20, seed=5)
    rec = write_recording(tmp_path / "bridge.csv", sim.chunks(1.0), sim.meta,
                          has_gyro=sim.has_gyro)
    assert main(["report", str(rec), "--exercise", "glute_bridge"]) == 0
    assert (tmp_path / "bridge.report.png").stat().st_size > 20_000
    capsys.readouterr()
    assert main(["report", str(rec), "-o", str(tmp_path / "x.jpg")]) == 2
    assert main(["report", str(tmp_path / "missing.csv")]) == 2
    assert main(["report", "nosuchsession"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and ".png or .html" in err[0]
    assert not (tmp_path / "x.jpg").exists()


def test_a_deadlift_report_shades_each_pull_before_its_lowering(tmp_path: Path) -> None:
    # A finished deadlift rep runs from the pull to the bar back down (tempo 4-0-1-2:
    # 1 s up, 2 s at lockout, 4 s down); the figure's phase shading must follow that
    # order, not the detector's lowering-then-pull of a live rep.
    sim = SimulatedSession(exercise="deadlift", placement="thigh", sets=1, reps=4,
                           tempo="4-0-1-2", rate_hz=50.0, seed=1, nuisance="none")
    rec = write_recording(tmp_path / "deadlift.csv", sim.chunks(1.0), sim.meta,
                          has_gyro=sim.has_gyro)
    data = load_report_data(str(rec), exercise="deadlift", placement="thigh")
    [s] = data.sets
    labels = sim.labels["sets"][0]["rep_detail"]
    assert len(s.reps) == len(labels)
    for rep, want in zip(s.reps, labels, strict=True):
        ph = rep_phases(s, rep)
        pull_start = want["start_s"]
        lowering_start = want["start_s"] + want["concentric_s"] + want["top_pause_s"]
        assert ph["concentric"][0] == pytest.approx(pull_start, abs=0.3)
        assert ph["eccentric"][0] == pytest.approx(lowering_start, abs=0.4)
        assert ph["eccentric"][1] == pytest.approx(want["eccentric_s"], abs=0.4)
