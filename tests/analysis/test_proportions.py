"""Difference in proportions by a landmark: Wald and Mantel-Haenszel against R
(tests/reference/proportions.R: prop.test and metafor::rma.mh)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alsim.analysis.proportions import RiskDifferenceSpec
from alsim.errors import AnalysisError

RTOL_CLOSED = 1e-6  # closed-form estimators

Expected = Callable[[str], dict[str, float]]


def _status(patients: pd.DataFrame, day: int) -> np.ndarray:
    """1 = event by `day`, 0 = followed past it without the event, NaN unknown."""
    time, event = patients["time"].to_numpy(float), patients["event"].to_numpy() == 1
    return np.where(event & (time <= day), 1.0, np.where(time >= day, 0.0, np.nan))


@pytest.mark.parametrize("day", [182, 280])
def test_wald_difference_matches_R_prop_test(  # noqa: N802
    patients: pd.DataFrame, expected: Expected, day: int
) -> None:
    """prop.test(x, n, correct = FALSE): estimate and Wald CI."""
    ref = expected("proportions")
    res = RiskDifferenceSpec().fit(_status(patients, day), treated=patients["trt"].to_numpy() == 1)
    assert res.estimate[0] == pytest.approx(ref[f"wald_day{day}_estimate"], rel=RTOL_CLOSED)
    assert res.ci_low[0] == pytest.approx(ref[f"wald_day{day}_ci_low"], rel=RTOL_CLOSED)
    assert res.ci_high[0] == pytest.approx(ref[f"wald_day{day}_ci_high"], rel=RTOL_CLOSED)


@pytest.mark.parametrize("day", [182, 280])
def test_mantel_haenszel_matches_R_metafor(  # noqa: N802
    patients: pd.DataFrame, expected: Expected, day: int
) -> None:
    """metafor::rma.mh(measure = "RD") over the FASTER/SLOWER strata."""
    ref = expected("proportions")
    res = RiskDifferenceSpec().fit(
        _status(patients, day),
        treated=patients["trt"].to_numpy() == 1,
        stratum=(patients["stratum"] == "SLOWER").to_numpy().astype(int),
    )
    for name in ("estimate", "std_error", "p_value", "ci_low", "ci_high"):
        value = getattr(res, name)[0]
        assert value == pytest.approx(ref[f"mh_day{day}_{name}"], rel=RTOL_CLOSED), name


def test_mantel_haenszel_with_one_stratum_is_the_crude_difference() -> None:
    rng = np.random.default_rng(3)
    event = (rng.random((5, 40)) < 0.4).astype(float)
    treated = np.arange(40) % 2 == 0
    crude = RiskDifferenceSpec().fit(event, treated=treated)
    mh = RiskDifferenceSpec().fit(event, treated=treated, stratum=np.zeros(40, dtype=int))
    np.testing.assert_allclose(mh.estimate, crude.estimate, rtol=1e-12)


@given(
    st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=8, max_size=40),
    st.integers(0, 2**31 - 1),
)
def test_estimate_is_a_difference_of_proportions(values: list[float], seed: int) -> None:
    event = np.array(values)[None]
    treated = np.random.default_rng(seed).random(event.shape[1]) < 0.5
    res = RiskDifferenceSpec().fit(event, treated=treated)
    if res.status[0] == "ok":
        assert -1.0 <= res.estimate[0] <= 1.0
        assert res.ci_low[0] <= res.estimate[0] <= res.ci_high[0]
    else:
        assert np.isnan(res.p_value[0])


def test_bad_event_values_are_refused() -> None:
    with pytest.raises(AnalysisError, match="event must be 0, 1 or NaN"):
        RiskDifferenceSpec().fit(np.array([[0.0, 2.0]]), treated=np.array([True, False]))
