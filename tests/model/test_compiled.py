"""The solver (`alsim.model.compiled.solve`) against LSODA (`solve_reference`): accuracy over three
years of dosing, the first hours after doses, batch independence, the step grids."""

from collections.abc import Iterable
from dataclasses import fields

import numpy as np
import pytest
from benchmarks.bench_solver import valor_extension_doses_and_visits
from hypothesis import given, settings
from hypothesis import strategies as st

from alsim.errors import AlsimError
from alsim.model import DEFAULT_PARAMETERS, DoseSchedule, Trajectories, solve, solve_reference
from alsim.model.compiled import COURSE_STEPS, DRUG_STEPS, LANES, StepRule, step_grid
from alsim.population import PopulationSpec, sample_population

STATES = tuple(f.name for f in fields(Trajectories) if f.name != "t_days")


def assert_matches_lsoda(
    traj: Trajectories,
    ind: dict[str, np.ndarray],
    dose_t: np.ndarray,
    amounts: np.ndarray,
    rows: Iterable[int],
) -> None:
    """Every state of the patients `rows` within 1e-6 relative of LSODA (rtol 1e-11)."""
    for i in rows:
        one = {k: float(v[i]) for k, v in ind.items()}
        ref = solve_reference(one, dose_t, amounts[i], traj.t_days)
        for name in STATES:
            np.testing.assert_allclose(
                getattr(traj, name)[i], ref[name], rtol=1e-6, atol=1e-12, err_msg=name
            )


def patients(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return sample_population(PopulationSpec(), DEFAULT_PARAMETERS, n, rng).parameters


def test_solver_matches_lsoda_to_1e6_including_first_hours_after_doses() -> None:
    """Sampled patients at 0-300 mg (one starting at the extension): every state within 1e-6
    relative of LSODA (rtol 1e-11) at the visits and 1, 3, 6 and 12 hours after four doses."""
    dose_t, visits = valor_extension_doses_and_visits(52)
    hours = np.concatenate([d + np.array([1, 3, 6, 12]) / 24 for d in dose_t[[0, 1, 8, 9]]])
    t_out = np.union1d(visits, hours)
    ind = patients(6, seed=5)
    amounts = np.repeat(np.array([0.0, 20.0, 100.0, 100.0, 300.0, 300.0])[:, None], 15, axis=1)
    amounts[3, :8] = 0.0
    traj = solve(ind, DoseSchedule(dose_t, amounts), t_out)
    assert_matches_lsoda(traj, ind, dose_t, amounts, range(6))


@pytest.mark.slow
def test_solver_matches_lsoda_to_1e6_over_three_years_of_dosing() -> None:
    """42 doses to week 156 at 100 and 300 mg (one patient starting at the extension): every
    state within 1e-6 of LSODA at the visits, weekly, and 1-12 h after the first and last doses
    (the coarse grid of the course block takes steps of a week between doses)."""
    dose_t, visits = valor_extension_doses_and_visits()
    hours = np.concatenate([d + np.array([1, 3, 6, 12]) / 24 for d in dose_t[[0, 8, 41]]])
    t_out = np.union1d(np.union1d(visits, hours), np.arange(0.0, visits[-1], 7.0))
    ind = patients(3, seed=5)
    amounts = np.repeat(np.array([100.0, 100.0, 300.0])[:, None], dose_t.size, axis=1)
    amounts[1, :8] = 0.0
    traj = solve(ind, DoseSchedule(dose_t, amounts), t_out)
    assert_matches_lsoda(traj, ind, dose_t, amounts, range(3))


def test_single_dose_matches_lsoda_to_1e6_from_the_first_minute() -> None:
    """One dose of 0-300 mg: every state within 1e-6 relative of LSODA from a minute after
    it, through the knock-down's onset, to four months (the drug wearing off)."""
    t_out = np.union1d(np.array([0.01, 1, 2, 3, 6, 12, 18]) / 24, np.arange(1.0, 121.0, 3.0))
    dose_t = np.array([0.0])
    amounts = np.array([[20.0], [100.0], [300.0], [0.0]])
    ind = patients(4, seed=3)
    traj = solve(ind, DoseSchedule(dose_t, amounts), t_out)
    assert_matches_lsoda(traj, ind, dose_t, amounts, range(4))


def test_chunks_of_1_7_and_1000_patients_agree_bit_for_bit_and_with_lsoda() -> None:
    """1,000 sampled patients on VALOR + extension to week 52 (loading then maintenance doses,
    placebo starting at the extension) in one chunk, in chunks of 7 and one by one: the same
    bits; patients picked across the batch (first and last lane of a block, the padded tail)
    within 1e-6 of LSODA."""
    dose_t, visits = valor_extension_doses_and_visits(52)
    n = 1000
    ind = patients(n, seed=21)
    amounts = np.full((n, dose_t.size), 100.0)
    amounts[::3, :8] = 0.0
    amounts[1::5] = 60.0
    whole = solve(ind, DoseSchedule(dose_t, amounts), visits)

    def part(rows: slice | list[int]) -> dict[str, np.ndarray]:
        got = solve(
            {k: v[rows] for k, v in ind.items()}, DoseSchedule(dose_t, amounts[rows]), visits
        )
        return {name: getattr(got, name) for name in STATES}

    sevens = [part(slice(s, s + 7)) for s in range(0, 70, 7)]
    picked = [0, 1, 3, LANES - 1, LANES, 500, 998, n - 1]
    for name in STATES:
        np.testing.assert_array_equal(
            np.concatenate([c[name] for c in sevens]), getattr(whole, name)[:70]
        )
    for i in picked:
        one = part([i])
        for name in STATES:
            np.testing.assert_array_equal(one[name][0], getattr(whole, name)[i])
    assert_matches_lsoda(whole, ind, dose_t, amounts, picked)


@settings(max_examples=10, deadline=None)
@given(split=st.integers(min_value=1, max_value=LANES + 8))
def test_a_patient_gets_the_same_bits_in_any_batch(split: int) -> None:
    """Patients run in lanes of the same instructions, on grids that depend on the schedule
    alone, so the batch (chunk) a patient is solved in, and its lane, never change a bit; one
    patient has another Hill coefficient (a lane of its own kind)."""
    dose_t, visits = valor_extension_doses_and_visits(52)
    n = LANES + 9
    ind = patients(n, seed=9)
    ind["hill"] = ind["hill"].copy()
    ind["hill"][3] = 2.5
    amounts = np.full((n, dose_t.size), 60.0)
    amounts[::4] = 0.0
    whole = solve(ind, DoseSchedule(dose_t, amounts), visits)
    head = solve(
        {k: v[:split] for k, v in ind.items()}, DoseSchedule(dose_t, amounts[:split]), visits
    )
    tail = solve(
        {k: v[split:] for k, v in ind.items()}, DoseSchedule(dose_t, amounts[split:]), visits
    )
    for name in STATES:
        joined = np.concatenate([getattr(head, name), getattr(tail, name)])
        np.testing.assert_array_equal(getattr(whole, name), joined)


def test_baseline_is_steady_state_without_drug_or_disease_motion() -> None:
    ind = patients(3, seed=1) | {"latent_speed_per_day": np.zeros(3)}
    dose_t, visits = valor_extension_doses_and_visits(52)
    with np.errstate(all="raise"):
        traj = solve(ind, DoseSchedule(dose_t, np.zeros((3, dose_t.size))), visits)
    for name in ("mrna", "sod1_protein", "nfl", "effect"):
        np.testing.assert_allclose(getattr(traj, name), 1.0, rtol=0, atol=1e-13)
    np.testing.assert_allclose(traj.effect_time_days, np.broadcast_to(visits, (3, visits.size)))


def test_step_grid_stops_at_every_dose_and_output_and_refines_after_doses() -> None:
    dose_t = np.array([0.0, 14.0, 28.0])
    t_out = np.array([0.0, 0.1, 7.0, 20.0, 40.0])
    for rule in (DRUG_STEPS, COURSE_STEPS):
        grid, dose_index, out_index = step_grid(dose_t, t_out, rule)
        np.testing.assert_array_equal(grid[dose_index], dose_t)
        np.testing.assert_array_equal(grid[out_index], t_out)
        steps = np.diff(grid)
        assert np.all(steps > 0)
        assert steps[0] <= rule.first_days + 1e-15
        after_second = grid[dose_index[1] + 1] - grid[dose_index[1]]
        assert after_second <= rule.first_days + 1e-15
        assert steps.max() <= rule.max_days + 1e-12


def test_a_step_rule_that_cannot_step_is_refused() -> None:
    with pytest.raises(AlsimError, match="first_days"):
        StepRule(first_days=0.0, growth=0.1, max_days=1.0)
