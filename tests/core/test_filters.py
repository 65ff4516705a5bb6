"""The numpy low-pass equals scipy.signal's Butterworth, however the stream is chunked."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from repsense.dsp.filters import StreamingLowpass, butter2_lowpass, lowpass_from_rest


@pytest.mark.parametrize(("cutoff", "rate"), [(1.5, 100.0), (3.0, 25.0), (1.5, 10.0),
                                              (3.0, 400.0), (20.0, 26.0)])
def test_design_matches_scipy_butter(cutoff: float, rate: float) -> None:
    want = signal.butter(2, min(cutoff / (rate / 2), 0.95), output="sos")
    assert np.allclose(butter2_lowpass(cutoff, rate), want, rtol=1e-12, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 700), min_size=1, max_size=12),
       rate=st.sampled_from([10.0, 25.0, 100.0, 400.0]), seed=st.integers(0, 1000))
def test_streaming_output_matches_scipy_sosfilt(sizes: list[int], rate: float, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(3000, 3)).cumsum(axis=0)
    lp = StreamingLowpass(1.5, rate)
    out, i, j = [], 0, 0
    while i < len(x):
        n = sizes[j % len(sizes)]
        out.append(lp(x[i:i + n]))
        i += n
        j += 1
    sos = signal.butter(2, min(1.5 / (rate / 2), 0.95), output="sos")
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    want, _ = signal.sosfilt(sos, x, axis=0, zi=zi)
    got = np.concatenate(out)
    assert np.abs(got - want).max() <= 1e-9 * np.abs(want).max()


def test_from_rest_matches_scipy() -> None:
    x = np.random.default_rng(1).normal(size=1000)
    sos = butter2_lowpass(3.0, 100.0)
    assert np.allclose(lowpass_from_rest(sos, x), signal.sosfilt(sos, x), atol=1e-10)
