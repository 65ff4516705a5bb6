"""Publishing over MQTT: topic tree, payloads, durable outbox, client, HA discovery, commands.

The pieces, from the outside in:

* :mod:`repsense.publish.options` - ``add_mqtt_arguments`` / ``open_sink_from_args``
  for the ``replay`` and ``live`` commands;
* :mod:`repsense.publish.mqtt` - :class:`~repsense.publish.mqtt.MqttSink`, the adapter
  (paho-mqtt 2.x, MQTT 5 with 3.1.1 fallback, TLS, LWT, reconnects);
* :mod:`repsense.publish.outbox` - the sqlite outbox that makes delivery survive
  broker outages and crashes;
* :mod:`repsense.publish.topics`, :mod:`~repsense.publish.payloads`,
  :mod:`~repsense.publish.discovery`, :mod:`~repsense.publish.commands`,
  :mod:`~repsense.publish.config` - pure functions and data (no I/O).

See ``docs/mqtt.md`` for the topic tree and payload contract.
"""
