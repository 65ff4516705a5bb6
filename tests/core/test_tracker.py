"""Set tracker: what splits a set and what does not."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest

from repsense.events import SetEnd
from repsense.reps.detector import FarDip, RepCandidate
from repsense.sets.tracker import SetTracker


def _rep(start: float, tilt_deg: float) -> RepCandidate:
    """A 3 s, 60° rep whose rest pose is tilted ``tilt_deg`` about x."""
    a = math.radians(tilt_deg)
    rest = (0.0, -math.sin(a), math.cos(a))
    far = (0.0, -math.sin(a + 1.0), math.cos(a + 1.0))
    return RepCandidate(start, start + 1.2, start + 1.8, start + 3.0, start + 3.1, 60.0,
                        120.0, 120.0, 110.0, rest, far)


def _set_sizes(starts_and_tilts: list[tuple[float, float]]) -> list[int]:
    ids = itertools.count()
    tracker = SetTracker("leg_curl", "shank", lambda: (f"e{next(ids)}", next(ids)))
    events = []
    for start, tilt in starts_and_tilts:
        events += tracker.add_rep(_rep(start, tilt))
    events += tracker.end_set(1000.0)
    return [len(e.reps) for e in events if isinstance(e, SetEnd)]


def test_a_new_posture_after_a_pause_starts_a_new_set() -> None:
    reps = [(3.2 * k, 0.0) for k in range(4)] + [(20.0 + 3.2 * k, 70.0) for k in range(4)]
    assert _set_sizes(reps) == [4, 4]


def test_rest_pose_shifting_between_back_to_back_reps_keeps_one_set() -> None:
    # The detector took the other end of the movement as rest from the third rep on
    # (a pause at the far end): no pause between the reps, so it is the same set.
    reps = [(3.2 * k, 0.0 if k < 2 else 70.0) for k in range(8)]
    assert _set_sizes(reps) == [8]


def _sizes_and_notes(reps: list[RepCandidate]) -> list[tuple[int, str]]:
    ids = itertools.count()
    tracker = SetTracker("leg_curl", "shank", lambda: (f"e{next(ids)}", next(ids)))
    events = []
    for rep in reps:
        events += tracker.add_rep(rep)
    events += tracker.end_set(1000.0)
    return [(len(e.reps), e.note) for e in events if isinstance(e, SetEnd)]


def test_a_part_way_movement_long_after_the_set_is_no_rep() -> None:
    reps = [_rep(3.2 * k, 0.0) for k in range(6)]
    late = replace(_rep(3.2 * 5 + 12.0, 0.0), rom_deg=25.0)  # putting the bar down
    (n, note), = _sizes_and_notes([*reps, late])
    assert n == 6 and "not counted" in note


@pytest.mark.parametrize("then_a_rep", [False, True])
def test_a_far_bigger_movement_long_after_the_set_counts_only_with_a_rep_after_it(
        then_a_rep: bool) -> None:
    # Getting up and the first stride away, 12 s after the last rep, swing the shank
    # nearly twice as far as the set's reps; a rep like the set's after it shows it was one.
    reps = [_rep(3.2 * k, 0.0) for k in range(6)]
    late = replace(_rep(3.2 * 5 + 15.0, 0.0), rom_deg=110.0)
    after = [_rep(3.2 * 5 + 18.2, 0.0)] if then_a_rep else []
    (n, note), = _sizes_and_notes([*reps, late, *after])
    assert (n, "not counted" in note) == ((8, False) if then_a_rep else (6, True))


@pytest.mark.parametrize("walking", [False, True])
def test_a_far_quicker_movement_long_after_the_set_waits_to_see_if_walking_follows(
        walking: bool) -> None:
    # The first stride of walking away, 10 s after the last rep: the set's size, but its
    # tilt speed peaked at three times the reps'.  It is held, not shown: the gait
    # detector, a second later, says it was a stride; with nobody walking off it counts
    # when the set ends (a last rep done quicker after a rest).
    ids = itertools.count()
    tracker = SetTracker("generic", "thigh", lambda: (f"e{next(ids)}", next(ids)))
    events = []
    for k in range(6):
        events += tracker.add_rep(_rep(3.2 * k, 0.0))
    stride = replace(_rep(3.2 * 5 + 13.0, 0.0), rom_deg=50.0, peak_speed_dps=360.0)
    held = tracker.add_rep(stride)
    assert held == []
    if walking:
        tracker.walking()
    (end,) = [e for e in tracker.end_set(1000.0) if isinstance(e, SetEnd)]
    assert len(end.reps) == (6 if walking else 7)
    # in the set's rhythm it is a rep at once, however quick
    tracker = SetTracker("generic", "thigh", lambda: (f"e{next(ids)}", next(ids)))
    for k in range(6):
        tracker.add_rep(_rep(3.2 * k, 0.0))
    quick = replace(_rep(3.2 * 6, 0.0), peak_speed_dps=360.0)
    assert [type(e).__name__ for e in tracker.add_rep(quick)] == ["Rep"]


@pytest.mark.parametrize("walking", [False, True])
def test_a_stride_held_as_the_quiet_period_ends_waits_for_walking(walking: bool) -> None:
    # The first stride away came just before the set's 15 quiet seconds were up, and the
    # gait detector knows it once it has judged a whole window of the walk (at most 4 s
    # after the stride began): the set waits for that before counting it.
    ids = itertools.count()
    tracker = SetTracker("generic", "shank", lambda: (f"e{next(ids)}", next(ids)))
    for k in range(6):
        tracker.add_rep(_rep(3.2 * k, 0.0))
    quiet_end = 3.2 * 5 + 3.0 + tracker.set_gap_s  # 34.0 s
    stride = RepCandidate(quiet_end - 1.3, quiet_end - 0.9, quiet_end - 0.7, quiet_end - 0.3,
                          quiet_end - 0.2, 50.0, 360.0, 300.0, 300.0, (0.0, 0.0, 1.0),
                          (0.0, -math.sin(1.0), math.cos(1.0)))
    assert tracker.add_rep(stride) == []
    events = []
    for t in (quiet_end, quiet_end + 1.0, quiet_end + 2.6):
        events += tracker.tick(t) if tracker.due(t) else []
    assert not [e for e in events if isinstance(e, SetEnd)]  # still waiting
    if walking:
        tracker.walking()
    t = quiet_end + 2.8
    events += tracker.tick(t) if tracker.due(t) else []
    (end,) = [e for e in events if isinstance(e, SetEnd)]
    assert len(end.reps) == (6 if walking else 7)
    assert end.time_s == pytest.approx(quiet_end)  # ended as of the quiet period's end


@pytest.mark.parametrize("walking", [False, True])
def test_quick_movements_after_a_set_wait_until_the_gait_check_has_judged_them(
        walking: bool) -> None:
    # At 10 Hz the gait flag speaks once every 2.5 s on a 3-s window, so the first strides
    # away are judged up to 5.5 s after the first began, later than 2 s after the last.
    ids = itertools.count()
    tracker = SetTracker("generic", "shank", lambda: (f"e{next(ids)}", next(ids)))
    tracker.walk_judged_s = 5.5
    for k in range(6):
        tracker.add_rep(_rep(3.2 * k, 0.0))
    first = replace(_rep(32.0, 0.0), return_start_s=32.6, end_s=33.0, detected_s=33.1,
                    rom_deg=50.0, peak_speed_dps=360.0)
    second = replace(first, start_s=33.0, away_end_s=33.5, return_start_s=33.6, end_s=34.0,
                     detected_s=34.1)
    assert tracker.add_rep(first) == [] and tracker.add_rep(second) == []
    events = []
    for t in (34.0, 36.2, 37.4):  # the set's quiet end, 2 s after the last, before 37.5
        events += tracker.tick(t) if tracker.due(t) else []
    assert not [e for e in events if isinstance(e, SetEnd)]  # still waiting
    if walking:
        tracker.walking()
    events += tracker.tick(37.6) if tracker.due(37.6) else []
    (end,) = [e for e in events if isinstance(e, SetEnd)]
    assert len(end.reps) == (6 if walking else 8)


def _small_between(prev_end: float, start_after: float, dur: float) -> RepCandidate:
    """A 15° movement starting ``start_after`` s after a rep that ended at ``prev_end``."""
    return replace(_small(prev_end + start_after, dur), rom_deg=15.0)


@pytest.mark.parametrize(("start_after", "dur", "counted"), [
    # begun once the rep had ended and over before the next began: a partial rep
    (0.1, 1.2, 8),
    # begun 0.4 s (a third of its time) before the rep had ended: the leg swaying back
    # past the rest pose and up again, part of that rep
    (-0.4, 1.2, 7),
    # over 0.3 s after the next rep began: a sway into it
    (0.5, 1.3, 7),
])
def test_a_small_movement_overlapping_a_rep_is_its_rebound(
        start_after: float, dur: float, counted: int) -> None:
    # Touch-and-go reps 4.5 s apart, each taking 3 s: the next begins 1.5 s after one ends.
    reps = [_rep(4.5 * k, 0.0) for k in range(7)]
    small = _small_between(reps[3].end_s, start_after, dur)
    (n, note), = _sizes_and_notes([*reps[:4], small, *reps[4:]])
    assert n == counted
    assert ("rebound" in note) == (counted == 7)


@pytest.mark.parametrize(("start_after", "dur", "moving_on", "last", "counted"), [
    # found with the leg already on its way out again, and the next rep began 0.5 s
    # (a quarter of its time) before it ended: a sway into that rep
    (0.1, 1.9, True, False, 7),
    # found with the leg at rest: shown at once, and a shown rep is not taken back
    (0.1, 1.9, False, False, 8),
    # the next rep began 0.15 s (under 15 % of its time) before it ended: a partial rep
    (0.05, 1.6, True, False, 8),
    # the set's last movement, no rep after it: counted when the set ends
    (0.1, 1.9, True, True, 8),
])
def test_a_partial_rep_found_as_the_next_movement_begins_waits_for_it(
        start_after: float, dur: float, moving_on: bool, last: bool, counted: int) -> None:
    # Touch-and-go reps 4.5 s apart, each taking 3 s; the small movement is too slow to
    # be held as a quick one (half the set's shortest rep).
    reps = [_rep(4.5 * k, 0.0) for k in range(7)]
    before = reps[-1] if last else reps[3]
    small = replace(_small_between(before.end_s, start_after, dur), moving_on=moving_on)
    order = [*reps, small] if last else [*reps[:4], small, *reps[4:]]
    (n, note), = _sizes_and_notes(order)
    assert n == counted
    assert ("rebound" in note) == (counted == 7)


def _move(start: float, dur: float, rom: float, cut: bool = False) -> RepCandidate:
    """A movement of ``rom`` degrees taking ``dur`` s from the rest pose of :func:`_rep`."""
    return replace(_rep(start, 0.0), away_end_s=start + 0.4 * dur,
                   return_start_s=start + 0.5 * dur, end_s=start + dur,
                   detected_s=start + dur + 0.1, rom_deg=rom, peak_speed_dps=3.0 * rom / dur,
                   cut_at_start=cut)


@pytest.mark.parametrize(("jolts", "cut", "counted"), [
    # the leg already moving at the stream's first sample: no rhythm to join
    (True, True, 10),
    # the same two quick movements with a start of their own pass for a set's first reps
    (True, False, 12),
    # no jolts: the small first squat waits for the next, past the sway between them
    (False, False, 10),
])
def test_a_movement_cut_at_the_streams_start_sets_no_rhythm(
        jolts: bool, cut: bool, counted: int) -> None:
    # A real calf recording: it starts with the leg turning (0.7 s, 8.5 deg), a jolt
    # (0.7 s, 13 deg), then ten squats, the first two small (13 and 16 deg), the leg
    # swaying back (5 deg) as the first one ends and the second begins.
    first = [_move(0.0, 0.7, 8.5, cut), _move(0.9, 0.7, 13.0)] if jolts else []
    sway = _move(3.6, 1.0, 5.0)
    squats = [_move(3.9, 2.65, 16.4), *(_move(6.95 + 2.8 * k, 2.7, 30.0) for k in range(8))]
    reps = [*first, _move(2.1, 2.25, 13.0), sway, *squats]
    (n, note), = _sizes_and_notes(reps)
    assert n == counted
    assert "1 rebound between reps not counted" in note


def test_a_tired_partial_rep_in_the_sets_rhythm_counts() -> None:
    reps = [_rep(3.2 * k, 0.0) for k in range(6)]
    tired = replace(_rep(3.2 * 6, 0.0), rom_deg=25.0)
    assert _sizes_and_notes([*reps, tired]) == [(7, "")]


def test_a_full_rep_held_long_counts() -> None:
    reps = [_rep(3.2 * k, 0.0) for k in range(6)]
    held = replace(_rep(3.2 * 6, 0.0), return_start_s=3.2 * 6 + 9.0, end_s=3.2 * 6 + 10.0,
                   detected_s=3.2 * 6 + 10.1)
    assert [n for n, _ in _sizes_and_notes([*reps, held])] == [7]


def _partial_first(end: float, turn_rad: float, rom: float = 22.0) -> RepCandidate:
    """A quick (1.6 s) rep ending at ``end`` from the same rest pose as :func:`_rep`'s
    at 0°, going ``turn_rad`` toward (positive) or away from its far pose: it is held."""
    rest = (0.0, 0.0, 1.0)
    far = (0.0, -math.sin(turn_rad), math.cos(turn_rad))
    start = end - 1.6
    return RepCandidate(start, start + 0.7, start + 0.9, end, end + 0.1, rom,
                        60.0, 60.0, 55.0, rest, far)


@pytest.mark.parametrize(("partial", "counted"), [
    # a third of the way toward the set's far pose, the first full rep at once after it
    (_partial_first(-0.1, 0.38), 7),
    # the other way: a fidget, not part of the movement
    (_partial_first(-0.1, -0.38), 6),
    # a 2 s pause before the set: getting ready, not its first rep
    (_partial_first(-2.0, 0.38), 6),
    # touch and go: timed to end 0.15 s after the full rep began (under 15 % of its time)
    (_partial_first(0.15, 0.38), 7),
    # overlapping it by 0.5 s (31 %): no movement of its own
    (_partial_first(0.5, 0.38), 6),
    # under the detector's 30 % share of a rep's range: no partial rep either
    (_partial_first(-0.1, 0.24, rom=14.0), 6),
])
def test_a_partial_first_rep_counts_when_the_set_follows_at_once(
        partial: RepCandidate, counted: int) -> None:
    # Too small beside the first full rep to pass for an alike one, it was dropped.
    reps = [_rep(3.2 * k, 0.0) for k in range(6)]
    assert [n for n, _ in _sizes_and_notes([partial, *reps])] == [counted]


def _held_first(hold: float, rom: float = 60.0, tilt_deg: float = 0.0) -> RepCandidate:
    """:func:`_rep` at 0 s held ``hold`` s at its far pose: of ``rom``, its rest pose
    tilted ``tilt_deg``."""
    return replace(_rep(0.0, tilt_deg), return_start_s=1.2 + hold, end_s=2.4 + hold,
                   detected_s=2.5 + hold, rom_deg=rom)


@pytest.mark.parametrize(("first", "pause", "counted"), [
    # held 7.5 s, then 0.6 s (MEx bridges): three times as long, yet the set's first rep
    (_held_first(7.5), 2.0, 7),
    # as far to within a quarter of the range: still the same movement
    (_held_first(7.5, rom=48.0), 2.0, 7),
    # not as far: another movement held (getting settled), no rep
    (_held_first(7.5, rom=40.0), 2.0, 6),
    # from another rest pose (20° off, a third of the range): no rep
    (_held_first(7.5, tilt_deg=20.0), 2.0, 6),
    # held longer than any rep is held: a stay, no rep
    (_held_first(13.0), 2.0, 6),
    # the set began 7 s after it, over twice a rep's 3 s: out of its rhythm, no rep
    (_held_first(7.5), 7.0, 6),
])
def test_a_first_rep_held_longer_than_the_next_counts(
        first: RepCandidate, pause: float, counted: int) -> None:
    # Held longer than a lone rep may be held, it waits for an alike one; the next is
    # not alike in duration, so it was dropped.
    reps = [_rep(first.end_s + pause + 3.2 * k, 0.0) for k in range(6)]
    assert [n for n, _ in _sizes_and_notes([first, *reps])] == [counted]


def _small(start: float, dur: float) -> RepCandidate:
    """A small (12°), quick rep: it waits for alike ones before it opens a set."""
    return replace(_rep(start, 0.0), away_end_s=start + 0.3 * dur,
                   return_start_s=start + 0.6 * dur, end_s=start + dur,
                   detected_s=start + dur + 0.1, rom_deg=12.0)


def test_a_first_rep_cut_long_but_in_the_sets_rhythm_counts() -> None:
    # Segmented three times as long as the others (a slow start without a
    # gyroscope), but it starts one period before them: it was the set's first.
    first = _small(1.0, 3.5)
    reps = [first, *(_small(5.0 + 4.0 * k, 1.2) for k in range(7))]
    assert [n for n, _ in _sizes_and_notes(reps)] == [8]


def test_a_first_rep_one_usual_period_before_the_chain_counts() -> None:
    # Quick 12° reps: the first 1.85 s before the next, then 2.8 s, 2.25 s, 2.5 s ...
    # (a real fast set's first kick).  The first three are not alike (1.85 against
    # 2.8 s: over 1.5 times), so the first was dropped; it started one usual period
    # (2.5 s) before the chain, within 1.5 times: the set's first rep.
    starts = [0.0, 1.85, 4.65, 6.9, 9.4, 11.9, 14.4, 16.9]
    reps = [_small(s, 1.2) for s in starts]
    assert [n for n, _ in _sizes_and_notes(reps)] == [8]


def test_a_fidget_out_of_the_sets_rhythm_is_not_taken_back() -> None:
    fidget = _small(-6.0, 3.5)  # 11 s before the set's 4 s rhythm
    reps = [fidget, *(_small(5.0 + 4.0 * k, 1.2) for k in range(7))]
    assert [n for n, _ in _sizes_and_notes(reps)] == [7]


def test_a_first_rep_that_snapped_back_waits_for_an_alike_one() -> None:
    ids = itertools.count()
    tracker = SetTracker("leg_curl", "shank", lambda: (f"e{next(ids)}", next(ids)))
    snap = replace(_rep(0.0, 0.0), away_speed_dps=60.0, return_speed_dps=350.0)
    assert tracker.add_rep(snap) == []  # could be getting up and a first stride
    events = tracker.add_rep(_rep(4.0, 0.0))  # a rep like it: it was the set's first
    assert [type(e).__name__ for e in events] == ["SetStart", "Rep", "Rep"]
    ended = tracker.end_set(22.0)
    alone = replace(_rep(40.0, 0.0), away_speed_dps=60.0, return_speed_dps=350.0)
    assert tracker.add_rep(alone) == []
    tracker.walking()  # ... and walking followed: nothing was a rep
    assert tracker.end_set(100.0) == []
    assert [len(e.reps) for e in ended if isinstance(e, SetEnd)] == [2]


def test_a_first_rep_that_snapped_back_counts_when_no_walking_follows() -> None:
    # An explosive lift after a slow lowering (a Romanian deadlift's X) snaps back too:
    # it is reported once it is clear that nobody walked off, not lost.
    ids = itertools.count()
    tracker = SetTracker("romanian_deadlift", "thigh", lambda: (f"e{next(ids)}", next(ids)))
    snap = replace(_rep(0.0, 0.0), away_speed_dps=40.0, return_speed_dps=250.0)
    assert tracker.add_rep(snap) == []
    soon = tracker.next_due_s()
    assert soon == snap.detected_s + 2.0
    assert not tracker.due(soon - 0.1)
    assert tracker.due(soon)
    events = tracker.tick(soon)
    assert [type(e).__name__ for e in events] == ["SetStart", "Rep"]


def test_a_restless_first_rep_waits_for_walking() -> None:
    # Getting up and the first strides: one long "rep" whose speed surged to and fro.
    ids = itertools.count()
    tracker = SetTracker("leg_curl", "shank", lambda: (f"e{next(ids)}", next(ids)))
    restless = replace(_rep(0.0, 0.0), humps=5)
    assert tracker.add_rep(restless) == []
    tracker.walking()
    assert tracker.tick(10.0) == [] and tracker.end_set(20.0) == []
    # The same movement with nobody walking off opens its set once the wait is over.
    again = replace(_rep(40.0, 0.0), humps=5)
    assert tracker.add_rep(again) == []
    events = tracker.tick(again.detected_s + 2.0)
    assert [type(e).__name__ for e in events] == ["SetStart", "Rep"]
    # An ordinary first rep (out and back: two surges) opens its set at once.
    tracker.end_set(60.0)
    events = tracker.add_rep(replace(_rep(80.0, 0.0), humps=2))
    assert [type(e).__name__ for e in events] == ["SetStart", "Rep"]


def _quick_small(start: float, peak_dps: float) -> RepCandidate:
    """A 0.6 s movement of 3°."""
    return replace(_rep(start, 0.0), away_end_s=start + 0.25, return_start_s=start + 0.3,
                   end_s=start + 0.6, detected_s=start + 0.7, rom_deg=3.0,
                   peak_speed_dps=peak_dps, away_speed_dps=peak_dps, return_speed_dps=peak_dps)


@pytest.mark.parametrize(("peak_dps", "sets"), [(60.0, []), (15.0, [3])])
def test_quick_jerks_open_no_set(peak_dps: float, sets: list[int]) -> None:
    # Adjusting the strap: three alike, quick movements that hardly tilt the leg
    # about the movement axis but turn the sensor fast (20 deg/s per deg) are no
    # set; three small, quick reps at a speed their range allows are one.
    reps = [_quick_small(100.0 + 0.8 * k, peak_dps) for k in range(3)]
    assert [n for n, _ in _sizes_and_notes(reps)] == sets


def _quick_fast(start: float, dur: float = 1.4) -> RepCandidate:
    """A quick 15° rep whose tilt speed peaks at 11 deg/s per deg (a thigh that turns
    about other axes too, as in real prone hip extensions done fast)."""
    return replace(_rep(start, 0.0), away_end_s=start + 0.4 * dur,
                   return_start_s=start + 0.5 * dur, end_s=start + dur,
                   detected_s=start + dur + 0.1, rom_deg=15.0, peak_speed_dps=165.0)


def test_a_set_of_quick_reps_that_read_like_jerks_still_counts() -> None:
    # Jerk-like reps need one alike rep more than others to open a set, and
    # then count from the first.
    reps = [_quick_fast(100.0 + 2.0 * k) for k in range(10)]
    assert [n for n, _ in _sizes_and_notes(reps)] == [10]
    # Four alike jerks, but the fourth held far longer: no rhythm of one movement.
    jerks = [*[_quick_small(100.0 + 0.8 * k, 60.0) for k in range(3)],
             replace(_quick_small(102.4, 60.0), end_s=112.0, return_start_s=111.0,
                     detected_s=112.1)]
    assert _sizes_and_notes(jerks) == []


def _stride(start: float) -> RepCandidate:
    """A quick, 0.8 s swing of 40°."""
    return replace(_rep(start, 0.0), away_end_s=start + 0.35, return_start_s=start + 0.4,
                   end_s=start + 0.8, detected_s=start + 0.85, rom_deg=40.0)


def test_quick_reps_at_a_strides_cadence_wait_for_walking() -> None:
    ids = itertools.count()
    tracker = SetTracker("generic", "shank", lambda: (f"e{next(ids)}", next(ids)))
    strides = [_stride(10.0 + 1.05 * k) for k in range(3)]
    assert [e for c in strides for e in tracker.add_rep(c)] == []
    tracker.walking()  # the gait detector caught up: they were the first strides
    assert tracker.tick(30.0) == [] and tracker.end_set(40.0) == []
    # The same reps with nobody walking off open their set 2 s after the third.
    quick = [_stride(60.0 + 1.05 * k) for k in range(3)]
    assert [e for c in quick for e in tracker.add_rep(c)] == []
    events = tracker.tick(quick[-1].detected_s + 2.0)
    assert [type(e).__name__ for e in events] == ["SetStart", "Rep", "Rep", "Rep"]
    tracker.end_set(80.0)
    # Quick reps at a slower cadence than any stride open their set at once.
    slower = [_stride(100.0 + 2.5 * k) for k in range(3)]
    events = [e for c in slower for e in tracker.add_rep(c)]
    assert [type(e).__name__ for e in events] == ["SetStart", "Rep", "Rep", "Rep"]


def _dipped(start: float, long: bool = True) -> RepCandidate:
    """A rep with a 20° dip toward the rest pose in its far stay: 1.2-4.2 s (a 5.4 s
    excursion, 1.8 times the others), or 1.2-2.4 s (3.3 s, 1.1 times)."""
    rep = _rep(start, 0.0)
    if not long:
        dip = FarDip(start + 1.4, start + 1.8, start + 2.2, 20.0, 90.0)
        return replace(rep, return_start_s=start + 2.4, end_s=start + 3.3,
                       detected_s=start + 3.4, far_dips=(dip,))
    dip = FarDip(start + 2.0, start + 2.7, start + 3.3, 20.0, 90.0)
    return replace(rep, return_start_s=start + 4.2, end_s=start + 5.4, detected_s=start + 5.5,
                   far_dips=(dip,))


@pytest.mark.parametrize(("exercise", "long", "want"), [
    ("leg_curl", False, [6]), ("leg_curl", True, [7]), ("deadlift", True, [6]),
])
def test_a_far_dip_is_a_rep_from_standing_or_in_an_excursion_of_two_movements(
        exercise: str, long: bool, want: list[int]) -> None:
    # Six excursions with a set-up pause before the first pull, the second with a dip at
    # the floor: a deadlift of five pulls, one of them partial, and the standing up.  A
    # leg curl dipping out of its far pose within a rep's usual time sagged and lifted
    # again: one rep.  Taking 1.8 times the others, the excursion held two movements: a
    # partial rep seen from the end the set did not start at, and a full one.
    ids = itertools.count()
    tracker = SetTracker(exercise, "thigh", lambda: (f"e{next(ids)}", next(ids)))
    first = replace(_rep(0.0, 0.0), return_start_s=3.6, end_s=4.8, detected_s=4.9)
    reps = [first, _dipped(5.0, long), *(_rep(11.0 + 3.2 * k, 0.0) for k in range(4))]
    events = []
    for rep in reps:
        events += tracker.add_rep(rep)
    ends = [e for e in [*events, *tracker.end_set(1000.0)] if isinstance(e, SetEnd)]
    assert [len(e.reps) for e in ends] == want
    if exercise == "deadlift":
        assert "1 partial pull" in ends[0].note
        partial = ends[0].reps[1]
        assert (partial.start_s, partial.end_s, partial.rom_deg) == (7.0, 8.3, 20.0)
        assert partial.partial
    elif long:
        assert "1 rep found inside longer movements" in ends[0].note
        assert ends[0].reps[1].partial and ends[0].reps[1].rom_deg == 20.0
    else:
        assert "partial" not in ends[0].note


@pytest.mark.parametrize("exercise", ["leg_curl", "deadlift"])
def test_a_far_dip_is_shown_as_a_rep_when_its_excursion_ends(exercise: str) -> None:
    # The same dips, later in the set: judged on the reps so far (a set-up pause at the
    # bar before the first pull; a leg curl's usual rep, from two reps on), the dip is a
    # rep of its own as soon as its excursion is over, not only in set_end.
    ids = itertools.count()
    tracker = SetTracker(exercise, "thigh", lambda: (f"e{next(ids)}", next(ids)))
    first = replace(_rep(0.0, 0.0), return_start_s=3.6, end_s=4.8, detected_s=4.9)
    events = []
    for rep in [first, _rep(5.0, 0.0), _rep(8.2, 0.0)]:
        events += tracker.add_rep(rep)
    dipped = _dipped(11.4)
    shown = tracker.add_rep(dipped)
    assert [type(e).__name__ for e in shown] == ["Rep", "Rep"]
    assert all(e.time_s == dipped.detected_s for e in shown)
    assert [e.reps_in_set for e in shown] == [4, 5]
    assert shown[0].rep.rom_deg == 20.0 and shown[0].rep.partial
    for rep in (_rep(16.8 + 3.2 * k, 0.0) for k in range(2)):
        events += tracker.add_rep(rep)
    ends = [e for e in tracker.end_set(1000.0) if isinstance(e, SetEnd)]
    # a deadlift seen from standing: its last excursion was standing up
    assert [len(e.reps) for e in ends] == ([6] if exercise == "deadlift" else [7])
    word = "1 partial pull" if exercise == "deadlift" else "1 rep found inside longer movements"
    assert word in ends[0].note and "at the set's end" not in ends[0].note


def _slow_set_tracker() -> tuple[SetTracker, float]:
    """A tracker with three 14 s reps of one set, 2 s apart; returns it and the last end."""
    ids = itertools.count()
    tracker = SetTracker("leg_curl", "shank", lambda: (f"e{next(ids)}", next(ids)))
    for k in range(3):
        slow = _rep(16.0 * k, 0.0)
        tracker.add_rep(replace(slow, away_end_s=slow.start_s + 6.0,
                                return_start_s=slow.start_s + 8.0, end_s=slow.start_s + 14.0,
                                detected_s=slow.start_s + 14.1))
    return tracker, 16.0 * 2 + 14.0


@pytest.mark.parametrize(("began", "until", "ends"), [
    (None, 15.0, True),  # nothing under way: the quiet time ends the set
    (2.0, 15.0, False),  # a slow rep begun 2 s after the last: the set waits for it
    (2.0, 30.5, True),  # ... but not once it has taken over twice as long as the set's reps
    (9.0, 15.0, True),  # begun long after the last rep: no rep of this set
])
def test_a_slow_rep_under_way_holds_its_set_open(
        began: float | None, until: float, ends: bool) -> None:
    tracker, last_end = _slow_set_tracker()
    since = None if began is None else last_end + began
    t = last_end + until
    assert tracker.due(t, since)
    events = tracker.tick(t, since)
    set_ends = [e for e in events if isinstance(e, SetEnd)]
    assert bool(set_ends) == ends
    if ends:  # ended when the quiet time was up, however long it waited
        assert set_ends[0].time_s == pytest.approx(last_end + 15.0)
        assert len(events) <= 2  # ... and no burst of rest updates for the wait
        assert [type(e).__name__ for e in tracker.tick(t + 1.0)] == ["Rest"]
        assert set_ends[0].end_s == pytest.approx(last_end, abs=0.2)
        assert len(set_ends[0].reps) == 3


def _run_ticking(reps: list[RepCandidate], until: float) -> list[int]:
    """Set sizes when ``reps`` come as detected and time is ticked each 0.5 s."""
    ids = itertools.count()
    tracker = SetTracker("leg_curl", "shank", lambda: (f"e{next(ids)}", next(ids)))
    events = []
    pending = sorted(reps, key=lambda c: c.detected_s)
    t = 0.0
    while t <= until:
        while pending and pending[0].detected_s <= t:
            events += tracker.add_rep(pending.pop(0))
        events += tracker.tick(t)
        t += 0.5
    events += tracker.end_set(until)
    return [len(e.reps) for e in events if isinstance(e, SetEnd)]


def _slow_small(start: float, rom: float = 12.0, dur: float = 6.0) -> RepCandidate:
    """A small, slow rep held at the top: it waits for alike ones before it opens a set."""
    return replace(_rep(start, 0.0), away_end_s=start + 0.3 * dur,
                   return_start_s=start + 0.7 * dur, end_s=start + dur,
                   detected_s=start + dur + 0.1, rom_deg=rom)


@pytest.mark.parametrize(("roms", "sizes"), [
    # slow bridges 12.5 s apart: 19 s from the first's end to the third's start, more
    # than the quiet time that ends a set, yet each follows the one before within it
    ((12.0, 11.0, 12.5, 11.5, 12.0), [5]),
    # movements as far apart at random sizes (2.2 times apart) are fidgets, no set
    ((3.6, 7.8, 4.8), []),
])
def test_slow_reps_far_apart_make_a_set_when_each_follows_the_last(
        roms: tuple[float, ...], sizes: list[int]) -> None:
    reps = [_slow_small(12.5 * k, rom) for k, rom in enumerate(roms)]
    assert _run_ticking(reps, 12.5 * len(roms) + 30.0) == sizes


def test_a_quicker_rep_the_set_counts_restarts_its_quiet_time() -> None:
    # Reps of 6 s, 2 s apart; the fourth cut short at a jolt (2.5 s: held back, as
    # letting the leg down after a set looks like that, but like the set's in range);
    # the fifth begins 11.5 s after the third ended and is over 17.6 s after it, past
    # the 15 s of quiet that end a set.
    reps = [_slow_small(8.0 * k, rom=60.0) for k in range(3)]
    quick = _slow_small(8.0 * 2 + 6.0 + 4.0, rom=60.0, dur=2.5)
    late = _slow_small(quick.end_s + 5.0, rom=60.0)
    assert _run_ticking([*reps, quick, late], 80.0) == [5]


@pytest.mark.parametrize(("began", "ends"), [
    (11.0, False),  # in the set's rhythm (10 s between reps): the set waits for it
    (16.0, True),  # over 1.5 times the set's pauses after: no rep of this set
])
def test_a_rep_under_way_in_a_slow_sets_rhythm_holds_the_set_open(
        began: float, ends: bool) -> None:
    ids = itertools.count()
    tracker = SetTracker("leg_curl", "shank", lambda: (f"e{next(ids)}", next(ids)))
    for k in range(3):
        tracker.add_rep(_slow_small(16.0 * k, rom=60.0))
    last_end = 16.0 * 2 + 6.0
    t = last_end + 15.5
    events = tracker.tick(t, last_end + began)
    assert any(isinstance(e, SetEnd) for e in events) == ends
