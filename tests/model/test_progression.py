"""Disease progression: the latent D50 course, the effect compartment, hazard and observation."""

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
    logistic_time_scale_days,
    observe_alsfrsr,
    score_from_latent,
)

DOSE_T_DAYS = np.array([0.0, 14.0, 28.0, 56.0, 84.0, 112.0, 140.0, 168.0])
T_OUT_DAYS = np.linspace(0.0, 400.0, 81)


def typical(n: int = 1, **changes: float) -> dict[str, np.ndarray]:
    values = {name: DEFAULT_PARAMETERS.value(name) for name in DEFAULT_PARAMETERS}
    values.update(changes)
    return {k: np.full(n, v) for k, v in values.items()}


def test_score_stays_within_floor_and_ceiling() -> None:
    u = np.linspace(-800.0, 800.0, 1001)
    with np.errstate(all="raise"):
        score = score_from_latent(u)
    assert score.min() >= 0.0
    assert score.max() <= ALSFRSR_MAX
    np.testing.assert_allclose(
        score_from_latent(latent_from_score(np.array([1.0, 24.0, 47.0]))), [1.0, 24.0, 47.0]
    )


def test_observed_alsfrsr_is_an_integer_between_0_and_48() -> None:
    rng = np.random.default_rng(0)
    true = rng.uniform(0.0, 48.0, 10_000)
    observed = observe_alsfrsr(true, 10.0 * rng.standard_normal(10_000), np.array(1.5))
    assert observed.min() >= 0 and observed.max() <= 48
    np.testing.assert_array_equal(observed, np.round(observed))


def test_logistic_slope_at_entry_matches_the_d50_formula() -> None:
    """dF/dt at F0 is -F0 (48 - F0) / (48 dx) (SCIENCE.md s.3), so dx reproduces the slope."""
    f0, slope = np.array([38.0]), np.array([0.05])
    dx = logistic_time_scale_days(f0, slope)
    u0 = latent_from_score(f0)
    h = 1e-4
    course = score_from_latent(latent_course(u0, dx, np.array([[0.0, h]])))
    assert (course[0, 1] - course[0, 0]) / h == pytest.approx(-slope[0], rel=1e-3)


def test_without_drug_the_effect_is_one_and_effective_time_is_time() -> None:
    ind = typical(2)
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, np.zeros((2, DOSE_T_DAYS.size))), T_OUT_DAYS)
    np.testing.assert_allclose(traj.effect, 1.0, atol=1e-12)
    np.testing.assert_allclose(
        traj.effect_time_days, np.broadcast_to(T_OUT_DAYS, (2, 81)), atol=1e-9
    )


def test_untreated_course_is_monotone_decreasing() -> None:
    u0, dx = latent_from_score(np.array([40.0, 30.0, 10.0])), np.array([50.0, 200.0, 80.0])
    score = score_from_latent(latent_course(u0, dx, np.broadcast_to(T_OUT_DAYS, (3, 81))))
    assert np.all(np.diff(score, axis=1) <= 0)


@settings(deadline=None, max_examples=15)
@given(dose_mg=st.floats(min_value=0.0, max_value=2000.0))
def test_drug_slows_decline_but_never_improves_a_patient(dose_mg: float) -> None:
    """Tofersen slows the fall (E <= 1) but cannot reverse it (E > 0): the score never rises and
    never ends above the untreated course's starting point nor below the untreated course."""
    ind = typical(1)
    amounts = np.full((1, DOSE_T_DAYS.size), dose_mg)
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, amounts), T_OUT_DAYS)
    assert np.all(traj.effect > 0) and np.all(traj.effect <= 1.0 + 1e-12)
    z = traj.effect_time_days
    assert np.all(np.diff(z, axis=1) >= 0)
    u0, dx = latent_from_score(np.array([39.0])), np.array([120.0])
    treated = score_from_latent(latent_course(u0, dx, z))
    untreated = score_from_latent(latent_course(u0, dx, T_OUT_DAYS[None, :]))
    assert np.all(np.diff(treated, axis=1) <= 1e-12)
    assert np.all(treated <= 39.0 + 1e-9)
    assert np.all(treated >= untreated - 1e-9)


def test_effect_states_match_lsoda_to_1e6() -> None:
    ind = typical(2, t_half_effect_days=60.0)
    amounts = np.array([[100.0] * DOSE_T_DAYS.size, [40.0] * DOSE_T_DAYS.size])
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, amounts), T_OUT_DAYS)
    for i in range(2):
        ref = solve_reference(
            {k: float(v[i]) for k, v in ind.items()}, DOSE_T_DAYS, amounts[i], T_OUT_DAYS
        )
        np.testing.assert_allclose(traj.effect[i], ref["effect"], rtol=1e-6)
        np.testing.assert_allclose(traj.effect_time_days[i], ref["effect_time_days"], rtol=1e-6)


def test_cumulative_hazard_is_exact_for_a_log_linear_hazard() -> None:
    t = np.linspace(0.0, 300.0, 31)
    a, b = np.log(1e-4), 0.02
    got = cumulative_hazard(t, (a + b * t)[None, :])
    np.testing.assert_allclose(got[0], np.exp(a) * np.expm1(b * t) / b, rtol=1e-12)


def test_event_time_is_where_cumulative_hazard_reaches_the_draw() -> None:
    t = np.array([0.0, 10.0, 20.0])
    cum = np.array([[0.0, 1.0, 3.0], [0.0, 0.1, 0.2]])
    got = event_time_days(t, cum, np.array([2.0, 5.0]))
    assert got[0] == pytest.approx(15.0)
    assert got[1] == np.inf


def test_effect_half_life_is_a_flagged_assumption_with_a_sensitivity_range() -> None:
    p = DEFAULT_PARAMETERS["t_half_effect_days"]
    assert p.assumption
    assert p.sensitivity is not None
    assert p.sensitivity[0] < p.value < p.sensitivity[1]
    assert "weakly identified" in p.source
