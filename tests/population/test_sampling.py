"""Virtual patients: one sampler for every design."""

import numpy as np

from alsim.model import DEFAULT_PARAMETERS
from alsim.population import PopulationSpec, sample_population


def test_same_generator_state_gives_same_patients() -> None:
    a = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, 20, np.random.default_rng(3))
    b = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, 20, np.random.default_rng(3))
    np.testing.assert_array_equal(a.age_years, b.age_years)
    for name in a.parameters:
        np.testing.assert_array_equal(a.parameters[name], b.parameters[name])


def test_covariate_mix_and_nfl_from_disease_activity() -> None:
    """NfL is set by the in-study activity: higher in A4V-like variants, which progress faster,
    and level x slope^beta exactly at the patient's own level."""
    spec = PopulationSpec(a4v_fraction=0.4, male_fraction=0.6)
    pop = sample_population(spec, DEFAULT_PARAMETERS, 20_000, np.random.default_rng(1))
    assert abs(pop.a4v.mean() - 0.4) < 0.02
    assert abs(pop.male.mean() - 0.6) < 0.02
    assert pop.age_years.min() >= spec.age_min_years
    assert pop.age_years.max() <= spec.age_max_years
    nfl = pop.parameters["plasma_nfl_base_pg_ml"]
    assert np.median(nfl[pop.a4v]) > 1.3 * np.median(nfl[~pop.a4v])
    beta = DEFAULT_PARAMETERS.value("nfl_activity_exponent")
    np.testing.assert_allclose(
        nfl, pop.parameters["plasma_nfl_level_pg_ml"] * pop.course.slope_per_month**beta
    )


def test_strata_sizes_must_add_up() -> None:
    import pytest

    with pytest.raises(ValueError, match="must add up"):
        sample_population(
            PopulationSpec(), DEFAULT_PARAMETERS, 10, np.random.default_rng(0), stratum_sizes=[3, 4]
        )


def test_logitnormal_fraction_stays_in_unit_interval() -> None:
    pop = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, 5000, np.random.default_rng(2))
    f = pop.parameters["f_cns"]
    assert np.all((f > 0) & (f < 1))
