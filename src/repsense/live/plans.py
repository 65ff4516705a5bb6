"""Training plans: TOML files listing exercises, sets × reps, tempo, rest and supersets.

A plan looks like this (every field but ``name`` and the exercises' ``id``
has a default)::

    name = "hamstrings-glutes-gym"          # id used by `--plan NAME`
    title = "Hamstrings & glutes day (gym)"
    description = "..."
    placement = "thigh"                     # default for all exercises
    side = "right"

    [[exercise]]
    id = "romanian_deadlift"                # exercise id
    name = "Romanian deadlift"              # optional label shown to people
    sets = 5
    reps = 10                               # or a range string "3-6"
    tempo = "3-1-1-0"                       # eccentric-bottom pause-concentric-top pause (s)
    rest_s = 60                             # between sets of this exercise
    rest_after_s = 150                      # before the next exercise
    placement = "thigh"                     # optional override
    superset_with_next = false              # true: alternate sets with the next entry
    variant = "prone"                       # optional: movement variant for the simulator

A superset group alternates its exercises set by set with no rest inside a
round; between rounds comes the ``rest_s`` of the group's *first* exercise,
after the group the ``rest_after_s`` of its *last* one.

Bundled plans live in ``repsense/plans/*.toml``; people add their own as
``<config dir>/plans/*.toml`` (a user plan with the same ``name`` as a
bundled one replaces it).  Every mistake is reported as one
:class:`~repsense.errors.InputError` line naming the file, the entry and
the field, with the fix.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from repsense.errors import InputError
from repsense.exercises import EXERCISE_IDS, EXERCISES, PLACEMENTS

SIDES = ("left", "right")
MAX_SETS = 20
MAX_REPS = 100
MAX_REST_S = 1800.0
MAX_PHASE_S = 20.0
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

TOP_KEYS = ("name", "title", "description", "placement", "side", "exercise")
EXERCISE_KEYS = (
    "id",
    "name",
    "sets",
    "reps",
    "tempo",
    "rest_s",
    "rest_after_s",
    "placement",
    "side",
    "superset_with_next",
    "notes",
    "variant",
)
DEFAULT_REST_S = 60.0
DEFAULT_REST_AFTER_S = 150.0


@dataclass(frozen=True)
class Tempo:
    """Target tempo in seconds: eccentric, bottom pause, concentric, top pause.

    ``X`` in a tempo string (explosive) is stored as 0 s.
    """

    eccentric_s: float
    bottom_pause_s: float
    concentric_s: float
    top_pause_s: float
    text: str

    @property
    def rep_s(self) -> float:
        """Time one rep takes at this tempo."""
        return self.eccentric_s + self.bottom_pause_s + self.concentric_s + self.top_pause_s

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PlanExercise:
    """One ``[[exercise]]`` entry of a plan."""

    id: str
    name: str
    sets: int
    reps_min: int
    reps_max: int
    tempo: Tempo | None
    rest_s: float
    rest_after_s: float
    placement: str
    side: str
    superset_with_next: bool = False
    notes: str = ""
    variant: str | None = None
    """Movement variant (``repsense.sim.variants()``), e.g. ``seated`` leg curl."""

    @property
    def reps_text(self) -> str:
        """``"10"`` or ``"3-6"``."""
        if self.reps_min == self.reps_max:
            return str(self.reps_min)
        return f"{self.reps_min}-{self.reps_max}"


@dataclass(frozen=True)
class PlanStep:
    """One set the plan expects, in the order it is done (supersets interleaved).

    ``rest_after_s`` is the rest the plan asks for after this set; 0 between
    the two halves of a superset round; ``None`` after the last set.
    """

    index: int
    exercise_index: int
    set_number: int
    """1-based set number within its exercise."""
    exercise: PlanExercise
    rest_after_s: float | None
    group: int
    """Index of the superset group (a plain exercise is a group of one)."""


@dataclass(frozen=True)
class Plan:
    """A parsed, checked plan."""

    name: str
    title: str
    description: str
    placement: str
    side: str
    exercises: tuple[PlanExercise, ...]
    source: str = ""
    """Where the plan came from (file path or ``bundled:NAME``)."""
    steps: tuple[PlanStep, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.steps:
            object.__setattr__(self, "steps", tuple(expand_steps(self.exercises)))

    @property
    def total_sets(self) -> int:
        return len(self.steps)

    def groups(self) -> list[list[int]]:
        """Exercise indices grouped by superset (each group is done as one block)."""
        return _groups(self.exercises)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored with each session)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "placement": self.placement,
            "side": self.side,
            "source": self.source,
            "exercise": [
                {
                    "id": e.id,
                    "name": e.name,
                    "sets": e.sets,
                    "reps": e.reps_text,
                    "tempo": e.tempo.text if e.tempo else None,
                    "rest_s": e.rest_s,
                    "rest_after_s": e.rest_after_s,
                    "placement": e.placement,
                    "side": e.side,
                    "superset_with_next": e.superset_with_next,
                    "notes": e.notes,
                    **({"variant": e.variant} if e.variant else {}),
                }
                for e in self.exercises
            ],
        }


def _groups(exercises: tuple[PlanExercise, ...] | list[PlanExercise]) -> list[list[int]]:
    groups: list[list[int]] = []
    current: list[int] = []
    for i, ex in enumerate(exercises):
        current.append(i)
        if not ex.superset_with_next:
            groups.append(current)
            current = []
    if current:  # the parser forbids a trailing superset flag, but stay total
        groups.append(current)
    return groups


def expand_steps(exercises: tuple[PlanExercise, ...] | list[PlanExercise]) -> list[PlanStep]:
    """The sets of a plan in the order they are done.

    A superset group alternates its exercises round by round (A1 B1, A2 B2,
    ...), with no rest inside a round and the ``rest_s`` of the group's first
    exercise between rounds; an exercise with fewer sets drops out of later
    rounds.  After a group comes the ``rest_after_s`` of its last exercise.
    """
    steps: list[PlanStep] = []
    groups = _groups(exercises)
    for g, members in enumerate(groups):
        rounds = max(exercises[i].sets for i in members)
        first = exercises[members[0]]
        last = exercises[members[-1]]
        for r in range(rounds):
            in_round = [i for i in members if exercises[i].sets > r]
            for k, i in enumerate(in_round):
                final_in_round = k == len(in_round) - 1
                if not final_in_round:
                    rest: float | None = 0.0
                elif r < rounds - 1:
                    rest = first.rest_s if len(members) > 1 else exercises[i].rest_s
                else:
                    rest = last.rest_after_s
                steps.append(PlanStep(len(steps), i, r + 1, exercises[i], rest, g))
    if steps:
        last_step = steps[-1]
        steps[-1] = PlanStep(
            last_step.index, last_step.exercise_index, last_step.set_number,
            last_step.exercise, None, last_step.group,
        )
    return steps


# ---------------------------------------------------------------- parsing


def parse_tempo(value: Any, where: str) -> Tempo:
    """Parse ``"3-1-1-0"`` (four numbers of seconds; ``X`` = explosive) into a :class:`Tempo`."""
    if not isinstance(value, str):
        raise InputError(
            f"{where}: field 'tempo' is {value!r}; write it as a string like \"3-1-1-0\" "
            "(eccentric-bottom pause-concentric-top pause, seconds)"
        )
    parts = [p.strip() for p in value.strip().split("-")]
    if len(parts) != 4:
        raise InputError(
            f"{where}: field 'tempo' is \"{value}\" ({len(parts)} parts); it needs four: "
            "eccentric-bottom pause-concentric-top pause in seconds, e.g. \"3-1-1-0\""
        )
    secs: list[float] = []
    for p in parts:
        if p.upper() == "X":
            secs.append(0.0)
            continue
        try:
            s = float(p)
        except ValueError:
            raise InputError(
                f"{where}: field 'tempo' is \"{value}\"; '{p}' is not a number of seconds "
                "(use digits, or X for explosive), e.g. \"3-1-1-0\""
            ) from None
        if not 0.0 <= s <= MAX_PHASE_S:
            raise InputError(
                f"{where}: field 'tempo' is \"{value}\"; each phase must be 0-{MAX_PHASE_S:.0f} s"
            )
        secs.append(s)
    text = "-".join(parts).upper()
    return Tempo(secs[0], secs[1], secs[2], secs[3], text)


def _parse_reps(value: Any, where: str) -> tuple[int, int]:
    if isinstance(value, bool):
        value = None  # fall through to the error below
    if isinstance(value, int):
        lo = hi = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+\s*(-\s*\d+\s*)?", value):
        nums = [int(x) for x in value.split("-")]
        lo, hi = nums[0], nums[-1]
    else:
        raise InputError(
            f"{where}: field 'reps' is {value!r}; give a whole number (10) or a range "
            "string (\"3-6\")"
        )
    if not 1 <= lo <= hi <= MAX_REPS:
        raise InputError(
            f"{where}: field 'reps' is {value!r}; reps must be 1-{MAX_REPS} and a range "
            "must go low to high, e.g. \"3-6\""
        )
    return lo, hi


def _number(data: dict[str, Any], key: str, default: float, where: str, hi: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= hi:
        raise InputError(
            f"{where}: field '{key}' is {value!r}; give seconds as a number from 0 to {hi:.0f}"
        )
    return float(value)


def _string(data: dict[str, Any], key: str, default: str, where: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise InputError(f"{where}: field '{key}' is {value!r}; it must be a string in quotes")
    return value


def _choice(
    data: dict[str, Any], key: str, default: str, where: str, choices: tuple[str, ...]
) -> str:
    value = _string(data, key, default, where)
    if value not in choices:
        raise InputError(f"{where}: field '{key}' is '{value}'; use one of: {', '.join(choices)}")
    return value


def _variant(entry: dict[str, Any], ex_id: str, where: str) -> str | None:
    if "variant" not in entry:
        return None
    value = _string(entry, "variant", "", where)
    try:
        from repsense.sim import variants
    except ImportError:  # the simulator is optional for plans
        return value
    known = variants().get(ex_id, [])
    if value not in known:
        raise InputError(f"{where}: field 'variant' is '{value}'; {ex_id} has: {', '.join(known)}")
    return value


def _check_keys(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(allowed)}"
            raise InputError(f"{where}: unknown field '{key}'; {hint}")


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Parse and check the TOML text of a plan.

    Parameters
    ----------
    text
        The TOML document.
    source
        Name used in error messages and stored in :attr:`Plan.source`.

    Raises
    ------
    InputError
        On any TOML syntax error or invalid field, as one line naming the
        entry and the field.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML ({exc}); fix the syntax") from None
    _check_keys(data, TOP_KEYS, source)
    name = data.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InputError(
            f"{source}: field 'name' is {name!r}; give a short id of lower-case letters, digits, "
            "'-', '_' or '.', e.g. name = \"my-leg-day\""
        )
    title = _string(data, "title", name, source)
    description = _string(data, "description", "", source)
    placement = _choice(data, "placement", "thigh", source, PLACEMENTS)
    side = _choice(data, "side", "right", source, SIDES)
    entries = data.get("exercise")
    if not isinstance(entries, list) or not entries:
        raise InputError(
            f"{source}: no exercises; add at least one [[exercise]] table with id, sets and reps"
        )
    exercises = []
    for n, entry in enumerate(entries, start=1):
        where = f"{source}: exercise {n}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: must be a table; write it as [[exercise]]")
        ex_id = entry.get("id")
        if isinstance(ex_id, str):
            where = f"{source}: exercise {n} ('{ex_id}')"
        _check_keys(entry, EXERCISE_KEYS, where)
        if ex_id not in EXERCISES:
            close = difflib.get_close_matches(str(ex_id), EXERCISE_IDS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(
                f"{where}: field 'id' is {ex_id!r}; {hint}use one of: {', '.join(EXERCISE_IDS)}"
            )
        sets = entry.get("sets", 3)
        if isinstance(sets, bool) or not isinstance(sets, int) or not 1 <= sets <= MAX_SETS:
            raise InputError(
                f"{where}: field 'sets' is {sets!r}; give a whole number from 1 to {MAX_SETS}"
            )
        if "reps" not in entry:
            raise InputError(f"{where}: field 'reps' is missing; add e.g. reps = 10 or \"3-6\"")
        lo, hi = _parse_reps(entry["reps"], where)
        tempo = parse_tempo(entry["tempo"], where) if "tempo" in entry else None
        superset = entry.get("superset_with_next", False)
        if not isinstance(superset, bool):
            raise InputError(
                f"{where}: field 'superset_with_next' is {superset!r}; use true or false"
            )
        if superset and n == len(entries):
            raise InputError(
                f"{where}: superset_with_next = true on the last exercise; a superset needs a "
                "next exercise — remove the flag or add one"
            )
        exercises.append(
            PlanExercise(
                id=ex_id,
                name=_string(entry, "name", EXERCISES[ex_id].name, where),
                sets=sets,
                reps_min=lo,
                reps_max=hi,
                tempo=tempo,
                rest_s=_number(entry, "rest_s", DEFAULT_REST_S, where, MAX_REST_S),
                rest_after_s=_number(
                    entry, "rest_after_s", DEFAULT_REST_AFTER_S, where, MAX_REST_S
                ),
                placement=_choice(entry, "placement", placement, where, PLACEMENTS),
                side=_choice(entry, "side", side, where, SIDES),
                superset_with_next=superset,
                notes=_string(entry, "notes", "", where),
                variant=_variant(entry, ex_id, where),
            )
        )
    return Plan(name, title, description, placement, side, tuple(exercises), source)


def load_plan_file(path: str | Path) -> Plan:
    """Read and parse a plan file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such plan file; give a .toml path or a plan name") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise InputError(f"{p}: cannot read the plan ({exc.__class__.__name__}); "
                         "give a UTF-8 .toml file") from None
    return parse_plan(text, str(p))


def bundled_plan_texts() -> dict[str, str]:
    """``{file stem: TOML text}`` of the plans shipped with repsense."""
    out: dict[str, str] = {}
    root = resources.files("repsense") / "plans"
    for item in sorted(root.iterdir(), key=lambda x: x.name):
        if item.name.endswith(".toml"):
            out[item.name[: -len(".toml")]] = item.read_text(encoding="utf-8")
    return out


def user_plan_dir(config_dir: Path | None = None) -> Path:
    """Where people put their own plans: ``<config dir>/plans``."""
    if config_dir is None:
        from repsense.live.config import config_dir as default_config_dir

        config_dir = default_config_dir()
    return config_dir / "plans"


def available_plans(config_dir: Path | None = None) -> dict[str, Plan]:
    """All plans by name: bundled ones, then the user's (which win on a name clash).

    A broken user plan raises :class:`InputError` naming its file, so the
    mistake is found rather than silently hidden.
    """
    plans: dict[str, Plan] = {}
    for stem, text in bundled_plan_texts().items():
        plan = parse_plan(text, f"bundled:{stem}")
        plans[plan.name] = plan
    udir = user_plan_dir(config_dir)
    if udir.is_dir():
        for path in sorted(udir.glob("*.toml")):
            plan = load_plan_file(path)
            plans[plan.name] = plan
    return plans


def find_plan(name_or_path: str, config_dir: Path | None = None) -> Plan:
    """Resolve ``--plan NAME|FILE``: a path to a ``.toml`` file, or a plan name."""
    p = Path(name_or_path)
    if name_or_path.endswith(".toml") or p.is_file():
        return load_plan_file(p)
    plans = available_plans(config_dir)
    if name_or_path in plans:
        return plans[name_or_path]
    close = difflib.get_close_matches(name_or_path, list(plans), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise InputError(
        f"--plan: no plan named '{name_or_path}'; {hint}see `repsense plans` for the list, "
        "or give the path of a .toml file"
    )


def format_plan(plan: Plan) -> str:
    """A readable, multi-line description of a plan (``repsense plans show``)."""
    lines = [f"{plan.title}  [{plan.name}]"]
    if plan.description:
        lines.append(plan.description)
    lines.append(f"placement: {plan.placement}, side: {plan.side}; source: {plan.source}")
    lines.append("")
    for members in plan.groups():
        superset = len(members) > 1
        if superset:
            lines.append("superset (alternate sets, no rest inside a round):")
        for i in members:
            e = plan.exercises[i]
            tempo = f", tempo {e.tempo.text}" if e.tempo else ""
            between = "rounds" if superset else "sets"
            rest = f", rest {e.rest_s:g} s between {between}"
            if superset and i != members[0]:
                rest = ""
            indent = "  - " if superset else "- "
            kind = e.id if not e.variant else f"{e.id}/{e.variant}"
            lines.append(f"{indent}{e.name} ({kind}, {e.placement}): {e.sets} × {e.reps_text}"
                         f"{tempo}{rest}")
            if e.notes:
                lines.append(f"{'    ' if superset else '  '}{e.notes}")
        last = plan.exercises[members[-1]]
        if members[-1] != len(plan.exercises) - 1:
            lines.append(f"  then rest {last.rest_after_s:g} s before the next exercise")
    total_reps = sum(s.exercise.reps_max for s in plan.steps)
    lines.append("")
    lines.append(f"{plan.total_sets} sets, up to {total_reps} reps")
    return "\n".join(lines)
