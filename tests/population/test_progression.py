"""Disease courses of virtual patients against SOD1-ALS natural history (Bali 2016/2017)."""

import numpy as np
import pytest

from alsim.calibrate.natural_history import median_survival_by_class
from alsim.evidence import evidence
from alsim.model import DEFAULT_PARAMETERS
from alsim.population.progression import (
    Eligibility,
    FasterProgressionRule,
    sample_candidates,
    sample_stratified_courses,
)

NATURAL = DEFAULT_PARAMETERS.with_values(in_study_slope_factor=1.0)


@pytest.fixture(scope="module")
def cohort():  # type: ignore[no-untyped-def]
    return sample_candidates(NATURAL, 40_000, 0.5, np.random.default_rng(8))


def test_prestudy_slopes_match_bali_means_by_variant_class(cohort) -> None:  # type: ignore[no-untyped-def]
    """Log-normal by class with Bali's mean and SD: sample means within 10% (heavy tails)."""
    a4v = cohort.prestudy_slope_per_month[cohort.a4v]
    other = cohort.prestudy_slope_per_month[~cohort.a4v]
    assert np.mean(a4v) == pytest.approx(-evidence("nh16_alsfrs_slope_a4v").numeric_value, rel=0.1)
    assert np.mean(other) == pytest.approx(
        -evidence("nh16_alsfrs_slope_all").numeric_value, rel=0.1
    )


def test_median_survival_by_variant_class_is_near_bali(cohort) -> None:  # type: ignore[no-untyped-def]
    """Within 30% of Bali 2017 medians (a compromise fit: see calibrate.natural_history)."""
    a4v, other = median_survival_by_class(
        cohort,
        DEFAULT_PARAMETERS.value("hazard_mid_per_year"),
        DEFAULT_PARAMETERS.value("hazard_stage_exponent"),
    )
    assert a4v == pytest.approx(evidence("nh_median_surv_a4v").numeric_value, rel=0.3)
    assert other == pytest.approx(evidence("nh_median_surv_nona4v").numeric_value, rel=0.3)
    assert a4v < other / 3


def test_baseline_nfl_rises_with_progression_rate(cohort) -> None:  # type: ignore[no-untyped-def]
    r = np.corrcoef(np.log(cohort.plasma_nfl_base_pg_ml), np.log(cohort.slope_per_month))[0, 1]
    assert 0.45 < r < 0.7


def test_strata_are_filled_in_order_by_the_rule() -> None:
    rule = FasterProgressionRule(prestudy_slope_per_month=0.9)
    course = sample_stratified_courses(
        DEFAULT_PARAMETERS,
        [60, 48],
        a4v_fraction=0.1,
        rule=rule,
        eligibility=Eligibility(min_svc_pct=50.0),
        rng=np.random.default_rng(2),
    )
    assert course.n_patients == 108
    faster = rule.classify(course.a4v, course.prestudy_slope_per_month)
    assert faster[:60].all() and not faster[60:].any()
    np.testing.assert_array_equal(course.faster, faster)
