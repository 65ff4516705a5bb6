"""Whole simulated sessions: sets, rests, nuisance movements and the sensor's output.

A session is planned up front (every block's times, every rep's phases,
hence the exact labels) and rendered lazily block by block, so a two-hour
session never sits in memory.  Rendering a block:

1. joint angles and the anchored point over the block on the internal grid
   (≥ 400 Hz), plus micro-motion, soft-tissue wobble, heel strikes and knocks;
2. the strap's world position and orientation (:mod:`repsense.sim.leg`);
3. specific force and angular velocity by differentiation;
4. the LSM6DS3 error model, which low-passes, decimates, adds offsets,
   drift and noise, clips and quantises (:mod:`repsense.sim.imu_model`).

Random numbers come from :class:`numpy.random.SeedSequence` streams keyed by
the seed and the block number, so the output depends on the seed only, not
on the chunk size the caller asks for.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from repsense.errors import InputError
from repsense.exercises import EXERCISES, PLACEMENTS
from repsense.samples import SampleChunk
from repsense.sim.imu_model import ACC_LSB_G, GYR_LSB_DPS, PART, ImuConfig, ImuModel
from repsense.sim.leg import (
    Body,
    LegPose,
    derive_imu,
    direction,
    hip_from_ankle,
    random_rotation,
    rotvec_to_matrix,
    sensor_pose,
)
from repsense.sim.trajectories import (
    POSTURES,
    VISIBLE_RANGE_DEG,
    ExerciseSpec,
    Keyframes,
    RepPlan,
    Tempo,
    gait_angles,
    get_spec,
    impact,
    knock_amplitude_m,
    minimum_jerk,
    parse_tempo,
    plan_reps,
    rep_labels,
    smooth_noise,
    taper,
)

NUISANCE_LEVELS = ("none", "rest", "full")
MIN_INTERNAL_HZ = 400.0
PAD = 64  # internal samples on each side of a block, so derivatives have no edge effects
MIN_REST_S = 5.0
MAX_WALK_S = 90.0
WALK_STRIDE_S = (1.0, 1.15)
"""Stride periods of walking between sets, seconds (100-120 steps a minute)."""
MAX_BLOCK_S = 60.0
"""Long rests are rendered in pieces of about this length to bound memory."""
MOTOR_NOISE_S = 0.004
OFFPLANE_GAIN = 0.12
ACTION_TREMOR_DEG = 0.003
"""Tremor amplitude (rms degrees, 7-11 Hz) during a set, tuned on the real recordings."""
"""Spread of the out-of-plane rotation per degree of sagittal excursion."""
"""Motor noise: degrees of irregularity per deg/s of movement speed."""


# --- state and blocks ---------------------------------------------------------------


@dataclass
class LegState:
    """Where the leg and the strap are at a block boundary."""

    phi_t: float
    phi_s: float
    psi: float
    hip: np.ndarray
    case: np.ndarray
    placement: str

    def ankle(self, body: Body) -> np.ndarray:
        pose = LegPose(np.array([self.phi_t]), np.array([self.phi_s]), np.array([self.psi]),
                       self.hip[None, :])
        return pose.ankle(body)[0]


@dataclass
class Motion:
    """What a block does on its grid, before sensor physics."""

    phi_t: np.ndarray
    phi_s: np.ndarray
    psi: np.ndarray
    hip: np.ndarray | None = None
    """Hip path for hip-anchored motion; ``None`` when the ankle is anchored."""
    ankle: np.ndarray | None = None
    micro_deg: float = 0.3
    tremor_deg: float | np.ndarray = 0.0002
    """Physiological tremor (8-11 Hz); grows while the muscles work against a load."""
    offplane: np.ndarray | None = None
    """(n, 2) gains: axial rotation and abduction of the segment per degree of the
    rep's sagittal excursion (reps are never perfectly planar), already windowed."""
    excursion: np.ndarray | None = None
    """(n, 2) sagittal excursion of thigh and shank from the rest pose (deg)."""
    impacts: list[tuple[float, float]] = field(default_factory=list)
    """(time, peak g) of heel strikes and knocks."""
    case: np.ndarray | None = None
    """Per-sample strap orientation (strap repositioning), else the state's."""
    switch: tuple[float, str, np.ndarray] | None = None
    """(mid time, new placement, new case): the strap is moved to the other segment."""
    jiggle: np.ndarray | None = None
    """Envelope (0..1) of hand handling of the strap."""


@dataclass
class Block:
    kind: str
    t0: float
    t1: float
    params: dict[str, Any] = field(default_factory=dict)


def _hold_keyframes(t0: float, q: np.ndarray) -> Keyframes:
    k = Keyframes()
    k.add(t0, q)
    return k


def _motion_from_keyframes(
    t: np.ndarray, kf: Keyframes, state: LegState, anchor: str, body: Body
) -> Motion:
    q = kf(t)
    psi = np.full(t.shape, state.psi)
    if q.shape[1] == 2:  # angles only: anchored hip or ankle
        if anchor == "feet":
            return Motion(q[:, 0], q[:, 1], psi, ankle=state.ankle(body))
        return Motion(q[:, 0], q[:, 1], psi, hip=np.broadcast_to(state.hip, (len(t), 3)).copy())
    hip = np.column_stack([
        np.full(t.shape, state.hip[0]), np.full(t.shape, state.hip[1]), q[:, 2]
    ])
    return Motion(q[:, 0], q[:, 1], psi, hip=hip)


# --- the session -----------------------------------------------------------------------


@dataclass
class Entry:
    """One exercise of a session (a line of a plan)."""

    exercise: str
    spec: ExerciseSpec
    sets: int
    reps: list[int]
    tempo: Tempo
    rest_s: float
    rest_after_s: float
    placement: str
    superset_with_next: bool = False


class SimulatedSession:
    """A simulated training session from a leg-worn LSM6DS3, with exact labels.

    Parameters
    ----------
    exercise
        Exercise id (see :mod:`repsense.exercises`).
    placement
        ``"thigh"`` or ``"shank"``; ``None`` for the segment that sees the
        exercise best (the shank for leg curls and knee extensions).
    sets, reps
        Number of sets and reps per set (``reps`` may be ``"3-6"``: drawn per set).
    tempo
        ``"E-B-C-T"`` seconds (eccentric, bottom pause, concentric, top pause;
        ``X`` = explosive); ``None`` for the exercise's usual tempo.
    rate_hz
        Output data rate, 10-400 Hz.
    rest_s
        Rest between sets: from the end of a set's last rep to the next set's first.
    seed
        Everything random (strap orientation, rep variation, noise) follows from it.
    accel_only
        Leave the gyroscope out.
    nuisance
        ``"none"`` (still rests with micro-motion), ``"rest"`` (+ fidgeting and
        strap repositioning) or ``"full"`` (+ standing up, walking, sitting down).
    variant
        Exercise variant, e.g. ``"seated"`` leg curl (see :func:`repsense.sim.variants`).
    jitter_ms
        Standard deviation of timestamp jitter (host-side timestamps).
    walk_stride_s
        Range the stride period of each walk is drawn from, seconds (default 1.0-1.15:
        100-120 steps a minute; a slow walker's 75-90 steps a minute is 1.35-1.6).
    partial_prob, fatigue
        Chance that a rep is partial; how much the concentric slows over a set.
    ideal
        No sensor errors, no micro-motion, no soft-tissue wobble (for tests).
    """

    def __init__(
        self,
        exercise: str = "romanian_deadlift",
        placement: str | None = None,
        sets: int = 3,
        reps: int | str = 10,
        tempo: str | None = None,
        rate_hz: float = 50.0,
        rest_s: float = 60.0,
        seed: int = 0,
        accel_only: bool = False,
        nuisance: str = "rest",
        *,
        variant: str | None = None,
        side: str = "right",
        jitter_ms: float = 0.0,
        walk_stride_s: tuple[float, float] = WALK_STRIDE_S,
        partial_prob: float = 0.0,
        fatigue: float = 0.25,
        acc_range_g: int = 8,
        gyr_range_dps: int = 1000,
        mount: str = "random",
        ideal: bool = False,
        source: str | None = None,
        _entries: list[dict[str, Any]] | None = None,
        name: str | None = None,
    ) -> None:
        self.seed = int(seed)
        self.rate_hz = float(rate_hz)
        self.accel_only = bool(accel_only)
        self.nuisance = nuisance
        self.side = side
        self.jitter_ms = float(jitter_ms)
        self.walk_stride_s = (float(walk_stride_s[0]), float(walk_stride_s[1]))
        self.ideal = ideal
        self.name = name
        _check_options(rate_hz, nuisance, side, jitter_ms, partial_prob, fatigue, acc_range_g,
                       gyr_range_dps, mount, seed)
        self.partial_prob = partial_prob
        self.fatigue = fatigue
        self.body = Body()
        self.k = int(np.ceil(MIN_INTERNAL_HZ / self.rate_hz))
        self.fs = self.rate_hz * self.k
        self.imu_config = ImuConfig(self.rate_hz, acc_range_g, gyr_range_dps, accel_only, ideal)
        if placement is None:
            spec = get_spec(exercise, variant)
            placement = max(PLACEMENTS, key=spec.range_deg)
        raw = _entries if _entries is not None else [{
            "id": exercise, "variant": variant, "sets": sets, "reps": reps, "tempo": tempo,
            "rest_s": rest_s, "placement": placement,
        }]
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0]))
        self.entries = [_entry(e, i, placement, rest_s, rng) for i, e in enumerate(raw)]
        self.mount = mount
        self.source = source or _api_source(exercise, placement, sets, reps, tempo, rate_hz,
                                            rest_s, seed, accel_only, nuisance)
        self.warnings = _visibility_warnings(self.entries)
        self._plan(rng)

    # --- construction from a plan -------------------------------------------------

    @classmethod
    def from_plan(
        cls, plan: dict[str, Any] | str | Path, *, where: str = "plan", **kwargs: Any
    ) -> SimulatedSession:
        """A session following a training plan (the TOML plan schema, parsed or a path).

        Keyword arguments are those of the constructor (``rate_hz``, ``seed``,
        ``nuisance``...); exercises, sets, reps, tempo and rests come from the plan.
        """
        if not isinstance(plan, dict):
            path = Path(plan)
            where = str(path)
            try:
                plan = tomllib.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise InputError(f"{path}: no such plan file; give a .toml plan") from None
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: not a valid TOML plan ({exc})") from None
        exercises = plan.get("exercise")
        if not isinstance(exercises, list) or not exercises:
            raise InputError(f"{where}: no [[exercise]] entries; add at least one")
        placement = kwargs.pop("placement", None) or plan.get("placement", "thigh")
        if placement not in PLACEMENTS:
            raise InputError(f"{where}: placement '{placement}'; use thigh or shank")
        side = kwargs.pop("side", None) or plan.get("side", "right")
        entries = []
        for i, e in enumerate(exercises):
            if not isinstance(e, dict) or "id" not in e:
                raise InputError(f"{where}: exercise #{i + 1} has no 'id'; add id = \"...\"")
            entries.append(dict(e, _where=f"{where}: exercise #{i + 1} ({e.get('id')})"))
        kwargs.setdefault("nuisance", "full")
        return cls(
            exercise=entries[0]["id"], placement=placement, side=side, _entries=entries,
            name=plan.get("name"), **kwargs,
        )

    # --- planning ----------------------------------------------------------------

    def _plan(self, rng: np.random.Generator) -> None:
        order = _set_order(self.entries)
        first = self.entries[order[0][0]]
        posture = first.spec.posture
        case = np.eye(3) if self.mount == "aligned" else random_rotation(rng)
        # where round the limb the strap sits: front to outer side
        side_sign = -1.0 if self.side == "right" else 1.0
        self.alpha = float(side_sign * rng.uniform(0.0, 90.0))
        q = POSTURES[posture]
        self._initial = LegState(q[0], q[1], 0.0, np.array([0.0, 0.0, q[2]]), case,
                                 first.placement)
        blocks: list[Block] = []
        t = 0.0
        lead = 4.0 + rng.uniform(0, 2)
        blocks.append(self._rest_block(t, t + lead, posture, rng, allow_strap=False))
        t += lead
        sets_labels: list[dict[str, Any]] = []
        prev_entry: Entry | None = None
        for n_set, (ei, si) in enumerate(order):
            entry = self.entries[ei]
            spec = entry.spec
            away_conc = spec.away_is_concentric()
            reps = plan_reps(entry.reps[si], entry.tempo, away_conc, rng, fatigue=self.fatigue,
                             partial_prob=self.partial_prob,
                             knock_g=spec.knock_g)
            if prev_entry is not None:
                gap = self._gap(order, n_set)
                last = blocks[-1]
                # the gap counts from the previous set's last rep; its post part is already in
                gap_start = last.params["last_rep_end"]
                lead_in = self._lead_in_s(spec, rng)
                rest_end = gap_start + gap - lead_in
                t = last.t1
                if rest_end - t < 1.0:
                    rest_end = t + 1.0
                blocks.extend(self._gap_blocks(t, rest_end, prev_entry, entry, rng))
                t = rest_end
            else:
                lead_in = self._lead_in_s(spec, rng)
            first_rep = t + lead_in
            labels = rep_labels(reps, first_rep, away_conc)
            last_rep_end = labels[-1]["end_s"]
            post = 1.0 + rng.uniform(0.0, 0.6) + (1.6 if spec.lead_in else 0.0)
            end = float(last_rep_end) + post
            blocks.append(Block("set", t, end, {
                "entry": entry, "reps": reps, "first_rep": first_rep,
                "last_rep_end": float(last_rep_end), "lead_in": lead_in,
            }))
            sets_labels.append({
                "exercise": spec.exercise, "variant": spec.variant, "placement": entry.placement,
                "tempo": str(entry.tempo), "reps": len(reps), "start_s": labels[0]["start_s"],
                "end_s": last_rep_end, "rep_detail": labels,
            })
            t = end
            prev_entry = entry
        tail = 4.0 + rng.uniform(0, 2)
        blocks.append(self._rest_block(t, t + tail, prev_entry.spec.posture if prev_entry else
                                       posture, rng, allow_strap=False))
        self.blocks = _split_long_rests(blocks)
        self.duration_s = blocks[-1].t1
        self.labels = {"sets": sets_labels}

    def _lead_in_s(self, spec: ExerciseSpec, rng: np.random.Generator) -> float:
        move = 1.6 if spec.lead_in else 1.0
        return move + spec.setup_pause_s * rng.uniform(0.9, 1.4)

    def _gap(self, order: list[tuple[int, int]], n_set: int) -> float:
        pe, ps = order[n_set - 1]
        ne, _ = order[n_set]
        prev = self.entries[pe]
        if ne == pe:
            return prev.rest_s
        if prev.superset_with_next and ne == pe + 1:
            return 12.0  # straight into the paired exercise: just the change of station
        if pe > 0 and self.entries[pe - 1].superset_with_next and ne == pe - 1:
            return self.entries[ne].rest_s  # back to the first exercise of a superset
        return prev.rest_after_s

    def _gap_blocks(
        self, t0: float, t1: float, prev: Entry, nxt: Entry, rng: np.random.Generator
    ) -> list[Block]:
        """Rest and posture changes between two sets."""
        p0, p1 = prev.spec.posture, nxt.spec.posture
        blocks: list[Block] = []
        t = t0
        dur = t1 - t0
        moving = self.nuisance == "full" and dur >= 25 and rng.random() < 0.6
        change = p0 != p1
        walk_posture = "standing"
        if moving or (change and nxt.placement != prev.placement):
            pass
        if moving:
            # some rest in place first, then get up, walk about, and settle back
            first = min(dur * rng.uniform(0.15, 0.35), dur - 20)
            if first > 2:
                blocks.append(self._rest_block(t, t + first, p0, rng))
                t += first
            if p0 != walk_posture:
                blocks.append(Block("transition", t, t + 3.0, {"posture": walk_posture}))
                t += 3.0
            back = 3.0 if p1 != walk_posture else 0.0
            settle = 3.0
            walk = min(t1 - t - back - settle, MAX_WALK_S)
            if walk >= 5.0:
                stride = rng.uniform(*self.walk_stride_s)
                walk = np.floor(walk / stride) * stride
                blocks.append(Block("walk", t, t + walk, {"stride": stride}))
                t += walk
            if back:
                blocks.append(Block("transition", t, t + back, {"posture": p1}))
                t += back
            blocks.append(self._rest_block(t, t1, p1, rng))
            return self._with_switch(blocks, prev, nxt)
        if change:
            tr = min(3.5, max(dur - 0.5, 0.5))
            mid = (dur - tr) * rng.uniform(0.3, 0.7)
            if mid > 0.5:
                blocks.append(self._rest_block(t, t + mid, p0, rng))
                t += mid
            blocks.append(Block("transition", t, t + tr, {"posture": p1}))
            t += tr
            if t1 - t > 0.05:
                blocks.append(self._rest_block(t, t1, p1, rng))
            return self._with_switch(blocks, prev, nxt)
        blocks.append(self._rest_block(t, t1, p0, rng))
        return self._with_switch(blocks, prev, nxt)

    def _with_switch(self, blocks: list[Block], prev: Entry, nxt: Entry) -> list[Block]:
        if prev.placement == nxt.placement:
            return blocks
        # move the strap during the longest still part of the gap
        rests = [b for b in blocks if b.kind == "rest" and b.t1 - b.t0 >= 5.0]
        target = max(rests or blocks, key=lambda b: b.t1 - b.t0)
        target.params["switch"] = (0.5 * (target.t0 + target.t1), nxt.placement)
        target.params.pop("strap", None)
        return blocks

    def _rest_block(
        self, t0: float, t1: float, posture: str, rng: np.random.Generator, *,
        allow_strap: bool = True,
    ) -> Block:
        dur = t1 - t0
        params: dict[str, Any] = {"posture": posture, "fidgets": [], "strap": None}
        if self.nuisance in ("rest", "full") and dur > 6:
            n_fidget = rng.poisson(dur / 25.0)
            for _ in range(n_fidget):
                ts = rng.uniform(t0 + 1.0, max(t0 + 1.0, t1 - 4.0))
                go = rng.uniform(0.4, 1.0)
                stay = rng.uniform(0.3, 2.5)
                back = rng.uniform(0.4, 1.0)
                if ts + go + stay + back > t1 - 1.0:
                    continue
                d_t = rng.uniform(-1, 1) * (6.0 if posture == "standing" else 4.0)
                d_s = rng.uniform(-1, 1) * 9.0
                params["fidgets"].append((ts, go, stay, back, d_t, d_s))
            params["fidgets"].sort()
            params["fidgets"] = _drop_overlaps(params["fidgets"])
            if allow_strap and dur > 12 and rng.random() < 0.3:
                ts = rng.uniform(t0 + 2.0, t1 - 7.0)
                turn = np.radians(rng.choice([-1, 1]) * rng.uniform(15, 50))
                tilt = np.radians(rng.normal(0, 4, 2))
                params["strap"] = (ts, rng.uniform(2.0, 4.0), np.array([turn, *tilt]))
                params["fidgets"] = [f for f in params["fidgets"]
                                     if f[0] > ts + 6.5 or f[0] + f[1] + f[2] + f[3] < ts - 0.5]
        return Block("rest", t0, t1, params)

    # --- public views ----------------------------------------------------------------

    @property
    def placement(self) -> str:
        return self.entries[0].placement

    @property
    def meta(self) -> dict[str, Any]:
        """The sidecar: sensor, placement, rate, provenance, settings and labels."""
        places = {e.placement for e in self.entries}
        meta: dict[str, Any] = {"sensor": f"repsense-sim ({PART})"}
        if len(places) == 1:  # a plan that moves the strap has no single placement
            meta["placement"] = self.placement
        return meta | {
            "side": self.side,
            "sample_rate_hz": self.rate_hz,
            "synthetic": True,
            "source": self.source,
            "licence": "MIT (generated by repsense's simulator)",
            "seed": self.seed,
            "simulator": {
                "part": PART,
                "accel_only": self.accel_only,
                "acc_range_g": self.imu_config.acc_range_g,
                "gyr_range_dps": self.imu_config.gyr_range_dps,
                "nuisance": self.nuisance,
                "jitter_ms": self.jitter_ms,
                "partial_prob": self.partial_prob,
                "fatigue": self.fatigue,
                "mount": self.mount,
                **({} if self.walk_stride_s == WALK_STRIDE_S
                   else {"walk_stride_s": list(self.walk_stride_s)}),
                "plan": self.name,
                "exercises": [
                    {"id": e.exercise, "variant": e.spec.variant, "placement": e.placement,
                     "sets": e.sets, "reps": e.reps, "tempo": str(e.tempo), "rest_s": e.rest_s,
                     "description": e.spec.description}
                    for e in self.entries
                ],
                "warnings": self.warnings,
                "duration_s": round(self.duration_s, 3),
            },
            "labels": self.labels,
        }

    @property
    def has_gyro(self) -> bool:
        return not self.accel_only

    @property
    def mounting_up(self) -> list[float]:
        """Unit up vector in the sensor frame with the segment vertical: what ``repsense
        pair`` captures standing still (``mounting_up`` of a profile), before any strap
        repositioning between sets and without the strap's small soft-tissue wobble."""
        up = self._initial.case.T @ np.array([0.0, 0.0, 1.0])
        return (up / np.linalg.norm(up)).tolist()

    # --- rendering ---------------------------------------------------------------

    def chunks(self, chunk_s: float = 0.1) -> Iterator[SampleChunk]:
        """Yield the session as :class:`SampleChunk` s of about ``chunk_s`` seconds.

        Blocks are rendered one at a time as the iterator advances.
        """
        size = max(1, int(round(chunk_s * self.rate_hz)))
        imu = ImuModel(self.imu_config, self.fs,
                       np.random.default_rng(np.random.SeedSequence([self.seed, 2])))
        jit_rng = np.random.default_rng(np.random.SeedSequence([self.seed, 3]))
        state = replace(self._initial, hip=self._initial.hip.copy())
        buf: list[SampleChunk] = []
        held = 0
        for bi, block in enumerate(self.blocks):
            t_out, acc, gyr, state = self._render(bi, block, state, imu)
            if len(t_out) == 0:
                continue
            if self.jitter_ms > 0:
                lim = 0.45 / self.rate_hz
                t_out = t_out + np.clip(jit_rng.normal(0, self.jitter_ms / 1000, len(t_out)),
                                        -lim, lim)
            buf.append(SampleChunk(t_out, acc, gyr))
            held += len(t_out)
            if held >= size:
                allc = SampleChunk.concat(buf)
                n_full = (len(allc) // size) * size
                for s in range(0, n_full, size):
                    yield allc.slice(s, s + size)
                buf = [allc.slice(n_full, len(allc))] if n_full < len(allc) else []
                held = len(allc) - n_full
        if held:
            yield SampleChunk.concat(buf)

    def sample(self) -> SampleChunk:
        """The whole session in one chunk (for short sessions and tests)."""
        return SampleChunk.concat(list(self.chunks(chunk_s=60.0)))

    def _render(
        self, bi: int, block: Block, state: LegState, imu: ImuModel
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, LegState]:
        j0 = int(round(block.t0 * self.rate_hz))
        j1 = int(round(block.t1 * self.rate_hz))
        n_out = j1 - j0
        i0, i1 = j0 * self.k, j1 * self.k
        t = np.arange(i0 - PAD, i1 + PAD) / self.fs
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 1, bi]))
        m = self._motion(block, t, state, rng)
        n = len(t)
        body = self.body
        core = slice(PAD, PAD + (i1 - i0))
        micro_env = taper(i1 - i0, self.fs, 0.5)
        env = np.zeros(n)
        env[core] = micro_env
        phi_t, phi_s = m.phi_t.copy(), m.phi_s.copy()
        if not self.ideal and m.micro_deg > 0:
            # slow drift of the limb (< 0.7 Hz), postural sway (0.7-3 Hz) and
            # physiological tremor (8-12 Hz); amplitudes tuned so a resting
            # sensor matches the real recordings (benchmarks/sim_honesty.py)
            slow = smooth_noise(rng, n, self.fs, (0.02, 0.5), m.micro_deg, 2)
            slow += smooth_noise(rng, n, self.fs, (0.5, 3.0), 0.03 * m.micro_deg, 2)
            trem = np.asarray(m.tremor_deg, dtype=float)
            slow += smooth_noise(rng, n, self.fs, (7.0, 11.0), 1.0, 2) * (
                trem[:, None] if trem.ndim else trem)
            # signal-dependent motor noise (Harris & Wolpert 1998): the faster the
            # movement, the larger its irregularities (0.8-4 Hz corrections)
            speed = np.abs(np.gradient(np.column_stack([m.phi_t, m.phi_s]), 1 / self.fs,
                                       axis=0))
            slow += smooth_noise(rng, n, self.fs, (0.8, 4.0), 1.0, 2) * speed * MOTOR_NOISE_S
            phi_t += slow[:, 0] * env
            phi_s += slow[:, 1] * env
        hip = hip_from_ankle(m.ankle, phi_t, phi_s, m.psi, body) if m.hip is None else m.hip
        pose = LegPose(phi_t, phi_s, m.psi, hip)
        case = m.case if m.case is not None else np.broadcast_to(state.case, (n, 3, 3))
        pos, rot, d = self._strap(pose, state.placement, case, m, rng, env)
        if m.switch is not None:
            pos, rot = self._switch(pose, m, t, pos, rot, state, rng, env)
        if m.impacts and not self.ideal:
            times = np.array([x[0] for x in m.impacts])
            amps = np.array([x[1] for x in m.impacts])
            disp = np.zeros(n)
            for amp in np.unique(amps):
                disp += impact(t, times[amps == amp], knock_amplitude_m(amp))
            pos = pos - disp[:, None] * d  # along the segment's long axis
        acc, gyr = derive_imu(pos, rot, self.fs, sta=None if self.ideal else (16.0, 0.35))
        acc, gyr = acc[core], gyr[core]
        t_out = (j0 + np.arange(n_out)) / self.rate_hz
        a_out, g_out = imu.process(t_out, acc, gyr)
        last = PAD + (i1 - i0) - 1
        new_state = LegState(
            float(m.phi_t[last]), float(m.phi_s[last]), float(m.psi[last]), hip[last].copy(),
            state.case if m.case is None else m.case[last].copy(), state.placement,
        )
        if m.switch is not None:
            new_state.placement = m.switch[1]
            new_state.case = m.switch[2]
        return t_out, a_out, g_out, new_state

    def _strap(
        self, pose: LegPose, placement: str, case: np.ndarray, m: Motion,
        rng: np.random.Generator, env: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos, site = sensor_pose(pose, placement, self.body, self.alpha)
        phi = pose.phi_thigh if placement == "thigh" else pose.phi_shank
        d = direction(phi, pose.psi)
        n = len(phi)
        if self.ideal:
            return pos, site @ case, d
        # soft tissue: slow out-of-plane wobble, and the strap twisting with fast movement
        wob = np.radians(smooth_noise(rng, n, self.fs, (0.1, 2.0), 0.045, 3)) * env[:, None]
        rate = np.gradient(phi, 1.0 / self.fs)
        wob[:, 2] += np.radians(0.02 * rate)
        wob[:, 1] += np.radians(0.01 * rate)
        if m.offplane is not None and m.excursion is not None:
            i = 0 if placement == "thigh" else 1
            ex = m.excursion[:, i]
            # axial rotation (about the segment axis = site z) and abduction (about
            # the segment's forward axis, seen from the strap's site)
            a = np.radians(self.alpha)
            abd = np.radians(m.offplane[:, 1] * ex)
            wob[:, 2] += np.radians(m.offplane[:, 0] * ex)
            wob[:, 0] += abd * np.cos(a)
            wob[:, 1] -= abd * np.sin(a)
        if m.jiggle is not None:
            # hands on the strap: a few degrees and millimetres of slow pushing about
            jig = np.radians(smooth_noise(rng, n, self.fs, (0.3, 3.0), 3.0, 3))
            wob += jig * m.jiggle[:, None]
            pos = pos + smooth_noise(rng, n, self.fs, (0.3, 3.0), 0.001, 3) * m.jiggle[:, None]
        return pos, site @ rotvec_to_matrix(wob) @ case, d

    def _switch(
        self, pose: LegPose, m: Motion, t: np.ndarray, pos: np.ndarray, rot: np.ndarray,
        state: LegState, rng: np.random.Generator, env: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        t_mid, new_place, new_case = m.switch  # type: ignore[misc]
        pos2, rot2, _ = self._strap(pose, new_place, np.broadcast_to(new_case, rot.shape), m,
                                    rng, env)
        w = minimum_jerk((t - (t_mid - 2.0)) / 4.0)
        p = (1 - w)[:, None] * pos + w[:, None] * pos2
        # slerp between the two strap orientations, sample by sample
        r_a = Rotation.from_matrix(rot)
        r_b = Rotation.from_matrix(rot2)
        rel = (r_a.inv() * r_b).as_rotvec()
        r = r_a * Rotation.from_rotvec(rel * w[:, None])
        return p, r.as_matrix()

    # --- block motions -------------------------------------------------------------

    def _motion(self, block: Block, t: np.ndarray, state: LegState,
                rng: np.random.Generator) -> Motion:
        if block.kind == "set":
            return self._set_motion(block, t, state, rng)
        if block.kind == "walk":
            return self._walk_motion(block, t, state, rng)
        if block.kind == "transition":
            return self._transition_motion(block, t, state)
        return self._rest_motion(block, t, state, rng)

    def _rest_motion(self, block: Block, t: np.ndarray, state: LegState,
                     rng: np.random.Generator) -> Motion:
        q0 = np.array([state.phi_t, state.phi_s])
        kf = _hold_keyframes(block.t0, q0)
        for ts, go, stay, back, d_t, d_s in block.params.get("fidgets", []):
            kf.add(ts, q0)
            kf.move(go, q0 + [d_t, d_s])
            kf.hold(stay)
            kf.move(back, q0)
        m = _motion_from_keyframes(t, kf, state, "hip", self.body)
        m.micro_deg = 0.2
        strap = block.params.get("strap")
        switch = block.params.get("switch")
        if strap is not None:
            ts, dur, rv = strap
            new_case = rotvec_to_matrix(rv[None, :])[0] @ state.case
            w = minimum_jerk((t - ts) / dur)
            rel = Rotation.from_rotvec(rv[None, :] * w[:, None]).as_matrix()
            m.case = rel @ state.case
            m.jiggle = minimum_jerk((t - ts + 0.5) / 0.8) * minimum_jerk((ts + dur + 0.5 - t) / 0.8)
            del new_case
        if switch is not None:
            t_mid, new_place = switch
            new_case = rotvec_to_matrix(
                np.radians(rng.normal(0, 25, 3))[None, :])[0] @ state.case
            m.switch = (t_mid, new_place, new_case)
            m.jiggle = (minimum_jerk((t - t_mid + 3.0) / 1.0)
                        * minimum_jerk((t_mid + 3.0 - t) / 1.0))
        return m

    def _transition_motion(self, block: Block, t: np.ndarray, state: LegState) -> Motion:
        target = block.params["posture"]
        th, sh, hz = POSTURES[target]
        dur = block.t1 - block.t0
        start = np.array([state.phi_t, state.phi_s, state.hip[2]])
        end = np.array([th, sh, hz])
        kf = _hold_keyframes(block.t0, start)
        lying = {"supine", "supine_knees_up", "prone_floor"}
        down = state.hip[2] > 0.8 and target in lying
        if down or (state.hip[2] < 0.2 and target == "standing"):
            # get down to (or up from) the floor through sitting or kneeling
            via = (np.array([0.0, -90.0, 0.55]) if "prone" in target or state.phi_t < -45
                   else np.array([110.0, 30.0, 0.25]))
            kf.move(dur * 0.45, via)
            kf.hold(dur * 0.1)
            kf.move(dur * 0.45, end)
        else:
            kf.move(dur, end)
        m = _motion_from_keyframes(t, kf, state, "hip", self.body)
        m.micro_deg = 0.5
        return m

    def _set_motion(self, block: Block, t: np.ndarray, state: LegState,
                    rng: np.random.Generator) -> Motion:
        entry: Entry = block.params["entry"]
        spec = entry.spec
        reps: list[RepPlan] = block.params["reps"]
        rest = np.array(spec.rest)
        far = np.array(spec.far)
        kf = _hold_keyframes(block.t0, np.array([state.phi_t, state.phi_s]))
        move = 1.6 if spec.lead_in else 1.0
        kf.move(move, rest)
        kf.add(block.params["first_rep"], rest)
        impacts = []
        used = 0.0
        post = block.t1 - block.params["last_rep_end"] - (1.6 if spec.lead_in else 0.0)
        for i, r in enumerate(reps):
            kf.hold(r.near_pause - used)
            target = rest + r.scale * (far - rest)
            kf.move(r.away, target)
            kf.hold(r.far_pause)
            kf.move(r.ret, rest)
            if r.knock_g:
                impacts.append((kf.end + 0.02, r.knock_g))
            free = reps[i + 1].near_pause if i + 1 < len(reps) else post
            used = self._settle(kf, spec, rest, far, free, rng)
        kf.hold(0.8 - used)
        if spec.lead_in:
            kf.move(1.6, np.array(spec.lead_in))
        if spec.anchor == "free":
            m = self._free_leg(t, kf, state)
        else:
            m = _motion_from_keyframes(t, kf, state, spec.anchor, self.body)
        m.micro_deg = 0.15
        m.impacts = impacts
        if not self.ideal:
            # the reps are not perfectly sagittal: some axial rotation and abduction
            # that grows with the excursion, ramped in and out at the rest pose
            first = block.params["first_rep"]
            last = block.params["last_rep_end"]
            win = minimum_jerk((t - first + 0.3) / 0.3) * minimum_jerk((last + 0.3 - t) / 0.3)
            gains = rng.normal(0.0, OFFPLANE_GAIN, 2)
            m.offplane = win[:, None] * gains[None, :]
            # action tremor and muscle vibration under load, only while repping
            m.tremor_deg = 0.0002 + ACTION_TREMOR_DEG * win
            m.excursion = np.column_stack([m.phi_t - rest[0], m.phi_s - rest[1]])
        return m

    def _settle(self, kf: Keyframes, spec: ExerciseSpec, rest: np.ndarray, far: np.ndarray,
                free: float, rng: np.random.Generator) -> float:
        """A hanging shank swings past its rest pose and back after a relaxed return.

        Returns the time used, taken from the following pause.
        """
        if not spec.settle_deg or self.ideal or free < 0.7:
            return 0.0
        dur = min(1.4, free - 0.1)
        amp = spec.settle_deg * rng.uniform(0.5, 1.2)
        sign = np.sign(far - rest)
        kf.move(dur * 0.3, rest - sign * np.array([0.0, amp]))
        kf.move(dur * 0.35, rest + sign * np.array([0.0, 0.35 * amp]))
        kf.move(dur * 0.35, rest)
        return dur

    def _free_leg(self, t: np.ndarray, kf: Keyframes, state: LegState) -> Motion:
        """Single-leg deadlift, strap on the free leg: the hip rides on the hinging stance leg."""
        free = get_spec("single_leg_deadlift", "free")
        stance = get_spec("single_leg_deadlift", "stance")
        q = kf(t)
        u = (q[:, 0] - free.rest[0]) / (free.far[0] - free.rest[0])
        st_t = stance.rest[0] + u * (stance.far[0] - stance.rest[0])
        st_s = stance.rest[1] + u * (stance.far[1] - stance.rest[1])
        psi = np.full(t.shape, state.psi)
        # the stance ankle sits below the hip at the start of the set
        ankle = state.hip + np.array([0.0, 0.0, -(self.body.thigh_m + self.body.shank_m)])
        hip = hip_from_ankle(ankle, st_t, st_s, psi, self.body)
        return Motion(q[:, 0], q[:, 1], psi, hip=hip)

    def _walk_motion(self, block: Block, t: np.ndarray, state: LegState,
                     rng: np.random.Generator) -> Motion:
        T = block.params["stride"]
        dur = block.t1 - block.t0
        tau = t - block.t0
        env = minimum_jerk(tau / T) * minimum_jerk((dur - tau) / T)
        phase = (tau / T) % 1.0
        thigh, knee = gait_angles(phase)
        phi_t = state.phi_t + env * (thigh - state.phi_t)
        phi_s = phi_t - env * knee - (1 - env) * (state.phi_t - state.phi_s)
        # out, turn round, back, turn to face the station again
        half = dur / 2
        psi = (state.psi + 180.0 * minimum_jerk((tau - (half - T)) / (2 * T))
               + 180.0 * minimum_jerk((tau - (dur - 2.2 * T)) / (1.6 * T)))
        # m/s, stride length ~1.35 m at the default cadence (whose speeds the committed
        # recordings were made with); a slower walker also takes shorter strides.
        normal = WALK_STRIDE_S[1]
        speed = 1.25 * min(T, normal) / 1.1 * (normal / max(T, normal)) ** 2 * env
        dt = 1.0 / self.fs
        ps = np.radians(psi)
        vx, vy = speed * np.cos(ps), speed * np.sin(ps)
        x = np.cumsum(vx) * dt
        y = np.cumsum(vy) * dt
        i_start = PAD
        x, y = x - x[i_start], y - y[i_start]
        z = 0.02 * env * np.cos(4 * np.pi * phase) - 0.02 * env
        hip = state.hip + np.column_stack([x, y, z])
        steps = np.arange(1, int(dur / T)) * T + block.t0
        steps = steps[(steps - block.t0 > T) & (block.t1 - steps > T)]
        is_thigh = state.placement == "thigh"
        own = 1.6 if is_thigh else 3.2
        other = 0.6 if is_thigh else 0.4
        impacts = [(float(s), own * rng.uniform(0.8, 1.2)) for s in steps]
        impacts += [(float(s + T / 2), other * rng.uniform(0.8, 1.2)) for s in steps[:-1]]
        return Motion(phi_t, phi_s, psi, hip=hip, micro_deg=0.4, impacts=impacts)


# --- helpers ---------------------------------------------------------------------------


def _split_long_rests(blocks: list[Block]) -> list[Block]:
    """Cut rests longer than ``MAX_BLOCK_S`` into pieces, never inside a fidget or a strap move."""
    out: list[Block] = []
    for b in blocks:
        if b.kind != "rest" or b.t1 - b.t0 <= 1.5 * MAX_BLOCK_S:
            out.append(b)
            continue
        busy = [(f[0] - 0.6, f[0] + f[1] + f[2] + f[3] + 0.6) for f in b.params["fidgets"]]
        if b.params.get("strap") is not None:
            ts, dur, _ = b.params["strap"]
            busy.append((ts - 1.0, ts + dur + 1.0))
        if b.params.get("switch") is not None:
            busy.append((b.params["switch"][0] - 3.6, b.params["switch"][0] + 3.6))
        cuts = []
        t = b.t0 + MAX_BLOCK_S
        while t < b.t1 - 0.5 * MAX_BLOCK_S:
            for lo, hi in sorted(busy):
                if lo < t < hi:
                    t = hi
            if t < b.t1 - 5.0:
                cuts.append(t)
            t += MAX_BLOCK_S
        edges = [b.t0, *cuts, b.t1]
        for lo, hi in zip(edges, edges[1:], strict=False):
            params: dict[str, Any] = {
                "posture": b.params["posture"],
                "fidgets": [f for f in b.params["fidgets"] if lo <= f[0] < hi],
                "strap": None,
            }
            strap = b.params.get("strap")
            if strap is not None and lo <= strap[0] < hi:
                params["strap"] = strap
            switch = b.params.get("switch")
            if switch is not None and lo <= switch[0] < hi:
                params["switch"] = switch
            out.append(Block("rest", lo, hi, params))
    return out


def _drop_overlaps(fidgets: list[tuple]) -> list[tuple]:
    out: list[tuple] = []
    end = -np.inf
    for f in fidgets:
        if f[0] > end + 0.5:
            out.append(f)
            end = f[0] + f[1] + f[2] + f[3]
    return out


def _set_order(entries: list[Entry]) -> list[tuple[int, int]]:
    """(entry, set) in the order they are done; supersets alternate."""
    order: list[tuple[int, int]] = []
    i = 0
    while i < len(entries):
        e = entries[i]
        if e.superset_with_next and i + 1 < len(entries):
            f = entries[i + 1]
            for s in range(max(e.sets, f.sets)):
                if s < e.sets:
                    order.append((i, s))
                if s < f.sets:
                    order.append((i + 1, s))
            i += 2
        else:
            order.extend((i, s) for s in range(e.sets))
            i += 1
    return order


def _entry(raw: dict[str, Any], i: int, placement: str, rest_s: float,
           rng: np.random.Generator) -> Entry:
    where = raw.get("_where", "")
    pre = f"{where}: " if where else "--"
    exercise = raw.get("id")
    if exercise not in EXERCISES:
        raise InputError(f"{pre}exercise '{exercise}' is unknown; use one of: "
                         f"{', '.join(EXERCISES)}")
    spec = get_spec(exercise, raw.get("variant"))
    sets = raw.get("sets", 3)
    if not isinstance(sets, int) or isinstance(sets, bool) or not 1 <= sets <= 50:
        raise InputError(f"{pre}sets must be a whole number 1-50 (got {sets!r})")
    reps = _reps(raw.get("reps", 10), sets, pre, rng)
    tempo_s = raw.get("tempo") or spec.default_tempo
    tempo = parse_tempo(tempo_s, f"{pre}tempo" if where else "--tempo")
    rest = _number(raw.get("rest_s", rest_s), pre + ("rest_s" if where else "rest"),
                   MIN_REST_S, 3600)
    after = _number(raw.get("rest_after_s", max(rest, 120.0)), pre + "rest_after_s", MIN_REST_S,
                    3600)
    place = raw.get("placement", placement)
    if place not in PLACEMENTS:
        raise InputError(f"{pre}placement '{place}'; use thigh or shank")
    return Entry(exercise, spec, sets, reps, tempo, rest, after, place,
                 bool(raw.get("superset_with_next", False)))


def _reps(value: Any, sets: int, pre: str, rng: np.random.Generator) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        lo = hi = value
    else:
        try:
            a, b = str(value).split("-")
            lo, hi = int(a), int(b)
        except ValueError:
            raise InputError(f"{pre}reps must be a whole number or a range like 3-6 "
                             f"(got {value!r})") from None
    if not 1 <= lo <= hi <= 100:
        raise InputError(f"{pre}reps must be 1-100 (got {value!r})")
    return [int(x) for x in rng.integers(lo, hi + 1, sets)]


def _number(value: Any, name: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise InputError(f"{name} must be a number of seconds {lo:g}-{hi:g} (got {value!r})")
    return float(value)


def _check_options(rate_hz: float, nuisance: str, side: str, jitter_ms: float,
                   partial_prob: float, fatigue: float, acc_range: int, gyr_range: int,
                   mount: str, seed: int) -> None:
    if not 10 <= rate_hz <= 400:
        raise InputError(f"--rate: {rate_hz:g} Hz is outside 10-400 Hz; pick e.g. 50")
    if nuisance not in NUISANCE_LEVELS:
        raise InputError(f"--nuisance: '{nuisance}'; use one of {', '.join(NUISANCE_LEVELS)}")
    if side not in ("left", "right"):
        raise InputError(f"--side: '{side}'; use left or right")
    if not 0 <= jitter_ms <= 0.45e3 / rate_hz:
        raise InputError(f"--jitter-ms: {jitter_ms:g} ms; use 0 to {0.45e3 / rate_hz:.3g} ms at "
                         f"{rate_hz:g} Hz")
    if not 0 <= partial_prob <= 1:
        raise InputError(f"--partial: {partial_prob:g} is not a probability 0-1")
    if not 0 <= fatigue <= 2:
        raise InputError(f"--fatigue: {fatigue:g}; use 0 (none) to 2 (concentric 3× slower)")
    if acc_range not in ACC_LSB_G:
        raise InputError(f"--acc-range: ±{acc_range} g; the LSM6DS3 offers "
                         f"{', '.join(str(x) for x in ACC_LSB_G)}")
    if gyr_range not in GYR_LSB_DPS:
        raise InputError(f"--gyro-range: ±{gyr_range} dps; the LSM6DS3 offers "
                         f"{', '.join(str(x) for x in GYR_LSB_DPS)}")
    if mount not in ("random", "aligned"):
        raise InputError(f"--mount: '{mount}'; use random or aligned")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"--seed: {seed!r}; use a whole number >= 0")


def _visibility_warnings(entries: list[Entry]) -> list[str]:
    out = []
    for e in entries:
        rng_deg = e.spec.range_deg(e.placement)
        if rng_deg < VISIBLE_RANGE_DEG:
            other = "shank" if e.placement == "thigh" else "thigh"
            out.append(
                f"{e.exercise} ({e.spec.variant}) with the sensor on the {e.placement}: the "
                f"{e.placement} turns only ~{rng_deg:.0f}° per rep, too little to count reliably; "
                f"the {other} turns ~{e.spec.range_deg(other):.0f}°"
            )
    return out


def _api_source(exercise: str, placement: str | None, sets: int, reps: int | str, tempo: str | None,
                rate_hz: float, rest_s: float, seed: int, accel_only: bool,
                nuisance: str) -> str:
    return (f"repsense.sim.SimulatedSession(exercise={exercise!r}, placement={placement!r}, "
            f"sets={sets}, reps={reps!r}, tempo={tempo!r}, rate_hz={rate_hz:g}, "
            f"rest_s={rest_s:g}, seed={seed}, accel_only={accel_only}, nuisance={nuisance!r})")
