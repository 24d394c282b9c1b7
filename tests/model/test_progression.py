"""Disease progression: the latent D50 course, the delayed-onset chain, hazard and observation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alsim.model import DEFAULT_PARAMETERS, DoseSchedule, solve, solve_reference
from alsim.model.progression import (
    ALSFRSR_MAX,
    cumulative_hazard,
    event_time_days,
    latent_course,
    latent_from_score,
    log_hazard_per_day,
    log_stage,
    observe_alsfrsr,
    points_per_latent_unit,
    score_from_latent,
    untreated_event_days,
    untreated_hazard_integral,
)

DOSE_T_DAYS = np.array([0.0, 14.0, 28.0, 56.0, 84.0, 112.0, 140.0, 168.0])
T_OUT_DAYS = np.linspace(0.0, 400.0, 81)


def typical(n: int = 1, **changes: float) -> dict[str, np.ndarray]:
    values = {name: DEFAULT_PARAMETERS.value(name) for name in DEFAULT_PARAMETERS}
    values.update(latent_baseline=1.0, latent_speed_per_day=0.004)
    values.update(changes)
    return {k: np.full(n, v) for k, v in values.items()}


def test_score_stays_within_floor_and_ceiling() -> None:
    u = np.linspace(-800.0, 800.0, 1001)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        score = score_from_latent(u)
        stage = log_stage(u[u < 700.0])
    assert score.min() >= 0.0
    assert score.max() <= ALSFRSR_MAX
    assert np.all(np.isfinite(stage))
    np.testing.assert_allclose(
        score_from_latent(latent_from_score(np.array([1.0, 24.0, 47.0]))), [1.0, 24.0, 47.0]
    )


def test_log_stage_is_the_derivative_of_the_logistic() -> None:
    """s(F) = F (48 - F) / 48 = dF/du, and log_stage(u) = log(s/48)."""
    u = np.linspace(-6.0, 6.0, 25)
    f = score_from_latent(u)
    np.testing.assert_allclose(np.exp(log_stage(u)) * ALSFRSR_MAX, points_per_latent_unit(f))
    h = 1e-6
    slope = (score_from_latent(u + h) - score_from_latent(u - h)) / (2 * h)
    np.testing.assert_allclose(points_per_latent_unit(f), slope, rtol=1e-6)


def test_observed_alsfrsr_is_an_integer_between_0_and_48() -> None:
    rng = np.random.default_rng(0)
    true = rng.uniform(0.0, 48.0, 10_000)
    observed = observe_alsfrsr(true, 10.0 * rng.standard_normal(10_000), np.array(1.5))
    assert observed.min() >= 0 and observed.max() <= 48
    np.testing.assert_array_equal(observed, np.round(observed))


def test_without_drug_the_chain_is_one_and_effective_time_is_time() -> None:
    ind = typical(2)
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, np.zeros((2, DOSE_T_DAYS.size))), T_OUT_DAYS)
    np.testing.assert_allclose(traj.effect, 1.0, atol=1e-12)
    np.testing.assert_allclose(
        traj.effect_time_days, np.broadcast_to(T_OUT_DAYS, (2, 81)), atol=1e-9
    )


def test_untreated_course_is_monotone_decreasing() -> None:
    u0, v0 = np.array([1.5, 0.5, -1.5]), np.array([0.02, 0.005, 0.0125])
    t = np.broadcast_to(T_OUT_DAYS, (3, 81))
    u = latent_course(u0[:, None], v0[:, None], t, np.ones((3, 81)), np.full((3, 1), 0.3))
    assert np.all(np.diff(score_from_latent(u), axis=1) <= 0)


@settings(deadline=None, max_examples=15)
@given(dose_mg=st.floats(min_value=0.0, max_value=2000.0))
def test_without_recovery_capacity_the_drug_slows_but_never_reverses(dose_mg: float) -> None:
    """With rho = 0 tofersen slows the fall (0 < E_n <= 1) but cannot reverse it; with rho > 0 a
    patient can regain at most rho latent units above that course."""
    ind = typical(1)
    amounts = np.full((1, DOSE_T_DAYS.size), dose_mg)
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, amounts), T_OUT_DAYS)
    effect, z = traj.effect, traj.effect_time_days
    assert np.all(effect > 0) and np.all(effect <= 1.0 + 1e-12)
    assert np.all(np.diff(z, axis=1) >= 0)
    u0, v0 = np.array([[1.0]]), np.array([[0.004]])
    slowed = score_from_latent(latent_course(u0, v0, z, effect, np.zeros((1, 1))))
    untreated = score_from_latent(latent_course(u0, v0, T_OUT_DAYS[None, :], 1.0, 0.0))
    assert np.all(np.diff(slowed, axis=1) <= 1e-12)
    assert np.all(slowed >= untreated - 1e-9)
    rho = 0.4
    recovered = latent_course(u0, v0, z, effect, np.full((1, 1), rho))
    gain = recovered - latent_course(u0, v0, z, effect, np.zeros((1, 1)))
    assert np.all(gain >= -1e-12) and np.all(gain <= rho)


def test_effect_states_match_lsoda_to_1e6() -> None:
    ind = typical(2, mtt_effect_days=90.0, recovery_capacity=0.3)
    ind["function_potency"] = np.array([0.6, 1.5])
    amounts = np.array([[100.0] * DOSE_T_DAYS.size, [40.0] * DOSE_T_DAYS.size])
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, amounts), T_OUT_DAYS)
    for i in range(2):
        ref = solve_reference(
            {k: float(v[i]) for k, v in ind.items()}, DOSE_T_DAYS, amounts[i], T_OUT_DAYS
        )
        np.testing.assert_allclose(traj.effect[i], ref["effect"], rtol=1e-6)
        np.testing.assert_allclose(traj.effect_time_days[i], ref["effect_time_days"], rtol=1e-6)
        np.testing.assert_allclose(traj.nfl[i], ref["nfl"], rtol=1e-6)


def test_cumulative_hazard_is_exact_for_a_log_linear_hazard() -> None:
    t = np.linspace(0.0, 300.0, 31)
    a, b = np.log(1e-4), 0.02
    got = cumulative_hazard(t, (a + b * t)[None, :])
    np.testing.assert_allclose(got[0], np.exp(a) * np.expm1(b * t) / b, rtol=1e-12)


def test_hazard_stays_finite_at_any_breathing_and_time() -> None:
    """The log hazard is capped, so extreme courses never overflow (`make reproduce` warned)."""
    svc = np.array([[100.0, 0.0, -1e6]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        log_h = log_hazard_per_day(svc, np.array([[50.0]]), np.array([[30.0]]))
        cum = cumulative_hazard(np.array([0.0, 1e4, 1e8]), log_h)
    assert np.all(np.isfinite(cum))


def test_event_time_is_where_cumulative_hazard_reaches_the_draw() -> None:
    t = np.array([0.0, 10.0, 20.0])
    cum = np.array([[0.0, 1.0, 3.0], [0.0, 0.1, 0.2]])
    got = event_time_days(t, cum, np.array([2.0, 5.0]))
    assert got[0] == pytest.approx(15.0)
    assert got[1] == np.inf


def test_untreated_event_time_inverts_the_hazard_integral() -> None:
    """The time to an event along an untreated course and the hazard integral up to it agree:
    integrating the hazard to the event time gives back the threshold."""
    w0 = np.array([1.5, 0.5, 2.5])
    speed = np.array([0.002, 0.01, 0.0005])
    full, offset, alpha = np.full(3, 100.0), np.full(3, np.log(0.2 / 365.25)), np.full(3, 1.0)
    threshold = np.array([0.3, 1.0, 2.0])
    days = untreated_event_days(w0, speed, threshold, full, offset, alpha, n_grid=2000)
    w_end = w0 - speed * days
    back = untreated_hazard_integral(w0, w_end, full, offset, alpha) / speed
    np.testing.assert_allclose(back, threshold, rtol=1e-4)


def test_transit_time_is_a_flagged_assumption_with_a_sensitivity_range() -> None:
    p = DEFAULT_PARAMETERS["mtt_effect_days"]
    assert p.assumption
    assert p.sensitivity is not None
    assert p.sensitivity[0] < p.value < p.sensitivity[1]
    assert "weakly identified" in p.source
