"""The batched adverse-event simulation against a term-by-term, dose-by-dose loop."""

from typing import Any

import numpy as np
import pytest

from alsim.calibrate.safety import default_adverse_event_terms
from alsim.model.adverse_events import AdverseEventTerm
from alsim.simulate.adverse_events import SAFETY_STREAM, simulate_adverse_events

DAYS_PER_YEAR = 365.25

STOPPERS = tuple(
    AdverseEventTerm(
        decod=f"Test event {k} that stops treatment",
        body_system="Nervous system disorders",
        per_procedure_probability=0.15,
        per_100mg_probability=0.05 * k,
        discontinuation_probability=0.5,
        onset_delay_days=k,
        source="test",
        assumption=True,
    )
    for k in range(3)
)


def term_by_term(
    terms: tuple[AdverseEventTerm, ...],
    dose_days: np.ndarray,
    amount_mg: np.ndarray,
    dropout_day: np.ndarray,
    end_day: float,
    seed: int,
    replicates: np.ndarray,
) -> dict[str, Any]:
    """The plain reading of the draw order: each replicate's stream gives the on-drug hazard
    draws (term, patient, 4), then (term, patient, 4) per dose; serious on-drug events first,
    then dose by dose, term by term, a withdrawal ending later doses."""
    n_rep, n_pat, _ = amount_mg.shape
    rngs = [
        np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(r), SAFETY_STREAM)))
        for r in replicates
    ]
    on_drug = np.stack([rng.random((len(terms), n_pat, 4)) for rng in rngs])
    withdrawal = np.full((n_rep, n_pat), np.inf)
    given = amount_mg > 0
    first_dose = np.where(given.any(axis=2), dose_days[np.argmax(given, axis=2)], np.inf)
    events: list[tuple[int, int, int, float, int, bool, bool]] = []

    def record(r: int, i: int, k: int, day: float, u: np.ndarray, related: bool) -> None:
        cdf = np.cumsum(terms[k].severity_probabilities)
        withdraws = bool(u[3] < terms[k].discontinuation_probability)
        if withdraws:
            withdrawal[r, i] = min(withdrawal[r, i], day)
        events.append((r, i, k, day, int((u[2] > cdf).sum()), withdraws, related))

    for k, term in enumerate(terms):
        if term.per_year_on_drug <= 0:
            continue
        for r in range(n_rep):
            for i in range(n_pat):
                u = on_drug[r, k, i]
                onset = first_dose[r, i] + np.floor(
                    -np.log1p(-u[0]) / term.per_year_on_drug * DAYS_PER_YEAR
                )
                stop = min(dropout_day[r, i], withdrawal[r, i], end_day)
                if np.isfinite(first_dose[r, i]) and onset <= stop:
                    record(r, i, k, onset, u, True)
    for d, day in enumerate(dose_days):
        draws = np.stack([rng.random((len(terms), n_pat, 4)) for rng in rngs])
        on_study = (day < dropout_day) & (day < withdrawal) & (day <= end_day)
        for k, term in enumerate(terms):
            for r in range(n_rep):
                for i in range(n_pat):
                    u = draws[r, k, i]
                    drug_risk = term.per_100mg_probability * amount_mg[r, i, d] / 100.0
                    risk = 1.0 - (1.0 - term.per_procedure_probability) * (1.0 - drug_risk)
                    onset = day + np.floor(u[1] * (term.onset_delay_days + 1))
                    if on_study[r, i] and u[0] < risk and onset <= end_day:
                        record(r, i, k, float(onset), u, bool(u[0] < drug_risk))
    return {"events": events, "withdrawal_day": withdrawal, "first_dose_day": first_dose}


@pytest.mark.parametrize("terms", [default_adverse_event_terms(), STOPPERS])
def test_batched_adverse_events_match_the_term_by_term_loop(
    terms: tuple[AdverseEventTerm, ...],
) -> None:
    rng = np.random.default_rng(5)
    n_rep, n_pat = 3, 40
    dose_days = np.array([1, 15, 29, 57, 85, 113, 141, 169, 197, 225], dtype=np.int64)
    amount = np.where(rng.random((n_rep, n_pat, dose_days.size)) < 0.7, 100.0, 0.0)
    amount[:, ::4] = 0.0  # placebo patients
    dropout = 1.0 + rng.exponential(300.0, (n_rep, n_pat))
    replicates = np.array([4, 9, 10], dtype=np.int64)
    got = simulate_adverse_events(
        terms, dose_days, amount, dropout, 230.0, seed=11, replicates=replicates
    )
    want = term_by_term(tuple(terms), dose_days, amount, dropout, 230.0, 11, replicates)
    assert got.n_events == len(want["events"]) > 0
    columns = list(zip(*want["events"], strict=True))
    np.testing.assert_array_equal(got.replicate_index, columns[0])
    np.testing.assert_array_equal(got.patient, columns[1])
    np.testing.assert_array_equal(got.term, columns[2])
    np.testing.assert_array_equal(got.onset_day, columns[3])
    np.testing.assert_array_equal(got.severity, columns[4])
    np.testing.assert_array_equal(got.withdrew, columns[5])
    np.testing.assert_array_equal(got.related, columns[6])
    np.testing.assert_array_equal(got.withdrawal_day, want["withdrawal_day"])
    np.testing.assert_array_equal(got.first_dose_day, want["first_dose_day"])
