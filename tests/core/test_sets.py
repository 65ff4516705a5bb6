"""Set tracker: which held-back small reps open a set (synthetic rep candidates)."""

from __future__ import annotations

from itertools import count

from repsense.events import SetEnd, SetStart
from repsense.reps.detector import RepCandidate
from repsense.sets.tracker import SetTracker


def cand(start: float, dur: float, rom: float) -> RepCandidate:
    """A rep candidate: half the time out, half back, found 0.2 s after its end."""
    end = start + dur
    mid = start + dur / 2
    return RepCandidate(start, mid, mid, end, end + 0.2, rom, 20.0, 20.0, 20.0,
                        (0.0, 0.0, 1.0), (0.0, 0.1, 0.99))


def run(cands: list[RepCandidate]) -> list[int]:
    ids = count(1)
    tracker = SetTracker("generic", "thigh", lambda: (f"e{(n := next(ids))}", n))
    events = []
    for c in cands:
        events += tracker.add_rep(c)
    events += tracker.end_set(cands[-1].end_s + 20.0)
    assert sum(isinstance(e, SetStart) for e in events) == sum(
        isinstance(e, SetEnd) for e in events)
    return [len(e.reps) for e in events if isinstance(e, SetEnd)]


def test_small_reps_cut_short_at_the_start_of_a_set_still_count():
    # Ten 2-degree reps with a hold, one every 7 s; the detector cut the first
    # two short (a jolt of the tilt at the lift).  The cadence says they belong
    # to the set even though their durations are a third of the others'.
    durs = [2.2, 1.7] + [6.0] * 8
    cands = [cand(160.0 + 7.0 * i + 0.3 * (i % 3), d, 2.0 + 0.3 * (i % 2))
             for i, d in enumerate(durs)]
    assert run(cands) == [10]


def test_small_movements_at_random_moments_open_no_set():
    # Three small movements of unlike durations at irregular moments: fidgets.
    cands = [cand(10.0, 1.0, 3.0), cand(13.0, 3.0, 3.0), cand(25.0, 1.2, 3.0)]
    assert run(cands) == []
