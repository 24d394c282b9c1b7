"""Adverse events inside trial simulation: withdrawal feeds the efficacy data."""

import numpy as np

from alsim.design import load_template
from alsim.model.adverse_events import AdverseEventTerm
from alsim.simulate import simulate_trial

STOPPER = AdverseEventTerm(
    decod="Test event that stops treatment",
    body_system="Nervous system disorders",
    per_procedure_probability=0.2,
    discontinuation_probability=0.9,
    onset_delay_days=0,
    source="test",
    assumption=True,
)


def test_a_withdrawn_patient_stops_contributing_efficacy_data_from_the_withdrawal_day() -> None:
    design = load_template("phase12").model_copy(update={"dropout_per_year": 0.0})
    sim = simulate_trial(design, n_replicates=4, seed=2, adverse_event_terms=(STOPPER,))
    events = sim.adverse_events
    assert events is not None
    withdrawn = np.isfinite(events.withdrawal_day)
    assert withdrawn.any()
    np.testing.assert_array_equal(sim.dropout_day, events.withdrawal_day)
    after = sim.visit_days[None, None, :] > events.withdrawal_day[:, :, None]
    for values in sim.observed.values():
        assert np.isnan(values[after]).all()
        assert not np.isnan(values[~after]).any()
    # no event (and no further puncture) after a patient's withdrawal
    rep, pat = events.replicate_index, events.patient
    assert np.all(events.onset_day <= events.withdrawal_day[rep, pat])


def test_no_terms_means_no_events_and_unchanged_efficacy_draws() -> None:
    design = load_template("phase12")
    quiet = simulate_trial(design, n_replicates=2, seed=8, adverse_event_terms=())
    assert quiet.adverse_events is not None and quiet.adverse_events.n_events == 0
    default = simulate_trial(design, n_replicates=2, seed=8)
    kept = np.isinf(default.adverse_events.withdrawal_day)  # type: ignore[union-attr]
    np.testing.assert_array_equal(
        default.observed["CSFSOD1"][kept], quiet.observed["CSFSOD1"][kept]
    )
