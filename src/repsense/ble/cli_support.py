"""Glue between the Bluetooth commands (scan, pair, record) and asyncio."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from repsense.ble.backend import BleBackend, backend_from_args
from repsense.ble.errors import ble_errors

T = TypeVar("T")


def run_ble(
    args: argparse.Namespace,
    body: Callable[[BleBackend, list[Any]], Awaitable[T]],
) -> T:
    """Run ``body(backend, virtual_sensors)`` in a fresh event loop.

    Virtual sensors asked for with ``--virtual``/``$REPSENSE_VIRTUAL`` are
    started on the loop's air first (they must share the loop with bleak),
    and Bluetooth failures become one-line :class:`~repsense.ble.errors.BleError`.
    """
    backend, specs = backend_from_args(args)

    async def main() -> T:
        if not specs:
            return await body(backend, [])
        from repsense.ble.virtual_sensor import virtual_sensors

        async with virtual_sensors(specs) as sensors:
            return await body(backend, sensors)

    with ble_errors():
        return asyncio.run(main())
