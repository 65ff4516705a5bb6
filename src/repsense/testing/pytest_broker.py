"""pytest fixtures around :class:`repsense.testing.broker.MosquittoBroker`.

In a ``conftest.py``::

    from repsense.testing.pytest_broker import (  # noqa: F401
        mosquitto, mosquitto_factory, mqtt_collector)

* ``mosquitto`` - a started anonymous broker on a free port (stopped after the test).
* ``mosquitto_factory(**kwargs)`` - make more brokers (auth, TLS, persistence); all
  are stopped after the test.
* ``mqtt_collector(url=None, topics=("#",), **kwargs)`` - a started
  :class:`~repsense.testing.broker.MessageCollector` (defaults to the
  ``mosquitto`` broker); stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from repsense.testing.broker import MessageCollector, MosquittoBroker

__all__ = ["mosquitto", "mosquitto_factory", "mqtt_collector"]


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., MosquittoBroker]]:
    """Start brokers with any :class:`MosquittoBroker` options; all stopped afterwards."""
    made: list[MosquittoBroker] = []

    def make(**kwargs: Any) -> MosquittoBroker:
        workdir = kwargs.pop("workdir", tmp_path / f"broker{len(made)}")
        broker = MosquittoBroker(workdir, **kwargs)
        made.append(broker)
        return broker.start()

    yield make
    for broker in made:
        broker.stop(kill=True)


@pytest.fixture
def mosquitto(mosquitto_factory: Callable[..., MosquittoBroker]) -> MosquittoBroker:
    """A running anonymous Mosquitto on a free port."""
    return mosquitto_factory()


@pytest.fixture
def mqtt_collector(request: pytest.FixtureRequest) -> Iterator[Callable[..., MessageCollector]]:
    """Make started subscribers; ``url`` defaults to the ``mosquitto`` fixture's broker."""
    made: list[MessageCollector] = []

    def make(url: str | None = None, topics: tuple[str, ...] | list[str] = ("#",),
             **kwargs: Any) -> MessageCollector:
        if url is None:
            url = request.getfixturevalue("mosquitto").url
        collector = MessageCollector(url, list(topics), **kwargs).start()
        made.append(collector)
        return collector

    yield make
    for collector in made:
        collector.stop()
