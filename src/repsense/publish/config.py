"""Broker connection settings: the ``mqtt://`` / ``mqtts://`` URL and everything around it.

Secrets: a password may come in the URL, but the command line is visible to
every user in ``ps``; prefer ``REPSENSE_MQTT_PASSWORD`` (or the whole URL in
``REPSENSE_MQTT_URL``, or ``[mqtt] password`` in the config file).  Nothing
here ever prints a password: :meth:`BrokerSettings.display` masks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from repsense.errors import InputError

__all__ = ["BrokerSettings", "ClientTuning", "mask_url", "parse_mqtt_url"]

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def mask_url(url: str) -> str:
    """``mqtt://user:secret@host`` → ``mqtt://user:****@host``; unparsable URLs fully masked."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "****"
    if parts.password is None:
        return url
    if ":" in host:
        host = f"[{host}]"
    hostport = f"{host}:{port}" if port else host
    return f"{parts.scheme}://{parts.username or ''}:****@{hostport}"


@dataclass(frozen=True)
class BrokerSettings:
    """Where and how to connect.  ``password`` is never shown by ``repr``."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @property
    def scheme(self) -> str:
        return "mqtts" if self.tls else "mqtt"

    def display(self) -> str:
        """The URL for messages: user shown, password never."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{host}:{self.port}"


@dataclass(frozen=True)
class ClientTuning:
    """Timing knobs; tests shorten them, people rarely need to."""

    keepalive_s: int = 30
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    connect_timeout_s: float = 3.0
    """How long ``open`` waits for the first CONNACK before carrying on without it."""
    imu_expiry_s: int = 5
    """MQTT 5 message expiry for the raw ``imu`` stream (stale samples are useless)."""


def parse_mqtt_url(
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    ca_file: str | Path | None = None,
    cert_file: str | Path | None = None,
    key_file: str | Path | None = None,
) -> BrokerSettings:
    """Parse ``mqtt[s]://[user[:password]@]host[:port]``.

    ``username``/``password`` fill in what the URL leaves out (the URL wins
    for the user name, an explicit ``password`` is used only when the URL
    has none).  TLS files imply nothing about the scheme: ``mqtt://`` with
    ``ca_file`` is an error, so that nobody believes they have TLS when they don't.
    Raises :class:`InputError` with the URL masked.
    """
    shown = mask_url(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InputError(f"--mqtt {shown}: {exc}; use mqtt://host:1883 or mqtts://host:8883") \
            from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InputError(f"--mqtt {shown}: scheme must be mqtt:// or mqtts:// "
                         "(e.g. mqtt://localhost:1883)")
    if not parts.hostname:
        raise InputError(f"--mqtt {shown}: no host name; e.g. mqtt://localhost:1883")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(f"--mqtt {shown}: unexpected path or query; give only "
                         "mqtt[s]://[user[:password]@]host[:port]")
    tls = scheme == "mqtts"
    files = {"--mqtt-ca": ca_file, "--mqtt-cert": cert_file, "--mqtt-key": key_file}
    checked: dict[str, Path | None] = {}
    for opt, value in files.items():
        if value is None or value == "":
            checked[opt] = None
            continue
        if not tls:
            raise InputError(f"{opt} {value}: TLS files need an mqtts:// URL (got {shown})")
        path = Path(value).expanduser()
        if not path.is_file():
            raise InputError(f"{opt} {path}: file not found; give a PEM file")
        checked[opt] = path
    if (checked["--mqtt-cert"] is None) != (checked["--mqtt-key"] is None):
        raise InputError("--mqtt-cert and --mqtt-key: give both (client certificate and its key)")
    user = unquote(parts.username) if parts.username else username or None
    pw = unquote(parts.password) if parts.password is not None else password
    if pw and not user:
        raise InputError(f"--mqtt {shown}: a password without a user name; "
                         "use mqtt://USER@host and REPSENSE_MQTT_PASSWORD")
    return BrokerSettings(
        host=parts.hostname, port=port or DEFAULT_PORTS[scheme], tls=tls, username=user,
        password=pw or None, ca_file=checked["--mqtt-ca"], cert_file=checked["--mqtt-cert"],
        key_file=checked["--mqtt-key"],
    )
