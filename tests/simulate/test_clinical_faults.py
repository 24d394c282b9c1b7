"""The structural faults of the first clinical model, one test each (they failed on it).

Measured on five-year courses of VALOR's entrants (`conftest.py`), untreated and on continuous
tofersen 100 mg, and on VALOR itself. True (noise-free) values; 28-day visits.
"""

import warnings

import numpy as np
import pytest

from alsim.design import load_template
from alsim.evidence.reproduce import reproduce_study
from alsim.model import DEFAULT_PARAMETERS, DoseSchedule, solve
from alsim.simulate import TrialSimulation, simulate_trial

DAYS_PER_YEAR = 365.25


def _at(sim: TrialSimulation, years: float) -> int:
    return int(np.argmin(np.abs(sim.visit_days - (1.0 + years * DAYS_PER_YEAR))))


def _ratio_alive(sim: TrialSimulation, paramcd: str, years: float) -> np.ndarray:
    k = _at(sim, years)
    values = sim.true_values[paramcd]
    alive = sim.event_day > sim.visit_days[k]
    out: np.ndarray = (values[:, :, k] / values[:, :, 0])[alive]
    return out


def test_fault1_untreated_nfl_does_not_grow_with_the_clock(untreated_5y: TrialSimulation) -> None:
    """NfL follows the disease, not the clock: no unbounded growth without drug (evidence
    prefals_nfl_stable_in_als); it moves with the stage of the course (rising while ALSFRS-R is
    above 24, falling near the floor), so the drift is tied to progression."""
    at_5y = _ratio_alive(untreated_5y, "PLNFL", 5.0)
    assert np.exp(np.mean(np.log(at_5y))) < 1.5
    assert np.quantile(at_5y, 0.95) < 2.5
    k = _at(untreated_5y, 1.0)
    alive = untreated_5y.event_day > untreated_5y.visit_days[k]
    nfl = untreated_5y.true_values["PLNFL"]
    drift = np.log(nfl[:, :, k] / nfl[:, :, 0])
    score = untreated_5y.true_values["ALSFRSR"]
    loss = score[:, :, 0] - score[:, :, k]
    above = alive & (score[:, :, k] > 24.0)
    assert np.corrcoef(drift[above], loss[above])[0, 1] > 0.3
    assert np.all(drift[above] > 0.0)


def test_fault1_nfl_stays_down_while_the_drug_keeps_activity_down(
    treated_5y: TrialSimulation,
) -> None:
    for years in (1.0, 3.0, 5.0):
        assert np.median(_ratio_alive(treated_5y, "PLNFL", years)) < 0.7


def test_fault2_survival_is_not_a_function_of_the_slope(untreated_5y: TrialSimulation) -> None:
    died = np.isfinite(untreated_5y.event_day)
    assert died.sum() > 50
    log_t = np.log(untreated_5y.event_day[died])
    log_slope = np.log(untreated_5y.covariates["slope_per_month"][died])
    assert np.corrcoef(log_t, log_slope)[0, 1] ** 2 < 0.8
    score = untreated_5y.true_values["ALSFRSR"]
    last = (untreated_5y.visit_days[None, None, :] < untreated_5y.event_day[:, :, None]).sum(2)
    at_death = np.take_along_axis(score, np.maximum(last - 1, 0)[:, :, None], 2)[:, :, 0][died]
    assert np.quantile(at_death, 0.95) - np.quantile(at_death, 0.05) > 10.0


def test_fault2_older_patients_die_sooner_at_the_same_course() -> None:
    """Age enters the hazard: with its coefficient raised, survival from Day 1 of the older half
    shortens relative to the younger half's."""
    design = load_template("valor")

    def older_minus_younger(coefficient: float) -> float:
        p = DEFAULT_PARAMETERS.with_values(hazard_age_per_10y=coefficient)
        sim = simulate_trial(design, n_replicates=6, seed=3, parameters=p, adverse_event_terms=())
        hazard = sim.parameters["hazard_log_offset_per_day"]
        older = sim.age_years > np.median(sim.age_years)
        return float(np.mean(hazard[older]) - np.mean(hazard[~older]))

    assert older_minus_younger(0.6) > older_minus_younger(0.0) + 0.3


def test_fault3_nobody_lives_months_at_svc_zero(untreated_5y: TrialSimulation) -> None:
    svc = untreated_5y.true_values["SVCPP"]
    alive = untreated_5y.visit_days[None, None, :] < untreated_5y.event_day[:, :, None]
    days_at_zero = ((svc <= 1.0) & alive).sum(axis=2) * 28.0
    assert np.mean(days_at_zero >= 91.0) < 0.02
    score = untreated_5y.true_values["ALSFRSR"]
    reached = (score <= 10.0).any(axis=2)
    first = np.argmax(score <= 10.0, axis=2)
    svc_at_10 = np.take_along_axis(svc, first[:, :, None], axis=2)[:, :, 0][reached]
    assert np.median(svc_at_10) > 10.0


def test_fault4_strength_has_a_course_of_its_own(untreated_5y: TrialSimulation) -> None:
    k = _at(untreated_5y, 1.0)
    hhd = untreated_5y.true_values["HHDMEGA"]
    score = untreated_5y.true_values["ALSFRSR"]
    gap = np.log(hhd[:, :, k] / hhd[:, :, 0]) - np.log(score[:, :, k] / score[:, :, 0])
    assert np.median(np.abs(gap)) > 0.02


def test_fault5_the_drug_effect_varies_and_some_patients_recover(
    treated_5y: TrialSimulation,
) -> None:
    k = _at(treated_5y, 1.0)
    score = treated_5y.true_values["ALSFRSR"]
    alive = treated_5y.event_day > treated_5y.visit_days[k]
    improved = (score[:, :, k] >= score[:, :, 0])[alive]
    assert 0.01 < improved.mean() < 0.5
    potency = treated_5y.parameters["function_potency"]
    assert np.std(np.log(potency)) > 0.2


def test_fault6_benefit_has_a_delayed_onset_with_its_own_time_scale() -> None:
    """A transit chain: the effect on function starts flat (no first-order jump in slope), and
    its delay (MTT) and its size (the steady drive R^kappa) are separate parameters."""
    mtt = DEFAULT_PARAMETERS["mtt_effect_days"]
    assert mtt.assumption and mtt.sensitivity is not None
    assert DEFAULT_PARAMETERS.value("n_transit_effect") >= 2
    n = 2
    ind = {k: np.full(n, DEFAULT_PARAMETERS.value(k)) for k in DEFAULT_PARAMETERS}
    ind["latent_baseline"] = np.full(n, 1.0)
    ind["latent_speed_per_day"] = np.full(n, 0.003)
    ind["mtt_effect_days"] = np.array([60.0, 240.0])
    doses = np.array([0.0, 14.0, 28.0, *np.arange(56.0, 2000.0, 28.0)])
    t = np.array([0.0, 10.0, 60.0, 1900.0])
    traj = solve(ind, DoseSchedule(doses, np.full((n, doses.size), 100.0)), t)
    assert np.all(1.0 - traj.effect[:, 1] < 1e-3)
    assert traj.effect[0, 2] < traj.effect[1, 2]
    np.testing.assert_allclose(traj.effect[0, 3], traj.effect[1, 3], rtol=1e-3)


def test_fault7_trial_entrants_look_like_trial_entrants() -> None:
    sim = simulate_trial(load_template("valor"), n_replicates=20, seed=9, adverse_event_terms=())
    cov = sim.covariates
    faster = np.broadcast_to(sim.group_index == 0, cov["a4v"].shape)
    months = cov["months_since_onset"][faster]
    assert np.median(months) >= 6.0
    assert np.mean(months < 3.0) < 0.1
    baseline = cov["alsfrsr_baseline"]
    assert np.mean(baseline[~faster]) - np.mean(baseline[faster]) > 2.0
    slope = cov["slope_per_month"][faster]
    assert np.mean(slope) / np.median(slope) < 1.4
    assert np.quantile(slope, 0.95) / np.median(slope) < 4.0
    nfl = np.log(cov["plasma_nfl_base_pg_ml"]).ravel()
    assert np.corrcoef(nfl, np.log(cov["prestudy_slope_per_month"]).ravel())[0, 1] > 0.35
    assert np.mean(np.exp(nfl) < 10.0) < 0.01


def test_fault7_biomarker_and_clinical_designs_draw_patients_alike() -> None:
    """One sampler: the Phase 1/2 patients have a disease course too, and their baseline NfL
    comes from its activity."""
    sim = simulate_trial(load_template("phase12"), n_replicates=20, seed=9)
    cov = sim.covariates
    assert cov["slope_per_month"].shape == (20, 50)
    nfl = np.log(cov["plasma_nfl_base_pg_ml"]).ravel()
    assert np.corrcoef(nfl, np.log(cov["slope_per_month"]).ravel())[0, 1] > 0.5


@pytest.mark.parametrize("study", ["valor", "ole"])
def test_reproducing_the_clinical_studies_raises_no_numerical_warning(study: str) -> None:
    """No overflow in the hazard or anywhere else (`make reproduce` used to warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        reproduce_study(study, n_replicates=3, seed=4)
