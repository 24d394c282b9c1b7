"""Disease courses of virtual patients against SOD1-ALS natural history (Bali 2016/2017)."""

import numpy as np
import pytest

from alsim.calibrate.natural_history import class_cohort
from alsim.evidence import evidence
from alsim.model import DEFAULT_PARAMETERS
from alsim.population.progression import (
    Eligibility,
    FasterProgressionRule,
    sample_candidates,
    sample_stratified_courses,
)


@pytest.fixture(scope="module")
def cohorts():  # type: ignore[no-untyped-def]
    return {a4v: class_cohort(DEFAULT_PARAMETERS, a4v, n=20_000, seed=8) for a4v in (True, False)}


def test_prestudy_slopes_match_bali_means_by_variant_class(cohorts) -> None:  # type: ignore[no-untyped-def]
    """Mean decline since onset of patients reaching a first visit: the A4V mean, a target of the
    joint fit, within 10% of Bali's; the non-A4V mean, which no fit targets (the all-SOD1 mean
    is read as the non-A4V course, a reading, not a class figure), within 25% of it."""
    a4v = cohorts[True].prestudy_slope_per_month
    other = cohorts[False].prestudy_slope_per_month
    assert np.mean(a4v) == pytest.approx(-evidence("nh16_alsfrs_slope_a4v").numeric_value, rel=0.1)
    assert np.mean(other) == pytest.approx(
        -evidence("nh16_alsfrs_slope_all").numeric_value, rel=0.25
    )


def test_screening_comes_after_the_diagnostic_delay(cohorts) -> None:  # type: ignore[no-untyped-def]
    """Non-A4V patients reach a first visit after about a year; A4V patients sooner."""
    other = np.median(cohorts[False].months_since_onset)
    assert 9.0 < other < 24.0
    assert np.median(cohorts[True].months_since_onset) < other


def test_every_candidate_presents_alive_and_on_the_scale() -> None:
    course = sample_candidates(DEFAULT_PARAMETERS, 5000, 0.4, np.random.default_rng(3))
    assert np.all(course.event_threshold > 0)
    assert np.all((course.alsfrsr_baseline >= 1.0) & (course.alsfrsr_baseline < 48.0))
    assert np.all(course.svc_baseline_pct > 0)
    assert abs(course.a4v.mean() - 0.4) < 0.03
    np.testing.assert_allclose(
        course.alsfrsr_baseline,
        48.0 - course.prestudy_slope_per_month * course.months_since_onset,
    )


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
    assert np.all(course.svc_baseline_pct >= 50.0)
