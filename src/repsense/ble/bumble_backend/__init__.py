"""A bleak backend over Google Bumble's in-process link, for virtual sensors.

Production code talks to sensors through ``bleak.BleakScanner`` and
``bleak.BleakClient`` unchanged; passing ``backend=BumbleScanner`` /
``backend=BumbleClient`` (bleak's documented hook for custom backends)
makes them scan and connect over an emulated radio shared by every
controller of the running event loop instead of the machine's adapter.
:mod:`repsense.ble.virtual_sensor` puts peripherals on the same air.
"""

from repsense.ble.bumble_backend.air import Air, get_air
from repsense.ble.bumble_backend.client import BumbleClient
from repsense.ble.bumble_backend.scanner import BumbleScanner

__all__ = ["Air", "BumbleClient", "BumbleScanner", "get_air"]
