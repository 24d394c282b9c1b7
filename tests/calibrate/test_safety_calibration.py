"""Adverse-event calibration and simulation: placebo, exposure, withdrawal."""

import numpy as np
import pytest

from alsim.calibrate.safety import (
    TERM_SOURCES,
    VALOR_PROCEDURES,
    arm_incidences,
    default_adverse_event_terms,
)
from alsim.evidence import evidence
from alsim.simulate.adverse_events import simulate_adverse_events

TERMS = default_adverse_event_terms()
VALOR_DAYS = np.array([1, 15, 29, 57, 85, 113, 141, 169])


def run(dose_mg: float, n: int = 4000, n_doses: int = 8, seed: int = 1, dropout: float = np.inf):  # type: ignore[no-untyped-def]
    amount = np.full((2, n, n_doses), dose_mg)
    return simulate_adverse_events(
        TERMS,
        VALOR_DAYS[:n_doses],
        amount,
        np.full((2, n), dropout),
        197.0,
        seed=seed,
        replicates=np.array([0, 1]),
    )


def incidence(events, k: int, n: int) -> float:  # type: ignore[no-untyped-def]
    hit = np.zeros((2, n), dtype=bool)
    mask = events.term == k
    hit[events.replicate_index[mask], events.patient[mask]] = True
    return float(hit.mean())


def test_placebo_gets_procedure_events_but_no_drug_related_ones() -> None:
    events = run(0.0)
    assert events.n_events > 0
    assert not events.related.any()
    assert np.all(events.exposure_years == 0)
    assert np.isinf(events.withdrawal_day).all()


def test_drug_event_risk_grows_with_dose_and_number_of_doses() -> None:
    k = next(i for i, t in enumerate(TERMS) if t.decod == "CSF white blood cell count increased")
    low, high = incidence(run(20.0), k, 4000), incidence(run(100.0), k, 4000)
    few = incidence(run(100.0, n_doses=3), k, 4000)
    assert low < high and few < high
    assert high == pytest.approx(1 - (1 - TERMS[k].per_100mg_probability) ** 8, abs=0.01)


@pytest.mark.parametrize(
    "source", [s for s in TERM_SOURCES if s.route != "assumed"], ids=lambda s: s.decod
)
def test_simulated_valor_incidence_is_within_3_points_of_published(source) -> None:  # type: ignore[no-untyped-def]
    """Done-when of the safety issue, on the VALOR schedule without dropout: each arm's simulated
    28-week incidence is within 3 percentage points of the published one."""
    k = next(i for i, t in enumerate(TERMS) if t.decod == source.decod)
    record = evidence(source.evidence_id)
    if source.route == "serious":
        published_t, published_p = record.numeric_value / record.n, 0.0
    else:
        published_t, published_p, _, _ = arm_incidences(record)
    assert abs(incidence(run(100.0), k, 4000) - published_t) < 0.03
    assert abs(incidence(run(0.0), k, 4000) - published_p) < 0.03


def test_serious_events_can_withdraw_and_stop_later_events() -> None:
    events = run(100.0, n=20000, seed=3)
    withdrawn = np.isfinite(events.withdrawal_day)
    assert withdrawn.any()
    rep, pat = events.replicate_index, events.patient
    later = events.onset_day > events.withdrawal_day[rep, pat]
    dose_driven = np.array([t.per_year_on_drug == 0 for t in TERMS])[events.term]
    started_after = events.onset_day - np.array([t.onset_delay_days for t in TERMS])[events.term]
    assert not (later & dose_driven & (started_after > events.withdrawal_day[rep, pat])).any()
    assert VALOR_PROCEDURES == 8


def test_same_seed_same_events() -> None:
    a, b = run(100.0, n=50, seed=9), run(100.0, n=50, seed=9)
    np.testing.assert_array_equal(a.onset_day, b.onset_day)
    np.testing.assert_array_equal(a.term, b.term)
