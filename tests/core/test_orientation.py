"""The accelerometer's own 1 g, as the gravity estimator and the gyroscope check use it."""

from __future__ import annotations

import numpy as np
import pytest

from repsense.dsp.orientation import OwnOneG


def _sizes(scale: float, seconds: float = 6.0, rate: float = 50.0) -> np.ndarray:
    """Sizes of a calibrated accelerometer times ``scale``: still, then a burst of
    movement (scattering 0.3 g), then still again."""
    rng = np.random.default_rng(0)
    n = int(seconds * rate)
    size = 1.0 + rng.normal(0.0, 0.004, n)
    size[n // 3: n // 2] += rng.normal(0.0, 0.3, n // 2 - n // 3)
    return size * scale


@pytest.mark.parametrize("scale", [1.0, 1.05, 0.95])
def test_a_calibrated_accelerometer_keeps_1_g_exactly(scale: float) -> None:
    est = OwnOneG(50.0)
    assert np.array_equal(est.push(_sizes(scale)), np.ones(300))
    assert est.mean_ == pytest.approx(scale, abs=0.01)


@pytest.mark.parametrize("scale", [0.5, 1.4, 2.0])
def test_an_accelerometer_off_1_g_reads_its_own_after_a_quiet_second(scale: float) -> None:
    est = OwnOneG(50.0)
    out = est.push(_sizes(scale))
    # 0.2 s blocks: five quiet ones make the first second, ending at sample 49
    assert np.all(out[:49] == 1.0)
    assert np.allclose(out[49:], scale, rtol=0.01)  # the movement's blocks are not quiet


def test_chunking_does_not_move_it() -> None:
    sizes = _sizes(1.4)
    whole = OwnOneG(50.0).push(sizes)
    for chunk in (1, 7, 64):
        est = OwnOneG(50.0)
        parts = [est.push(sizes[k:k + chunk]) for k in range(0, sizes.shape[0], chunk)]
        assert np.array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("scale", [1.0, 1.4])
def test_before_a_quiet_second_it_says_it_does_not_know(scale: float) -> None:
    # The gravity estimate without a gyroscope asks for NaN there: no size is judged yet.
    out = OwnOneG(50.0).push(_sizes(scale), unknown=np.nan)
    assert np.isnan(out[:49]).all()
    assert np.allclose(out[49:], scale, rtol=0.01)
