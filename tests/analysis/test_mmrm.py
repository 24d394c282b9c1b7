"""MMRM against R nlme::gls (corSymm + varIdent, REML), and the Satterthwaite df."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from alsim.analysis import MmrmSpec
from alsim.analysis.mmrm import RemlProblem, central_hessian, satterthwaite_df

RTOL = 1e-4  # iterative REML fit on both sides
Expected = Callable[[str], dict[str, float]]


@pytest.mark.parametrize(("prefix", "adjusted"), [("mmrm", False), ("mmrm_cov", True)])
def test_mmrm_matches_R_gls(  # noqa: N802
    patients: pd.DataFrame,
    chg_wide: np.ndarray,
    expected: Expected,
    prefix: str,
    adjusted: bool,
) -> None:
    """chg ~ base [+ age + stratum] + visit * trt, UN covariance, REML.

    Expected values from tests/reference/mmrm.R (nlme::gls with corSymm(~ visit_index | id) and
    varIdent(~ 1 | visit)): contrast trt + visit5:trt with model-based SE, control LS mean at
    week 28 and the fitted covariance matrix. gls cannot give Satterthwaite df.
    """
    ref = expected("mmrm")
    res = MmrmSpec(visit_index=4).fit(
        chg_wide,
        baseline=patients["base"].to_numpy(),
        treated=patients["trt"].to_numpy() == 1,
        covariates=patients[["age"]].to_numpy()[None] if adjusted else None,
        stratum=(patients["stratum"] == "SLOWER").to_numpy().astype(int) if adjusted else None,
    )
    assert res.status[0] == "ok"
    assert res.estimate[0] == pytest.approx(ref[f"{prefix}_estimate"], rel=RTOL)
    assert res.std_error[0] == pytest.approx(ref[f"{prefix}_std_error"], rel=RTOL)
    assert res.lsmean_control[0] == pytest.approx(ref[f"{prefix}_lsmean_control"], rel=RTOL)
    assert res.se_lsmean_control[0] == pytest.approx(ref[f"{prefix}_se_lsmean_control"], rel=RTOL)
    for i in range(5):
        for j in range(i, 5):
            got = res.covariance[0, i, j]
            assert got == pytest.approx(ref[f"{prefix}_sigma_{i + 1}{j + 1}"], rel=RTOL)


def test_satterthwaite_df_invariant_to_parameterisation(
    patients: pd.DataFrame, chg_wide: np.ndarray
) -> None:
    """Independent finite-difference check of the df (gls does not report one).

    Satterthwaite's df is invariant to how the covariance is parameterised. Recompute it with
    theta = the K(K+1)/2 distinct elements of S itself (instead of the log-Cholesky factor),
    with its own (Richardson-extrapolated) finite-difference gradient and Hessian, and compare
    (relative 1e-3: second differences of the REML objective).
    """
    spec = MmrmSpec(visit_index=4)
    res = spec.fit(
        chg_wide, baseline=patients["base"].to_numpy(), treated=patients["trt"].to_numpy() == 1
    )
    treated = patients["trt"].to_numpy() == 1
    X = spec._design(5, treated, patients["base"].to_numpy(), np.zeros((90, 0)), np.zeros((90, 0)))
    problem = RemlProblem(chg_wide[0], X)
    tril = np.tril_indices(5)
    S_hat = res.covariance[0]

    def to_sigma(elements: np.ndarray) -> np.ndarray:
        S = np.zeros((5, 5))
        S[tril] = elements
        return S + np.tril(S, -1).T

    def objective(elements: np.ndarray) -> float:
        return problem.gls(to_sigma(elements))[2]

    c = np.zeros(X.shape[-1])
    c[2 + 4] = 1.0
    c[2 + 4 + 4] = 1.0

    def variance(elements: np.ndarray) -> float:
        return float(c @ problem.gls(to_sigma(elements))[1] @ c)

    s0 = S_hat[tril]
    h = 4e-3  # S is strongly curved in its raw elements: Richardson-extrapolated differences
    grad_h = [
        np.array(
            [
                (variance(s0 + e * step) - variance(s0 - e * step)) / (2 * step)
                for e in np.eye(s0.size)
            ]
        )
        for step in (h, h / 2)
    ]
    g = (4 * grad_h[1] - grad_h[0]) / 3
    H = (4 * central_hessian(objective, s0, h / 2) - central_hessian(objective, s0, h)) / 3
    df_direct = 2 * variance(s0) ** 2 / (g @ (2 * np.linalg.inv(H)) @ g)
    assert res.df[0] == pytest.approx(df_direct, rel=1e-3)
    theta = problem.theta_from_sigma(S_hat)
    assert satterthwaite_df(problem, theta, c) == pytest.approx(res.df[0], rel=1e-3)
    # a small-sample df: below the number of patients, above the residual df of one visit
    assert 30 < res.df[0] < 90


def test_mmrm_batched_equals_each_replicate_alone() -> None:
    """Replicates fitted together equal each fitted alone (MMRM loops over replicates)."""
    rng = np.random.default_rng(8)
    n = 40
    treated = np.arange(n) % 2 == 0
    base = rng.normal(38, 5, (2, n))
    y = np.cumsum(rng.normal(-1, 1.5, (2, n, 3)), axis=2) + treated[:, None]
    y[:, :6, 2] = np.nan
    spec = MmrmSpec()
    batched = spec.fit(y, baseline=base, treated=treated)
    for r in range(2):
        alone = spec.fit(y[r : r + 1], baseline=base[r], treated=treated)
        assert batched.estimate[r] == pytest.approx(alone.estimate[0], rel=1e-10)
        assert batched.df[r] == pytest.approx(alone.df[0], rel=1e-8)
