"""Gyroscope check: do the gyroscope's axes and units agree with the accelerometer's?

An accelerometer and a gyroscope in one package share their axes, so the
direction of gravity the accelerometer sees turns as the gyroscope says: for the
unit up vector ``u`` in the sensor frame and the angular velocity ``ω`` (rad/s),
``du/dt = u × ω``.  A recording converted with a gyroscope axis flipped or two
axes swapped, in rad/s where deg/s was meant, or from a sensor whose range was
set without telling the decoder (a factor of 8 or 16) breaks that, and with it
everything the gyroscope feeds: the movement axis, gravity carried through fast
turns, the gait check and the lever arm.  On real uci-pt recordings turned into
such sensors (``benchmarks/sensor_variants.py``) a flipped axis cost a quarter
of the exact counts and rad/s nearly all of them.

:class:`GyroAxesCheck` fits ``du/dt = u × (s P ω)`` by least squares for each of
the 48 signed permutations ``P`` of the sensor axes and a scale ``s > 0``, over
0.2 s blocks where the segment turns slowly enough for the accelerometer to read
gravity (size within 8 % of 1 g, and not scattering by more than
``MAX_SCATTER_G`` inside the block: a walk's heel strikes average out to 1 g).
An accelerometer whose quiet blocks read further than 8 % from 1 g on average
(an uncalibrated one reads 1.4 g at rest) is judged against their mean instead
(:class:`~repsense.dsp.orientation.OwnOneG`: before, no block of a real squat
recorder's was usable, and a gyroscope of zeros lost every rep without a warning).
Once the up vector has travelled ``EVIDENCE_DEG`` through such blocks it
decides, once: the identity stays unless another ``P`` explains the tilt far
better, or the scale is one of the usual mix-ups (``KNOWN_SCALES``). From then
on every gyroscope sample is corrected; the ones before the decision went
downstream as they came (the stage is causal, like the rest of the pipeline;
:func:`repsense.analysis.analyze_recording`, which has the whole recording, goes
through it again with the correction from the first sample). A gyroscope that
fits no candidate well (real uci-pt subject 2, whose gyroscope reads 0.2-0.5 or
1.8-4 times the tilt rate and leaves 40-100 % of it unexplained) is left as it
is. One that turns through less than ``DEAD_SHARE`` of what the accelerometer
saw (a gyroscope switched off, columns written as zeros, or rad/s too noisy for
any candidate to fit) is no gyroscope, and neither is one whose readings never
change (``FLAT_EVIDENCE_DEG``): the finding's matrix is zero, and the pipeline
goes on from the accelerometer alone.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from repsense.dsp.filters import BlockMeans
from repsense.dsp.orientation import OwnOneG, skew

BLOCK_S = 0.2
"""Block length: long enough to average sensor noise, short against a rep."""
MAX_DYNAMIC_G = 0.08
"""A block whose mean size is further than this share from the accelerometer's 1 g carries
the limb's own acceleration."""
MAX_SCATTER_G = 0.25
"""A block whose readings' size scatters by more than this (standard deviation) holds
impacts: a shank walking strikes the ground each step, and the block means between the
strikes still come to about 1 g.  On a real walk (a phone strapped to the shin, 10 min at
50 Hz, RealWorld HAR) the usable blocks scattered by 0.02-0.80 g (median 0.52, 95 % over
0.33, the most of three neighbours) and their tilt "fitted" a gyroscope with x and y
swapped, a right one leaving 0.7 of it (the shank's acceleration in a stride turns the
block means); real exercise blocks (uci-pt) scatter by 0.02-0.05 g (median), up to
0.64 g where the leg knocks the bench, 0-13 % of their tilt past 0.25 g."""
MIN_TURN_DPS = 5.0
"""Blocks whose up vector turns slower than this say nothing about the gyroscope."""
EVIDENCE_DEG = 120.0
"""Up-vector travel (through usable blocks) before the first decision; doubled for each
look after an inconclusive one, up to ``MAX_TRIES``."""
MAX_TRIES = 4
"""Looks at most.  A gyroscope that fits as given is accepted at once: looking on for a
better fit found one that was wrong (real uci-pt subject 2, whose gyroscope fits nothing
well, lost every rep of a file to it), though a later exercise about another axis could
show a swap the first one did not."""
GOOD_FIT = 0.4
"""A candidate must leave at most this share of the tilt rate unexplained to be believed."""
MARGIN = 0.1
"""Candidates within this share of the best fit count as fitting as well."""
BETTER_BY = 2.0
"""Other axes replace the ones given only if they leave this many times less of the tilt
rate unexplained ...
"""
BETTER_THAN_A_FIT = 3.0
"""... or this many times less where the axes given fit too (within ``GOOD_FIT``).  A
movement about one main axis pins the gyroscope along it only; the rest of the fit is
the other axes and the limb's own acceleration, and a right gyroscope on a simulated
single-leg deadlift's stance thigh left 0.198 where a wrong permutation left 0.094 (at
twice, it was "corrected" and the set gained a rep).  Swapped ones that fit leave
3.6-16 times less once corrected; one right gyroscope still loses to a permutation that
leaves 4 times less (0.226 against 0.057; its counts come out the same)."""
SCALE_RANGE = (1.0 / 6.0, 6.0)
"""Scales inside this range are left alone.  Real units read 0.87-1.15 (uci-pt subject
1), but uci-pt subject 2's read 0.21-0.5 and 1.8-4 times the tilt rate, with a poor fit;
made to agree, its counts got worse in 3 of its variants' files."""
RAD_FOR_DEG = 180.0 / math.pi
"""The scale of a gyroscope written in rad/s under deg/s headers."""
KNOWN_SCALES = (RAD_FOR_DEG, 1.0 / RAD_FOR_DEG, 8.0, 16.0, 0.125, 0.0625)
"""Units and range mix-ups (rad/s for deg/s; a range of +-2000 deg/s decoded as
+-250 or +-125, or back): a scale outside ``SCALE_RANGE`` is corrected only when it is
within ``SCALE_SLACK`` of one of these."""
SCALE_SLACK = math.sqrt(2.0)
"""The fitted scale reads low where the tilt is noisy (0.77 on a real uci-pt thigh whose
gyroscope is right); a factor of sqrt(2) either way keeps 8 and 16 apart."""


DEAD_SHARE = 0.1
"""A gyroscope whose own turn through the usable blocks is under this share of the up
vector's travel reads (almost) nothing: real units read 0.2-4 times the tilt rate."""
FLAT_EVIDENCE_DEG = 15.0
"""Up-vector travel (through every block, usable or not) after which a gyroscope whose
readings have not changed at all since the first sample (a stuck or switched-off one: a
working one's noise flickers its last bits) is left out without waiting for
``EVIDENCE_DEG``: a thigh on a lying curl, or explosive reps, give 20° or less of usable
tilt in a whole session, and an uncalibrated accelerometer whose error shifts with the pose
(real squats, 1.4 g) may give none.  A share of the travel would not do:
over the first 15° a working gyroscope may read as little as 12 % of it (the accelerometer's
direction moves with the limb's own acceleration too), one in rad/s then 0.2 %."""
READS_NOTHING = "the gyroscope reads almost nothing while the accelerometer turns"
DISAGREES = "gyroscope disagrees with the accelerometer"
DEAD_MESSAGE = f"{READS_NOTHING}: counted from the accelerometer alone"
DEAD_FIX = ("(check that the sensor's gyroscope is on and writes deg/s, or leave out the "
            "gyr_* columns)")


def _signed_permutations() -> list[np.ndarray]:
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            p = np.zeros((3, 3))
            p[range(3), perm] = signs
            out.append(p)
    return out


NEVER = 1 << 62

CANDIDATES = _signed_permutations()
"""Every signed permutation; the identity first."""


@dataclass(frozen=True)
class GyroFinding:
    """A correction the check decided on.

    Attributes
    ----------
    time_s
        Time of the first corrected sample.
    matrix
        ``corrected = matrix @ measured`` (a signed permutation times a scale), or
        zero for a gyroscope that reads nothing (see :attr:`dead`).
    unexplained_before, unexplained_after
        Share of the tilt rate the gyroscope as measured, and as corrected, leaves
        unexplained.
    message
        One line for the user, naming the fix.
    """

    time_s: float
    matrix: np.ndarray
    unexplained_before: float
    unexplained_after: float
    message: str

    @property
    def dead(self) -> bool:
        """The gyroscope reads nothing: go on without it."""
        return not np.any(self.matrix)


def _mixup_scale(s: float) -> float | None:
    """The known mix-up of units or range (``KNOWN_SCALES``) within ``SCALE_SLACK`` of the
    fitted scale ``s``, or ``None``."""
    if s <= 0.0:
        return None
    known = min(KNOWN_SCALES, key=lambda k: abs(math.log(s / k)))
    return known if abs(math.log(s / known)) < math.log(SCALE_SLACK) else None


def _describe(p: np.ndarray, scale: float) -> str:
    parts = []
    if not np.array_equal(p, np.eye(3)):
        names = "xyz"
        axes = [f"{'-' if p[i, j] < 0 else ''}{names[j]}" for i in range(3)
                for j in range(3) if p[i, j]]
        parts.append(f"its axes read as ({', '.join(axes)})")
    if scale != 1.0:
        if abs(scale - RAD_FOR_DEG) < 1e-9:
            parts.append("its values in rad/s, not deg/s")
        else:
            parts.append(f"its values scaled by {scale:.3g}")
    return " and ".join(parts)


class GyroAxesCheck:
    """Check, and once sure correct, the gyroscope against the accelerometer's tilt.

    Parameters
    ----------
    rate_hz
        Nominal sample rate.
    known
        A correction found before (``GyroFinding.matrix``): applied from the first
        sample, nothing is learned.

    Attributes
    ----------
    finding_
        The :class:`GyroFinding` once a correction was decided, else ``None``.
    looks_
        How many times the evidence so far has been weighed.
    decided_
        ``True`` once the check is over (a correction, the gyroscope accepted, or the
        last inconclusive look taken).
    """

    def __init__(self, rate_hz: float, known: np.ndarray | None = None) -> None:
        self._step = max(1, int(rate_hz * BLOCK_S + 0.5))
        self._blocks = BlockMeans(self._step)
        # The last two blocks (t, acc, gyr, |acc|, |acc|², the accelerometer's 1 g then).
        self._prev: np.ndarray | None = None
        self._one_g = OwnOneG(rate_hz)  # fed this check's blocks (the same 0.2 s grid)
        self._h = np.zeros((9, 9))
        self._g = np.zeros(9)
        self._c = 0.0
        self._travel = 0.0
        self._gyro_travel = 0.0  # the gyroscope's own turn through the same blocks
        self._first_gyr: np.ndarray | None = None
        self._flat = True  # every gyroscope reading so far equals the first
        self._seen_travel = 0.0  # the up vector's travel through every block (radians)
        self._gyro_seen = 0.0  # the gyroscope's own turn through those blocks
        self.looks_ = 0
        self._matrix: np.ndarray | None = None
        self._how = ""
        self._unexplained = (1.0, 1.0)
        self.finding_: GyroFinding | None = None
        self.decided_ = False
        if known is not None:
            # Found earlier (a first pass over the same recording): applied from the start.
            known = np.asarray(known, dtype=float)
            scale = float(abs(np.linalg.det(known))) ** (1.0 / 3.0)
            self._matrix = known
            self._how = "" if scale == 0.0 else _describe(np.round(known / scale), scale)
            self.decided_ = True

    def push(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, int]:
        """Corrected gyroscope rows for these samples, and the index of the first
        corrected row (``len(t)`` when none is).  ``finding_`` is set when that index
        is first inside a chunk."""
        n = t.shape[0]
        if self.decided_:
            if self._matrix is None:
                return gyr, n
            self._report(t, 0)
            return self.correct(gyr, 0), 0
        carried = self._blocks.pending
        size = np.sqrt(np.einsum("ij,ij->i", acc, acc))
        blocks = self._blocks(np.column_stack([t, acc, gyr, size, size * size]))
        flat_until = -NEVER
        if self._first_gyr is None:
            self._first_gyr = gyr[0].copy()
        if self._flat:
            changed = np.flatnonzero(np.any(gyr != self._first_gyr, axis=1))
            flat_until = int(changed[0]) if changed.size else n
            self._flat = changed.size == 0
        at = self._learn(blocks, self._step - carried - 1, flat_until)
        if self._matrix is None or at >= n:
            return gyr, n
        self._report(t, at)
        return self.correct(gyr, at), at

    def correct(self, rows: np.ndarray, at: int) -> np.ndarray:
        """``rows`` (``(n, 3)``, in the gyroscope's axes) corrected as :meth:`push` corrects
        the readings it returned ``at`` for: from row ``at`` on, turned and scaled."""
        if self._matrix is None or at >= rows.shape[0]:
            return rows
        out = rows.copy()
        out[at:] = rows[at:] @ self._matrix.T
        return out

    def finish(self, t_end: float) -> GyroFinding | None:
        """The stream ended before the check decided: a last look at what there is.

        Explosive reps and a thigh on a lying curl give 20° or less of usable tilt in
        a whole session, under ``EVIDENCE_DEG``, and a gyroscope in rad/s then fed the
        stages a tilt 57 times too small: no rep at all, and no warning.  On so little
        only a gyroscope that hardly turns (``DEAD_SHARE``, after ``FLAT_EVIDENCE_DEG``
        of travel) is judged, never its axes: corrected by a known mix-up of units when
        the tilt fits one, else left out.  It must hardly turn through every block the up
        vector turned in too, not only through the usable ones: an explosive hip thrust's
        usable blocks hold 20° of "tilt" that is the hips' own acceleration, and a right
        gyroscope without an offset turned 1.2° through them (6 %), but 974° through
        every block against the up vector's 1273° (a gyroscope in rad/s: 17°).  The
        finding comes too late for this stream; :func:`repsense.analysis.analyze_recording`
        goes through a recording again with it, and a live stream ends with its warning.
        """
        if (self.decided_ or self._travel < math.radians(FLAT_EVIDENCE_DEG)
                or self._gyro_travel >= DEAD_SHARE * self._travel
                or self._gyro_seen >= DEAD_SHARE * self._seen_travel):
            return None
        self.decided_ = True
        s, r = self._fit(np.eye(3))
        known = _mixup_scale(s)
        if r <= GOOD_FIT and known is not None:
            self._matrix = known * np.eye(3)
            self._how = _describe(np.eye(3), known)
            self._unexplained = (r, r)
            what = f"{DISAGREES}: {self._how}"
        else:
            self._leave_out(r)
            what = READS_NOTHING
        self.finding_ = GyroFinding(
            t_end, self._matrix, self._unexplained[0], self._unexplained[1],
            f"{what} (seen by the end of the stream, {t_end:.1f} s: reps may be missing; "
            "analyze the recording, or fix the sensor's units setting or the gyr_*_dps "
            "columns)")
        return self.finding_

    def _report(self, t: np.ndarray, at: int) -> None:
        if self.finding_ is not None or self._matrix is None or at >= t.shape[0]:
            return
        when = float(t[at])
        if not np.any(self._matrix):
            message = f"{DEAD_MESSAGE} from {when:.1f} s {DEAD_FIX}"
        else:
            message = (f"{DISAGREES}: {self._how}; corrected from {when:.1f} s (fix the "
                       "sensor's axis/units setting or the gyr_*_dps columns)")
        self.finding_ = GyroFinding(when, self._matrix, self._unexplained[0],
                                    self._unexplained[1], message)

    def _learn(self, blocks: np.ndarray, first_end: int, flat_until: int = -NEVER) -> int:
        """Accumulate the new blocks; the local row from which a decided correction applies.

        ``flat_until``: the local row before which the gyroscope has read the same as
        its first sample throughout the stream (``-NEVER`` once it has changed).
        """
        if blocks.shape[0] == 0:
            return NEVER
        blocks = np.column_stack([blocks, self._one_g.blocks(blocks[:, 7], blocks[:, 8])])
        rows = blocks if self._prev is None else np.concatenate([self._prev, blocks])
        self._prev = rows[-2:].copy()
        if rows.shape[0] < 3:
            return NEVER
        tb, ab, wb = rows[:, 0], rows[:, 1:4], np.radians(rows[:, 4:7])
        size = np.sqrt(np.einsum("ij,ij->i", ab, ab))
        u = ab / np.maximum(size, 1e-9)[:, None]
        scatter = np.sqrt(np.maximum(rows[:, 8] - rows[:, 7] ** 2, 0.0))
        one_g = rows[:, 9]
        calm = (np.abs(size - one_g) < MAX_DYNAMIC_G * one_g) & (scatter <= MAX_SCATTER_G)
        dt = tb[2:] - tb[:-2]
        du = (u[2:] - u[:-2]) / np.maximum(dt, 1e-9)[:, None]
        speed = np.sqrt(np.einsum("ij,ij->i", du, du))
        turning = (dt < 3.0 * BLOCK_S * 1.5) & (speed > math.radians(MIN_TURN_DPS))
        use = calm[:-2] & calm[1:-1] & calm[2:] & turning
        # du/dt = u × (B ω) is linear in vec(B) (column-major): row a of J is
        # kron(ω, skew(u)[a]).
        jac = np.einsum("nj,nai->naji", wb[1:-1], skew(u[1:-1])).reshape(-1, 3, 9)
        jac = jac * use[:, None, None]
        y = du * use[:, None]
        step_travel = speed * use * (dt / 2.0)
        gyro_step = np.sqrt(np.einsum("ij,ij->i", wb[1:-1], wb[1:-1])) * use * (dt / 2.0)
        # Centre block k (row m = k - 1 here) is known once block k + 1 has ended:
        # the local sample row where that happened.
        n_prev = rows.shape[0] - blocks.shape[0]
        ends = first_end + self._step * (np.arange(y.shape[0]) + 2 - n_prev)
        # A gyroscope whose readings never changed is known long before the fits can be
        # weighed, by the up vector's travel through every block, calm or not: a working
        # one's readings change as soon as the leg turns, and an accelerometer whose
        # error shifts with the pose (an uncalibrated 1.4 g one) may leave few calm blocks.
        seen = np.cumsum(np.concatenate([[self._seen_travel], speed * turning * (dt / 2.0)]))[1:]
        flat = np.flatnonzero((seen >= math.radians(FLAT_EVIDENCE_DEG)) & (ends < flat_until))
        if flat.size:
            self._leave_out(1.0)
            return int(ends[int(flat[0])]) + 1
        self._seen_travel = float(seen[-1]) if seen.size else self._seen_travel
        self._gyro_seen += float(np.sum(np.sqrt(np.einsum("ij,ij->i", wb[1:-1], wb[1:-1]))
                                        * turning * (dt / 2.0)))
        start = 0
        while start < y.shape[0]:
            need = math.radians(EVIDENCE_DEG * 2 ** self.looks_) - self._travel
            reach = np.flatnonzero(np.cumsum(step_travel[start:]) >= need)
            stop = y.shape[0] if reach.size == 0 else start + int(reach[0]) + 1
            part = slice(start, stop)
            self._h += np.einsum("nak,nal->kl", jac[part], jac[part])
            self._g += np.einsum("nak,na->k", jac[part], y[part])
            self._c += float(np.einsum("na,na->", y[part], y[part]))
            self._travel += float(step_travel[part].sum())
            self._gyro_travel += float(gyro_step[part].sum())
            if reach.size == 0:
                break
            self._decide()
            if self.decided_:
                return int(ends[stop - 1]) + 1 if self._matrix is not None else NEVER
            start = stop
        return NEVER

    def _fit(self, p: np.ndarray) -> tuple[float, float]:
        """Scale and unexplained share of ``du/dt = u × (s P ω)``."""
        b = p.flatten(order="F")
        den = float(b @ self._h @ b)
        if den <= 0.0 or self._c <= 0.0:
            return 0.0, 1.0
        bg = float(b @ self._g)
        s = bg / den
        if s <= 0.0:
            return s, 1.0
        return s, max(0.0, 1.0 - s * bg / self._c)

    def _decide(self) -> None:
        self.looks_ += 1
        fits = [(*self._fit(p), p) for p in CANDIDATES]
        r_id = fits[0][1]
        r_min = min(f[1] for f in fits)
        # Turning about one axis pins the gyroscope along that axis only, so candidates
        # that differ in the others fit about as well: of those, the one that changes
        # least (the identity if it is among them).
        near = [f for f in fits if f[1] <= r_min + MARGIN]
        s, r, p = max(near, key=lambda f: (float(np.trace(f[2])), -f[1]))
        changed = not np.array_equal(p, np.eye(3))
        hardly_turns = self._gyro_travel < DEAD_SHARE * self._travel
        better_by = BETTER_THAN_A_FIT if r_id <= GOOD_FIT else BETTER_BY
        if r > GOOD_FIT or (changed and r_id < better_by * r):  # (a good fit has s > 0)
            if hardly_turns:
                # Nothing fits, and the gyroscope hardly turns: no gyroscope to speak of
                # (switched off, or in rad/s and noisy past fitting): on without it.
                self._leave_out(r_id)
                return
            self.decided_ = self.looks_ >= MAX_TRIES  # inconclusive: look again later
            return
        self.decided_ = True
        scale = 1.0
        if not SCALE_RANGE[0] <= s <= SCALE_RANGE[1]:
            scale = _mixup_scale(s) or 1.0
            if scale == 1.0 and hardly_turns:
                # It fits, but reads far too little, by a factor no known mix-up explains
                # (uci-pt subject 2's shank in rad/s: 1/31 of the tilt rate).
                self._leave_out(r_id)
                return
        if not changed and scale == 1.0:
            return
        self._matrix = scale * p
        self._how = _describe(p, scale)
        self._unexplained = (r_id, r)

    def _leave_out(self, unexplained: float) -> None:
        """Decide that there is no gyroscope to speak of (a zero correction)."""
        self.decided_ = True
        self._matrix = np.zeros((3, 3))
        self._unexplained = (unexplained, 1.0)
