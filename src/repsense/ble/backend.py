"""Which Bluetooth stack bleak talks to: the machine's own, or the virtual air.

``system`` lets bleak pick the platform backend (BlueZ, CoreBluetooth,
WinRT).  ``virtual`` passes our Bumble backend classes through bleak's
documented ``backend=`` argument, so everything above them is the same
production code.  The choice comes from ``--ble-backend`` or the
``REPSENSE_BLE_BACKEND`` environment variable; ``--virtual SPEC`` (or
``REPSENSE_VIRTUAL``) implies ``virtual``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from repsense.errors import InputError

ENV_BACKEND = "REPSENSE_BLE_BACKEND"
ENV_VIRTUAL = "REPSENSE_VIRTUAL"
NAMES = ("system", "virtual")
ALIASES = {"system": "system", "bleak": "system", "default": "system", "auto": "system",
           "virtual": "virtual", "bumble": "virtual"}


@dataclass(frozen=True)
class BleBackend:
    """A backend choice: the classes for bleak's ``backend=`` (``None`` = platform default)."""

    name: str
    scanner: type | None = None
    client: type | None = None

    @property
    def is_virtual(self) -> bool:
        return self.name == "virtual"

    def scanner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments to add to ``BleakScanner(...)``."""
        return {} if self.scanner is None else {"backend": self.scanner}

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments to add to ``BleakClient(...)``."""
        return {} if self.client is None else {"backend": self.client}

    def clock(self) -> Callable[[], float]:
        """Host clock for notification arrival times.

        The virtual air may run faster than real time; its clock is scaled
        back so that arrival-time based timing (WitMotion) stays right.
        """
        if self.is_virtual:
            from repsense.ble.bumble_backend.air import get_air

            return get_air().now
        return time.monotonic


def select_backend(name: str | None = None) -> BleBackend:
    """The backend called ``name`` (or from ``$REPSENSE_BLE_BACKEND``; default ``system``)."""
    default = "virtual" if os.environ.get(ENV_VIRTUAL) else "system"
    raw = name or os.environ.get(ENV_BACKEND) or default
    key = ALIASES.get(raw.strip().lower())
    if key is None:
        raise InputError(
            f"--ble-backend / ${ENV_BACKEND}: unknown backend '{raw}'; "
            f"use one of {', '.join(NAMES)}"
        )
    if key == "virtual":
        from repsense.ble.bumble_backend import BumbleClient, BumbleScanner

        return BleBackend("virtual", BumbleScanner, BumbleClient)
    return BleBackend("system")


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--ble-backend`` and ``--virtual`` to a command that uses Bluetooth."""
    group = parser.add_argument_group("Bluetooth stack (testing without hardware)")
    group.add_argument(
        "--ble-backend",
        choices=sorted(ALIASES),
        default=None,
        metavar="{system,virtual}",
        help=f"'system' uses this machine's adapter through bleak (default, or ${ENV_BACKEND}); "
        "'virtual' uses repsense's Bumble backend over an in-process link",
    )
    group.add_argument(
        "--virtual",
        action="append",
        default=[],
        metavar="SPEC",
        help="start a virtual sensor in-process (implies --ble-backend virtual); SPEC is "
        "PROTOCOL[:SOURCE][,key=value...], e.g. 'witmotion:recordings/leg_curl.csv,speed=20'; "
        "may be repeated; also read from $REPSENSE_VIRTUAL (';'-separated). See docs/ble.md",
    )


def backend_from_args(args: argparse.Namespace) -> tuple[BleBackend, list[str]]:
    """The backend and the virtual-sensor specs a command was asked to use."""
    specs = list(getattr(args, "virtual", None) or [])
    env_specs = os.environ.get(ENV_VIRTUAL, "")
    specs += [s.strip() for s in env_specs.split(";") if s.strip()]
    name = getattr(args, "ble_backend", None)
    if specs and name is None:
        name = "virtual"
    backend = select_backend(name)
    if specs and not backend.is_virtual:
        raise InputError(
            "--virtual needs --ble-backend virtual (virtual sensors live on the virtual air)"
        )
    return backend, specs
