"""Turn the many ways a Bluetooth operation fails into one actionable line.

bleak raises different exceptions per platform (D-Bus errors on Linux,
``BleakBluetoothNotAvailableError`` with a reason, plain ``OSError`` when
there is no Bluetooth service at all).  :func:`explain` maps them onto the
failures users actually meet — no adapter, Bluetooth off, permission denied,
device busy or connected elsewhere, out of range — and :class:`BleError`
carries the line to the CLI, which prints it and exits 2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from repsense.errors import InputError

NO_ADAPTER = (
    "no Bluetooth adapter found (or the Bluetooth service is not running); plug in a "
    "Bluetooth LE adapter / start it with 'sudo systemctl start bluetooth', or try a virtual "
    "sensor with --virtual PROTOCOL"
)
POWERED_OFF = (
    "Bluetooth is turned off; turn it on ('bluetoothctl power on' or system settings) and retry"
)
PERMISSION = (
    "permission to use Bluetooth was denied; add your user to the 'bluetooth' group "
    "(then log in again) or allow Bluetooth for this terminal in the system settings"
)


class BleError(InputError):
    """A Bluetooth failure explained in one line (exit code 2)."""


def _who(address: str | None) -> str:
    return f"sensor {address}" if address else "the sensor"


def explain(exc: BaseException, address: str | None = None) -> str | None:
    """One line that says what went wrong and what to do, or ``None`` if unknown.

    Parameters
    ----------
    exc
        The exception raised by bleak (or by the OS underneath it).
    address
        The sensor involved, to name it in the message.
    """
    who = _who(address)
    if isinstance(exc, BleakBluetoothNotAvailableError):
        reason = exc.reason
        if reason in (BleakBluetoothNotAvailableReason.NO_BLUETOOTH,
                      BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE):
            return NO_ADAPTER
        if reason == BleakBluetoothNotAvailableReason.POWERED_OFF:
            return POWERED_OFF
        if reason in (BleakBluetoothNotAvailableReason.DENIED_BY_USER,
                      BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM,
                      BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN):
            return PERMISSION
        return f"Bluetooth is not available ({exc.args[0]}); check the adapter and retry"
    if isinstance(exc, BleakDeviceNotFoundError):
        return (
            f"{who} was not found: it is out of range, asleep or connected to another device; "
            "wake it (move it), bring it closer, close other apps using it, then retry "
            "('repsense scan' lists sensors in range)"
        )
    if isinstance(exc, BleakDBusError):
        name = exc.dbus_error
        detail = (exc.dbus_error_details or "").lower()
        if name.endswith(("AccessDenied", "NotPermitted", "NotAuthorized")):
            return PERMISSION
        if name.endswith("NotReady") or "not powered" in detail:
            return POWERED_OFF
        if name.endswith(("InProgress", "AlreadyConnected", "AlreadyExists")) or "busy" in detail:
            return (
                f"{who} is busy or connected to another device (a phone app?); disconnect it "
                "there or power-cycle the sensor, then retry"
            )
        if name.endswith(("ServiceUnknown", "UnknownObject")) or "no such adapter" in detail:
            return NO_ADAPTER
        if name.endswith(("Failed", "NoReply")) and ("abort" in detail or "timeout" in detail):
            return (
                f"{who} did not answer (out of range or connection dropped); bring it closer "
                "and retry"
            )
        return f"Bluetooth error {name}: {exc.dbus_error_details or ''}".strip()
    if isinstance(exc, PermissionError):
        return PERMISSION
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        # bleak's BlueZ backend cannot open the D-Bus system socket: no Bluetooth stack.
        return NO_ADAPTER
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return f"{who} did not answer in time (out of range or busy); bring it closer and retry"
    if isinstance(exc, BleakError):
        text = str(exc)
        low = text.lower()
        if "not found" in low or "no bluetooth adapters" in low or "adapter" in low and "no" in low:
            return NO_ADAPTER
        if "powered off" in low or "turned off" in low:
            return POWERED_OFF
        return f"Bluetooth error: {text}"
    return None


@contextmanager
def ble_errors(address: str | None = None) -> Iterator[None]:
    """Re-raise Bluetooth failures inside the block as :class:`BleError` (one line, exit 2)."""
    try:
        yield
    except BleError:
        raise
    except (BleakError, OSError, TimeoutError) as exc:
        line = explain(exc, address)
        if line is None:
            raise
        raise BleError(line) from exc
