"""Mantel-Haenszel risk difference against an independent R implementation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from alsim.analysis.binary import RiskDifferenceSpec

DAY = 182


@pytest.mark.parametrize("stratified", [False, True])
def test_risk_difference_matches_R_mantel_haenszel_sato(  # noqa: N802
    patients: pd.DataFrame, expected: Callable[[str], dict[str, float]], stratified: bool
) -> None:
    """Death or permanent ventilation by day 182 (censored earlier: unknown, left out), Mantel-
    Haenszel risk difference with Sato's variance; expected values from
    tests/reference/risk_difference.R (formulas of Greenland & Robins 1985 and Sato 1989 coded
    in R; the unstratified estimate also equals prop.test's). Closed form: rtol 1e-10."""
    ref = expected("risk_difference")
    prefix = "rd_strat" if stratified else "rd"
    event = (patients["event"] == 1) & (patients["time"] <= DAY)
    known = event | (patients["time"] >= DAY)
    outcome = np.where(known, event.astype(float), np.nan)
    result = RiskDifferenceSpec().fit(
        outcome,
        treated=patients["trt"].to_numpy() == 1,
        stratum=(patients["stratum"] == "SLOWER").to_numpy().astype(int) if stratified else None,
    )
    assert result.status[0] == "ok"
    assert result.n[0] == ref["n_known"]
    for name in ("estimate", "std_error", "ci_low", "ci_high", "p_value"):
        assert getattr(result, name)[0] == pytest.approx(ref[f"{prefix}_{name}"], rel=1e-10)


def test_risk_difference_without_a_two_arm_stratum_is_not_ok() -> None:
    """No stratum with both arms observed: NaN and a status, not an exception."""
    result = RiskDifferenceSpec().fit(
        np.array([[1.0, 0.0, np.nan, np.nan]]),
        treated=np.array([True, True, False, False]),
    )
    assert result.status[0] != "ok" and np.isnan(result.estimate[0])


def test_risk_difference_batched_equals_each_replicate_alone() -> None:
    rng = np.random.default_rng(3)
    event = (rng.random((4, 40)) < 0.3).astype(float)
    event[rng.random((4, 40)) < 0.1] = np.nan
    treated = np.arange(40) % 2 == 0
    stratum = np.arange(40) % 3
    batched = RiskDifferenceSpec().fit(event, treated=treated, stratum=stratum)
    for r in range(4):
        alone = RiskDifferenceSpec().fit(event[r], treated=treated, stratum=stratum)
        assert batched.estimate[r] == pytest.approx(alone.estimate[0], rel=1e-12)
        assert batched.std_error[r] == pytest.approx(alone.std_error[0], rel=1e-12)
