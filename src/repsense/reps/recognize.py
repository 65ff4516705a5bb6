"""Exercise recognition for ``--exercise auto``.

A single IMU on an unknown strap orientation knows gravity and how the
segment tilts against it, but not which way the segment itself points unless
the mounting was captured at pairing (``mounting_up`` of a sensor profile: the
up vector in the sensor frame while the user stood upright).  With it, the
segment's inclination at the rest pose and at the far pose tells prone /
supine / seated / standing and so the exercise; without it, repsense says
``generic`` with low confidence rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from repsense.dsp.orientation import angle_deg
from repsense.reps.detector import RepCandidate


def recognize(
    cands: Sequence[RepCandidate],
    placement: str,
    mounting_up: Sequence[float] | None = None,
) -> tuple[str, float, str]:
    """Best exercise id, confidence in [0, 1] and a note for the user.

    Parameters
    ----------
    cands
        The set's reps so far.
    placement
        ``thigh``, ``shank`` or ``auto``.
    mounting_up
        Unit up vector in the sensor frame with the segment vertical (from pairing).
    """
    if not cands:
        return "generic", 0.0, ""
    if mounting_up is None or placement not in ("thigh", "shank"):
        note = "exercise not recognised without a paired mounting; counted as generic"
        return "generic", 0.5, note
    rest = float(np.median([angle_deg(c.rest_up, mounting_up) for c in cands]))
    far = float(np.median([angle_deg(c.far_up, mounting_up) for c in cands]))
    rom = float(np.median([c.rom_deg for c in cands]))
    # Inclination of the segment's proximal end: 0 = as when standing, 90 = horizontal,
    # 180 = proximal end straight down (a shank curled up behind a prone lifter).
    if placement == "shank":
        if rom >= 40:
            return "leg_curl", 0.7, ""
        return "generic", 0.5, ""
    if rest < 25 and 15 <= rom <= 80:
        return "romanian_deadlift", 0.6, ""
    if 40 <= rest <= 100 and far < 30:
        return "deadlift", 0.7, ""
    if rest >= 110 and far < rest and rom <= 60:
        return "glute_bridge", 0.6, ""
    return "generic", 0.5, ""
