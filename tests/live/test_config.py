"""Configuration: flags > environment > file > defaults; secrets never shown."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repsense.errors import InputError
from repsense.live.config import Config, config_file, data_dir, mask_text, mask_url


def _write(dirs: dict[str, Path], text: str) -> Path:
    dirs["config"].mkdir(parents=True, exist_ok=True)
    path = dirs["config"] / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_flag_env_file_default(dirs: dict[str, Path]) -> None:
    path = _write(dirs, '[live]\nspeed = 3.0\nplan = "heavy-3x3-6"\nplain = true\n'
                        '[mqtt]\nurl = "mqtt://file:pw1@filehost"\n')
    assert config_file() == path
    env = {"REPSENSE_LIVE_SPEED": "5", "REPSENSE_MQTT_URL": "mqtt://env:pw2@envhost"}
    cfg = Config(flags={"live.speed": 7.0, "live.plan": None}, env=env)
    assert cfg.get("live.speed") == 7.0 and cfg.sources["live.speed"] == "flag"
    assert cfg.get("mqtt.url") == "mqtt://env:pw2@envhost"
    assert cfg.sources["mqtt.url"] == "env REPSENSE_MQTT_URL"
    assert cfg.get("live.plan") == "heavy-3x3-6" and cfg.sources["live.plan"].startswith("file")
    assert cfg.get("live.plain") is True
    assert cfg.get("live.bell") is True and cfg.sources["live.bell"] == "default"
    no_env = Config(env={})
    assert no_env.get("live.speed") == 3.0 and no_env.get("mqtt.url").endswith("@filehost")


def test_secrets_are_masked(dirs: dict[str, Path]) -> None:
    _write(dirs, '[mqtt]\npassword = "hunter2"\n')
    cfg = Config(env={"REPSENSE_MQTT_URL": "mqtts://bob:s3cret@broker.example:8883/x"})
    shown = cfg.show()
    assert "hunter2" not in shown and "s3cret" not in shown
    assert "mqtts://bob:****@broker.example:8883/x" in shown
    assert cfg.masked()["mqtt.password"] == "****"
    assert mask_url("mqtt://host:1883") == "mqtt://host:1883"
    assert mask_url("mqtt://u:p@[::1]:1883") == "mqtt://u:****@[::1]:1883"
    assert mask_text("connecting to mqtt://u:pw@h:1") == "connecting to mqtt://u:****@h:1"


def test_data_dir_order(dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _write(dirs, f'[paths]\ndata_dir = "{dirs["tmp"] / "from-file"}"\n')
    assert data_dir(Config()) == dirs["data"] == data_dir()  # REPSENSE_DATA_DIR beats the file
    flag = dirs["tmp"] / "from-flag"
    assert data_dir(Config(flags={"paths.data_dir": str(flag)})) == flag  # the flag beats both
    monkeypatch.delenv("REPSENSE_DATA_DIR")
    assert data_dir(Config()) == dirs["tmp"] / "from-file" == data_dir()


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("[live]\nspede = 2\n", {}, "did you mean 'live.speed'"),
        ("[live]\nspeed = 'fast'\n", {}, "give a number"),
        ("live = 3\n", {}, "must be a [section] table"),
        ("[live\n", {}, "not valid TOML"),
        ("", {"REPSENSE_LIVE_PLAIN": "maybe"}, "use true or false"),
        ("", {"REPSENSE_ANALYSIS_PLACEMENT": "knee"}, "use one of: auto, thigh, shank"),
    ],
)
def test_bad_config_is_one_line(dirs: dict[str, Path], text: str, env: dict[str, str],
                                expected: str) -> None:
    _write(dirs, text)
    with pytest.raises(InputError) as info:
        Config(env=env)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_config_show_in_a_subprocess_masks_and_init_writes_private_file(
        dirs: dict[str, Path], cmd) -> None:
    import os

    env = dict(os.environ, REPSENSE_MQTT_URL="mqtt://alice:topsecret@localhost:1883")
    out = subprocess.run(cmd("config", "show"), capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "topsecret" not in out.stdout and "alice:****@localhost" in out.stdout
    assert "precedence: flags > REPSENSE_* environment > config file > defaults" in out.stdout
    out = subprocess.run(cmd("config", "init"), capture_output=True, text=True, timeout=60)
    path = dirs["config"] / "config.toml"
    assert out.returncode == 0 and path.is_file() and (path.stat().st_mode & 0o077) == 0
    Config()  # the template parses
