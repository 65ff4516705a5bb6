"""repsense: rep counting and tempo for leg-worn IMUs, published over MQTT.

The processing core is sans-IO: :class:`repsense.pipeline.Pipeline` is fed
:class:`repsense.samples.SampleChunk` objects and hands back immutable events
(:mod:`repsense.events`). Files, Bluetooth LE, MQTT and the terminal are thin
adapters around it.
"""

__version__ = "0.1.0"
