"""Test helpers that drive real parts (a real Mosquitto broker, real certificates).

* :class:`repsense.testing.broker.MosquittoBroker` starts ``mosquitto`` on a free
  port with a generated config (optionally a password file and/or a TLS
  listener); it can be stopped, killed and restarted on the same port.
* :class:`repsense.testing.broker.MessageCollector` is a subscriber that records
  every message and lets a test *wait on a condition* instead of sleeping.
* :func:`repsense.testing.pki.make_test_pki` writes a throw-away CA, server and
  client certificate for TLS tests.
* :mod:`repsense.testing.pytest_broker` holds pytest fixtures (``mosquitto``,
  ``mosquitto_factory``, ``mqtt_collector``); import them into a ``conftest.py``
  with ``from repsense.testing.pytest_broker import *  # noqa: F401,F403``.
"""

from repsense.testing.broker import (
    BrokerAuth,
    BrokerTLS,
    MessageCollector,
    MosquittoBroker,
    find_mosquitto,
    free_port,
)

__all__ = [
    "BrokerAuth",
    "BrokerTLS",
    "MessageCollector",
    "MosquittoBroker",
    "find_mosquitto",
    "free_port",
]
