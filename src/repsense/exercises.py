"""Exercise ids and how each one maps movement phases to tempo phases.

A rep, as the detector sees it, is an excursion of the limb segment away
from its *rest pose* (where it dwells, still, before the set starts) and
back: ``away`` movement, ``far`` pause, ``return`` movement, then the
``near`` pause at the rest pose before the next rep.  Whether the ``away``
movement is the concentric (lifting) or the eccentric (lowering) phase
depends on the exercise: a leg curl and a glute bridge start at the bottom
and lift first; Romanian and single-leg deadlifts start standing and lower
first.  So does a deadlift from the floor as the sensor sees it: the lifter
stands still before bending down to the bar, so the rest pose is standing
and each excursion is a lowering followed by a lift; the set's last
excursion is lowering the bar and standing up without it, which is no rep
(``last_excursion_is_no_rep``).
"""

from __future__ import annotations

from dataclasses import dataclass

EXERCISE_IDS: tuple[str, ...] = (
    "leg_curl",
    "deadlift",
    "romanian_deadlift",
    "single_leg_deadlift",
    "glute_bridge",
    "hip_thrust",
    "generic",
)
"""Every exercise id repsense knows; ``auto`` asks for recognition."""

PLACEMENTS: tuple[str, ...] = ("thigh", "shank")


@dataclass(frozen=True)
class ExerciseInfo:
    """Static facts about one exercise id."""

    id: str
    name: str
    away_is_concentric: bool
    """True when the movement away from the rest pose lifts the load."""
    family: str
    """Coarse family used for recognition scores: curl, hinge, bridge, generic."""
    last_excursion_is_no_rep: bool = False
    """The set ends with one excursion more than there were reps (see the module doc)."""

    @property
    def final_rep_starts_concentric(self) -> bool:
        """Does a rep in ``set_end`` start with its concentric phase?

        As ``away_is_concentric``, except for a deadlift from the floor: its final
        reps run from the pull to the bar back down
        (:func:`repsense.reps.tempo.pull_tempo`), while its live ``rep`` events
        follow the detector's excursion (lowering, then pull).  A deadlift set whose
        standing-up excursion went unrecognised keeps the live layout in ``set_end``
        too (its count is then one too many); readers of finished reps
        (the report, tempo cues) take the usual case.
        """
        return self.away_is_concentric or self.last_excursion_is_no_rep


EXERCISES: dict[str, ExerciseInfo] = {
    "leg_curl": ExerciseInfo("leg_curl", "leg curl", True, "curl"),
    "deadlift": ExerciseInfo("deadlift", "deadlift", False, "hinge", True),
    "romanian_deadlift": ExerciseInfo("romanian_deadlift", "Romanian deadlift", False, "hinge"),
    "single_leg_deadlift": ExerciseInfo(
        "single_leg_deadlift", "single-leg deadlift", False, "hinge"
    ),
    "glute_bridge": ExerciseInfo("glute_bridge", "glute bridge", True, "bridge"),
    "hip_thrust": ExerciseInfo("hip_thrust", "hip thrust", True, "bridge"),
    "generic": ExerciseInfo("generic", "generic movement", True, "generic"),
}


def check_exercise(value: str, *, allow_auto: bool = True) -> str:
    """Return ``value`` if it names an exercise (or ``auto``), else raise ``InputError``."""
    from repsense.errors import InputError

    if value in EXERCISES or (allow_auto and value == "auto"):
        return value
    choices = ", ".join(("auto",) * allow_auto + EXERCISE_IDS)
    raise InputError(f"unknown exercise '{value}'; use one of: {choices}")
