"""Command-line options for publishing, shared by ``replay`` and ``live``.

::

    p = sub.add_parser("replay", ...)
    add_mqtt_arguments(p, default_url="mqtt://localhost:1883")
    ...
    sink = open_sink_from_args(args, sensor_id_default=source.name, session_id=...)
    if sink is not None:
        sinks.append(sink)          # then sink.handle(ev) ... sink.close(args.mqtt_flush_timeout)

The broker URL comes from ``--mqtt``, else ``REPSENSE_MQTT_URL``, else the
config file's ``[mqtt] url``, else ``default_url`` (``replay`` uses
``mqtt://localhost:1883``; ``live`` none).  A user name/password missing from
the URL is taken from ``REPSENSE_MQTT_USERNAME`` / ``REPSENSE_MQTT_PASSWORD`` or
the config file, so the password never needs to be on the command line
(where ``ps`` shows it to every user).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from repsense.errors import InputError
from repsense.publish.config import ClientTuning, mask_url, parse_mqtt_url
from repsense.publish.mqtt import MqttSink
from repsense.publish.outbox import DEFAULT_MAX_ROWS, OutboxBusy
from repsense.publish.topics import Topics

__all__ = ["add_mqtt_arguments", "default_outbox_path", "open_sink_from_args", "tuning_from_env"]

TUNING_ENV = "REPSENSE_MQTT_TUNING"
"""``keepalive_s=5,reconnect_min_s=0.1,...``: :class:`ClientTuning` overrides (tests)."""


def add_mqtt_arguments(p: argparse.ArgumentParser, default_url: str | None = None) -> None:
    """Add the ``MQTT`` option group to a subcommand's parser."""
    g = p.add_argument_group(
        "MQTT", "Publish events, state and Home Assistant discovery to a broker. The password "
        "can come from REPSENSE_MQTT_PASSWORD (or the whole URL from REPSENSE_MQTT_URL) so that "
        "it is not visible in `ps`.")
    default_note = f" (default {default_url})" if default_url else " (default: none, no MQTT)"
    g.add_argument("--mqtt", metavar="URL", default=None,
                   help="broker, mqtt://[user[:password]@]host[:port] or mqtts://..."
                   + default_note)
    g.add_argument("--no-mqtt", action="store_true", help="do not publish over MQTT")
    g.add_argument("--sensor-id", metavar="ID", default=None,
                   help="sensor id in topics (default: the sensor profile or file name)")
    g.add_argument("--gateway-id", metavar="ID", default=None,
                   help="this gateway's id (default: the host name); unique per repsense "
                   "process on one broker")
    g.add_argument("--mqtt-base", metavar="TOPIC", default=None,
                   help="base topic (default repsense)")
    g.add_argument("--mqtt-ca", metavar="PEM", default=None, help="CA certificate(s) for mqtts://")
    g.add_argument("--mqtt-cert", metavar="PEM", default=None,
                   help="client certificate for mqtts://")
    g.add_argument("--mqtt-key", metavar="PEM", default=None, help="client certificate's key")
    g.add_argument("--mqtt-protocol", choices=("auto", "5", "3.1.1"), default="auto",
                   help="MQTT version; auto tries 5 and falls back to 3.1.1 (default)")
    g.add_argument("--mqtt-outbox", metavar="FILE", default=None,
                   help="durable outbox file (default: one per gateway and sensor in the data "
                   "directory)")
    g.add_argument("--mqtt-outbox-max", metavar="N", type=int, default=DEFAULT_MAX_ROWS,
                   help=f"most messages kept while the broker is away (default {DEFAULT_MAX_ROWS})")
    g.add_argument("--mqtt-flush-timeout", metavar="S", type=float, default=5.0,
                   help="seconds to wait at exit for the broker to take pending messages "
                   "(default 5)")
    g.add_argument("--no-ha-discovery", action="store_true",
                   help="do not publish Home Assistant discovery")
    g.add_argument("--ha-prefix", metavar="TOPIC", default="homeassistant",
                   help="Home Assistant discovery prefix (default homeassistant)")
    g.add_argument("--mqtt-imu", action="store_true",
                   help="also publish raw samples on <base>/<sensor>/imu (QoS 0)")
    p.set_defaults(_mqtt_default_url=default_url)


def default_outbox_path(gateway_id: str, sensor_id: str) -> Path:
    """``<data dir>/mqtt-outbox/<gateway>--<sensor>.sqlite`` (data dir: ``REPSENSE_DATA_DIR``
    or the platform's user data directory)."""
    from repsense.live.config import data_dir

    return data_dir() / "mqtt-outbox" / f"{gateway_id}--{sensor_id}.sqlite"


def tuning_from_env(env: dict[str, str] | None = None) -> ClientTuning:
    """:class:`ClientTuning` with ``REPSENSE_MQTT_TUNING`` overrides applied."""
    env = dict(os.environ) if env is None else env
    raw = env.get(TUNING_ENV, "").strip()
    if not raw:
        return ClientTuning()
    fields: dict[str, Any] = {}
    for item in raw.split(","):
        key, _, value = item.partition("=")
        key = key.strip()
        if key not in ClientTuning.__dataclass_fields__:
            raise InputError(f"{TUNING_ENV}: unknown key '{key}'; use "
                             + ", ".join(ClientTuning.__dataclass_fields__))
        try:
            num = float(value)
        except ValueError:
            raise InputError(f"{TUNING_ENV}: '{item}' needs a number") from None
        fields[key] = int(num) if key in ("keepalive_s", "imu_expiry_s") else num
    return ClientTuning(**fields)


def _load_config() -> Any:
    try:
        from repsense.live.config import Config
    except ImportError:  # pragma: no cover - the live package is part of repsense
        return None
    return Config()


def open_sink_from_args(
    args: argparse.Namespace,
    sensor_id_default: str,
    *,
    session_id: str | None = None,
    exercise: str | None = None,
    source: str | None = None,
    default_url: str | None = None,
    session_suffix: str | None = "auto",
    status: Any = None,
) -> MqttSink | None:
    """Build and open an :class:`MqttSink` from :func:`add_mqtt_arguments` options.

    Returns ``None`` when MQTT is off (``--no-mqtt``, or no URL anywhere).
    Bad options raise :class:`InputError`; an unreachable broker does not
    (one line on stderr, events wait in the outbox).  With ``session_id`` a
    ``session_start`` is published at once; otherwise on the first event.
    """
    if getattr(args, "no_mqtt", False):
        return None
    config = _load_config()

    def cfg(key: str) -> Any:
        return config.get(key) if config is not None else None

    url = args.mqtt or cfg("mqtt.url") or default_url or getattr(args, "_mqtt_default_url", None)
    if not url:
        return None
    broker = parse_mqtt_url(
        url, username=cfg("mqtt.username"), password=cfg("mqtt.password"),
        ca_file=args.mqtt_ca, cert_file=args.mqtt_cert, key_file=args.mqtt_key,
    )
    if args.mqtt and _has_password(args.mqtt):
        print("repsense: mqtt: note: a password in --mqtt is visible to other users in `ps`; "
              "prefer REPSENSE_MQTT_PASSWORD or REPSENSE_MQTT_URL", file=sys.stderr)
    topics = Topics.make(
        args.sensor_id or cfg("mqtt.sensor_id") or sensor_id_default,
        args.gateway_id or cfg("mqtt.gateway_id"),
        args.mqtt_base or cfg("mqtt.base_topic") or "repsense",
        args.ha_prefix,
    )
    if args.mqtt_outbox_max < 1:
        raise InputError(f"--mqtt-outbox-max {args.mqtt_outbox_max}: give at least 1")
    if args.mqtt_flush_timeout < 0:
        raise InputError(f"--mqtt-flush-timeout {args.mqtt_flush_timeout}: give 0 or more")
    outbox = Path(args.mqtt_outbox).expanduser() if args.mqtt_outbox else \
        default_outbox_path(topics.gateway_id, topics.sensor_id)
    sink = MqttSink(
        broker, topics, outbox_path=outbox, outbox_max=args.mqtt_outbox_max,
        tuning=tuning_from_env(), protocol=args.mqtt_protocol,
        ha_discovery=not args.no_ha_discovery, imu=args.mqtt_imu,
        session_suffix=session_suffix, status=status,
    )
    try:
        sink.open()
    except OutboxBusy as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:  # outbox directory/file problems
        raise InputError(f"--mqtt-outbox {outbox}: {exc.strerror or exc}; give a writable "
                         "file with --mqtt-outbox") from None
    except sqlite3.DatabaseError as exc:  # not an outbox, or damaged
        raise InputError(f"--mqtt-outbox {outbox}: not a usable outbox ({exc}); move the file "
                         "away or give another --mqtt-outbox") from None
    if session_id is not None:
        sink.start_session(session_id, exercise=exercise, source=source)
    return sink


def _has_password(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def describe(args: argparse.Namespace) -> str:
    """The broker as it may be shown (password masked)."""
    return mask_url(args.mqtt or "")
