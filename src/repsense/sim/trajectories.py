"""Joint-angle trajectories: exercises, reps with a tempo, gait and micro-motion.

Movements between poses follow the minimum-jerk profile of Flash & Hogan
(1985, *J. Neurosci.* 5:1688), ``s(τ) = 10τ³ − 15τ⁴ + 6τ⁵``: it starts and
ends with zero velocity and acceleration, as human point-to-point movements do.

Every exercise is a *rest pose* and a *far pose* of the leg (thigh and shank
angles as in :mod:`repsense.sim.leg`) plus which point is anchored.  A rep
is rest → far → rest following the phase convention of
:mod:`repsense.exercises`: away movement, far pause, return movement, and the
near pause at the rest pose before the next rep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from repsense.errors import InputError
from repsense.exercises import EXERCISES

# --- minimum jerk keyframes -------------------------------------------------


def minimum_jerk(tau: np.ndarray) -> np.ndarray:
    """Flash & Hogan position profile on ``tau`` clipped to [0, 1]."""
    x = np.clip(tau, 0.0, 1.0)
    return x * x * x * (10.0 + x * (-15.0 + 6.0 * x))


@dataclass
class Keyframes:
    """Piecewise minimum-jerk motion through ``values[k]`` at ``times[k]``.

    Between two keyframes with equal values the channel holds still.  Before
    the first and after the last keyframe it holds the end values.
    """

    times: list[float] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)

    def add(self, t: float, value: np.ndarray | list[float]) -> None:
        v = np.asarray(value, dtype=float)
        if self.times and t < self.times[-1] - 1e-9:
            raise ValueError("keyframes must be added in time order")
        self.times.append(float(t))
        self.values.append(v)

    def hold(self, duration: float) -> None:
        """Stay at the last value for ``duration`` seconds."""
        self.add(self.times[-1] + max(0.0, duration), self.values[-1])

    def move(self, duration: float, value: np.ndarray | list[float]) -> None:
        """Move to ``value`` in ``duration`` seconds."""
        self.add(self.times[-1] + max(0.0, duration), value)

    @property
    def end(self) -> float:
        return self.times[-1]

    def __call__(self, t: np.ndarray) -> np.ndarray:
        times = np.asarray(self.times)
        vals = np.stack(self.values)
        if len(times) == 1:
            return np.broadcast_to(vals[0], (t.shape[0], vals.shape[1])).copy()
        i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
        span = times[i + 1] - times[i]
        tau = np.where(span > 0, (t - times[i]) / np.where(span > 0, span, 1.0), 1.0)
        s = minimum_jerk(tau)[:, None]
        return vals[i] + s * (vals[i + 1] - vals[i])


# --- exercises ------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseSpec:
    """How one exercise (and variant) moves the leg.

    Angles are absolute sagittal segment angles in degrees, ``(thigh, shank)``.
    """

    exercise: str
    variant: str
    posture: str
    anchor: str
    """``"hip"`` (hip joint fixed) or ``"feet"`` (ankle fixed on the floor)."""
    rest: tuple[float, float]
    far: tuple[float, float]
    default_tempo: str
    description: str
    setup_pause_s: float = 1.0
    """Dwell at the rest pose before the first rep (deadlift: the set-up at the bar)."""
    lead_in: tuple[float, float] | None = None
    """Pose the lifter comes from and returns to after the set (deadlift: standing)."""
    knock_g: float = 0.0
    """Typical knock at the end of the return (weight stack, bar on the floor)."""
    settle_deg: float = 0.0
    """Swing of a hanging shank past the rest pose after a relaxed return (degrees)."""
    away_lifts: bool | None = None
    """Does the move from ``rest`` to ``far`` lift the load (the concentric phase)?
    ``None``: as the exercise's own convention (``Exercise.away_is_concentric``).  A
    conventional deadlift is simulated from the bar (each rep a pull, then the lowering),
    while the detector rests standing and sees a lowering first, so it says ``True``."""

    def away_is_concentric(self) -> bool:
        """Whether the simulated away movement is the concentric phase (see ``away_lifts``)."""
        if self.away_lifts is not None:
            return self.away_lifts
        return EXERCISES[self.exercise].away_is_concentric

    def range_deg(self, placement: str) -> float:
        i = 0 if placement == "thigh" else 1
        return abs(self.far[i] - self.rest[i])


_SPECS = [
    ExerciseSpec("leg_curl", "prone", "prone_bench", "hip", (-90.0, -95.0), (-86.0, -210.0),
                 "2-0-1-1", "lying (prone) leg curl on a machine: knee 5° → 120°, hips lift a "
                 "little", knock_g=0.15),
    ExerciseSpec("leg_curl", "seated", "seated", "hip", (90.0, 80.0), (90.0, -25.0), "2-0-1-1",
                 "seated leg curl: knee 10° → 115°, thigh held by the pad", knock_g=0.15),
    ExerciseSpec("leg_curl", "standing", "standing", "hip", (2.0, 0.0), (10.0, -95.0), "2-0-1-1",
                 "standing single-leg curl (cable or machine): knee 2° → 105°",
                 settle_deg=4.0),
    ExerciseSpec("deadlift", "conventional", "standing", "feet", (55.0, -20.0), (0.0, 0.0),
                 "1-1-1-0", "conventional deadlift from the floor: set-up at the bar, reps "
                 "bottom → lockout → bottom, then the lifter stands up",
                 setup_pause_s=2.0, lead_in=(0.0, 0.0), knock_g=0.25, away_lifts=True),
    ExerciseSpec("romanian_deadlift", "standard", "standing", "feet", (0.0, 0.0), (24.0, -5.0),
                 "3-1-1-0", "Romanian deadlift: hinge from standing, knees soft (thigh 24°, "
                 "shank 5°)"),
    ExerciseSpec("single_leg_deadlift", "stance", "standing", "feet", (0.0, 0.0), (20.0, -7.0),
                 "3-1-1-0", "single-leg deadlift, sensor on the stance leg"),
    ExerciseSpec("single_leg_deadlift", "free", "standing", "free", (-4.0, -10.0),
                 (-75.0, -85.0), "3-1-1-0", "single-leg deadlift, sensor on the free leg that "
                 "swings back to horizontal"),
    ExerciseSpec("glute_bridge", "floor", "supine_knees_up", "feet", (135.0, 45.0),
                 (110.0, 22.0), "2-0-1-2", "glute bridge on the floor: thigh 45° → 20° above "
                 "horizontal"),
    ExerciseSpec("hip_thrust", "bench", "bench_thrust", "feet", (135.0, 35.0), (95.0, 5.0),
                 "1-0-1-1", "barbell hip thrust, upper back on a bench: thigh rotates 40°"),
    ExerciseSpec("generic", "knee_extension", "seated", "hip", (90.0, 0.0), (90.0, 70.0),
                 "2-0-1-1", "seated knee extension: knee 90° → 20°", knock_g=0.1,
                 settle_deg=6.0),
    ExerciseSpec("generic", "squat", "standing", "feet", (0.0, 0.0), (80.0, -30.0),
                 "2-0-1-0", "squat from standing: thigh down to 10° above horizontal, knees "
                 "30° forward over the feet (a generic movement the counter must still count)",
                 away_lifts=False),
    # physiotherapy movements; ranges from the UCI physical-therapy recordings
    # (benchmarks/sim_honesty.py): leg raise thigh 19° shank 25°, prone hip extension
    # thigh 8-13° shank 11-15°
    ExerciseSpec("generic", "leg_raise", "supine", "hip", (90.0, 90.0), (110.0, 112.0),
                 "2-0-2-1", "supine straight-leg raise: hip 0° → 20°"),
    ExerciseSpec("generic", "prone_hip_extension", "prone_floor", "hip", (-90.0, -92.0),
                 (-100.0, -106.0), "2-0-2-1", "prone hip extension on the floor: thigh lifts "
                 "10°, knee bends a little"),
    ExerciseSpec("generic", "reverse_hyperextension", "prone_bench", "hip", (-10.0, -20.0),
                 (-98.0, -102.0), "2-0-1-1", "reverse hyperextension: lying prone on a "
                 "bench, legs swing from hanging to just above horizontal (a hyperextension "
                 "that the leg sensor can see)"),
]
SPECS: dict[tuple[str, str], ExerciseSpec] = {(s.exercise, s.variant): s for s in _SPECS}
DEFAULT_VARIANT = {
    "leg_curl": "prone", "deadlift": "conventional", "romanian_deadlift": "standard",
    "single_leg_deadlift": "stance", "glute_bridge": "floor", "hip_thrust": "bench",
    "generic": "knee_extension",
}
VISIBLE_RANGE_DEG = 12.0
"""Below this rotation of the strapped segment reps are hard to see."""

POSTURES: dict[str, tuple[float, float, float]] = {
    # neutral (thigh, shank) angles and hip height in metres
    "standing": (0.0, 0.0, 0.95),
    "seated": (90.0, 0.0, 0.52),
    "supine": (90.0, 90.0, 0.10),
    "supine_knees_up": (135.0, 45.0, 0.10),
    "bench_thrust": (135.0, 35.0, 0.30),
    "prone_bench": (-90.0, -95.0, 0.75),
    "prone_floor": (-90.0, -92.0, 0.10),
}


def get_spec(exercise: str, variant: str | None = None) -> ExerciseSpec:
    """The spec of ``exercise`` (and ``variant``), or ``InputError``."""
    if exercise not in EXERCISES:
        raise InputError(
            f"--exercise: unknown exercise '{exercise}'; use one of: {', '.join(EXERCISES)}"
        )
    v = variant or DEFAULT_VARIANT[exercise]
    spec = SPECS.get((exercise, v))
    if spec is None:
        known = ", ".join(sorted(k[1] for k in SPECS if k[0] == exercise))
        raise InputError(f"--variant: '{v}' is not a variant of {exercise}; use one of: {known}")
    return spec


def variants() -> dict[str, list[str]]:
    """Every exercise id and its variants (default first)."""
    out: dict[str, list[str]] = {}
    for ex, v in SPECS:
        out.setdefault(ex, [DEFAULT_VARIANT[ex]])
        if v not in out[ex]:
            out[ex].append(v)
    return out


# --- tempo ------------------------------------------------------------------------

EXPLOSIVE_S = 0.45


@dataclass(frozen=True)
class Tempo:
    """Phase durations in seconds (``X`` in a tempo string means explosive)."""

    eccentric: float
    bottom: float
    concentric: float
    top: float

    def __str__(self) -> str:
        def f(x: float) -> str:
            return "X" if x == EXPLOSIVE_S else (f"{x:g}")

        return "-".join(f(x) for x in (self.eccentric, self.bottom, self.concentric, self.top))


def parse_tempo(text: str, where: str = "--tempo") -> Tempo:
    """Parse ``"3-1-1-0"``: eccentric-bottom pause-concentric-top pause (s), ``X`` = explosive."""
    parts = str(text).strip().split("-")
    if len(parts) != 4:
        raise InputError(
            f"{where}: '{text}' is not a tempo; give four durations in seconds as "
            "eccentric-bottom-concentric-top, e.g. 3-1-1-0 (X = explosive)"
        )
    vals = []
    for p in parts:
        p = p.strip()
        if p.upper() == "X":
            vals.append(EXPLOSIVE_S)
            continue
        try:
            v = float(p)
        except ValueError:
            raise InputError(
                f"{where}: '{p}' in tempo '{text}' is not a number of seconds; e.g. 3-1-1-0"
            ) from None
        if not 0 <= v <= 20:
            raise InputError(f"{where}: '{p}' in tempo '{text}' must be 0-20 s")
        vals.append(v)
    t = Tempo(*vals)
    if t.eccentric < 0.2 or t.concentric < 0.2:
        raise InputError(
            f"{where}: tempo '{text}' needs eccentric and concentric phases of at least "
            "0.2 s (use X for explosive)"
        )
    return t


# --- reps -------------------------------------------------------------------------


@dataclass(frozen=True)
class RepPlan:
    """One rep, in the away/far/return/near convention (seconds, fraction of range)."""

    near_pause: float
    away: float
    far_pause: float
    ret: float
    scale: float
    partial: bool
    knock_g: float = 0.0


def plan_reps(
    n: int,
    tempo: Tempo,
    away_is_concentric: bool,
    rng: np.random.Generator,
    *,
    fatigue: float = 0.25,
    partial_prob: float = 0.0,
    knock_g: float = 0.0,
) -> list[RepPlan]:
    """Draw ``n`` reps: ±10 % range and duration, concentric slowing, partial reps."""
    reps = []
    for i in range(n):
        frac = i / (n - 1) if n > 1 else 0.0
        conc = tempo.concentric * (1.0 + fatigue * frac**1.5)
        ecc = tempo.eccentric
        jit = np.clip(rng.normal(1.0, 0.05, 4), 0.9, 1.1)
        conc, ecc = conc * jit[0], ecc * jit[1]
        # a zero pause is still a short turn-around for a real lifter
        bottom = tempo.bottom * jit[2] + rng.uniform(0.0, 0.12)
        top = tempo.top * jit[3] + rng.uniform(0.0, 0.12)
        partial = bool(rng.random() < partial_prob)
        scale = float(rng.uniform(0.3, 0.5)) if partial else float(np.clip(rng.normal(1.0, 0.05),
                                                                           0.9, 1.1))
        if partial:  # a partial rep is quicker: less distance to cover
            conc, ecc = conc * 0.7, ecc * 0.7
        if away_is_concentric:
            away, far, ret, near = conc, top, ecc, bottom
        else:
            away, far, ret, near = ecc, bottom, conc, top
        knock = float(knock_g * rng.uniform(0.3, 1.3)) if knock_g else 0.0
        reps.append(RepPlan(0.0 if i == 0 else near, away, far, ret, scale, partial, knock))
    return reps


def rep_labels(
    reps: list[RepPlan], first_start: float, away_is_concentric: bool
) -> list[dict[str, float | bool]]:
    """The sidecar ``rep_detail`` of ``reps``; the first away movement starts at ``first_start``."""
    out = []
    t = first_start
    for i, r in enumerate(reps):
        if i:
            t += r.near_pause
        start = t
        t += r.away + r.far_pause + r.ret
        if away_is_concentric:
            conc, ecc, top, bottom = r.away, r.ret, r.far_pause, r.near_pause
        else:
            conc, ecc, top, bottom = r.ret, r.away, r.near_pause, r.far_pause
        out.append({
            "start_s": round(float(start), 3), "end_s": round(float(t), 3),
            "concentric_s": round(float(conc), 3), "eccentric_s": round(float(ecc), 3),
            "top_pause_s": round(float(top), 3), "bottom_pause_s": round(float(bottom), 3),
            "partial": r.partial,
        })
    return out


def reps_duration(reps: list[RepPlan]) -> float:
    return float(sum(r.near_pause + r.away + r.far_pause + r.ret for r in reps))


# --- band-limited noise and gait ----------------------------------------------


def smooth_noise(
    rng: np.random.Generator, n: int, fs: float, band: tuple[float, float], rms: float,
    channels: int = 1,
) -> np.ndarray:
    """Gaussian noise band-limited to ``band`` Hz with the given RMS, ``(n, channels)``.

    Made in the frequency domain so it is smooth enough to differentiate twice.
    """
    if n == 0:
        return np.zeros((0, channels))
    m = int(2 ** np.ceil(np.log2(max(n, 16))))
    spec = rng.normal(size=(m // 2 + 1, channels)) + 1j * rng.normal(size=(m // 2 + 1, channels))
    f = np.fft.rfftfreq(m, 1.0 / fs)
    lo, hi = band
    # smooth (raised-cosine) band edges: no ringing, still differentiable
    gain = np.clip((f - lo * 0.5) / max(lo * 0.5, 1e-6), 0, 1) if lo > 0 else np.ones_like(f)
    gain = gain * np.clip((hi * 1.5 - f) / (hi * 0.5), 0, 1)
    gain = 0.5 - 0.5 * np.cos(np.pi * gain)
    x = np.fft.irfft(spec * gain[:, None], m, axis=0)[:n]
    sd = x.std(axis=0)
    return x * (rms / np.where(sd > 0, sd, 1.0))


def taper(n: int, fs: float, ramp_s: float = 0.5) -> np.ndarray:
    """Window that rises from 0 to 1 in ``ramp_s`` and falls back at the end (smooth)."""
    m = min(int(ramp_s * fs), n // 2)
    w = np.ones(n)
    if m > 0:
        r = minimum_jerk(np.arange(m) / m)
        w[:m] = r
        w[n - m:] = r[::-1]
    return w


def _wrap_gauss(p: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = (p - centre + 0.5) % 1.0 - 0.5
    return np.exp(-((d / width) ** 2))


def gait_angles(phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sagittal thigh angle and knee flexion (degrees) over the gait cycle.

    ``phase`` 0 is heel strike of the instrumented leg.  Shapes follow the
    normal adult curves (Winter 2009; Perry & Burnfield 2010): hip +28° at heel
    strike, −11° at push-off; knee 15° loading response, 60° in swing.
    """
    thigh = 9.0 + 20.0 * np.cos(2 * np.pi * (phase - 0.95))
    knee = 3.0 + 15.0 * _wrap_gauss(phase, 0.15, 0.07) + 58.0 * _wrap_gauss(phase, 0.72, 0.11)
    return thigh, knee


def impact(t: np.ndarray, times: np.ndarray, amp_m: float, f_hz: float = 18.0,
           width_s: float = 0.015) -> np.ndarray:
    """Displacement (m) of a heel-strike or knock: a short smooth wavelet at each of ``times``."""
    out = np.zeros_like(t)
    for t0 in times:
        sel = np.abs(t - t0) < 5 * width_s
        if sel.any():
            d = t[sel] - t0
            out[sel] += amp_m * np.exp(-((d / width_s) ** 2)) * np.sin(2 * np.pi * f_hz * d)
    return out


def knock_amplitude_m(peak_g: float, f_hz: float = 18.0) -> float:
    """Wavelet amplitude whose second derivative peaks near ``peak_g``."""
    return peak_g * 9.80665 / (2 * np.pi * f_hz) ** 2 / 1.4
