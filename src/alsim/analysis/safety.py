"""Safety analyses as regulatory reviews tabulate them, batched over replicates.

- `risk_difference`: incidence in each arm and treated minus control in percentage points with a
  Wald interval (the FDA Integrated Review's adverse-event tables use it).
- `exposure_adjusted_rate`: first events per 100 patient-years on drug, exact Poisson (Garwood) CI.
- `probability_at_least`: chance that a trial sees at least k events, with its Monte Carlo SE.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats

from alsim.analysis._result import BoolArray, EstimateResult, FloatArray, IntArray
from alsim.errors import AnalysisError


@dataclass(frozen=True, kw_only=True, eq=False)
class RiskDifferenceResult(EstimateResult):
    """Treated minus control incidence, in percentage points (estimate, Wald CI and z-test).

    Attributes
    ----------
    incidence_treated, incidence_control : ndarray
        Percentage of patients with at least one event, per arm.
    events_treated, events_control, n_treated, n_control : ndarray
        Patients with the event, and patients at risk, per arm.
    """

    incidence_treated: FloatArray
    incidence_control: FloatArray
    events_treated: IntArray
    events_control: IntArray
    n_treated: IntArray
    n_control: IntArray


@dataclass(frozen=True, kw_only=True, eq=False)
class IncidenceRateResult(EstimateResult):
    """Exposure-adjusted incidence rate per 100 patient-years (estimate) with an exact CI.

    Attributes
    ----------
    events : ndarray
        Patients with a first event.
    patient_years : ndarray
        Total exposure in years.
    """

    events: IntArray
    patient_years: FloatArray


def _check(had_event: BoolArray, *members: BoolArray) -> None:
    if had_event.ndim != 2:
        raise AnalysisError("had_event must be shaped (replicate, patient)")
    for member in members:
        if member.shape != (had_event.shape[1],):
            raise AnalysisError("arm membership must have one entry per patient")
        if not member.any():
            raise AnalysisError("an arm has no patients")


def risk_difference(
    had_event: BoolArray, treated: BoolArray, control: BoolArray, *, ci_level: float = 0.95
) -> RiskDifferenceResult:
    """Incidence per arm and their difference for every replicate at once."""
    _check(had_event, treated, control)
    n_t, n_c = int(treated.sum()), int(control.sum())
    x_t = had_event[:, treated].sum(axis=1)
    x_c = had_event[:, control].sum(axis=1)
    p_t, p_c = x_t / n_t, x_c / n_c
    se = np.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    z = stats.norm.ppf(0.5 + ci_level / 2)
    diff = p_t - p_c
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = np.where(se > 0, 2 * stats.norm.sf(np.abs(diff / se)), np.nan)
    n_rep = had_event.shape[0]
    return RiskDifferenceResult(
        method="risk difference, Wald CI",
        estimate=100 * diff,
        std_error=100 * se,
        ci_low=100 * (diff - z * se),
        ci_high=100 * (diff + z * se),
        p_value=p_value,
        df=np.full(n_rep, np.inf),
        n=np.full(n_rep, n_t + n_c, dtype=np.int64),
        ci_level=ci_level,
        incidence_treated=100 * p_t,
        incidence_control=100 * p_c,
        events_treated=x_t.astype(np.int64),
        events_control=x_c.astype(np.int64),
        n_treated=np.full(n_rep, n_t, dtype=np.int64),
        n_control=np.full(n_rep, n_c, dtype=np.int64),
    )


def exposure_adjusted_rate(
    had_event: BoolArray,
    exposure_years: FloatArray,
    members: BoolArray,
    *,
    ci_level: float = 0.95,
) -> IncidenceRateResult:
    """First events per 100 patient-years among `members`, with Garwood's exact Poisson CI."""
    _check(had_event, members)
    if exposure_years.shape != had_event.shape:
        raise AnalysisError("exposure_years must be shaped like had_event (replicate, patient)")
    events = had_event[:, members].sum(axis=1)
    years = exposure_years[:, members].sum(axis=1)
    alpha = 1 - ci_level
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(events > 0, stats.chi2.ppf(alpha / 2, 2 * events) / 2, 0.0)
        high = stats.chi2.ppf(1 - alpha / 2, 2 * (events + 1)) / 2
        per_100 = 100 / years
    n_rep = had_event.shape[0]
    return IncidenceRateResult(
        method="exposure-adjusted incidence rate per 100 PY, exact Poisson CI",
        estimate=events * per_100,
        std_error=np.sqrt(events) * per_100,
        ci_low=low * per_100,
        ci_high=high * per_100,
        p_value=np.full(n_rep, np.nan),
        df=np.full(n_rep, np.inf),
        n=np.full(n_rep, int(members.sum()), dtype=np.int64),
        ci_level=ci_level,
        events=events.astype(np.int64),
        patient_years=years,
    )


def probability_at_least(counts: IntArray, k: int) -> tuple[float, float]:
    """P(count >= k) over replicates and its Monte Carlo standard error."""
    if counts.ndim != 1 or counts.size == 0:
        raise AnalysisError("counts must be a non-empty 1-D array over replicates")
    hit = (counts >= k).mean()
    return float(hit), float(np.sqrt(hit * (1 - hit) / counts.size))
