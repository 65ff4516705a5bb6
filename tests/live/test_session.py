"""The plan-following session logic, fed pipeline events and user actions (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from repsense.events import RepTempo
from repsense.live.plans import find_plan, load_plan_file, parse_tempo
from repsense.live.session import LiveSession, remap_rep, tempo_cues


def kinds(notices) -> list[str]:
    return [n.kind for n in notices]


def feed_all(session: LiveSession, events) -> list:
    out = []
    for e in events:
        out += session.feed(e)
    return out


def test_follows_the_plan_set_by_set_with_rest_countdown(tiny_plan: Path, ev) -> None:
    s = LiveSession(load_plan_file(tiny_plan))
    assert [(r.kind, r.exercise) for r in s.take_requests()] == [
        ("set_exercise", "romanian_deadlift")]
    evs, reps = ev.whole_set(1, 10.0, 5)
    out = feed_all(s, evs)
    assert kinds(out).count("rep") == 5
    assert "set_started" in kinds(out) and "target_reached" in kinds(out)
    ended = [n for n in out if n.kind == "set_ended"][0]
    assert "set 1/2" in ended.message and "5/5 reps" in ended.message
    assert "rest 20 s" in ended.message
    assert s.step.set_number == 2 and s.current is None
    end = reps[-1].end_s
    assert s.tick(end + 19.0) == [] and s.rest_remaining() == pytest.approx(1.0)
    over = s.tick(end + 20.5)
    assert kinds(over) == ["rest_over"] and over[0].data["bell"]
    assert s.tick(end + 25.0) == []  # rings once
    out = feed_all(s, ev.whole_set(2, end + 40.0, 5)[0])
    assert kinds(out)[-2:] == ["set_ended", "plan_done"]
    assert s.finished and s.finish_reason == "plan done"
    summary = s.summary()
    assert summary["plan"]["completed"] and summary["total_reps"] == 10
    assert [x["set_number"] for x in summary["sets"]] == [1, 2]


def test_superset_goes_straight_to_the_paired_exercise(ev) -> None:
    s = LiveSession(find_plan("hyperextension-bridge-superset"))
    s.take_requests()
    out = feed_all(s, ev.whole_set(1, 5.0, 12, "generic")[0])
    assert kinds(out)[-2:] == ["set_ended", "rest_over"]  # no rest inside a round
    assert s.expected_exercise == "glute_bridge"
    assert [r.exercise for r in s.take_requests()] == ["glute_bridge"]
    evs, reps = ev.whole_set(2, 70.0, 12, "glute_bridge")
    out = feed_all(s, evs)
    assert "rest 90 s" in [n for n in out if n.kind == "set_ended"][0].message
    assert s.expected_exercise == "generic" and s.step.set_number == 2


def test_velocity_loss_after_an_undo_is_the_set_ends_own(tiny_plan: Path, ev) -> None:
    # The set's velocity loss compares concentric peak speeds, fastest against last.  An
    # undo recomputed it from each rep's overall peak, best of the first three against
    # the last: here 0 % (the overall peak, while lowering, never changes), where the
    # set's own measure says 25 %.
    from repsense.reps.tempo import velocity_loss_pct

    s = LiveSession(load_plan_file(tiny_plan))
    conc = [80.0, 90.0, 85.0, 100.0, 75.0, 60.0]
    reps = [ev.rep(i + 1, 10.0 + 4 * i, speed=150.0, conc_speed=c) for i, c in enumerate(conc)]
    feed_all(s, [ev.set_start(1, 10.0)] + [ev.rep_event(1, r, i + 1) for i, r in enumerate(reps)])
    feed_all(s, [ev.set_end(1, reps, vl=velocity_loss_pct(reps))])
    assert s.sets[0].velocity_loss_pct == pytest.approx(40.0)
    s.act("undo")
    assert s.sets[0].count == 5
    assert s.sets[0].velocity_loss_pct == pytest.approx(25.0)
    assert velocity_loss_pct(reps[:5]) == pytest.approx(25.0)


def test_undo_during_a_set_survives_the_final_set_details(tiny_plan: Path, ev) -> None:
    s = LiveSession(load_plan_file(tiny_plan))
    reps = [ev.rep(i + 1, 10.0 + 4 * i, speed=100.0 - 10 * i) for i in range(4)]
    feed_all(s, [ev.set_start(1, 10.0)] + [ev.rep_event(1, r, i + 1) for i, r in enumerate(reps)])
    out = s.act("undo")
    assert kinds(out) == ["undo"] and s.current.count == 3
    feed_all(s, [ev.set_end(1, reps, vl=40.0)])
    rec = s.sets[0]
    assert rec.count == 3 and [r.start_s for r in rec.reps] == [10.0, 14.0, 18.0]
    assert rec.velocity_loss_pct == pytest.approx(20.0)  # recomputed over the kept reps
    s.act("undo")  # after the set: takes the last rep of the last set
    assert s.sets[0].count == 2


def test_undoing_a_deadlift_rep_undoes_the_same_pull_in_the_set_details(ev) -> None:
    # Live, a deadlift rep is lowering then pull (it is counted at lockout); in set_end
    # the same rep runs from that pull to the bar back down. Undoing live rep 2 must
    # drop the finished rep with pull 2, not the one whose start is nearest.
    s = LiveSession(None, "deadlift")
    pulls = [(10.0 + 8.0 * k, 11.0 + 8.0 * k) for k in range(4)]  # pull k: start, end
    # 4 s lowering, 1 s at the floor, pull
    live = [RepTempo(k + 1, a - 6.0, b, 1.0, 4.0, 2.0, 1.0, "4-1-1-2", 50.0, 100.0, 100.0,
                     40.0, False) for k, (a, b) in enumerate(pulls)]
    final = [RepTempo(k + 1, a, b + 6.0, 1.0, 4.0, 2.0, 0.0 if k == 0 else 1.0, "4-1-1-2",
                      50.0, 100.0, 100.0, 40.0, False) for k, (a, b) in enumerate(pulls)]
    feed_all(s, [ev.set_start(1, 4.0, "deadlift"), ev.rep_event(1, live[0], 1, "deadlift"),
                 ev.rep_event(1, live[1], 2, "deadlift")])
    s.act("undo")
    feed_all(s, [ev.rep_event(1, live[2], 2, "deadlift"), ev.rep_event(1, live[3], 3, "deadlift"),
                 ev.set_end(1, final, "deadlift")])
    assert [r.start_s for r in s.sets[0].reps] == [10.0, 26.0, 34.0]


def test_mismatch_asks_and_keep_or_switch(ev) -> None:
    s = LiveSession(find_plan("hamstrings-glutes-gym"))
    evs, reps = ev.whole_set(1, 5.0, 10)
    feed_all(s, evs)
    assert s.recognized(5.0, reps[-1].end_s, "single_leg_deadlift", 0.9) == []  # same family
    assert s.recognized(5.0, reps[-1].end_s, "leg_curl", 0.3) == []  # not sure enough
    out = s.recognized(5.0, reps[-1].end_s, "leg_curl", 0.85)
    assert kinds(out) == ["mismatch"] and "leg curl" in out[0].message
    assert s.question is s.sets[0]
    assert s.recognized(5.0, reps[-1].end_s, "leg_curl", 0.85) == []  # asked once per set
    out = s.act("switch")
    rec = s.sets[0]
    assert kinds(out) == ["switched"] and rec.exercise == "leg_curl" and rec.switched_from
    assert rec.name == "Lying leg curl" and rec.set_number == 1 and rec.target == (10, 10)
    # the set counts for the leg curl; the RDL sets are still to do, the curl goes on
    assert s.step.exercise.id == "leg_curl" and s.step.set_number == 2
    assert 0 not in s.done_steps and 5 in s.done_steps


def test_mismatch_keep_leaves_the_plan(ev) -> None:
    s = LiveSession(find_plan("hamstrings-glutes-gym"))
    evs, reps = ev.whole_set(1, 5.0, 10)
    feed_all(s, evs)
    s.recognized(5.0, reps[-1].end_s, "glute_bridge", 0.9)
    assert kinds(s.act("keep")) == ["info"] and s.question is None
    assert s.sets[0].exercise == "romanian_deadlift" and s.step.set_number == 2


def test_switch_to_an_exercise_outside_the_plan_keeps_the_planned_set_open(ev) -> None:
    s = LiveSession(find_plan("hamstrings-glutes-gym"))
    evs, reps = ev.whole_set(1, 5.0, 10)
    feed_all(s, evs)
    s.recognized(5.0, reps[-1].end_s, "glute_bridge", 0.9)
    s.act("switch")
    assert s.sets[0].step is None and s.sets[0].exercise == "glute_bridge"
    assert s.step.index == 0  # RDL set 1 is still expected


def test_next_previous_and_skipping_to_the_end(ev) -> None:
    s = LiveSession(find_plan("hamstrings-glutes-gym"))
    s.take_requests()
    out = s.act("next")
    assert kinds(out) == ["moved"] and s.step.exercise.id == "leg_curl"
    assert [r.exercise for r in s.take_requests()] == ["leg_curl"]
    s.act("previous")
    assert s.step.index == 0 and not s.skipped_steps
    assert kinds(s.act("previous")) == ["info"]
    for _ in range(3):
        s.act("next")
    assert s.step.exercise.id == "hip_thrust"
    assert kinds(s.act("next")) == ["plan_done"] and s.finished


def test_next_during_a_set_ends_it_first(ev) -> None:
    s = LiveSession(find_plan("hamstrings-glutes-gym"))
    s.take_requests()
    evs, reps = ev.whole_set(1, 5.0, 6)
    feed_all(s, evs[:-1])
    s.act("next")
    assert [r.kind for r in s.take_requests()] == ["end_set", "set_exercise"]
    feed_all(s, [evs[-1]])  # the pipeline's SetEnd for the ended set
    rec = s.sets[0]
    assert rec.ended_by == "user" and rec.count == 6 and rec.exercise == "romanian_deadlift"
    assert s.step.exercise.id == "leg_curl"


def test_end_set_and_end_session_requests(tiny_plan: Path, ev) -> None:
    s = LiveSession(load_plan_file(tiny_plan))
    s.take_requests()
    assert kinds(s.act("end_set")) == ["info"] and s.take_requests() == []
    evs, reps = ev.whole_set(1, 5.0, 4)
    feed_all(s, evs[:-1])
    s.act("end_set")
    assert [r.kind for r in s.take_requests()] == ["end_set"]
    feed_all(s, [evs[-1]])
    assert s.sets[0].ended_by == "user"
    out = s.act("end_session")
    assert kinds(out) == ["session_end"] and s.finished and s.finish_reason == "ended by user"
    assert kinds(s.act("undo")) == ["info"]


def test_lone_reps_between_sets_do_not_count_as_a_set(tiny_plan: Path, ev) -> None:
    s = LiveSession(load_plan_file(tiny_plan))
    evs, reps = ev.whole_set(1, 5.0, 5)
    feed_all(s, evs)
    rest = s.rest
    out = feed_all(s, ev.whole_set(2, reps[-1].end_s + 5.0, 1)[0])  # re-racking the bar
    assert "stray" in kinds(out) and "set_ended" not in kinds(out)
    assert "set_started" not in kinds(out)
    assert len(s.sets) == 1 and s.step.set_number == 2 and s.rest is rest
    assert s.summary()["ignored_movements"][0]["reps"] == 1


def test_free_training_takes_the_pipeline_exercise(ev) -> None:
    s = LiveSession(None, "auto")
    out = feed_all(s, ev.whole_set(1, 5.0, 4, "glute_bridge")[0])
    assert s.sets[0].exercise == "glute_bridge" and s.rest is not None
    assert s.rest_remaining() is None  # no plan, no countdown
    assert kinds(out)[-1] == "set_ended" and not s.finished
    assert kinds(s.act("next")) == ["info"]
    s.act("exercise:leg_curl")
    assert s.expected_exercise == "leg_curl"


def test_tempo_cues(ev) -> None:
    target = parse_tempo("3-1-1-0", "t")
    fast = ev.rep(2, 0.0, ecc=1.0, conc=1.0, bottom=1.0)
    assert tempo_cues(fast, target) == ("lower slower: 3 s eccentric",)
    slow_up = ev.rep(2, 0.0, ecc=3.0, conc=3.0, bottom=1.0)
    assert tempo_cues(slow_up, target) == ("lift faster: 1 s up",)
    assert tempo_cues(ev.rep(2, 0.0, ecc=3.0, conc=1.0, bottom=1.0), target) == ()
    no_pause = ev.rep(2, 0.0, ecc=3.0, conc=1.0, bottom=0.0)
    assert tempo_cues(no_pause, target) == ("pause at the bottom: 1 s",)
    curl = parse_tempo("3-0-1-1", "t")
    assert "pause at the top: 1 s" in tempo_cues(
        ev.rep(1, 0.0, ecc=3.0, conc=1.0, exercise="leg_curl"), curl)
    # RDL: the top pause is the dwell before the rep, unknown for the first rep
    rdl = parse_tempo("3-0-1-2", "t")
    assert tempo_cues(ev.rep(1, 0.0, ecc=3.0, conc=1.0), rdl) == ()
    assert tempo_cues(ev.rep(2, 0.0, ecc=3.0, conc=1.0), rdl) == (
        "pause at the top: 2 s",)
    assert tempo_cues(fast, None) == ()


def test_a_finished_deadlift_rep_is_judged_from_the_pull(ev) -> None:
    # Live, a deadlift rep is lowering then pull: its lockout (top) pause is the dwell
    # before it, unknown for the first rep. In set_end the rep starts with the pull and
    # its lockout follows, so the first rep's lockout is judged too.
    # The rep says which way it is laid out (``starts_concentric``).
    dl = parse_tempo("4-0-1-2", "t")
    live = ev.rep(1, 0.0, ecc=4.0, conc=1.0, top=0.5, exercise="deadlift")
    done = ev.rep(1, 0.0, ecc=4.0, conc=1.0, top=0.5, exercise="deadlift", final=True)
    assert not live.starts_concentric and done.starts_concentric
    assert tempo_cues(live, dl) == ()
    assert tempo_cues(done, dl) == ("pause at the top: 2 s",)
    # and a finished deadlift rep already starts concentric, like a curl's
    assert remap_rep(done, "leg_curl", final=True) is done
    assert remap_rep(live, "leg_curl") is not live


def test_a_deadlift_set_that_never_stood_up_is_read_as_its_reps_say(ev) -> None:
    # A deadlift set whose standing-up excursion went unrecognised keeps the live layout
    # in set_end (lowering first): its reps say so, and the table's "finished deadlift
    # reps start with the pull" no longer overrules them (the first rep's lockout pause
    # is then the dwell before it, unknown, and not judged).
    dl = parse_tempo("4-0-1-2", "t")
    kept = ev.rep(1, 0.0, ecc=4.0, conc=1.0, top=0.5, exercise="deadlift")
    assert tempo_cues(kept, dl) == ()


def test_remap_rep_swaps_phases_between_exercise_kinds(ev) -> None:
    rep = ev.rep(1, 0.0, ecc=3.0, conc=1.0, top=0.5, bottom=2.0)
    same = remap_rep(rep, "single_leg_deadlift")
    assert same is rep
    other = remap_rep(rep, "leg_curl")
    assert (other.eccentric_s, other.concentric_s, other.top_pause_s, other.bottom_pause_s) == (
        1.0, 3.0, 2.0, 0.5)
    assert other.tempo == "1-0-3-2"


def test_a_generic_rep_says_which_phase_it_starts_with(ev) -> None:
    # A generic set that rested at the top lowered first (RepTempo.starts_concentric
    # False): its first rep's top pause is the unknown dwell before it, its bottom
    # pause the measured one, as a Romanian deadlift's.
    target = parse_tempo("3-2-1-2", "t")
    lifts = ev.rep(1, 0.0, ecc=3.0, conc=1.0, exercise="generic")
    lowers = replace(lifts, starts_concentric=False)
    assert tempo_cues(lowers, target) == ("pause at the bottom: 2 s",)
    assert tempo_cues(lifts, target) == ("pause at the top: 2 s",)
    # taken for a hinge it keeps its layout; for a curl it is read the other way round
    assert remap_rep(lowers, "romanian_deadlift") is lowers
    curl = remap_rep(lowers, "leg_curl")
    assert (curl.concentric_s, curl.eccentric_s, curl.starts_concentric) == (3.0, 1.0, True)


def test_walking_between_sets_is_not_a_set(tiny_plan: Path, ev) -> None:
    s = LiveSession(load_plan_file(tiny_plan))
    evs, reps = ev.whole_set(1, 5.0, 5)
    feed_all(s, evs)
    out = feed_all(s, ev.whole_set(2, reps[-1].end_s + 5.0, 12, rom=6.0)[0])  # steps
    stray = [n for n in out if n.kind == "stray"]
    assert stray and "under 10°" in stray[0].message
    assert len(s.sets) == 1 and s.step.set_number == 2
    s.take_requests()
    assert s.act("end_set")[0].kind == "info"  # no set in progress any more
    assert s.take_requests() == []
