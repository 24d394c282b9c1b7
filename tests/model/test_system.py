"""The mechanistic model: steady state, mass balance, solver accuracy, dose-response."""

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from alsim.model import DEFAULT_PARAMETERS, DoseSchedule, solve, solve_reference
from alsim.model.pk import PkState, pk_derivatives, pk_rates, propagate_pk
from alsim.model.progression import log_stage
from alsim.population import PopulationSpec, sample_population

DOSE_T_DAYS = np.array([0.0, 14.0, 28.0, 56.0, 84.0])
T_OUT_DAYS = np.array(
    [0.0, 0.05, 0.1, 0.25, 0.75, 1.0, 3.0, 14.0, 14.1, 15.0, 28.0, 41.5, 56.0, 84.0, 120.0, 196.0]
)


def typical(n: int = 1, **changes: float) -> dict[str, np.ndarray]:
    values = {name: DEFAULT_PARAMETERS.value(name) for name in DEFAULT_PARAMETERS}
    values.update(latent_baseline=1.0, latent_speed_per_day=0.004)
    values.update(changes)
    return {k: np.full(n, v) for k, v in values.items()}


def test_baseline_is_steady_state_without_drug_or_disease_motion() -> None:
    ind = typical(3, latent_speed_per_day=0.0)
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, np.zeros((3, 5))), T_OUT_DAYS)
    with np.errstate(all="raise"):
        for state in (traj.mrna, traj.sod1_protein, traj.nfl, traj.effect):
            np.testing.assert_allclose(state, 1.0, rtol=0, atol=1e-13)
        np.testing.assert_array_equal(traj.tissue_mg, 0.0)


@pytest.mark.parametrize(("u0", "rises"), [(1.5, True), (-1.5, False)])
def test_untreated_nfl_moves_only_with_the_stage_of_the_course(u0: float, rises: bool) -> None:
    """Without drug NfL follows activity s(F) v0: it rises while F > 24 (u > 0) and falls
    near the floor, slowly, and tracks its target (s(F)/s(F0))^beta within the turnover lag."""
    ind = typical(1, latent_baseline=u0, latent_speed_per_day=0.002)
    t = np.linspace(0.0, 300.0, 31)
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, np.zeros((1, 5))), t)
    step = np.diff(traj.nfl[0])
    assert np.all(step > 0) if rises else np.all(step < 0)
    u = u0 - 0.002 * t
    beta = DEFAULT_PARAMETERS.value("nfl_activity_exponent")
    target = np.exp(beta * (log_stage(u) - log_stage(np.array(u0))))
    np.testing.assert_allclose(traj.nfl[0], target, rtol=2e-2)


def test_pk_mass_balance_in_reference_ode() -> None:
    """Drug in CSF + tissue + plasma + eliminated equals the total dose given so far."""
    ind = {k: float(v[0]) for k, v in typical().items()}
    doses = np.array([100.0, 100.0, 100.0, 50.0, 100.0])
    states = solve_reference(ind, DOSE_T_DAYS, doses, T_OUT_DAYS)
    total = states["csf_mg"] + states["tissue_mg"] + states["plasma_mg"] + states["eliminated_mg"]
    given_before = np.array([doses[t > DOSE_T_DAYS].sum() for t in T_OUT_DAYS])
    np.testing.assert_allclose(total, given_before, rtol=1e-9, atol=1e-9)


def test_exact_pk_propagation_matches_its_ode() -> None:
    rates = pk_rates(typical(1))
    start = PkState(csf_mg=np.array([100.0]), tissue_mg=np.array([5.0]), plasma_mg=np.array([1.0]))

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        derivs = pk_derivatives(y[0:1], y[1:2], y[2:3], rates)
        return np.concatenate(derivs[:3])

    for dt in (0.01, 0.3, 7.0, 60.0):
        exact = propagate_pk(start, rates, dt)
        ode = solve_ivp(rhs, (0, dt), [100.0, 5.0, 1.0], method="LSODA", rtol=1e-12, atol=1e-14)
        got = np.array([exact.csf_mg[0], exact.tissue_mg[0], exact.plasma_mg[0]])
        np.testing.assert_allclose(got, ode.y[:, -1], rtol=1e-8, atol=1e-12)


def test_tissue_exposure_equals_tissue_fraction_of_dose_over_elimination_rate() -> None:
    """AUC of tissue drug after one bolus = f_tissue * dose / k_tissue (mass balance)."""
    ind = typical(1)
    rates = pk_rates(ind)
    t = np.linspace(0, 600, 60001)
    traj = solve(ind, DoseSchedule(np.array([0.0]), np.array([[100.0]])), t)
    auc = np.trapezoid(traj.tissue_mg[0], t)
    expected = rates.f_tissue[0] * 100.0 / rates.k_tissue_per_day[0]
    assert auc == pytest.approx(expected, rel=1e-3)


def test_solver_matches_lsoda_to_1e6() -> None:
    """Sampled patients, mixed doses, outputs in the first hours after doses: every state within
    1e-6 relative of LSODA (rtol 1e-11)."""
    rng = np.random.default_rng(7)
    pop = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, 6, rng)
    doses_mg = np.array([0.0, 20.0, 40.0, 60.0, 100.0, 100.0])
    amounts = np.repeat(doses_mg[:, None], DOSE_T_DAYS.size, axis=1)
    traj = solve(pop.parameters, DoseSchedule(DOSE_T_DAYS, amounts), T_OUT_DAYS)
    for i in range(6):
        ind = {k: float(v[i]) for k, v in pop.parameters.items()}
        ref = solve_reference(ind, DOSE_T_DAYS, amounts[i], T_OUT_DAYS)
        for name in (f.name for f in fields(traj) if f.name != "t_days"):
            got = getattr(traj, name)[i]
            np.testing.assert_allclose(got, ref[name], rtol=1e-6, atol=1e-12, err_msg=name)


@given(
    low=st.floats(min_value=0.0, max_value=200.0),
    extra=st.floats(min_value=1.0, max_value=200.0),
)
def test_more_drug_never_means_more_sod1_or_nfl(low: float, extra: float) -> None:
    """The model's dose-response is monotone, whatever the trial's 40 vs 60 mg arms did."""
    ind = typical(2)
    amounts = np.array([[low] * 5, [low + extra] * 5])
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, amounts), np.array([0.0, 84.0, 196.0]))
    assert np.all(traj.sod1_protein[1] <= traj.sod1_protein[0] + 1e-12)
    assert np.all(traj.nfl[1] <= traj.nfl[0] + 1e-12)


def test_knockdown_is_bounded_by_maximal_effect() -> None:
    """With S_max = 3, mRNA can fall to at most 1/(1+S_max) of baseline."""
    ind = typical(1)
    amounts = np.full((1, 5), 5000.0)
    traj = solve(ind, DoseSchedule(DOSE_T_DAYS, amounts), T_OUT_DAYS)
    floor = 1.0 / (1.0 + DEFAULT_PARAMETERS.value("s_max"))
    assert traj.mrna.min() >= floor - 1e-9
    assert traj.sod1_protein.min() >= floor - 1e-9
