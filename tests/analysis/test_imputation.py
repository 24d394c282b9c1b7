"""Multiple imputation and Rubin's rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alsim.analysis import AncovaSpec, ImputationSpec, JointRankSpec, rubin_pool
from alsim.analysis.imputation import METHOD_CODES, chi_square_quantile

Expected = Callable[[str], dict[str, float]]
RUBIN_INPUTS = Path(__file__).parents[1] / "reference" / "rubin_inputs.csv"


@pytest.mark.parametrize("scenario", [1, 2])
@pytest.mark.parametrize(("case", "df_complete"), [("inf", np.inf), ("dfcom57", 57.0)])
def test_rubin_matches_R_mice_pool_scalar(  # noqa: N802
    expected: Expected, scenario: int, case: str, df_complete: float
) -> None:
    """Rubin's rules with Barnard-Rubin df against ``mice::pool.scalar`` (mice 3.15).

    Inputs: tests/reference/rubin_inputs.csv (m = 5); expected values from
    tests/reference/rubin.R (``n = Inf`` and ``n = 60, k = 3``, i.e. complete-data df 57).
    Closed form: relative tolerance 1e-6.
    """
    ref = expected("rubin")
    inputs = pd.read_csv(RUBIN_INPUTS)
    d = inputs[inputs["scenario"] == scenario]
    pooled = rubin_pool(d["estimate"].to_numpy(), d["variance"].to_numpy(), df_complete)
    key = f"s{scenario}_{case}"
    assert pooled.estimate == pytest.approx(ref[f"{key}_qbar"], rel=1e-6)
    assert pooled.within == pytest.approx(ref[f"{key}_ubar"], rel=1e-6)
    assert pooled.between == pytest.approx(ref[f"{key}_b"], rel=1e-6)
    assert pooled.total == pytest.approx(ref[f"{key}_t"], rel=1e-6)
    assert pooled.df == pytest.approx(ref[f"{key}_df"], rel=1e-6)
    assert pooled.fmi == pytest.approx(ref[f"{key}_fmi"], rel=1e-6)


def test_rubin_hand_computation() -> None:
    """Q = (1, 2, 3), U = 0.5 each: Q_bar 2, B 1, T = 0.5 + (4/3) 1 = 11/6,
    lambda = (4/3)/(11/6) = 8/11, df_old = (m - 1)/lambda^2 = 2 * 121/64 = 3.78125."""
    pooled = rubin_pool([1.0, 2.0, 3.0], [0.5, 0.5, 0.5])
    assert pooled.estimate == 2.0
    assert pooled.total == pytest.approx(11 / 6, rel=1e-12)
    assert pooled.df == pytest.approx(2 * 121 / 64, rel=1e-12)


def _monotone(seed: int, n_replicates: int, n: int = 60) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    treated = np.arange(n) % 3 != 0
    base = rng.normal(38, 5, (n_replicates, n))
    y = np.cumsum(rng.normal(-1, 1.5, (n_replicates, n, 4)), axis=2) + treated[:, None]
    last = np.where(rng.random((n_replicates, n)) < 0.3, rng.integers(1, 4, (n_replicates, n)), 4)
    y = np.where(np.arange(4) < last[..., None], y, np.nan)
    return {"y": y, "base": base, "treated": treated}


def test_imputation_batched_equals_each_replicate_alone() -> None:
    """Each replicate draws from its own SeedSequence child: imputing it alone (with that
    child) reproduces its imputations in the batch exactly."""
    d = _monotone(1, 4)
    spec = ImputationSpec(n_imputations=5, seed=123)
    batched = spec.impute(d["y"], baseline=d["base"], treated=d["treated"])
    children = np.random.SeedSequence(123).spawn(4)
    for r in range(4):
        alone = ImputationSpec(n_imputations=5, seed=[children[r]]).impute(
            d["y"][r : r + 1], baseline=d["base"][r : r + 1], treated=d["treated"]
        )
        np.testing.assert_array_equal(alone.values[:, 0], batched.values[:, r])


def test_imputation_keeps_observed_and_fills_missing() -> None:
    d = _monotone(2, 3)
    imp = ImputationSpec(n_imputations=4, seed=1).impute(
        d["y"], baseline=d["base"], treated=d["treated"]
    )
    observed = np.isfinite(d["y"])
    assert np.all(np.isfinite(imp.values))
    for j in range(4):
        np.testing.assert_array_equal(imp.values[j][observed], d["y"][observed])
    assert not np.allclose(imp.values[0], imp.values[1])


def test_imputation_draws_are_proper() -> None:
    """One visit, one missing patient, m = 4000 draws. Proper normal-regression imputation gives
    mean x'b_hat and variance s^2 (n - p)/(n - p - 2) (1 + x'(X'X)^-1 x) (posterior predictive,
    with E[s*^2] = s^2 (n-p)/(n-p-2)). Monte Carlo SE of the variance ratio ~2.2%; band 8%."""
    rng = np.random.default_rng(5)
    n = 25
    base = rng.normal(38, 5, n)
    y = 2.0 - 0.1 * base + rng.normal(0, 1.0, n)
    y[0] = np.nan
    treated = np.zeros(n, dtype=bool)
    imp = ImputationSpec(n_imputations=4000, seed=9).impute(
        y[None, :, None], baseline=base[None], treated=treated
    )
    draws = imp.values[:, 0, 0, 0]
    X = np.column_stack([np.ones(n - 1), base[1:]])
    xtx_inv = np.linalg.inv(X.T @ X)
    b_hat = xtx_inv @ X.T @ y[1:]
    s2 = np.sum((y[1:] - X @ b_hat) ** 2) / (n - 3)
    x0 = np.array([1.0, base[0]])
    expected_var = s2 * (n - 3) / (n - 5) * (1 + x0 @ xtx_inv @ x0)
    assert draws.mean() == pytest.approx(x0 @ b_hat, abs=4 * np.sqrt(expected_var / 4000))
    assert draws.var() / expected_var == pytest.approx(1.0, abs=0.08)


def test_mi_without_missing_data_equals_complete_data_ancova() -> None:
    """No missing values: every imputation is the data, B = 0, so Rubin gives the ANCOVA."""
    d = _monotone(3, 2)
    y = np.nan_to_num(d["y"], nan=-3.0)
    imp = ImputationSpec(n_imputations=3, seed=0).impute(
        y, baseline=d["base"], treated=d["treated"]
    )
    res = AncovaSpec().fit(
        imp.stacked()[..., -1], baseline=imp.tile(d["base"]), treated=d["treated"]
    )
    pooled = imp.pool(res)
    direct = AncovaSpec().fit(y[..., -1], baseline=d["base"], treated=d["treated"])
    np.testing.assert_allclose(pooled.estimate, direct.estimate, rtol=1e-12)
    np.testing.assert_allclose(pooled.std_error, direct.std_error, rtol=1e-12)
    assert np.all(pooled.between_variance < 1e-20)


def test_mi_joint_rank_pools_t_and_its_variance() -> None:
    """MI joint rank: Rubin's rules on (T, Var T) equal rubin_pool on the per-imputation tests."""
    d = _monotone(4, 2)
    imp = ImputationSpec(n_imputations=6, seed=2).impute(
        d["y"], baseline=d["base"], treated=d["treated"]
    )
    res = JointRankSpec().fit(imp.stacked(), treated=d["treated"])
    pooled = imp.pool(res)
    per = np.stack(
        [JointRankSpec().fit(imp.values[j], treated=d["treated"]).estimate for j in range(6)]
    )
    per_var = np.stack(
        [JointRankSpec().fit(imp.values[j], treated=d["treated"]).std_error ** 2 for j in range(6)]
    )
    ref = rubin_pool(per, per_var)
    np.testing.assert_allclose(pooled.estimate, ref.estimate, rtol=1e-12)
    np.testing.assert_allclose(pooled.std_error**2, ref.total, rtol=1e-12)
    np.testing.assert_allclose(pooled.df, ref.df, rtol=1e-12)
    assert "multiple imputation (m=6" in pooled.method


REFERENCE_MI = Path(__file__).parents[1] / "reference" / "reference_mi.csv"


@pytest.mark.parametrize(
    "method", ["mar", "jump-to-reference", "copy-increments-from-reference", "copy-reference"]
)
def test_reference_based_imputation_matches_R_carpenter_roger_kenward(  # noqa: N802
    expected: Expected, method: str
) -> None:
    """The law of the imputed values against tests/reference/reference_mi.R, which builds
    Carpenter, Roger & Kenward's (2013) joint normal for each deviating patient (own-arm
    pre-deviation block, reference conditional after it) and its conditional given the observed
    visits. 800 complete patients per arm fit the imputation model (4 visits, so three previous
    visits make it unstructured); 16 targets deviate after visit 0-3. Over m = 1000 imputations
    the mean of each imputed value is within 4 Monte Carlo SE (inflated by 1.5 for the
    posterior spread of the parameters) of R's conditional mean; the variance of each within 20%
    of R's conditional variance (Monte Carlo SE about 4.5%; 40 values are checked), and their
    average ratio within 5% (its Monte Carlo SE is below 1.5%; the parameters' posterior spread
    adds about 1%)."""
    ref = expected("reference_mi")
    data = pd.read_csv(REFERENCE_MI)
    y = data[["y1", "y2", "y3", "y4"]].to_numpy()[None]
    target = (data["role"] == "target").to_numpy()
    codes = np.where(target[None, :, None], METHOD_CODES[method], METHOD_CODES["mar"])
    m = 1000
    imputed = ImputationSpec(n_imputations=m, seed=17).impute(
        y, baseline=data["base"].to_numpy()[None], treated=data["trt"].to_numpy() == 1, method=codes
    )
    assert imputed.status[0] == "ok"
    ratios = []
    for i in np.flatnonzero(target):
        for k in np.flatnonzero(np.isnan(y[0, i])):
            key = f"{data['id'][i]}_{method}_y{k + 1}"
            draws = imputed.values[:, 0, i, k]
            mean, var = ref[f"{key}_mean"], ref[f"{key}_var"]
            assert draws.mean() == pytest.approx(mean, abs=4 * 1.5 * np.sqrt(var / m))
            ratios.append(draws.var() / var)
    assert len(ratios) == 2 * (4 + 3 + 2 + 1) * 2
    assert np.all(np.abs(np.array(ratios) - 1.0) < 0.2)
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.05)


def test_reference_based_imputation_pulls_treated_values_toward_the_reference() -> None:
    """Tofersen declines less in reference_mi.csv: its deviating patients' imputed means fall
    from MAR to copy-increments to jump-to-reference (equal at the first missing visit after
    baseline-only patients), and control patients' imputations do not depend on the method."""
    data = pd.read_csv(REFERENCE_MI)
    y = data[["y1", "y2", "y3", "y4"]].to_numpy()[None]
    target = (data["role"] == "target").to_numpy()
    treated = data["trt"].to_numpy() == 1
    means = {}
    for method in ("mar", "copy-increments-from-reference", "jump-to-reference"):
        codes = np.where(target[None, :, None], METHOD_CODES[method], METHOD_CODES["mar"])
        imp = ImputationSpec(n_imputations=50, seed=3).impute(
            y, baseline=data["base"].to_numpy()[None], treated=treated, method=codes
        )
        imputed_only = np.where(np.isnan(y), imp.values, 0.0).sum(axis=(0, 3))
        means[method] = (imputed_only / (50 * np.maximum(np.isnan(y).sum(axis=2), 1)))[0]
    tof = target & treated
    assert np.all(means["jump-to-reference"][tof] < means["mar"][tof])
    assert np.all(means["copy-increments-from-reference"][tof] < means["mar"][tof])
    assert np.all(
        means["jump-to-reference"][tof] <= means["copy-increments-from-reference"][tof] + 1e-9
    )
    control = target & ~treated
    np.testing.assert_array_equal(means["mar"][control], means["jump-to-reference"][control])


def test_chi_square_quantile_is_scipys_bit_for_bit() -> None:
    from scipy import special, stats

    rng = np.random.default_rng(11)
    z = rng.standard_normal((500, 20)) * 4
    z[0, :4] = [-np.inf, np.inf, -40.0, 40.0]  # q = 0 and q = 1 exactly
    df = rng.integers(1, 400, size=(500, 1)).astype(np.float64)
    df[:5, 0] = [1.0, 2.0, 0.5, 1e6, 3.0]
    expected = stats.chi2.ppf(stats.norm.cdf(z), df)
    got = chi_square_quantile(special.ndtr(z), df)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert got[0, 0] == 0.0 and got[0, 1] == np.inf
