"""Output analysis helpers against hand values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from netsim.stats import batch_means, coefficient_of_variation, jain_index, summarize, t_interval


def test_t_interval_hand_value():
    x = [1.0, 2.0, 3.0, 4.0]
    mean, half = t_interval(x)
    assert mean == 2.5
    assert half == pytest.approx(st.t.ppf(0.975, 3) * np.std(x, ddof=1) / 2)


def test_t_interval_single_sample_has_nan_half_width():
    assert np.isnan(t_interval([3.0])[1])


def test_batch_means_covers_true_mean_for_ar1():
    rng = np.random.default_rng(0)
    x = np.empty(100_000)
    x[0] = 0
    e = rng.normal(size=x.size)
    for i in range(1, x.size):
        x[i] = 0.9 * x[i - 1] + e[i]
    mean, half = batch_means(x, batches=20)
    assert abs(mean) < half


def test_jain_extremes():
    assert jain_index([3, 3, 3, 3]) == pytest.approx(1.0)
    assert jain_index([1, 0, 0, 0]) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        jain_index([-1, 1])


def test_cv():
    assert coefficient_of_variation([1, 1, 1]) == 0
    assert coefficient_of_variation([1, 3]) == pytest.approx(np.std([1, 3], ddof=1) / 2)


def test_summarize_groups():
    df = pd.DataFrame({"m": ["a", "a", "b", "b"], "value": [1.0, 3.0, 5.0, 5.0]})
    s = summarize(df, ["m"])
    assert s["mean"].tolist() == [2.0, 5.0] and s["n"].tolist() == [2, 2]
