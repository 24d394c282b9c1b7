"""Safety analyses against the FDA review's own numbers and statsmodels."""

import numpy as np
import pytest
from statsmodels.stats.rates import confint_poisson

from alsim.analysis.safety import exposure_adjusted_rate, probability_at_least, risk_difference
from alsim.calibrate.safety import TERM_SOURCES, arm_incidences
from alsim.evidence import evidence

WITH_COUNTS = [
    s.evidence_id
    for s in TERM_SOURCES
    if s.evidence_id
    and s.evidence_id.startswith("valor_ae_")
    and "/" in evidence(s.evidence_id).note
]


def arms_with_counts(x_t: int, n_t: int, x_c: int, n_c: int) -> tuple[np.ndarray, ...]:
    had = np.zeros((1, n_t + n_c), dtype=bool)
    had[0, :x_t] = True
    had[0, n_t : n_t + x_c] = True
    treated = np.arange(n_t + n_c) < n_t
    return had, treated, ~treated


@pytest.mark.parametrize("record_id", WITH_COUNTS)
def test_risk_difference_reproduces_the_fda_review_wald_intervals(record_id: str) -> None:
    """Reference: FDA Integrated Review Table 26 (evidence valor_ae_*): the published counts in,
    the published difference and 95% CI out, to the published rounding (0.05 pp)."""
    record = evidence(record_id)
    p_t, p_c, n_t, n_c = arm_incidences(record)
    had, treated, control = arms_with_counts(round(p_t * n_t), n_t, round(p_c * n_c), n_c)
    result = risk_difference(had, treated, control)
    assert result.estimate[0] == pytest.approx(record.numeric_value, abs=0.051)
    assert result.ci_low[0] == pytest.approx(record.ci_low, abs=0.051)
    assert result.ci_high[0] == pytest.approx(record.ci_high, abs=0.051)


def test_exposure_adjusted_rate_matches_statsmodels_exact_poisson() -> None:
    """Reference: statsmodels confint_poisson(method='exact-c'); tolerance 1e-9 relative."""
    rng = np.random.default_rng(0)
    had = rng.random((5, 40)) < 0.1
    years = rng.uniform(0.1, 1.0, (5, 40))
    members = np.arange(40) < 30
    result = exposure_adjusted_rate(had, years, members)
    for r in range(5):
        x, py = int(had[r, :30].sum()), float(years[r, :30].sum())
        low, high = confint_poisson(x, py, method="exact-c")
        assert result.estimate[r] == pytest.approx(100 * x / py, rel=1e-12)
        assert result.ci_low[r] == pytest.approx(100 * low, rel=1e-9, abs=1e-12)
        assert result.ci_high[r] == pytest.approx(100 * high, rel=1e-9)


def test_one_event_in_31_patient_years_is_the_published_eair() -> None:
    """VALOR myelitis: 1 event, 31 tofersen patient-years, EAIR 3.2 per 100 PY (evidence note)."""
    had = np.array([[True] + [False] * 30])
    years = np.full((1, 31), 1.0)
    result = exposure_adjusted_rate(had, years, np.ones(31, dtype=bool))
    assert round(float(result.estimate[0]), 1) == 3.2


def test_probability_at_least_counts_replicates() -> None:
    p, se = probability_at_least(np.array([0, 1, 2, 3]), 2)
    assert p == 0.5
    assert se == pytest.approx(np.sqrt(0.25 / 4))
