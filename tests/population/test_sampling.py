"""Virtual patients."""

import numpy as np

from alsim.model import DEFAULT_PARAMETERS
from alsim.population import PopulationSpec, sample_population


def test_same_generator_state_gives_same_patients() -> None:
    a = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, 20, np.random.default_rng(3))
    b = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, 20, np.random.default_rng(3))
    np.testing.assert_array_equal(a.age_years, b.age_years)
    for name in a.parameters:
        np.testing.assert_array_equal(a.parameters[name], b.parameters[name])


def test_covariate_mix_and_nfl_by_variant_class() -> None:
    spec = PopulationSpec(a4v_fraction=0.4, male_fraction=0.6)
    pop = sample_population(spec, DEFAULT_PARAMETERS, 20_000, np.random.default_rng(1))
    assert abs(pop.a4v.mean() - 0.4) < 0.02
    assert abs(pop.male.mean() - 0.6) < 0.02
    assert pop.age_years.min() >= spec.age_min_years
    assert pop.age_years.max() <= spec.age_max_years
    nfl = pop.parameters["plasma_nfl_base_pg_ml"]
    median_ratio = np.median(nfl[pop.a4v]) / np.median(nfl[~pop.a4v])
    expected = DEFAULT_PARAMETERS.value("plasma_nfl_base_a4v_pg_ml") / DEFAULT_PARAMETERS.value(
        "plasma_nfl_base_other_pg_ml"
    )
    assert median_ratio == np.float64(median_ratio)
    assert abs(np.log(median_ratio / expected)) < 0.05


def test_logitnormal_fraction_stays_in_unit_interval() -> None:
    pop = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, 5000, np.random.default_rng(2))
    f = pop.parameters["f_cns"]
    assert np.all((f > 0) & (f < 1))
