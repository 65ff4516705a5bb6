"""File adapters: canonical CSV recordings, sidecars and raw BLE captures."""
