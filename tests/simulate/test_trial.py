"""Simulating trials: reproducibility, chunk invariance, dropout, placebo."""

import numpy as np
import pytest

from alsim.design import load_template
from alsim.errors import AlsimError
from alsim.simulate import simulate_trial

DESIGN = load_template("phase12")


def test_same_seed_same_numbers_and_different_seed_different() -> None:
    a = simulate_trial(DESIGN, n_replicates=3, seed=11)
    b = simulate_trial(DESIGN, n_replicates=3, seed=11)
    c = simulate_trial(DESIGN, n_replicates=3, seed=12)
    for key in a.observed:
        np.testing.assert_array_equal(a.observed[key], b.observed[key])
    assert not np.allclose(
        np.nan_to_num(a.observed["CSFSOD1"]), np.nan_to_num(c.observed["CSFSOD1"])
    )


def test_replicate_numbers_do_not_depend_on_chunking() -> None:
    whole = simulate_trial(DESIGN, n_replicates=6, seed=5)
    first = simulate_trial(DESIGN, n_replicates=2, seed=5)
    rest = simulate_trial(DESIGN, n_replicates=4, seed=5, first_replicate=2)
    for key in whole.observed:
        joined = np.concatenate([first.observed[key], rest.observed[key]])
        np.testing.assert_array_equal(whole.observed[key], joined)
    np.testing.assert_array_equal(whole.replicate, np.arange(6))


def test_visits_after_dropout_are_missing_and_baseline_never_is() -> None:
    design = DESIGN.model_copy(update={"dropout_per_year": 3.0})
    sim = simulate_trial(design, n_replicates=20, seed=1)
    obs = sim.observed["CSFSOD1"]
    expected_missing = sim.visit_days[None, None, :] > sim.dropout_day[:, :, None]
    np.testing.assert_array_equal(np.isnan(obs), expected_missing)
    assert expected_missing.any()
    assert not np.isnan(obs[:, :, 0]).any()


def test_placebo_patients_see_no_drug() -> None:
    """Placebo true CSF SOD1 stays at baseline: the model's only change comes from tofersen."""
    sim = simulate_trial(DESIGN, n_replicates=2, seed=3)
    placebo = sim.arm_index == DESIGN.arm_labels.index("PLACEBO")
    true = sim.true_values["CSFSOD1"][:, placebo, :]
    np.testing.assert_allclose(true, np.broadcast_to(true[:, :, :1], true.shape), rtol=1e-12)


def test_rejects_bad_replicate_count() -> None:
    with pytest.raises(AlsimError, match=r"replicates must be 1\.\.1000000, got 0"):
        simulate_trial(DESIGN, n_replicates=0, seed=1)
