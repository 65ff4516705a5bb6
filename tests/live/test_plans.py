"""Plan parsing: bundled plans are valid, every mistake is one clear line, exit 2 in the CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repsense.cli import main
from repsense.errors import InputError
from repsense.live.plans import (
    available_plans,
    bundled_plan_texts,
    find_plan,
    format_plan,
    parse_plan,
)

GOOD = """\
name = "mine"
[[exercise]]
id = "leg_curl"
sets = 3
reps = "8-12"
tempo = "3-0-1-1"
placement = "shank"
"""


def test_bundled_plans_are_valid_and_cover_the_programmes() -> None:
    texts = bundled_plan_texts()
    plans = {p.name: p for p in (parse_plan(t, f"bundled:{k}") for k, t in texts.items())}
    assert set(plans) == {"hamstrings-glutes-gym", "hamstrings-glutes-home", "heavy-3x3-6",
                          "hyperextension-bridge-superset"}
    gym = plans["hamstrings-glutes-gym"]
    assert [e.id for e in gym.exercises] == ["romanian_deadlift", "leg_curl",
                                             "single_leg_deadlift", "hip_thrust"]
    assert all(e.sets == 5 and e.reps_min == e.reps_max == 10 and e.rest_s == 60
               for e in gym.exercises)
    assert all(120 <= e.rest_after_s <= 180 for e in gym.exercises[:-1])
    heavy = plans["heavy-3x3-6"]
    assert all((e.sets, e.reps_min, e.reps_max) == (3, 3, 6) for e in heavy.exercises)
    home = plans["hamstrings-glutes-home"]
    assert {e.id for e in home.exercises} == {"leg_curl", "glute_bridge", "single_leg_deadlift"}
    sup = plans["hyperextension-bridge-superset"]
    assert sup.exercises[0].superset_with_next and sup.groups() == [[0, 1]]
    for plan in plans.values():  # the readable form works for all
        assert plan.title in format_plan(plan)


def test_superset_steps_alternate_without_rest_inside_a_round() -> None:
    plan = find_plan("hyperextension-bridge-superset")
    order = [(s.exercise.id, s.set_number, s.rest_after_s) for s in plan.steps]
    assert order == [("generic", 1, 0.0), ("glute_bridge", 1, 90.0),
                     ("generic", 2, 0.0), ("glute_bridge", 2, 90.0),
                     ("generic", 3, 0.0), ("glute_bridge", 3, None)]


def test_steps_of_a_plain_plan_rest_between_sets_then_between_exercises() -> None:
    plan = find_plan("hamstrings-glutes-gym")
    rests = [s.rest_after_s for s in plan.steps]
    assert plan.total_sets == 20
    assert rests[:5] == [60.0, 60.0, 60.0, 60.0, 150.0]
    assert rests[-1] is None


def test_superset_with_uneven_sets_drops_out_and_rests_by_first_exercise() -> None:
    plan = parse_plan(
        'name = "u"\n[[exercise]]\nid = "glute_bridge"\nsets = 3\nreps = 5\nrest_s = 45\n'
        "superset_with_next = true\n"
        '[[exercise]]\nid = "leg_curl"\nsets = 2\nreps = 5\nrest_s = 99\nrest_after_s = 30\n'
        '[[exercise]]\nid = "hip_thrust"\nsets = 1\nreps = 5\n'
    )
    order = [(s.exercise.id, s.set_number, s.rest_after_s) for s in plan.steps]
    assert order == [("glute_bridge", 1, 0.0), ("leg_curl", 1, 45.0),
                     ("glute_bridge", 2, 0.0), ("leg_curl", 2, 45.0),
                     ("glute_bridge", 3, 30.0), ("hip_thrust", 1, None)]


def test_good_plan_fields() -> None:
    plan = parse_plan(GOOD, "mine.toml")
    e = plan.exercises[0]
    assert (e.reps_min, e.reps_max, e.reps_text) == (8, 12, "8-12")
    assert (e.tempo.eccentric_s, e.tempo.bottom_pause_s, e.tempo.concentric_s,
            e.tempo.top_pause_s) == (3, 0, 1, 1)
    assert e.placement == "shank" and e.name == "leg curl"
    assert parse_plan(GOOD.replace("3-0-1-1", "X-0-x-2")).exercises[0].tempo.text == "X-0-X-2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'x'\n[[exercise]]\nid = 'leg_curls'\nreps = 5\n", "did you mean 'leg_curl'"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\nreps = 5\nsets = 0\n", "field 'sets' is 0"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\nreps = '6-3'\n", "field 'reps'"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\n", "field 'reps' is missing"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\nreps = 5\ntempo = '3-1-1'\n",
         "it needs four"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\nreps = 5\ntempo = '3-a-1-0'\n",
         "'a' is not a number"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\nreps = 5\nrest = 60\n",
         "did you mean 'rest_s'"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\nreps = 5\nsuperset_with_next = true\n",
         "superset_with_next = true on the last exercise"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\nreps = 5\nplacement = 'knee'\n",
         "use one of: thigh, shank"),
        ("name = 'x'\n[[exercise]]\nid = 'leg_curl'\nreps = 5\nvariant = 'upside_down'\n",
         "field 'variant'"),
        ("name = 'Bad Name'\n[[exercise]]\nid = 'leg_curl'\nreps = 5\n", "field 'name'"),
        ("name = 'x'\n", "no exercises"),
        ("name = 'x'\n[[exercise]\n", "not valid TOML"),
    ],
)
def test_bad_plans_are_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        parse_plan(text, "p.toml")
    msg = str(info.value)
    assert expected in msg and msg.startswith("p.toml") and "\n" not in msg


def test_user_plans_are_listed_and_win_over_bundled(dirs: dict[str, Path]) -> None:
    pdir = dirs["config"] / "plans"
    pdir.mkdir(parents=True)
    (pdir / "mine.toml").write_text(GOOD, encoding="utf-8")
    (pdir / "gym.toml").write_text(GOOD.replace('"mine"', '"hamstrings-glutes-gym"'), "utf-8")
    plans = available_plans()
    assert plans["mine"].source.endswith("mine.toml")
    assert plans["hamstrings-glutes-gym"].exercises[0].id == "leg_curl"
    with pytest.raises(InputError, match="did you mean 'mine'"):
        find_plan("mien")


def test_cli_plans_list_show_and_bad_file_exit_2(dirs: dict[str, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plans"]) == 0
    assert "hamstrings-glutes-gym" in capsys.readouterr().out
    assert main(["plans", "show", "heavy-3x3-6"]) == 0
    assert "3 × 3-6" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'bad'\n[[exercise]]\nid = 'leg_curl'\nreps = 0\n", encoding="utf-8")
    for args in (["plans", "show", str(bad)], ["plans", "check", str(bad)],
                 ["live", "--plan", str(bad), "--sensor", "sim:leg_curl", "--plain"]):
        assert main(args) == 2, args
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "field 'reps'" in lines[0], captured.err
        assert captured.out == ""
    assert not (dirs["data"] / "sessions").exists()  # nothing stored for a refused plan


def test_cli_plans_in_a_subprocess_exit_2_without_traceback(tmp_path: Path, dirs, cmd) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'bad'\n[[exercise]]\nid = 'deadlfit'\nreps = 3\n", encoding="utf-8")
    out = subprocess.run(cmd("plans", "show", str(bad)), capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "did you mean 'deadlift'" in out.stderr
