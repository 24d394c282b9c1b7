"""ANCOVA and GMR ANCOVA against R's lm + emmeans, and batched == per-replicate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from alsim.analysis import AncovaSpec, GmrSpec
from alsim.errors import AnalysisError

RTOL = 1e-6  # closed-form least squares: agreement to rounding of the committed values


def _check(result: object, ref: dict[str, float], prefix: str, log: bool = False) -> None:
    tr = (lambda x: np.exp(x)) if log else (lambda x: x)
    got = {
        "estimate": result.log_ratio[0] if log else result.estimate[0],  # type: ignore[attr-defined]
        "std_error": result.std_error[0],  # type: ignore[attr-defined]
        "p_value": result.p_value[0],  # type: ignore[attr-defined]
        "df": result.df[0],  # type: ignore[attr-defined]
    }
    for key, value in got.items():
        assert value == pytest.approx(ref[f"{prefix}_{key}"], rel=RTOL), key
    assert result.ci_low[0] == pytest.approx(tr(ref[f"{prefix}_ci_low"]), rel=RTOL)  # type: ignore[attr-defined]
    assert result.ci_high[0] == pytest.approx(tr(ref[f"{prefix}_ci_high"]), rel=RTOL)  # type: ignore[attr-defined]


def test_ancova_matches_R_lm(  # noqa: N802
    patients: pd.DataFrame, chg_wide: np.ndarray, expected: Callable[[str], dict[str, float]]
) -> None:
    """chg ~ trt + base at week 28.

    Expected values from tests/reference/ancova_gmr.R (lm, emmeans).
    """
    ref = expected("ancova_gmr")
    result = AncovaSpec().fit(
        chg_wide[:, :, 4], baseline=patients["base"].to_numpy(), treated=patients["trt"] == 1
    )
    _check(result, ref, "ancova")
    assert result.lsmean_treated[0] == pytest.approx(ref["ancova_lsmean_treated"], rel=RTOL)
    assert result.lsmean_control[0] == pytest.approx(ref["ancova_lsmean_control"], rel=RTOL)
    assert result.se_lsmean_treated[0] == pytest.approx(ref["ancova_se_lsmean_treated"], rel=RTOL)
    assert result.se_lsmean_control[0] == pytest.approx(ref["ancova_se_lsmean_control"], rel=RTOL)
    assert result.n[0] == 71


def test_ancova_with_covariates_and_stratum_matches_R_lm(  # noqa: N802
    patients: pd.DataFrame, chg_wide: np.ndarray, expected: Callable[[str], dict[str, float]]
) -> None:
    """chg ~ trt + base + age + stratum; LS means with equal stratum weights (emmeans).

    Expected values from tests/reference/ancova_gmr.R.
    """
    ref = expected("ancova_gmr")
    result = AncovaSpec().fit(
        chg_wide[:, :, 4],
        baseline=patients["base"].to_numpy(),
        treated=patients["trt"].to_numpy() == 1,
        covariates=patients[["age"]].to_numpy()[None],
        stratum=(patients["stratum"] == "SLOWER").to_numpy().astype(int),
    )
    _check(result, ref, "ancova_cov")
    assert result.lsmean_treated[0] == pytest.approx(ref["ancova_cov_lsmean_treated"], rel=RTOL)
    assert result.lsmean_control[0] == pytest.approx(ref["ancova_cov_lsmean_control"], rel=RTOL)
    assert result.se_lsmean_control[0] == pytest.approx(
        ref["ancova_cov_se_lsmean_control"], rel=RTOL
    )


def test_gmr_matches_R_lm(  # noqa: N802
    patients: pd.DataFrame, expected: Callable[[str], dict[str, float]]
) -> None:
    """log(NfL28/NfL0) ~ trt + log(NfL0); expected values from tests/reference/ancova_gmr.R."""
    ref = expected("ancova_gmr")
    result = GmrSpec().fit(
        patients["nfl28"].to_numpy(),
        baseline=patients["nfl0"].to_numpy(),
        treated=patients["trt"].to_numpy() == 1,
    )
    _check(result, ref, "gmr", log=True)
    assert result.estimate[0] == pytest.approx(np.exp(ref["gmr_estimate"]), rel=RTOL)
    assert result.gmr_treated[0] == pytest.approx(np.exp(ref["gmr_lsmean_treated"]), rel=RTOL)
    assert result.gmr_control[0] == pytest.approx(np.exp(ref["gmr_lsmean_control"]), rel=RTOL)
    assert result.difference_pct[0] == pytest.approx(
        100 * (1 - np.exp(ref["gmr_estimate"])), rel=RTOL
    )
    assert result.difference_pct_ci_low[0] == pytest.approx(
        100 * (1 - np.exp(ref["gmr_ci_high"])), rel=RTOL
    )


def test_gmr_label_check_ratio_of_gmrs() -> None:
    """SCIENCE.md section 5: GMR 0.45 vs 1.12 gives a ratio of 0.40 (a 60% difference)."""
    n = 40
    treated = np.arange(n) % 2 == 0
    base = np.full(n, 50.0) * np.exp(np.linspace(-0.5, 0.5, n))
    noise = np.tile([-0.01, 0.01], n // 2) * np.sign(np.arange(n) - n / 2 + 0.5)
    value = base * np.where(treated, 0.45, 1.12) * np.exp(noise - noise.mean())
    result = GmrSpec().fit(value, baseline=base, treated=treated)
    assert result.estimate[0] == pytest.approx(0.45 / 1.12, rel=5e-3)
    assert result.difference_pct[0] == pytest.approx(100 * (1 - 0.45 / 1.12), rel=5e-3)


def _simulated(seed: int, n_replicates: int, n_patients: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    treated = rng.random((n_replicates, n_patients)) < 2 / 3
    treated[:, :2] = [True, False]
    base = rng.normal(38, 5, (n_replicates, n_patients))
    chg = -6 + 2 * treated - 0.1 * base + rng.normal(0, 4, base.shape)
    chg[rng.random(base.shape) < 0.15] = np.nan
    age = rng.normal(50, 10, (n_replicates, n_patients, 1))
    stratum = rng.integers(0, 2, (n_replicates, n_patients))
    stratum[:, :4] = [0, 1, 0, 1]
    return {"chg": chg, "base": base, "treated": treated, "age": age, "stratum": stratum}


def test_ancova_matches_statsmodels_ols_per_replicate() -> None:
    """Each replicate of a batched fit equals statsmodels OLS on that replicate alone."""
    d = _simulated(3, 6, 40)
    result = AncovaSpec().fit(
        d["chg"],
        baseline=d["base"],
        treated=d["treated"],
        covariates=d["age"],
        stratum=d["stratum"],
    )
    for r in range(6):
        keep = np.isfinite(d["chg"][r])
        X = np.column_stack(
            [
                np.ones(40),
                d["treated"][r],
                d["base"][r],
                d["age"][r, :, 0],
                d["stratum"][r] == 1,
            ]
        ).astype(float)[keep]
        fit = sm.OLS(d["chg"][r][keep], X).fit()
        assert result.estimate[r] == pytest.approx(fit.params[1], rel=1e-9)
        assert result.std_error[r] == pytest.approx(fit.bse[1], rel=1e-9)
        assert result.p_value[r] == pytest.approx(fit.pvalues[1], rel=1e-9)
        lo, hi = fit.conf_int()[1]
        assert (result.ci_low[r], result.ci_high[r]) == pytest.approx((lo, hi), rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_replicates=st.integers(1, 5))
def test_ancova_batched_equals_each_replicate_alone(seed: int, n_replicates: int) -> None:
    """Property: analysing replicates together gives the numbers each gives alone."""
    d = _simulated(seed, n_replicates, 24)
    spec = AncovaSpec()
    batched = spec.fit(
        d["chg"],
        baseline=d["base"],
        treated=d["treated"],
        covariates=d["age"],
        stratum=d["stratum"],
    ).to_frame()
    for r in range(n_replicates):
        alone = spec.fit(
            d["chg"][r],
            baseline=d["base"][r],
            treated=d["treated"][r],
            covariates=d["age"][r : r + 1],
            stratum=d["stratum"][r],
        ).to_frame()
        cols = ["estimate", "std_error", "ci_low", "ci_high", "p_value", "df", "n"]
        np.testing.assert_allclose(
            batched.loc[r, cols].to_numpy(float), alone.loc[0, cols].to_numpy(float), rtol=1e-10
        )


def test_ancova_failed_replicate_is_data_not_exception() -> None:
    """A replicate with no control patient gets NaN and a status message; others are fine."""
    d = _simulated(5, 3, 30)
    d["treated"][1, :] = True
    result = AncovaSpec().fit(d["chg"], baseline=d["base"], treated=d["treated"])
    assert np.isnan(result.estimate[1])
    assert "both arms" in result.status[1]
    assert np.isfinite(result.estimate[[0, 2]]).all()
    assert result.ok.tolist() == [True, False, True]


def test_gmr_rejects_non_positive_values() -> None:
    with pytest.raises(AnalysisError, match="positive"):
        GmrSpec().fit([1.0, -1.0], baseline=[1.0, 1.0], treated=[True, False])


def test_result_arrays_are_read_only() -> None:
    d = _simulated(1, 2, 30)
    result = AncovaSpec().fit(d["chg"], baseline=d["base"], treated=d["treated"])
    with pytest.raises(ValueError, match="read-only"):
        result.estimate[0] = 1.0


@pytest.mark.parametrize("p", [0, 1, 2, 7])
def test_finite_rows_and_x_mean_match_the_direct_expressions(p: int) -> None:
    from alsim.analysis._arrays import batched_ols, finite_rows

    rng = np.random.default_rng(p)
    X = rng.standard_normal((6, 30, p))
    y = rng.standard_normal((6, 30))
    if p:
        X[rng.random(X.shape) < 0.05] = np.nan
        X[0, 0, -1], X[1, 2, 0] = np.inf, -np.inf
    np.testing.assert_array_equal(finite_rows(X), np.all(np.isfinite(X), axis=-1))
    if p == 0:
        return  # no regression without predictors
    mask = rng.random((6, 30)) < 0.8
    fit = batched_ols(y, X, mask)
    used = mask & np.isfinite(y) & np.all(np.isfinite(X), axis=-1)
    np.testing.assert_array_equal(fit.used, used)
    xw = np.where(used[..., None], X, 0.0)
    np.testing.assert_array_equal(
        fit.x_mean, xw.sum(axis=1) / np.maximum(used.sum(axis=1), 1)[:, None]
    )
