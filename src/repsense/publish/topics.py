"""The MQTT topic tree and the rules that keep every topic level safe.

Everything repsense publishes lives under one base (default ``repsense``)::

    <base>/gateway/<gateway_id>/state       retained  {"state": "online"} (LWT: offline)
    <base>/gateway/<gateway_id>/info        retained  version, sensors, host
    <base>/<sensor_id>/availability         retained  the sensor's link state
    <base>/<sensor_id>/state                retained  snapshot (session, set, reps, rest...)
    <base>/<sensor_id>/events/rep           QoS 1     one message per rep
    <base>/<sensor_id>/events/set           QoS 1     set_start / set_end
    <base>/<sensor_id>/events/session       QoS 1     session_start / session_end
    <base>/<sensor_id>/events/warning       QoS 1     sensor gaps, lost packets...
    <base>/<sensor_id>/imu                  QoS 0     opt-in raw samples, with expiry
    <base>/<sensor_id>/command              in        JSON commands
    <base>/<sensor_id>/command/response     QoS 1     {"status", "error", "request_id"}
    homeassistant/device/repsense_<sensor_id>/config  retained HA discovery

Ids (sensor, gateway) are reduced to ``[A-Za-z0-9._-]`` so that they are
valid in topics, client ids and Home Assistant object ids alike.  The word
``gateway`` is reserved as a sensor id because it would collide with the
gateway subtree.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from repsense.errors import InputError

__all__ = [
    "MAX_ID_LEN",
    "Topics",
    "default_gateway_id",
    "sanitize_base",
    "sanitize_id",
]

MAX_ID_LEN = 64
_ID_BAD = re.compile(r"[^A-Za-z0-9._-]+")
_LEVEL_BAD = re.compile(r"[\x00-\x1f\x7f+#/]+")
RESERVED_SENSOR_IDS = frozenset({"gateway"})


def sanitize_id(value: str, what: str = "sensor id") -> str:
    """A topic-safe id: runs of anything but ``A-Za-z0-9._-`` become ``_``.

    ``+``, ``#``, ``/``, spaces and control characters can never reach a
    topic. Leading/trailing ``_.-`` are dropped; the result is at most
    :data:`MAX_ID_LEN` characters. Raises :class:`InputError` when nothing
    usable is left.

    Examples
    --------
    >>> sanitize_id("Left thigh #2")
    'Left_thigh_2'
    >>> sanitize_id("AA:BB:CC:DD:EE:FF")
    'AA_BB_CC_DD_EE_FF'
    """
    out = _ID_BAD.sub("_", value).strip("_.-")[:MAX_ID_LEN].strip("_.-")
    if not out:
        raise InputError(f"{what} {value!r}: nothing usable left after removing characters "
                         "not allowed in MQTT topics; use letters, digits, '.', '_' or '-'")
    return out


def sanitize_base(value: str) -> str:
    """A base topic of one or more levels: no wildcards, control chars, empty levels or ``$``.

    >>> sanitize_base("gym/floor 1/")
    'gym/floor 1'
    """
    levels = [_LEVEL_BAD.sub("_", lvl).strip() for lvl in value.strip().strip("/").split("/")]
    if not levels or any(not lvl for lvl in levels):
        raise InputError(f"--mqtt-base {value!r}: topic levels must not be empty; "
                         "use e.g. 'repsense' or 'gym/repsense'")
    if levels[0].startswith("$"):
        raise InputError(f"--mqtt-base {value!r}: topics starting with '$' belong to the broker; "
                         "choose another base")
    return "/".join(levels)


def default_gateway_id() -> str:
    """The host name, made topic-safe (``gateway`` if the host has no usable name)."""
    try:
        return sanitize_id(socket.gethostname().split(".")[0], "gateway id")
    except InputError:
        return "gateway"


@dataclass(frozen=True)
class Topics:
    """Every topic one gateway/sensor pair uses.  Build with :meth:`make` (sanitises)."""

    base: str
    sensor_id: str
    gateway_id: str
    discovery_prefix: str = "homeassistant"

    @classmethod
    def make(cls, sensor_id: str, gateway_id: str | None = None, base: str = "repsense",
             discovery_prefix: str = "homeassistant") -> Topics:
        sid = sanitize_id(sensor_id, "sensor id")
        if sid.lower() in RESERVED_SENSOR_IDS:
            raise InputError(f"sensor id {sensor_id!r} is reserved (it would collide with "
                             f"the gateway topics); choose another --sensor-id")
        gid = sanitize_id(gateway_id, "gateway id") if gateway_id else default_gateway_id()
        return cls(sanitize_base(base), sid, gid, sanitize_base(discovery_prefix))

    # gateway
    @property
    def gateway_state(self) -> str:
        return f"{self.base}/gateway/{self.gateway_id}/state"

    @property
    def gateway_info(self) -> str:
        return f"{self.base}/gateway/{self.gateway_id}/info"

    # sensor
    @property
    def sensor(self) -> str:
        return f"{self.base}/{self.sensor_id}"

    @property
    def availability(self) -> str:
        return f"{self.sensor}/availability"

    @property
    def state(self) -> str:
        return f"{self.sensor}/state"

    def events(self, kind: str) -> str:
        """``events/<kind>``: kind is ``rep``, ``set``, ``session`` or ``warning``."""
        return f"{self.sensor}/events/{kind}"

    @property
    def imu(self) -> str:
        return f"{self.sensor}/imu"

    @property
    def command(self) -> str:
        return f"{self.sensor}/command"

    @property
    def command_response(self) -> str:
        return f"{self.sensor}/command/response"

    # Home Assistant
    @property
    def ha_object_id(self) -> str:
        return f"repsense_{self.sensor_id}"

    @property
    def ha_discovery(self) -> str:
        return f"{self.discovery_prefix}/device/{self.ha_object_id}/config"

    @property
    def ha_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    def retained(self) -> list[str]:
        """Every retained topic this sensor/gateway pair owns (for clean-up tools)."""
        return [self.gateway_state, self.gateway_info, self.availability, self.state,
                self.ha_discovery]
