"""The compiled solver against LSODA (`solve_reference`) and the vectorised `solve`."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alsim.campaign import set_duration
from alsim.design import load_template
from alsim.model import DEFAULT_PARAMETERS, DoseSchedule, solve, solve_reference
from alsim.model.compiled import solve_compiled, step_grid
from alsim.population import PopulationSpec, sample_population

STATES = ("mrna", "sod1_protein", "nfl", "effect", "effect_time_days", "tissue_mg", "csf_mg")


def valor_extension_52() -> tuple[np.ndarray, np.ndarray]:
    """Dose days and visit days (days since the first dose) of VALOR + extension to week 52."""
    design = set_duration(load_template("ole"), 52)
    assert design.extension is not None
    days = design.regimen.dose_days + design.extension.regimen.dose_days
    visits = np.array([v.day for v in design.visits], dtype=np.float64) - 1.0
    return np.array(days, dtype=np.float64) - 1.0, visits


def patients(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return sample_population(PopulationSpec(), DEFAULT_PARAMETERS, n, rng).parameters


def test_compiled_solver_matches_lsoda_to_1e6_including_first_hours_after_doses() -> None:
    """Sampled patients at 0-300 mg (one starting at the extension): every state within 1e-6
    relative of LSODA (rtol 1e-11) at the visits and 1, 3, 6 and 12 hours after four doses."""
    dose_t, visits = valor_extension_52()
    hours = np.concatenate([d + np.array([1, 3, 6, 12]) / 24 for d in dose_t[[0, 1, 8, 9]]])
    t_out = np.union1d(visits, hours)
    ind = patients(6, seed=5)
    amounts = np.repeat(np.array([0.0, 20.0, 100.0, 100.0, 300.0, 300.0])[:, None], 15, axis=1)
    amounts[3, :8] = 0.0
    traj = solve_compiled(ind, DoseSchedule(dose_t, amounts), t_out)
    for i in range(6):
        ref = solve_reference({k: float(v[i]) for k, v in ind.items()}, dose_t, amounts[i], t_out)
        for name in STATES:
            np.testing.assert_allclose(
                getattr(traj, name)[i], ref[name], rtol=1e-6, atol=1e-12, err_msg=name
            )


def test_compiled_solver_agrees_with_vectorised_solve() -> None:
    dose_t, visits = valor_extension_52()
    ind = patients(50, seed=2)
    amounts = np.full((50, dose_t.size), 100.0)
    amounts[::3, :8] = 0.0
    doses = DoseSchedule(dose_t, amounts)
    fast, old = solve_compiled(ind, doses, visits), solve(ind, doses, visits)
    for name in (*STATES, "plasma_mg"):
        np.testing.assert_allclose(
            getattr(fast, name), getattr(old, name), rtol=1e-6, atol=1e-12, err_msg=name
        )


@settings(max_examples=10, deadline=None)
@given(split=st.integers(min_value=1, max_value=7))
def test_a_patient_gets_the_same_bits_in_any_batch(split: int) -> None:
    """Patients are integrated one by one on a grid that depends on the schedule alone, so the
    batch (chunk) a patient is solved in never changes a bit of the result."""
    dose_t, visits = valor_extension_52()
    ind = patients(8, seed=9)
    amounts = np.full((8, dose_t.size), 60.0)
    whole = solve_compiled(ind, DoseSchedule(dose_t, amounts), visits)
    head = solve_compiled(
        {k: v[:split] for k, v in ind.items()}, DoseSchedule(dose_t, amounts[:split]), visits
    )
    tail = solve_compiled(
        {k: v[split:] for k, v in ind.items()}, DoseSchedule(dose_t, amounts[split:]), visits
    )
    for name in STATES:
        joined = np.concatenate([getattr(head, name), getattr(tail, name)])
        np.testing.assert_array_equal(getattr(whole, name), joined)


def test_baseline_is_steady_state_without_drug_or_disease_motion() -> None:
    ind = patients(3, seed=1) | {"latent_speed_per_day": np.zeros(3)}
    dose_t, visits = valor_extension_52()
    with np.errstate(all="raise"):
        traj = solve_compiled(ind, DoseSchedule(dose_t, np.zeros((3, dose_t.size))), visits)
    for name in ("mrna", "sod1_protein", "nfl", "effect"):
        np.testing.assert_allclose(getattr(traj, name), 1.0, rtol=0, atol=1e-13)
    np.testing.assert_allclose(traj.effect_time_days, np.broadcast_to(visits, (3, visits.size)))


def test_step_grid_stops_at_every_dose_and_output_and_refines_after_doses() -> None:
    dose_t = np.array([0.0, 14.0, 28.0])
    t_out = np.array([0.0, 0.1, 7.0, 20.0, 40.0])
    grid, dose_index, out_index = step_grid(dose_t, t_out)
    np.testing.assert_array_equal(grid[dose_index], dose_t)
    np.testing.assert_array_equal(grid[out_index], t_out)
    steps = np.diff(grid)
    assert np.all(steps > 0)
    assert steps[0] <= 1.0 / 384.0 + 1e-15
    after_second = grid[dose_index[1] + 1] - grid[dose_index[1]]
    assert after_second <= 1.0 / 384.0 + 1e-15
    assert steps.max() <= 0.75 + 1e-12
