"""Prevention trials in presymptomatic carriers: the run-in against the evidence, the trigger rule,
common random numbers, the null, and reproducibility."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alsim.analysis.proportions import RiskDifferenceSpec
from alsim.campaign import scale_patients, without_drug
from alsim.design import load_template, parse_design
from alsim.design.presymptomatic import TriggerRule
from alsim.evidence import evidence
from alsim.model import DEFAULT_PARAMETERS
from alsim.population.carriers import sample_carriers
from alsim.simulate import simulate_trial
from alsim.simulate.presymptomatic import (
    DAYS_PER_MONTH,
    block_slots,
    monitor_run_in,
    trigger_fires,
)

ATLAS = load_template("atlas")
SMALL = scale_patients(ATLAS, 12)


def test_untreated_lead_time_of_the_trigger_matches_the_evidence() -> None:
    """Untreated A4V-like carriers: months from the NfL sample that meets the ATLAS rule to
    phenoconversion; the median lies inside the 6-12 months of evidence nh_prefals_nfl_lead."""
    assert ATLAS.run_in is not None and ATLAS.trigger is not None
    rng = np.random.default_rng(11)
    carriers = sample_carriers(ATLAS.population, DEFAULT_PARAMETERS, 40_000, rng)
    outcome = monitor_run_in(carriers, ATLAS.run_in, ATLAS.trigger, rng)
    chosen = outcome.randomised
    lead = (carriers.onset_days[chosen] - outcome.fire_day[chosen]) / DAYS_PER_MONTH
    record = evidence("nh_prefals_nfl_lead")
    assert record.ci_low is not None and record.ci_high is not None
    assert lead.size > 1000
    assert record.ci_low <= np.median(lead) <= record.ci_high
    # the sample that fired meets the rule
    k = np.searchsorted(outcome.sample_t_days, outcome.fire_day[outcome.randomised])
    fired = outcome.observed[outcome.randomised, k]
    assert np.all(fired >= ATLAS.trigger.min_level_pg_ml)
    assert np.all(fired - outcome.observed[outcome.randomised, 0] >= ATLAS.trigger.min_rise_pg_ml)


@given(
    level=st.floats(0.0, 200.0),
    rise=st.floats(0.0, 50.0),
    baseline_samples=st.integers(1, 3),
    confirm=st.booleans(),
    nfl=st.floats(1.0, 300.0),
)
# the mean of three samples of this level is one bit below it
@example(level=0.0, rise=1e-90, baseline_samples=3, confirm=False, nfl=90.61385527067804)
def test_a_trigger_rule_never_fires_on_a_flat_course_without_noise(
    level: float, rise: float, baseline_samples: int, confirm: bool, nfl: float
) -> None:
    if level <= 0 and rise <= 0:
        return
    trigger = TriggerRule(
        min_level_pg_ml=level,
        min_rise_pg_ml=rise,
        baseline_samples=baseline_samples,
        confirm=confirm,
    )
    assert ATLAS.run_in is not None
    carriers = sample_carriers(ATLAS.population, DEFAULT_PARAMETERS, 50, np.random.default_rng(1))
    flat = replace(
        carriers,
        onset_days=np.full(50, np.inf),
        nfl_base_pg_ml=np.full(50, nfl),
        parameters={**carriers.parameters, "sigma_plasma_nfl": np.zeros(50)},
    )
    outcome = monitor_run_in(flat, ATLAS.run_in, trigger, np.random.default_rng(2))
    assert np.all(np.isinf(outcome.fire_day))
    assert not outcome.randomised.any()
    if rise > 0:  # the rule itself, before the eligibility check at screening
        assert not trigger_fires(np.full((3, 40), nfl), trigger).any()


def test_the_drug_never_makes_onset_earlier_with_common_random_numbers() -> None:
    """Same seed with and without drug: the same carriers are randomised with the same noise;
    tofersen can only slow the disease clock, so no patient converts earlier."""
    drug = simulate_trial(SMALL, n_replicates=6, seed=4, adverse_event_terms=())
    null = simulate_trial(without_drug(SMALL), n_replicates=6, seed=4, adverse_event_terms=())
    assert drug.carriers is not None and null.carriers is not None
    np.testing.assert_array_equal(drug.carriers.trigger_day, null.carriers.trigger_day)
    assert np.all(drug.carriers.onset_day >= null.carriers.onset_day)
    placebo = SMALL.arm_labels.index("PLACEBO") == SMALL.allocation()[0]
    np.testing.assert_array_equal(
        drug.carriers.onset_day[:, placebo], null.carriers.onset_day[:, placebo]
    )
    treated = drug.carriers.onset_day[:, ~placebo]
    assert np.any(treated > null.carriers.onset_day[:, ~placebo])
    assert np.all(drug.carriers.onset_day >= drug.carriers.untreated_onset_day)


def test_without_drug_both_arms_follow_the_natural_history() -> None:
    """effect=none: every patient converts exactly when their untreated course says, and NfL is
    the untreated course, so the arms are exchangeable."""
    sim = simulate_trial(without_drug(SMALL), n_replicates=4, seed=9, adverse_event_terms=())
    assert sim.carriers is not None
    natural = sim.carriers.untreated_onset_day
    last = float(sim.visit_days[-1])
    expected = np.where(natural <= last, natural, np.inf)
    np.testing.assert_allclose(sim.carriers.onset_day, expected, rtol=1e-9)


def test_day_one_is_the_trigger_sample_and_run_in_samples_come_before() -> None:
    sim = simulate_trial(SMALL, n_replicates=3, seed=5, adverse_event_terms=())
    assert sim.carriers is not None and ATLAS.trigger is not None
    day1 = sim.observed["PLNFL"][:, :, 0]
    first = sim.carriers.run_in_nfl[:, :, 0]
    assert np.all(day1 >= ATLAS.trigger.min_level_pg_ml)
    assert np.all(day1 - first >= ATLAS.trigger.min_rise_pg_ml)
    days = sim.carriers.run_in_day[np.isfinite(sim.carriers.run_in_day)]
    assert np.all(days < 0) and np.all(days % 28 == 0)


def test_replicates_do_not_depend_on_chunking() -> None:
    whole = simulate_trial(SMALL, n_replicates=4, seed=8)
    parts = [
        simulate_trial(SMALL, n_replicates=2, seed=8, first_replicate=first) for first in (0, 2)
    ]
    for name in ("onset_day", "event_day", "trigger_day", "run_in_nfl"):
        joined = np.concatenate([getattr(p.carriers, name) for p in parts])
        np.testing.assert_array_equal(getattr(whole.carriers, name), joined)
    np.testing.assert_array_equal(
        whole.observed["PLNFL"], np.concatenate([p.observed["PLNFL"] for p in parts])
    )


def test_triggered_carriers_fill_places_in_permuted_blocks() -> None:
    document = ATLAS.model_dump(mode="json")
    document["randomization"]["groups"][0]["n_per_arm"] = {"PLACEBO": 4, "TOFERSEN 100 MG": 8}
    document["randomization"]["ratio"] = "2:1"  # the ratio states the counts
    design = parse_design(document)
    arm = design.allocation()[0]
    order = block_slots(design, np.random.default_rng(3))[0]
    blocks = arm[order].reshape(4, 3)
    assert np.all(blocks.sum(axis=1) == 2)  # each block: one placebo (0), two tofersen (1)


def test_variant_strata_give_a_mantel_haenszel_primary() -> None:
    document = SMALL.model_dump(mode="json")
    document["population"]["a4v_fraction"] = 0.5
    document["randomization"] = {
        "unit": "stratum",
        "ratio": "1:1",
        "groups": [
            {"name": "A4V", "n_per_arm": {"PLACEBO": 4, "TOFERSEN 100 MG": 4}},
            {"name": "NON-A4V", "n_per_arm": {"PLACEBO": 2, "TOFERSEN 100 MG": 2}},
        ],
    }
    design = parse_design(document)
    sim = simulate_trial(design, n_replicates=2, seed=3, adverse_event_terms=())
    group = design.allocation()[1]
    np.testing.assert_array_equal(sim.a4v[:, group == 0], True)
    np.testing.assert_array_equal(sim.a4v[:, group == 1], False)
    from alsim.campaign import default_plan, fit_analysis

    primary = next(a for a in default_plan(design) if a.primary)
    result = fit_analysis(sim, primary, sim.observed)
    assert "Mantel-Haenszel" in result.method


@pytest.mark.slow
def test_type_one_error_at_the_null() -> None:
    """With the drug effect off, the primary test (and the log-rank test) of 40 randomised
    carriers rejects at about alpha: 1000 trials, inside the 99.9% binomial range of 0.05."""
    from alsim.campaign import default_plan, fit_analysis

    design = without_drug(scale_patients(ATLAS, 40))
    sim = simulate_trial(design, n_replicates=1000, seed=21, adverse_event_terms=())
    plan = {a.name: a for a in default_plan(design)}
    for name in ("risk_difference_phenocnv_landmark", "logrank_phenocnv"):
        p = fit_analysis(sim, plan[name], sim.observed).p_value
        rate = np.mean(np.where(np.isfinite(p), p < 0.05, False))
        assert 0.05 - 3.3 * 0.0069 <= rate <= 0.05 + 3.3 * 0.0069, (name, rate)
    assert RiskDifferenceSpec  # the primary's estimator (alsim.analysis.proportions)
