"""Shared fixtures for the Bluetooth tests: an isolated config dir, no ambient env."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_ble_env(tmp_path, monkeypatch):
    monkeypatch.setenv("REPSENSE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("REPSENSE_BLE_BACKEND", raising=False)
    monkeypatch.delenv("REPSENSE_VIRTUAL", raising=False)
