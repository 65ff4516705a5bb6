"""Exercise recognition for ``--exercise auto``.

A single IMU on an unknown strap orientation knows gravity and how the
segment tilts against it, but not which way the segment itself points.  Two
things can supply that:

* the set's lever arm (:mod:`repsense.reps.lever_arm`, needs a gyroscope) says
  whether the sensor sits below, level with or above the point its segment
  turns about — a shank hanging from the knee, a shank on a curl bench, a
  thigh turning about a planted foot's knee in a hinge or a bridge;
* without one, a mounting captured at pairing (``mounting_up`` of a sensor
  profile: the up vector in the sensor frame while the user stood upright)
  gives the segment's inclination at the rest and far poses.  Inclination is
  unsigned, so it is used only where the lever arm is missing: ruling on it
  with a gyroscope at hand named knee extensions, reverse hyperextensions and
  a single-leg deadlift's free shank ``leg_curl`` (any hanging shank that
  turned 40°) and lost deadlifts and shank bridges the lever arm names.

Rules are physical, not fitted (coordinate convention of
:func:`repsense.reps.lever_arm.elevation_deg`: elevation of the sensor above
its centre of rotation, -90 = straight below, +90 = straight above; ``|r|`` its
distance from it):

=========  ===============================================  ==================
placement  lever arm                                        exercise
=========  ===============================================  ==================
shank      level with the knee at rest (|elev| < 35°),      leg_curl (lying or
           ≥ 45° of range, ends well off level, centre      seated)
           within a shank's length (|r| ≤ 0.35 m)
thigh      above its centre at rest (≥ 35°, or ≥ 10° above  deadlift when the
           the far pose after a set-up pause), not clearly  set began with a
           below it at the far pose (≥ -15°), 12-90° of     set-up pause at the
           range                                            bar, else
                                                            romanian_deadlift
                                                            up to 45° of range
                                                            (a deeper bend may
                                                            be a squat: generic)
thigh      near level at rest (-15..35°), rising ≥ 10°      glute_bridge, or
           toward the far pose, centre beyond the thigh's   hip_thrust ≥ 35°
           own joints (|r| ≥ 0.32 m: the planted foot's
           chain turns the thigh about the shank), at most
           70° of range (more: a leg lifted from the hip)
shank      above its centre (foot planted), the set began   deadlift
           with a set-up pause at the bar
shank      above its centre (foot planted), the rep starts  glute_bridge, or
           by turning it toward vertical (the knee driven   hip_thrust ≥ 35°
           forward over the foot as the hips rise; a squat
           or a pull from the floor tilts it off vertical)
thigh      under 8° of range                                generic, with a
                                                            note (a lying curl
                                                            moves the shank)
(unknown)  as the shank's, with ≥ 100° of range             leg_curl
(unknown)  as the thigh's hinge                             as the thigh's,
                                                            noting the
                                                            assumption
=========  ===============================================  ==================

The lever length separates what the elevations alone confuse: a straight leg
swung from the hip (leg raises, abductions; |r| 0.5-0.7 m at the shank) from a
curl (|r| ~0.2 m), and a leg raise or abduction turning the thigh about the
hip (|r| ~0.1-0.3 m) from a bridge.  With the placement unknown, a hinge is
taken as the thigh's, where the plans put the sensor for hinges (a shank on a
planted foot would look the same; the set's note says what was assumed).  A planted
shank's set-up pause is only a longer first hold at the far pose: a real set of squats
whose first squat was held 1.65 s at the bottom (0.8-0.9 s after) was named ``deadlift``
this way, and its last squat taken for standing up (BENCHMARKS.md, "Real squats"; its
recorder's accelerometer read 1.4 g when still, and such a set is no longer read for a
lever at all, see below, but a calibrated sensor would name it the same way).

Everything else — a shank hanging below the knee (a standing curl and a
seated knee extension are mirror images to one sensor, and so are a
single-leg deadlift's free leg and a standing leg raise), a planted shank
tilting off vertical without a set-up pause (a deadlift or a squat), sets
whose reps disagree, accelerometer-only sensors — is ``generic`` with a note,
rather than a guess (a segment hanging at rest and turning ≥ 20° about the hip, the
shank's lever ≥ 0.45 m: ``SWUNG_FROM_THE_HIP``; a thigh rising from near level about a
lever too short for a bridge: a leg lifted from the hip looks alike).  One exception
without a gyroscope: a thigh turning 40-75°
(a pull from the floor) in a set that began with a set-up pause at the bar is a
``deadlift`` (confidence 0.4, the note says on what).  Left ``generic``, such a
set counts one rep too many (lowering the bar and standing up without it); the
risk is a set of another exercise whose first rep alone was held 1.5 times as
long as the others.

Under 20 Hz the fitted lever comes out too long (real side-lying abductions and
prone hip extensions at 10 and 12.5 Hz passed for thigh bridges), so from 10 to
20 Hz the one row that asks for a long lever, the thigh bridge, is left out.

The lever arm is fitted to the accelerometer's dynamic part, what is left after gravity,
so it needs an accelerometer that reads 1 g when still: one further than ``REST_G_TOL`` from
it (``uncalibrated_g``; a real ESP32 squat recorder read 1.23-1.49 g) has its set left
``generic`` with a note, rather than named from a lever its error made up.  So has an
accelerometer-only sensor's set, by the mean size of its quiet moments
(``RepCandidate.quiet_g``): with its gyroscope left out, the same recorder's thigh had 8
of 60 squat sets named deadlifts by the set-up pause rule below.

Accelerometer-only sensors were tried with a lever arm fitted from the tilt
alone (the specific force's magnitude against the tilt's rate and
acceleration): it recognised the simulator's curls and hinges, but on real
thigh-accelerometer bridges (mex-bridging) it named three of nine sets a
Romanian deadlift, so it is not used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from repsense.dsp.orientation import angle_deg
from repsense.reps.detector import RepCandidate
from repsense.reps.lever_arm import REST_G_TOL, elevation_deg, solve_lever

MAX_SPREAD_DEG = 60.0
"""Reps whose own lever-arm elevations spread more than this (IQR) are not trusted."""
SHANK_LEVER_M = 0.35
"""A curl turns the shank about the knee: its centre is within a shank's length."""
LEG_LEVER_M = 0.45
"""A straight leg turns the shank about the hip, 0.5-0.7 m away (real knee extensions, whose
knee is 0.2-0.3 m away, fit up to 0.43 m with a poor gyroscope)."""
BRIDGE_LEVER_M = 0.32
"""A bridge turns the thigh about a centre beyond its own joints (the planted shank's)."""
THIGH_MIN_ROM_DEG = 8.0
"""Below this the thigh hardly turns: too little to tell one exercise from another."""
MIN_RISING_DEG = 3.0
"""A planted shank that turns toward vertical by this much in the first quarter of a rep rises."""
LIFT_TURN_DEG = 10.0
"""The sensor's elevation about its pivot changes by this much between the rest and far
poses when the way out clearly lifts or lowers the segment (see :func:`away_lifts`)."""
HINGES = ("romanian_deadlift", "deadlift")
RDL_MAX_ROM_DEG = 45.0
"""A Romanian deadlift keeps the knees soft: the thigh turns 10-35° from vertical.  Deeper
is a pull from the floor (45-70°) or a squat (60-100°), which only a set-up pause tells apart."""
UPRIGHT_REST_DEG = 10.0
DEADLIFT_ROM_DEG = (40.0, 75.0)
"""A thigh pulling from the floor turns 45-70° from standing (see RDL_MAX_ROM_DEG)."""

# Inclinations from a paired mounting (degrees from standing, see ``_from_mounting``).
UPRIGHT_DEG = 25.0
"""A thigh standing, or leaning no further than a Romanian deadlift's top."""
HANGING_DEG = 35.0
"""A shank hanging from the knee (standing, or seated on a bench)."""
LEVEL = (55.0, 125.0)
"""A shank level with its knee: lying face down, or seated with the knee straight."""
PRONE_CURL_FAR_DEG = 130.0
"""A shank curled this far from standing has its foot 40° above the level knee."""
AT_THE_BAR = (40.0, 75.0)
"""A thigh at the bar of a pull from the floor; a level one (a reverse hyperextension's
top, a deep squat) is no deadlift's."""
HANGING_FROM_THE_KNEE = ("a shank hanging from the knee: a standing curl and a knee extension "
                         "look alike; name the exercise")
"""Note for a shank hanging below the knee at rest (mirror images, by lever arm or by mounting)."""
SWUNG_FROM_THE_HIP = ("a leg hanging from the hip and swung from it: a single-leg deadlift's "
                      "free leg, a leg raise and a kickback look alike; name the exercise")
"""Note for a segment hanging below its centre of rotation at rest, turning about the hip
(mirror images: which way is forward one sensor cannot tell)."""
BRIDGE_REST_DEG = 110.0
"""Lying on the back with the knees up: the thigh's proximal end below its knee."""
BRIDGE_MAX_ROM_DEG = 70.0
"""A bridge or hip thrust turns the thigh from knees up (at most 45-60° above level) to
about level.  More is a leg lifted from the hip: a real supine leg raise went 100-110°,
an abduction 75-100° (UCI physical therapy subject 5), about a lever as long as a
bridge's."""
LIFTED_FROM_THE_HIP = ("a leg lifted from the hip further than a bridge or hip thrust "
                       "goes (a leg raise or an abduction); name the exercise")
"""Note for a thigh rising from level by more than ``BRIDGE_MAX_ROM_DEG``."""


def set_up_at_the_bar(reps: Sequence[RepCandidate]) -> bool:
    """Did the set start from standing with a set-up pause at the bar?

    Then the first excursion was bending down, setting up and the first pull,
    and the last one lowering the bar and standing up without it.  A sensor
    that took the bottom as its rest pose (the shank hardly moves when
    bending down) shows no such long first pause, and no extra excursion.
    """
    if len(reps) < 2:
        return False
    # A partial pull ends the pause at the floor (see FarDip): the set-up is the
    # stay at the bar before the first pull, full or not.
    pauses = [(c.far_dips[0].left_s if c.far_dips else c.return_start_s) - c.away_end_s
              for c in reps]
    return pauses[0] >= 1.0 and pauses[0] > 1.5 * float(np.median(pauses[1:]))


@dataclass(frozen=True)
class LeverFeatures:
    """What a set's lever arm says about its movement (see the module table).

    Attributes
    ----------
    rest, far
        Elevation of the sensor above its centre of rotation at the rest and
        far poses, degrees (median over the reps).
    spread
        Interquartile range of the reps' own rest elevations, degrees.
    length
        Distance of the sensor from its centre of rotation, metres.
    rising
        Change of the elevation over the first quarter of the excursion,
        degrees: positive when the rep starts by turning the sensor toward
        straight above its centre.  Unlike ``far - rest`` it does not fold
        when an excursion passes the vertical.
    """

    rest: float
    far: float
    spread: float
    length: float
    rising: float


def _towards(a: np.ndarray, b: np.ndarray, frac: float) -> np.ndarray:
    """The unit vector ``frac`` of the way along the great circle from ``a`` to ``b``."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    ang = math.acos(max(-1.0, min(1.0, float(a @ b))))
    if ang < 1e-6:
        return a
    return (math.sin((1 - frac) * ang) * a + math.sin(frac * ang) * b) / math.sin(ang)


def uncalibrated_g(cands: Sequence[RepCandidate]) -> float | None:
    """The accelerometer's magnitude while still (g, as the set's last lever fit has it,
    or without a gyroscope its last rep's ``quiet_g``) when it is further than
    ``REST_G_TOL`` from 1 g, else ``None``."""
    mags = []
    for c in cands:
        if c.lever is None:
            mags.append(c.quiet_g)
        elif c.lever.fit is not None:
            mags.append(c.lever.fit.rest_g)
    mags = [m for m in mags if m is not None]
    if not mags or abs(mags[-1] - 1.0) <= REST_G_TOL:
        return None
    return mags[-1]


def lever_features(cands: Sequence[RepCandidate]) -> LeverFeatures | None:
    """The set's :class:`LeverFeatures`.

    ``None`` without lever-arm fits (no gyroscope), when the set's movement
    did not excite the estimate, or when the accelerometer is too far off to
    read the lever from (:func:`uncalibrated_g`).
    """
    fits = [(c, c.lever.fit) for c in cands if c.lever is not None and c.lever.fit is not None]
    if not fits or uncalibrated_g(cands) is not None:
        return None
    # Each rep weighs the same: its normal equations grow with the fourth power of its
    # turn speed (per sample), and pooled as they were, one quick excursion (a first
    # stride joined to the set, a rep done faster) outweighed the rest of the set.
    used = [(f, float(np.trace(f.ata))) for _, f in fits]
    used = [(f, n) for f, n in used if n > 0.0]
    if not used:
        return None
    with np.errstate(all="ignore"):
        r = solve_lever(sum(f.ata / n for f, n in used), sum(f.atb / n for f, n in used))
    if r is None:
        return None
    rest = [elevation_deg(r, c.rest_up) for c, _ in fits]
    early = [elevation_deg(r, _towards(np.asarray(c.rest_up), np.asarray(c.far_up), 0.25))
             for c, _ in fits]
    far = float(np.median([elevation_deg(r, c.far_up) for c, _ in fits]))
    own = [elevation_deg(f.r, c.rest_up) for c, f in fits if f.r is not None]
    spread = float(np.subtract(*np.percentile(own, [75, 25]))) if len(own) >= 3 else 0.0
    return LeverFeatures(float(np.median(rest)), far, spread, float(np.linalg.norm(r)),
                         float(np.median(np.subtract(early, rest))))


def rests_standing(reps: Sequence[RepCandidate]) -> bool:
    """Did the set rest at its more upright pose (a lifter standing between pulls)?

    The lever arm says so: at rest the sensor sits higher above its centre of
    rotation than at the far pose, by ``UPRIGHT_REST_DEG`` or more (a thigh or a
    planted shank is more vertical standing than at the bar).  Then a deadlift
    set from the floor has one excursion more than pulls, even when every pull
    began with a pause as long as the set-up's (see :func:`set_up_at_the_bar`).
    ``False`` without lever-arm fits.
    """
    f = lever_features(reps)
    return f is not None and f.rest - f.far >= UPRIGHT_REST_DEG


def recognize(
    cands: Sequence[RepCandidate],
    placement: str,
    mounting_up: Sequence[float] | None = None,
    coarse_lever: bool = False,
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
    coarse_lever
        The lever arm comes from a sensor slower than 20 Hz, where it comes out too
        long: the rule that needs a long lever (a thigh bridge) is left out.
    """
    if not cands:
        return "generic", 0.0, ""
    rom = float(np.median([c.rom_deg for c in cands]))
    if placement == "thigh" and rom < THIGH_MIN_ROM_DEG:
        return "generic", 0.5, ("the thigh hardly turns; for a lying curl strap the shank "
                                "(the thigh sees little of it) or name the exercise")
    feats = lever_features(cands)
    if feats is None and mounting_up is not None and placement in ("thigh", "shank"):
        # The lever arm, where there is one, tells more than the mounting: it places
        # the segment's centre of rotation, the mounting only says how far from
        # vertical the segment leans, not which way.
        return _from_mounting(cands, placement, mounting_up, rom)
    off_g = uncalibrated_g(cands) if feats is None else None
    if off_g is not None:
        return "generic", 0.5, (f"the accelerometer reads {off_g:.2f} g when still, not 1 g: "
                                "too far off to tell the exercise from it; calibrate the "
                                "sensor or name the exercise")
    if feats is None:
        if (placement == "thigh" and DEADLIFT_ROM_DEG[0] <= rom <= DEADLIFT_ROM_DEG[1]
                and set_up_at_the_bar(cands)):
            return "deadlift", 0.4, ("no gyroscope: a deadlift by its set-up pause at the bar "
                                     "alone; name the exercise if it was not one")
        return "generic", 0.5, ("exercise not recognised: needs a gyroscope at 10 Hz or more "
                                "and a clear movement, or a paired mounting; counted as generic")
    rest, far, length = feats.rest, feats.far, feats.length
    if feats.spread > MAX_SPREAD_DEG:
        return "generic", 0.5, "reps disagree on the movement; counted as generic"
    if placement not in ("thigh", "shank"):
        # Only a knee turns a segment by more than 100 degrees from level with its pivot.
        if abs(rest) < 35 and rom >= 100 and abs(far) >= 40 and length <= SHANK_LEVER_M:
            return "leg_curl", 0.7, ""
        # Hinges and bridges are trained with the thigh strapped (the plans say so); a
        # shank on a planted foot would look like a hinge here, so the note says so.
        ex = _thigh(cands, feats, rom, coarse_lever)[0]
        if ex in HINGES:
            return ex, 0.5, "placement unknown: taken as a thigh sensor"
        return "generic", 0.5, "exercise not recognised without the placement (thigh or shank)"
    if placement == "shank":
        return _shank(cands, feats, rom)
    return _thigh(cands, feats, rom, coarse_lever, mounting_up)


def _shank(cands: Sequence[RepCandidate], f: LeverFeatures, rom: float) -> tuple[str, float, str]:
    if abs(f.rest) < 35 and rom >= 45 and abs(f.far) >= 40 and f.length <= SHANK_LEVER_M:
        return "leg_curl", 0.8, ""
    if f.rest <= -45 and f.far - f.rest >= 20 and f.length >= LEG_LEVER_M:
        return "generic", 0.5, SWUNG_FROM_THE_HIP
    if f.rest <= -45:
        return "generic", 0.5, HANGING_FROM_THE_KNEE
    if f.rest >= 35 and set_up_at_the_bar(cands):
        return "deadlift", 0.6, ""  # foot planted, and a set-up pause at the bar
    if f.rest >= 35 and f.rising >= MIN_RISING_DEG:
        # Foot planted and the knee driven forward over it, the shank turning up
        # toward vertical: the hips rising in a bridge or a hip thrust.  A squat or
        # a pull from the floor tilts the shank the other way, off vertical.
        return ("hip_thrust" if rom >= 35 else "glute_bridge"), 0.6, ""
    if f.rest >= 35:
        return "generic", 0.5, ("foot planted (a deadlift or a squat); strap the thigh "
                                "or name the exercise")
    return "generic", 0.5, ""


def _thigh(cands: Sequence[RepCandidate], f: LeverFeatures, rom: float,
           coarse_lever: bool = False,
           mounting_up: Sequence[float] | None = None) -> tuple[str, float, str]:
    set_up = set_up_at_the_bar(cands)
    # -15, not 0: a set's far elevation scatters by that much (0-49° over 30 simulated
    # deadlift sets at the bar with the thigh 55° from vertical); past it is a deep squat.
    # A lifter's thigh turns about a knee that moves too, so its fitted centre wanders:
    # in 7 of 69 simulated deadlift sets the standing thigh sat only 8-34° above it.
    # After a set-up pause at the bar, resting more upright than at the far pose says
    # what 35° would.
    if f.far >= -15 and 12 <= rom <= 90 and (
            f.rest >= 35 or (set_up and f.rest - f.far >= UPRIGHT_REST_DEG)):
        if set_up:
            return "deadlift", 0.7, ""  # a hinge that began with a set-up pause at the bar
        if rom <= RDL_MAX_ROM_DEG:
            return "romanian_deadlift", 0.7, ""
        return "generic", 0.5, ("a deep bend from standing: a squat, or deadlifts that pause "
                                "at the floor as long as at the set-up; name the exercise")
    rises_from_level = -15 <= f.rest < 35 and f.far - f.rest >= 10
    if rises_from_level and rom > BRIDGE_MAX_ROM_DEG:
        return "generic", 0.5, LIFTED_FROM_THE_HIP
    if rises_from_level and f.length >= BRIDGE_LEVER_M:
        if coarse_lever and not (mounting_up is not None
                                 and _knees_up(*_inclinations(cands, mounting_up))):
            # A leg lifted from the hip starts level; a paired mounting that finds the
            # knee above the hip at rest says it was not one.
            return "generic", 0.5, ("a bridge or a leg lifted from the hip: a sensor under "
                                    "20 Hz cannot tell them apart; name the exercise")
        return ("hip_thrust" if rom >= 35 else "glute_bridge"), 0.7, ""
    if f.rest <= -45 and f.far - f.rest >= 20:
        return "generic", 0.5, SWUNG_FROM_THE_HIP
    if rises_from_level:
        # The bridge's row but for its long lever: a thigh turning about its own hip
        # (a leg raise, an abduction) starts level and rises the same way.
        return "generic", 0.5, ("a hip thrust or bridge and a leg lifted from the hip look "
                                "alike here; name the exercise")
    return "generic", 0.5, ""


def _from_mounting(
    cands: Sequence[RepCandidate], placement: str, mounting_up: Sequence[float], rom: float,
) -> tuple[str, float, str]:
    """Recognition from the mounting captured at pairing, for sets without a lever arm.

    The mounting gives the segment's inclination at the rest and far poses:
    0 = as when standing, 90 = level, 180 = proximal end straight down (a shank
    curled up behind a prone lifter).  It is unsigned -- gravity alone does not
    say forward from back -- so mirror images stay alike: a standing curl and a
    seated knee extension, a seated curl and a straight leg raised lying on the
    back, a single-leg deadlift's free leg and a reverse hyperextension.

    =========  ============================================  =================
    placement  inclination (rest → far)                      exercise
    =========  ============================================  =================
    shank      level at rest (55-125°), far ≥ 130°, ≥ 40° of  leg_curl (lying)
               range: the foot lifted well above the knee
    thigh      standing (< 25°), a set-up pause at the bar,  deadlift
               40-75° of range; or resting at the bar
               (40-75°) and each pull to standing
    thigh      standing, 15-45° of range                     romanian_deadlift
                                                             (a note: a leg
                                                             swung from the
                                                             hip looks alike)
    thigh      knees up lying (≥ 110°), flattening, ≤ 70°    glute_bridge, or
                                                             hip_thrust ≥ 35°
    =========  ============================================  =================
    """
    rest, far = _inclinations(cands, mounting_up)
    if placement == "shank":
        if LEVEL[0] <= rest <= LEVEL[1] and far >= PRONE_CURL_FAR_DEG and rom >= 40:
            # Lying face down, the shank level at rest and the foot lifted well above
            # the knee: nothing but a knee bending does that.
            return "leg_curl", 0.6, ""
        if rest < HANGING_DEG:
            return "generic", 0.5, HANGING_FROM_THE_KNEE
        return "generic", 0.5, ""
    if rest < UPRIGHT_DEG:
        if set_up_at_the_bar(cands) and DEADLIFT_ROM_DEG[0] <= rom <= DEADLIFT_ROM_DEG[1]:
            return "deadlift", 0.6, ""  # from standing, a set-up pause at the bar
        if 15 <= rom <= RDL_MAX_ROM_DEG:
            return "romanian_deadlift", 0.5, ("the thigh's tilt from standing alone (no "
                                              "gyroscope): a leg swung from the hip looks "
                                              "alike; name the exercise if it was not one")
        return "generic", 0.5, ""
    if (AT_THE_BAR[0] <= rest <= AT_THE_BAR[1] and far < UPRIGHT_DEG
            and DEADLIFT_ROM_DEG[0] <= rom <= DEADLIFT_ROM_DEG[1]):
        return "deadlift", 0.6, ""  # resting at the bar, each pull to standing
    if _knees_up(rest, far) and rom <= BRIDGE_MAX_ROM_DEG:
        return ("hip_thrust" if rom >= 35 else "glute_bridge"), 0.6, ""
    return "generic", 0.5, ""


def _inclinations(cands: Sequence[RepCandidate],
                  mounting_up: Sequence[float]) -> tuple[float, float]:
    """The segment's median inclination from standing at the rest and far poses, degrees."""
    return (float(np.median([angle_deg(c.rest_up, mounting_up) for c in cands])),
            float(np.median([angle_deg(c.far_up, mounting_up) for c in cands])))


def _knees_up(rest: float, far: float) -> bool:
    """A thigh lying with the hip below the knee at rest, flattening as the hips rise."""
    return rest >= BRIDGE_REST_DEG and far < rest


def away_lifts(cands: Sequence[RepCandidate]) -> bool | None:
    """Does the set's movement away from its rest pose lift the segment about its pivot?

    For ``generic`` sets, whose exercise has no meaning of concentric of its
    own: the concentric phase of a limb moved against gravity is the one that
    raises it about the joint it turns on.  Most such sets rest at the bottom
    and lift first (knee extensions, leg raises), but a set that rests at the
    top -- a hinge or squat from standing, a reverse hyperextension held level
    -- lowers first.  The lever arm says which: the sensor's elevation above its
    centre of rotation (:class:`LeverFeatures`) rises or falls on the way out.

    ``None`` (keep the convention: away is concentric) without a lever arm, when
    the turn is under ``LIFT_TURN_DEG``, or when the far pose and the first
    quarter of the way out disagree (a lever lying off the movement plane).
    """
    f = lever_features(cands)
    if f is None:
        return None
    turn = f.far - f.rest
    if abs(turn) < LIFT_TURN_DEG or abs(f.rising) < MIN_RISING_DEG or turn * f.rising < 0:
        return None
    return turn > 0
