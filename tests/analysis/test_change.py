"""Percent change by arm vs scipy's Welch t-test, replicate by replicate."""

import numpy as np
import pytest
from scipy import stats

from alsim.analysis.change import percent_change_by_arm
from alsim.errors import AnalysisError

ARMS = ("PLACEBO", "LOW", "HIGH")


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    arm_index = np.repeat(np.arange(3), [7, 9, 11])
    baseline = rng.lognormal(5, 0.3, size=(4, arm_index.size))
    value = baseline * rng.lognormal(-0.1 * arm_index, 0.2, size=baseline.shape)
    value[0, 3] = np.nan
    value[2, 20] = np.nan
    return baseline, value, arm_index


def test_matches_scipy_welch_ttest_per_replicate() -> None:
    """Reference: scipy.stats.ttest_ind(equal_var=False) and its confidence_interval; tol 1e-10."""
    baseline, value, arm_index = make_data()
    result = percent_change_by_arm(baseline, value, arm_index, ARMS, "PLACEBO")
    pct = 100 * (value / baseline - 1)
    for r in range(baseline.shape[0]):
        control = pct[r, arm_index == 0]
        control = control[~np.isnan(control)]
        for a in (1, 2):
            treated = pct[r, arm_index == a]
            treated = treated[~np.isnan(treated)]
            ref = stats.ttest_ind(treated, control, equal_var=False)
            ci = ref.confidence_interval(0.95)
            assert result.estimate[r, a] == pytest.approx(
                treated.mean() - control.mean(), rel=1e-10
            )
            assert result.p_value[r, a] == pytest.approx(ref.pvalue, rel=1e-10)
            assert result.df[r, a] == pytest.approx(ref.df, rel=1e-10)
            assert result.ci_low[r, a] == pytest.approx(ci.low, rel=1e-10)
            assert result.ci_high[r, a] == pytest.approx(ci.high, rel=1e-10)
            assert result.n[r, a] == treated.size
            geo = 100 * (
                np.exp(np.nanmean(np.log(value[r, arm_index == a] / baseline[r, arm_index == a])))
                - 1
            )
            assert result.geo_mean_pct_change[r, a] == pytest.approx(geo, rel=1e-10)
    assert np.isnan(result.estimate[:, 0]).all()


def test_to_frame_has_one_row_per_replicate_and_arm() -> None:
    baseline, value, arm_index = make_data()
    frame = percent_change_by_arm(baseline, value, arm_index, ARMS, "PLACEBO").to_frame()
    assert len(frame) == 4 * 3
    assert {"estimate", "std_error", "ci_low", "ci_high", "p_value"} <= set(frame.columns)


def test_unknown_control_is_a_clear_error() -> None:
    baseline, value, arm_index = make_data()
    with pytest.raises(AnalysisError, match="unknown control arm 'SHAM'; allowed: PLACEBO, LOW"):
        percent_change_by_arm(baseline, value, arm_index, ARMS, "SHAM")
