"""Fuzz the raw BLE capture reader and the decoders' handling of host arrival times.

``tests/sensors/test_fuzz.py`` fuzzes notification *bytes*; here the capture
*file* is attacked (broken JSON lines, missing or wrong fields, odd hex, a
clock that jumps or goes backwards, a mangled header) and every decoder gets
hostile arrival times.  Only :class:`~repsense.errors.InputError` may leave
the reader; decoders never raise; whatever is yielded is finite and in order.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repsense.errors import InputError
from repsense.io.raw_capture import RawCapture
from repsense.samples import SampleChunk
from repsense.sensors import DRIVERS, ENCODERS

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROTOCOLS = ("repsense", "witmotion", "thingy52")


def capture_lines(protocol: str, n: int = 30) -> list[str]:
    """A valid capture of ``protocol`` as text lines (header first)."""
    drv = DRIVERS[protocol]()
    enc = ENCODERS[protocol]()
    for c in drv.notify_uuids:
        enc.on_subscribe(c)
    for w in drv.configure(drv.rate_hz):
        enc.on_write(w.char, w.data)
    rate = enc.rate_hz
    t = np.arange(n) / rate
    chunk = SampleChunk(t, np.column_stack([np.sin(t), np.cos(t), np.ones(n)]),
                        np.column_stack([10 * t, -5 * t, np.zeros(n)]))
    head = {"format": "repsense.raw/1", "protocol": protocol,
            "device": {"name": "fuzz", "address": "00:11:22:33:44:55"}, "config": drv.config()}
    lines = [json.dumps(head)]
    for i, note in enumerate(enc.encode(chunk)):
        lines.append(json.dumps({"t": 1000.0 + i / 10, "char": note.char,
                                 "hex": bytes(note.data).hex()}))
    return lines


field_value = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                        st.floats(allow_nan=True, allow_infinity=True),
                        st.text(max_size=12), st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@st.composite
def mutated_capture(draw: st.DrawFn) -> str:
    lines = capture_lines(draw(st.sampled_from(PROTOCOLS)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["junk", "field", "drop_field", "hex", "time", "truncate",
                                   "blank", "dup"]))
        if op == "junk":
            lines[i] = draw(st.text(max_size=40))
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == "blank":
            lines[i] = ""
        elif op == "dup":
            lines.insert(i, lines[i])
        else:
            try:
                obj = json.loads(lines[i])
            except ValueError:
                continue
            keys = sorted(obj) or ["t"]
            key = draw(st.sampled_from(keys + ["protocol", "config", "format"]))
            if op == "field":
                obj[key] = draw(field_value)
            elif op == "drop_field":
                obj.pop(key, None)
            elif op == "hex" and isinstance(obj.get("hex"), str):
                obj["hex"] = draw(st.sampled_from(["", "0", "zz", obj["hex"][:-1],
                                                   obj["hex"] + "00", obj["hex"][::-1]]))
            elif op == "time" and isinstance(obj.get("t"), (int, float)):
                obj["t"] = draw(st.sampled_from([-1.0, 0.0, 1e18, obj["t"] - 5.0,
                                                 obj["t"] + 3600.0]))
            lines[i] = json.dumps(obj)
    return "\n".join(lines) + "\n"


def read_capture(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cap.jsonl"
        path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        try:
            chunks = list(RawCapture(path).chunks())
        except InputError as exc:
            msg = str(exc)
            assert msg and "\n" not in msg
            assert str(path.with_suffix("")) in msg, msg
            return
    last = -math.inf
    for c in chunks:
        assert np.isfinite(c.t).all() and np.isfinite(c.acc).all()
        assert c.gyr is None or np.isfinite(c.gyr).all()
        if len(c):
            assert c.t[0] >= last and (np.diff(c.t) >= 0).all(), "time must not go backwards"
            last = float(c.t[-1])


@FUZZ
@given(mutated_capture())
def test_mutated_captures(text: str) -> None:
    read_capture(text)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    read_capture(data)


# A host clock is steady (never goes back) but it stalls (notifications handed
# over in one batch share a stamp), jitters and jumps (the OS suspended us).
clock_step = st.one_of(st.just(0.0), st.floats(0.0, 0.2), st.sampled_from([1e-9, 5.0, 3600.0,
                                                                           1e6]))


@FUZZ
@given(st.sampled_from(PROTOCOLS), st.floats(0.0, 2e9),
       st.lists(clock_step, min_size=1, max_size=20))
def test_decoders_take_any_steady_arrival_times(protocol: str, t0: float,
                                                steps: list[float]) -> None:
    """Valid frames with a host clock that stalls, jitters and jumps ahead."""
    lines = capture_lines(protocol, n=40)
    drv = DRIVERS[protocol]()
    notes = [json.loads(x) for x in lines[1:]]
    t = t0
    last = -math.inf
    for k, note in enumerate(notes):
        t += steps[k % len(steps)]
        res = drv.decode(note["char"], bytes.fromhex(note["hex"]), t)
        if res.chunk is not None and len(res.chunk):
            c = res.chunk
            assert np.isfinite(c.acc).all() and np.isfinite(c.t).all()
            assert c.t[0] >= last and (np.diff(c.t) >= 0).all()
            last = float(c.t[-1])
