"""One actionable line for each way Bluetooth fails, and no traceback without an adapter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from repsense.ble.errors import BleError, ble_errors, explain

R = BleakBluetoothNotAvailableReason


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (BleakBluetoothNotAvailableError("no radio", R.NO_BLUETOOTH), "no Bluetooth adapter"),
        (BleakBluetoothNotAvailableError("off", R.POWERED_OFF), "turned off"),
        (BleakBluetoothNotAvailableError("denied", R.DENIED_BY_USER), "permission"),
        (BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]), "turned off"),
        (BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", ["no"]), "permission"),
        (BleakDBusError("org.bluez.Error.InProgress", ["Operation already in progress"]),
         "connected to another device"),
        (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", ["no bluez"]),
         "no Bluetooth adapter"),
        (BleakDeviceNotFoundError("AA:BB:CC:DD:EE:FF"), "out of range"),
        (FileNotFoundError(2, "No such file or directory"), "no Bluetooth adapter"),
        (PermissionError(13, "denied"), "permission"),
        (TimeoutError(), "did not answer"),
        (BleakError("No Bluetooth adapters found."), "no Bluetooth adapter"),
    ],
)
def test_explain_gives_an_actionable_line(exc: BaseException, words: str) -> None:
    line = explain(exc, "AA:BB:CC:DD:EE:FF")
    assert line is not None and words in line
    assert "\n" not in line


def test_ble_errors_turns_failures_into_input_errors() -> None:
    with pytest.raises(BleError, match="turned off"), ble_errors():
        raise BleakBluetoothNotAvailableError("off", R.POWERED_OFF)
    with pytest.raises(ValueError), ble_errors():  # not a Bluetooth problem: untouched
        raise ValueError("bug")


def test_scan_without_an_adapter_prints_one_line_and_exits_2() -> None:
    # This machine has no Bluetooth adapter (and no BlueZ): the real platform
    # backend fails, and the user must get one clear line, not a traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPSENSE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "repsense", "scan", "--timeout", "0.5"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("repsense scan: error:") and "Bluetooth" in lines[0]
