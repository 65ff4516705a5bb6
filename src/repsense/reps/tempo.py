"""Map raw excursion phases onto each exercise's tempo (concentric, eccentric, pauses)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from repsense.events import RepTempo
from repsense.exercises import EXERCISES
from repsense.reps.detector import RepCandidate

PARTIAL_FRACTION = 0.6
"""A rep whose range of motion is below 60 % of its set's median range is ``partial``."""


def _away_is_concentric(exercise: str, override: bool | None) -> bool:
    """``override`` when given (a generic set's, see ``rep_tempo``), else the exercise's own."""
    return EXERCISES[exercise].away_is_concentric if override is None else override


def tempo_string(eccentric: float, bottom: float, concentric: float, top: float) -> str:
    """The usual 4-digit tempo notation: eccentric-bottom pause-concentric-top pause."""
    return "-".join(str(int(round(max(x, 0.0)))) for x in (eccentric, bottom, concentric, top))


def rep_tempo(
    cand: RepCandidate,
    index: int,
    exercise: str,
    prev_end_s: float | None,
    set_median_rom: float,
    away_is_concentric: bool | None = None,
) -> RepTempo:
    """Tempo of one rep.

    Parameters
    ----------
    cand
        The detector's excursion.
    index
        1-based rep number in the set.
    exercise
        Exercise id deciding whether the away movement is concentric.
    prev_end_s
        End of the previous rep in the same set (the near pause is the dwell
        since then); ``None`` for the first rep.
    set_median_rom
        Median range of the set so far, for the ``partial`` flag.
    away_is_concentric
        Overrides the exercise's own convention (for ``generic``, see
        :func:`repsense.reps.recognize.away_lifts`).
    """
    away = cand.away_end_s - cand.start_s
    far = max(0.0, cand.return_start_s - cand.away_end_s)
    back = cand.end_s - cand.return_start_s
    near = 0.0 if prev_end_s is None else max(0.0, cand.start_s - prev_end_s)
    away_is_concentric = _away_is_concentric(exercise, away_is_concentric)
    speeds = (cand.away_speed_dps, cand.return_speed_dps)
    if away_is_concentric:
        conc, ecc, top, bottom = away, back, far, near
    else:
        conc, ecc, top, bottom = back, away, near, far
        speeds = speeds[::-1]
    return _rep(cand, index, cand.start_s, cand.end_s, (conc, ecc, top, bottom), speeds,
                set_median_rom, away_is_concentric)


def _rep(
    cand: RepCandidate, index: int, start_s: float, end_s: float,
    phases: tuple[float, float, float, float], speeds: tuple[float, float],
    set_median_rom: float, starts_concentric: bool,
) -> RepTempo:
    """The :class:`RepTempo` of ``cand`` spanning ``start_s``-``end_s`` with ``phases``
    (concentric, eccentric, top pause, bottom pause) and the phases' peak ``speeds``
    (concentric, eccentric)."""
    conc, ecc, top, bottom = phases
    return RepTempo(
        index=index,
        start_s=start_s,
        end_s=end_s,
        concentric_s=conc,
        eccentric_s=ecc,
        top_pause_s=top,
        bottom_pause_s=bottom,
        tempo=tempo_string(ecc, bottom, conc, top),
        rom_deg=cand.rom_deg,
        peak_speed_dps=cand.peak_speed_dps,
        concentric_peak_dps=speeds[0],
        eccentric_peak_dps=speeds[1],
        partial=cand.rom_deg < PARTIAL_FRACTION * set_median_rom,
        starts_concentric=starts_concentric,
    )


def pull_tempo(
    cand: RepCandidate, after: RepCandidate, index: int, set_median_rom: float,
) -> RepTempo:
    """Tempo of a lift from the floor whose set the detector saw from standing.

    Excursion *k* is lowering *k - 1* (or bending down to the bar), the pause
    at the floor and pull *k*; the lockout, lowering and pause at the floor
    that complete rep *k* come with excursion *k + 1* (``after``; for the last
    rep, the excursion that lowered the bar and stood up).  The rep spans pull
    to bar down, as a lifter counts it; the set-up before the first pull is
    no pause of the rep.
    """
    conc = cand.end_s - cand.return_start_s
    bottom = 0.0 if index == 1 else max(0.0, cand.return_start_s - cand.away_end_s)
    top = max(0.0, after.start_s - cand.end_s)
    ecc = after.away_end_s - after.start_s
    return _rep(cand, index, cand.return_start_s, after.away_end_s, (conc, ecc, top, bottom),
                (cand.return_speed_dps, after.away_speed_dps), set_median_rom, True)


def set_tempos(
    cands: Sequence[RepCandidate], exercise: str, standing_up: RepCandidate | None = None,
    away_is_concentric: bool | None = None,
) -> tuple[RepTempo, ...]:
    """Tempo of every rep of a finished set, ``partial`` judged against the whole set.

    ``standing_up`` is the set's last excursion when it was no rep (lowering the
    bar and standing up after a deadlift from the floor): then every rep is timed
    as a pull with the lowering that follows it (:func:`pull_tempo`).  Without
    it a deadlift's reps keep the detector's layout (lowering, then pull): the
    set most likely rested standing all the same, and its count is one too many
    (on the simulated sets where this happens, 10 and 12.5 Hz sensors without a
    set-up pause, taking them as pulls first doubled the tempo errors to 1.9 s).
    ``away_is_concentric`` overrides the exercise's convention as in :func:`rep_tempo`.
    """
    if not cands:
        return ()
    median = float(np.median([c.rom_deg for c in cands]))
    if standing_up is not None:
        nexts = [*cands[1:], standing_up]
        return tuple(pull_tempo(c, n, i + 1, median)
                     for i, (c, n) in enumerate(zip(cands, nexts, strict=True)))
    out = []
    for i, c in enumerate(cands):
        prev = cands[i - 1].end_s if i else None
        out.append(rep_tempo(c, i + 1, exercise, prev, median, away_is_concentric))
    return tuple(out)


def velocity_loss_pct(reps: Sequence[RepTempo]) -> float | None:
    """Velocity loss across a set: 100 × (fastest − last) / fastest concentric peak speed.

    The fatigue marker coaches use (Sánchez-Medina & González-Badillo, "Velocity
    loss as an indicator of neuromuscular fatigue during resistance training",
    Med Sci Sports Exerc 43(9), 2011); ``None`` for sets of fewer than two reps.
    From the reps' own ``concentric_peak_dps``, so that a set's reps re-read for
    another exercise, or with a rep undone, give it the same way.
    """
    if len(reps) < 2:
        return None
    speeds = [r.concentric_peak_dps for r in reps]
    best = max(speeds)
    if best <= 0:
        return None
    return max(0.0, 100.0 * (best - speeds[-1]) / best)
