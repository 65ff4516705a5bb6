"""Named sensor profiles: what ``repsense pair`` learnt, for ``live`` and ``record``.

One TOML file per sensor in ``<config dir>/sensors/NAME.toml`` (the config
directory is ``$REPSENSE_CONFIG_DIR`` or the platform's user config
directory, the same as ``repsense config``).  Example::

    name = "left-thigh"
    address = "C0:11:22:33:44:55"
    protocol = "witmotion"
    rate_hz = 100.0
    placement = "thigh"
    side = "left"
    device_name = "WT901BLE68"
    bonded = false
    paired_at = "2026-11-26T18:00:00+00:00"

    [mounting]            # mean gravity in the sensor frame while standing still
    gravity = [0.02, -0.99, 0.05]
    captured_upright = true

    [device_info]         # from the Device Information service, when present
    manufacturer = "WitMotion"

    [check]               # measured while pairing
    measured_rate_hz = 99.8
    loss_pct = 0.0

    [driver_config]       # the driver's options (model variant, ranges)
    rate_hz = 100.0
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from repsense.errors import InputError

PLACEMENTS = ("thigh", "shank")
SIDES = ("left", "right")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ADDR_RE = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")


def looks_like_address(text: str) -> bool:
    """A Bluetooth address (``AA:BB:..``) or a macOS device UUID."""
    return bool(_ADDR_RE.match(text.strip()))


def profiles_dir() -> Path:
    """``<config dir>/sensors`` (config dir: ``$REPSENSE_CONFIG_DIR`` or the platform's)."""
    from repsense.live.config import config_dir

    return config_dir() / "sensors"


@dataclass
class SensorProfile:
    """A paired sensor."""

    name: str
    address: str
    protocol: str
    rate_hz: float
    placement: str | None = None
    side: str | None = None
    device_name: str | None = None
    bonded: bool = False
    paired_at: str | None = None
    mounting: dict[str, Any] = field(default_factory=dict)
    device_info: dict[str, str] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)
    driver_config: dict[str, Any] = field(default_factory=dict)
    """The driver's ``config()`` at pairing (model variant, ranges) to rebuild it."""

    @property
    def gravity(self) -> tuple[float, float, float] | None:
        """Mean gravity direction (g) in the sensor frame captured while standing still."""
        g = self.mounting.get("gravity")
        return None if g is None else (float(g[0]), float(g[1]), float(g[2]))

    def to_toml(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None and v != {}}
        return tomli_w.dumps(data)


def validate_name(name: str) -> str:
    """Check a profile name (it becomes a file name)."""
    if not _NAME_RE.match(name):
        raise InputError(
            f"profile name '{name}': use 1-64 letters, digits, '-', '_' or '.', starting with a "
            "letter or digit (e.g. left-thigh)"
        )
    return name


def profile_path(name: str) -> Path:
    return profiles_dir() / f"{validate_name(name)}.toml"


def save_profile(profile: SensorProfile) -> Path:
    """Write the profile atomically (temporary file renamed into place)."""
    path = profile_path(profile.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(profile.to_toml())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_profile_file(path: Path) -> SensorProfile:
    """Read one profile file; every problem names the file and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"{path}: not valid TOML ({exc}); fix it or pair the sensor again"
        ) from None
    for key in ("name", "address", "protocol", "rate_hz"):
        if key not in data:
            raise InputError(f"{path}: missing '{key}'; pair the sensor again with 'repsense pair'")
    known = set(SensorProfile.__dataclass_fields__)
    kwargs = {k: v for k, v in data.items() if k in known}
    try:
        kwargs["rate_hz"] = float(kwargs["rate_hz"])
    except (TypeError, ValueError):
        raise InputError(f"{path}: rate_hz '{data['rate_hz']}' is not a number") from None
    if kwargs.get("placement") not in (None, *PLACEMENTS):
        raise InputError(f"{path}: placement '{kwargs['placement']}'; use thigh or shank")
    if kwargs.get("side") not in (None, *SIDES):
        raise InputError(f"{path}: side '{kwargs['side']}'; use left or right")
    return SensorProfile(**kwargs)


def load_profile(name: str) -> SensorProfile:
    """The profile called ``name``; a clear error lists the known ones if missing."""
    path = profile_path(name)
    if not path.is_file():
        known = ", ".join(p.name for p in list_profiles()) or "none yet"
        raise InputError(
            f"no sensor profile '{name}' in {path.parent} (known: {known}); pair it first with "
            f"'repsense pair ADDRESS --name {name}'"
        )
    return load_profile_file(path)


def find_profile(name: str) -> SensorProfile | None:
    """The profile called ``name`` if it exists (``None`` for addresses and unknown names)."""
    if not _NAME_RE.match(name):
        return None
    path = profiles_dir() / f"{name}.toml"
    return load_profile_file(path) if path.is_file() else None


def list_profiles() -> list[SensorProfile]:
    """All readable profiles, by name."""
    folder = profiles_dir()
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.toml")):
        try:
            out.append(load_profile_file(path))
        except InputError:
            continue
    return out
