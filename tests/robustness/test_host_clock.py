"""Decoders keep their "never raise" promise even when the host clock misbehaves."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repsense.sensors import DRIVERS

from .test_fuzz_raw_capture import capture_lines

WILD = [[0.0, 1.0], [0.0, 1.7e306], [0.0, 3.6e306], [0.0, 0.0, 5.0, 5.0],
        [0.0, 0.05, 0.1, 30.0, 30.05], [5.0, 4.0, 3.0, 2.0]]


@pytest.mark.parametrize("protocol", ["repsense", "witmotion", "thingy52"])
@pytest.mark.parametrize("arrivals", WILD)
def test_backwards_or_absurd_arrival_times_never_raise(protocol, arrivals):
    drv = DRIVERS[protocol]()
    for k, line in enumerate(capture_lines(protocol, n=40)[1:]):
        note = json.loads(line)
        result = drv.decode(note["char"], bytes.fromhex(note["hex"]), arrivals[k % len(arrivals)])
        if result.chunk is not None:
            assert len(result.chunk) > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9), min_size=1, max_size=12))
def test_random_arrival_times_never_raise(arrivals):
    drv = DRIVERS["witmotion"]()
    for k, line in enumerate(capture_lines("witmotion", n=30)[1:]):
        note = json.loads(line)
        drv.decode(note["char"], bytes.fromhex(note["hex"]), arrivals[k % len(arrivals)])
