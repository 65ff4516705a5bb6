"""The optional JSON sidecar ``NAME.json`` beside a recording ``NAME.csv``.

Fields (all optional): ``sensor``, ``placement`` (``thigh``|``shank``),
``side``, ``sample_rate_hz``, ``synthetic``, ``source``, ``licence`` and
``labels`` = ``{"sets": [{"exercise", "reps", "start_s", "end_s",
"rep_detail": [{"start_s", "end_s", "concentric_s", "eccentric_s",
"top_pause_s", "bottom_pause_s"}]}]}`` where only ``reps`` is required.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from repsense.errors import InputError
from repsense.exercises import PLACEMENTS


def sidecar_path(recording: Path) -> Path:
    """Where the sidecar of ``recording`` lives."""
    return recording.with_suffix(".json")


def read_sidecar(recording: Path) -> dict[str, Any]:
    """Load and check the sidecar of ``recording``; ``{}`` when there is none."""
    path = sidecar_path(recording)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc}); fix or remove the sidecar") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: the sidecar must be a JSON object")
    placement = data.get("placement")
    if placement is not None and placement not in PLACEMENTS:
        raise InputError(f"{path}: field 'placement' is '{placement}'; use 'thigh' or 'shank'")
    rate = data.get("sample_rate_hz")
    if rate is not None and not (isinstance(rate, (int, float)) and rate > 0):
        raise InputError(f"{path}: field 'sample_rate_hz' must be a positive number")
    labels = data.get("labels")
    if labels is not None:
        sets = labels.get("sets") if isinstance(labels, dict) else None
        if not isinstance(sets, list) or not all(
            isinstance(s, dict) and isinstance(s.get("reps"), int) for s in sets
        ):
            raise InputError(
                f"{path}: field 'labels' must be {{\"sets\": [{{\"reps\": N, ...}}]}}"
            )
    return data


def write_sidecar(recording: Path, data: dict[str, Any]) -> Path:
    """Write the sidecar of ``recording`` and return its path."""
    path = sidecar_path(recording)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
