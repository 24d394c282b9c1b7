"""Presymptomatic carriers: onset conditional on being well at entry, penetrance, NfL levels."""

import numpy as np
import pytest
from scipy.stats import norm

from alsim.model import DEFAULT_PARAMETERS
from alsim.population.carriers import latent_onset_days, sample_carriers
from alsim.population.sampling import PopulationSpec


def test_onset_comes_after_entry_and_follows_the_truncated_onset_age_law() -> None:
    rng = np.random.default_rng(5)
    n = 200_000
    age = np.full(n, 40.0)
    days = latent_onset_days(age, np.ones(n), 49.7, 12.3, rng.random(n), rng.random(n))
    assert np.all(days >= 0) and np.all(np.isfinite(days))
    z = (40.0 - 49.7) / 12.3
    truncated_mean = 49.7 + 12.3 * norm.pdf(z) / norm.sf(z)
    assert np.mean(days) / 365.25 + 40.0 == pytest.approx(truncated_mean, abs=0.05)


def test_penetrance_is_updated_for_having_stayed_well() -> None:
    rng = np.random.default_rng(6)
    n = 200_000
    days = latent_onset_days(
        np.full(n, 60.0), np.full(n, 0.9), 49.7, 12.3, rng.random(n), rng.random(n)
    )
    well = norm.sf((60.0 - 49.7) / 12.3)
    expected = 0.9 * well / (0.9 * well + 0.1)
    assert np.isfinite(days).mean() == pytest.approx(expected, abs=0.005)
    never = latent_onset_days(
        np.full(10, 30.0), np.zeros(10), 49.7, 12.3, np.zeros(10), np.zeros(10)
    )
    assert np.all(np.isinf(never))


def test_carriers_join_the_symptomatic_nfl_of_their_variant_class() -> None:
    """The NfL a carrier joins at onset is a screened patient's of the same class: higher for
    A4V-like variants, which progress faster (NfL from disease activity)."""
    spec = PopulationSpec(a4v_fraction=0.5)
    carriers = sample_carriers(spec, DEFAULT_PARAMETERS, 20_000, np.random.default_rng(7))
    a4v = carriers.a4v
    assert np.median(carriers.nfl_onset_pg_ml[a4v]) > 1.3 * np.median(
        carriers.nfl_onset_pg_ml[~a4v]
    )
    assert abs(np.mean(carriers.age_years) - spec.age_mean_years) < 0.5
    assert np.median(carriers.nfl_base_pg_ml) == pytest.approx(
        DEFAULT_PARAMETERS.value("carrier_nfl_base_pg_ml"), rel=0.05
    )
    assert np.median(carriers.prodromal_scale_days[a4v]) < np.median(
        carriers.prodromal_scale_days[~a4v]
    )
    assert "mtt_effect_days" in carriers.parameters
    assert "plasma_nfl_base_pg_ml" not in carriers.parameters
