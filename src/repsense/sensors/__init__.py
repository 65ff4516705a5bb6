"""Sensor drivers: one module per protocol, all behind :class:`repsense.sensors.base.SensorDriver`."""
