"""Configuration: a TOML file, ``REPSENSE_*`` environment variables and command-line flags.

Precedence, highest first:

1. command-line flags (``--mqtt URL``, ``--speed 2`` ...),
2. environment variables: ``REPSENSE_<SECTION>_<KEY>`` in upper case, e.g.
   ``REPSENSE_MQTT_URL``, ``REPSENSE_LIVE_SPEED``,
3. the config file ``config.toml`` in the config directory,
4. built-in defaults.

The config directory is ``REPSENSE_CONFIG_DIR`` if set, else the platform's
user config directory (``~/.config/repsense`` on Linux); the data directory
(session history) is ``REPSENSE_DATA_DIR``, else ``paths.data_dir`` from the
file, else the platform's user data directory (``~/.local/share/repsense``).
The config file itself may be moved with ``REPSENSE_CONFIG``.

``repsense config show`` prints the effective values and where each came
from; passwords (and the password part of URLs) are masked.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from repsense.errors import InputError

APP = "repsense"
ENV_PREFIX = "REPSENSE_"
MASK = "****"


@dataclass(frozen=True)
class Setting:
    """One configuration key."""

    key: str
    """``section.name``."""
    kind: type
    default: Any
    help: str
    secret: bool = False
    choices: tuple[str, ...] | None = None
    env_name: str | None = None

    @property
    def env(self) -> str:
        """The environment variable: ``REPSENSE_<SECTION>_<KEY>`` unless named otherwise."""
        return self.env_name or ENV_PREFIX + self.key.upper().replace(".", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting("live.sensor", str, "sim:romanian_deadlift",
            "sensor for `repsense live`: profile name, BLE address, sim:EXERCISE or sim:FILE.csv"),
    Setting("live.plan", str, None, "plan name or .toml file used when --plan is not given"),
    Setting("live.speed", float, 1.0, "time factor for sim:/recording sources (0 = no pacing)"),
    Setting("live.plain", bool, False, "print one line per event instead of the full-screen view"),
    Setting("live.bell", bool, True, "ring the terminal bell when rest is over"),
    Setting("live.batch_s", float, 0.2,
            "push samples to the pipeline in batches of this many seconds (0-1; 0 = every "
            "packet): less CPU per sensor, a rep shows up to this much later"),
    Setting("analysis.exercise", str, "auto", "exercise when there is no plan (auto recognises)"),
    Setting("analysis.placement", str, "auto", "sensor placement: auto, thigh or shank",
            choices=("auto", "thigh", "shank")),
    Setting("mqtt.url", str, None,
            "broker URL, mqtt://[user[:password]@]host[:port] or mqtts://...", secret=True),
    Setting("mqtt.username", str, None, "broker user name (if not in the URL)"),
    Setting("mqtt.password", str, None, "broker password (if not in the URL)", secret=True),
    Setting("mqtt.sensor_id", str, None, "sensor id in MQTT topics (default: profile/file name)"),
    Setting("mqtt.base_topic", str, "repsense", "first topic level"),
    Setting("mqtt.gateway_id", str, None, "this gateway's id (default: host name)"),
    Setting("paths.data_dir", str, None, "where sessions are stored (default: platform data dir)",
            env_name=ENV_PREFIX + "DATA_DIR"),
)
BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


def config_dir() -> Path:
    """The config directory: ``REPSENSE_CONFIG_DIR`` or the platform's user config dir."""
    env = os.environ.get(ENV_PREFIX + "CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP))


def config_file() -> Path:
    """The config file: ``REPSENSE_CONFIG`` or ``<config dir>/config.toml``."""
    env = os.environ.get(ENV_PREFIX + "CONFIG")
    if env:
        return Path(env).expanduser()
    return config_dir() / "config.toml"


def data_dir(config: Config | None = None) -> Path:
    """The data directory (session history, MQTT outboxes).

    ``paths.data_dir`` with the usual precedence (``--data-dir`` flag >
    ``REPSENSE_DATA_DIR`` > config file), else the platform's user data dir.
    """
    if config is None:
        env = os.environ.get(ENV_PREFIX + "DATA_DIR")
        if env:  # no need to read the config file
            return Path(env).expanduser()
        config = Config()
    value = config.get("paths.data_dir")
    if value:
        return Path(str(value)).expanduser()
    return Path(platformdirs.user_data_dir(APP))


def mask_url(url: str) -> str:
    """``mqtt://user:secret@host`` → ``mqtt://user:****@host`` (other URLs unchanged)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:{MASK}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def mask(setting: Setting, value: Any) -> Any:
    """The value as it may be shown to people."""
    if value is None or not setting.secret:
        return value
    if setting.key.endswith("url"):
        return mask_url(str(value))
    return MASK


def _convert(setting: Setting, raw: Any, where: str) -> Any:
    """Turn a file/env/flag value into the setting's type, or raise InputError."""
    kind = setting.kind
    value: Any
    if kind is bool:
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "on"):
            value = True
        elif isinstance(raw, str) and raw.strip().lower() in ("0", "false", "no", "off", ""):
            value = False
        else:
            raise InputError(f"{where}: '{setting.key}' is {raw!r}; use true or false")
    elif kind is float:
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = float(raw)
        except (TypeError, ValueError):
            raise InputError(f"{where}: '{setting.key}' is {raw!r}; give a number") from None
        if not value >= 0:
            raise InputError(f"{where}: '{setting.key}' is {raw!r}; it must be 0 or more")
    else:
        if not isinstance(raw, str):
            raise InputError(f"{where}: '{setting.key}' is {raw!r}; write it as a string in quotes")
        value = raw
    if setting.choices and value not in setting.choices:
        raise InputError(
            f"{where}: '{setting.key}' is '{value}'; use one of: {', '.join(setting.choices)}"
        )
    return value


def _flatten(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, body in data.items():
        if not isinstance(body, dict):
            raise InputError(
                f"{where}: '{section}' must be a [section] table, e.g. [mqtt] then url = \"...\""
            )
        for name, raw in body.items():
            key = f"{section}.{name}"
            if key not in BY_KEY:
                close = difflib.get_close_matches(key, list(BY_KEY), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "see `repsense config show`"
                raise InputError(f"{where}: unknown setting '{key}'; {hint}")
            out[key] = _convert(BY_KEY[key], raw, where)
    return out


class Config:
    """Effective configuration with the source of every value.

    Parameters
    ----------
    flags
        ``{key: value}`` from the command line; ``None`` values mean "not given".
    env
        Environment (``os.environ`` by default).
    path
        Config file (:func:`config_file` by default); a missing file is fine.
    """

    def __init__(
        self,
        flags: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        path: Path | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.path = config_file() if path is None else path
        self.values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
        self.sources: dict[str, str] = {s.key: "default" for s in SETTINGS}
        if self.path.is_file():
            try:
                data = tomllib.loads(self.path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"{self.path}: not valid TOML ({exc}); fix the syntax") from None
            for key, value in _flatten(data, str(self.path)).items():
                self.values[key] = value
                self.sources[key] = f"file {self.path}"
        for s in SETTINGS:
            if s.env in env:
                self.values[s.key] = _convert(s, env[s.env], f"environment {s.env}")
                self.sources[s.key] = f"env {s.env}"
        for key, value in (flags or {}).items():
            if value is None:
                continue
            if key not in BY_KEY:
                raise KeyError(f"unknown setting {key}")  # a programming error, not user input
            self.values[key] = _convert(BY_KEY[key], value, f"--{key.split('.')[-1]}")
            self.sources[key] = "flag"

    def get(self, key: str) -> Any:
        """The effective value of ``key`` (``section.name``)."""
        return self.values[key]

    def masked(self) -> dict[str, Any]:
        """``{key: value}`` with secrets masked."""
        return {k: mask(BY_KEY[k], v) for k, v in self.values.items()}

    def show(self) -> str:
        """TOML-like listing of the effective configuration, secrets masked, sources noted."""
        lines = [
            f"# config file: {self.path}{'' if self.path.is_file() else ' (not present)'}",
            f"# config dir:  {config_dir()}",
            f"# data dir:    {data_dir(self)}",
            "# precedence: flags > REPSENSE_* environment > config file > defaults",
        ]
        section = ""
        for s in SETTINGS:
            sec, name = s.key.split(".", 1)
            if sec != section:
                lines.append(f"\n[{sec}]")
                section = sec
            value = mask(s, self.values[s.key])
            entry = f"# {name} = (not set)" if value is None else f"{name} = {_toml_value(value)}"
            lines.append(f"{entry:<42} # {self.sources[s.key]}; {s.env}")
        return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


_SECRET_IN_TEXT = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def mask_text(text: str) -> str:
    """Mask URL passwords anywhere in ``text`` (for log lines and status displays)."""
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}@", text)


TEMPLATE = """\
# repsense configuration.  Precedence: flags > REPSENSE_* environment > this file > defaults.
# `repsense config show` prints the effective values (secrets masked).

[live]
# sensor = "sim:romanian_deadlift"   # profile name, BLE address, sim:EXERCISE or sim:FILE.csv
# plan = "hamstrings-glutes-gym"     # plan name (`repsense plans`) or .toml file
# speed = 1.0
# plain = false
# bell = true
# batch_s = 0.2                      # seconds of samples per pipeline push (0 = every packet)

[analysis]
# exercise = "auto"
# placement = "auto"

[mqtt]
# url = "mqtt://localhost:1883"
# username = ""
# password = ""                      # keep this file private (chmod 600)
# base_topic = "repsense"

[paths]
# data_dir = "~/training/repsense"
"""
