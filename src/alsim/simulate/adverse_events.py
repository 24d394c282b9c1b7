"""Simulate adverse events dose by dose; an event that stops treatment withdraws the patient.

Serious on-drug events (the only ones that withdraw patients by default) are drawn first, so every
dose-driven event after a withdrawal is suppressed.

Each replicate draws from its own stream, `SeedSequence(seed, spawn_key=(replicate, 1))`, apart
from the efficacy stream `(replicate,)`: adding or changing safety terms never changes the
efficacy numbers of patients who are not withdrawn.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from alsim.model.adverse_events import SEVERITIES, AdverseEventTerm

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

SAFETY_STREAM = 1
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class AdverseEvents:
    """Event records (one entry per event) and each patient's withdrawal day (inf: none).

    Record arrays are 1-D and aligned: replicate position (0-based within this run), patient,
    term index, onset study day, severity index into `SEVERITIES`, whether the event withdrew the
    patient, and whether tofersen (rather than the lumbar puncture) caused it. Per patient
    (replicate, patient): the withdrawal day, the first tofersen dose day (inf: never dosed) and
    the day exposure ends (death, dropout, withdrawal or the end of the study).
    """

    terms: tuple[AdverseEventTerm, ...]
    replicate_index: IntArray
    patient: IntArray
    term: IntArray
    onset_day: FloatArray
    severity: IntArray
    withdrew: BoolArray
    related: BoolArray
    withdrawal_day: FloatArray
    first_dose_day: FloatArray
    exposure_end_day: FloatArray

    @property
    def n_events(self) -> int:
        return int(self.term.shape[0])

    @property
    def ever_treated(self) -> BoolArray:
        """(replicate, patient): whether the patient received any tofersen."""
        treated: BoolArray = np.isfinite(self.first_dose_day)
        return treated

    @property
    def exposure_years(self) -> FloatArray:
        """(replicate, patient): time on tofersen from the first active dose (0 if never dosed)."""
        days = np.clip(self.exposure_end_day - self.first_dose_day, 0.0, None)
        years: FloatArray = np.where(self.ever_treated, days, 0.0) / DAYS_PER_YEAR
        return years

    def patients_with_event(self) -> BoolArray:
        """(term, replicate, patient): whether each patient had at least one event of each term."""
        hit = np.zeros((len(self.terms), *self.withdrawal_day.shape), dtype=bool)
        hit[self.term, self.replicate_index, self.patient] = True
        return hit

    def patients_with_serious_event(self) -> BoolArray:
        """(replicate, patient): whether each patient had any serious adverse event."""
        serious = np.array([t.serious for t in self.terms], dtype=bool)
        found: BoolArray = self.patients_with_event()[serious].any(axis=0)
        return found


def simulate_adverse_events(
    terms: Sequence[AdverseEventTerm],
    dose_days: IntArray,
    amount_mg: FloatArray,
    dropout_day: FloatArray,
    end_day: float,
    *,
    seed: int,
    replicates: IntArray,
) -> AdverseEvents:
    """Adverse events of every replicate's patients.

    `dose_days` (dose,) are study days of the lumbar punctures; `amount_mg` (replicate, patient,
    dose) the tofersen given at each (0 for placebo); `dropout_day` (replicate, patient) the day a
    patient leaves for reasons other than adverse events; `end_day` the last study day.
    """
    terms = tuple(terms)
    n_rep, n_pat, _ = amount_mg.shape
    n_terms = len(terms)
    p_proc = np.array([t.per_procedure_probability for t in terms])
    q_drug = np.array([t.per_100mg_probability for t in terms])
    hazard = np.array([t.per_year_on_drug for t in terms])
    stop = np.array([t.discontinuation_probability for t in terms])
    delay = np.array([t.onset_delay_days for t in terms])
    severity_cdf = np.cumsum(
        np.array([t.severity_probabilities for t in terms]).reshape(n_terms, 3), axis=1
    )

    # Each replicate's stream is read in a fixed order: the on-drug hazard draws (term, patient, 4)
    # first, then (term, patient, 4) per dose; columns: event, delay, severity, withdrawal.
    rngs = [
        np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(r), SAFETY_STREAM)))
        for r in replicates
    ]
    on_drug = np.empty((n_rep, n_terms, n_pat, 4))
    for rng, draws in zip(rngs, on_drug, strict=True):
        rng.random(out=draws)

    withdrawal = np.full((n_rep, n_pat), np.inf)
    records: list[tuple[IntArray, ...]] = []
    onsets: list[FloatArray] = []
    severities: list[IntArray] = []
    stopped: list[BoolArray] = []
    related: list[BoolArray] = []

    def record(
        rep: IntArray,
        pat: IntArray,
        term: IntArray,
        day: FloatArray,
        u: FloatArray,
        by_drug: BoolArray,
    ) -> None:
        """Record events of (replicate, patient, term) with onset `day` and their draws `u`
        ((event, 4) columns: event, delay, severity, withdrawal); a withdrawal moves
        `withdrawal` earlier."""
        sev = (u[:, 2, None] > severity_cdf[term]).sum(axis=1)
        withdraws = u[:, 3] < stop[term]
        np.minimum.at(withdrawal, (rep[withdraws], pat[withdraws]), day[withdraws])
        records.append((rep, pat, term.astype(np.int64)))
        onsets.append(day)
        severities.append(sev.astype(np.int64))
        stopped.append(withdraws)
        related.append(by_drug)

    given = amount_mg > 0
    first_dose = np.where(given.any(axis=2), dose_days[np.argmax(given, axis=2)], np.inf)
    for serious_k in np.flatnonzero(hazard > 0):
        u = on_drug[:, serious_k]
        years = -np.log1p(-u[:, :, 0]) / hazard[serious_k]
        onset = first_dose + np.floor(years * DAYS_PER_YEAR)
        exposure_end = np.minimum(np.minimum(dropout_day, withdrawal), end_day)
        hit = np.isfinite(first_dose) & (onset <= exposure_end)
        rep, pat = np.nonzero(hit)
        term = np.full(rep.shape, serious_k)
        record(rep, pat, term, onset[rep, pat], u[rep, pat], np.ones(rep.shape, dtype=bool))

    # per dose, every term at once (terms do not interact within a dose: who is on study is
    # decided before its draws); events are recorded term by term as before
    per_dose = np.empty_like(on_drug)
    terms_first = per_dose.transpose(1, 0, 2, 3)  # (term, replicate, patient, column) view
    p_proc_k = p_proc[:, None, None]
    q_drug_k = q_drug[:, None, None]
    delay_k = (delay + 1)[:, None, None]
    for d, day in enumerate(dose_days):
        on_study = (day < dropout_day) & (day < withdrawal) & (day <= end_day)
        for rng, draws in zip(rngs, per_dose, strict=True):
            rng.random(out=draws)
        u0 = terms_first[..., 0]
        drug_risk = q_drug_k * amount_mg[None, :, :, d] / 100.0
        risk = 1.0 - (1.0 - p_proc_k) * (1.0 - drug_risk)
        onset = day + np.floor(terms_first[..., 1] * delay_k)
        hit = on_study[None] & (u0 < risk) & (onset <= end_day)
        k, rep, pat = np.nonzero(hit)
        if k.size == 0:
            continue
        u = terms_first[k, rep, pat]
        record(rep, pat, k, onset[k, rep, pat], u, u[:, 0] < drug_risk[k, rep, pat])

    if records:
        rep_all, pat_all, term_all = (np.concatenate(parts) for parts in zip(*records, strict=True))
    else:
        rep_all = pat_all = term_all = np.empty(0, dtype=np.int64)
    return AdverseEvents(
        terms=terms,
        replicate_index=rep_all,
        patient=pat_all,
        term=term_all,
        onset_day=np.concatenate(onsets) if onsets else np.empty(0),
        severity=np.concatenate(severities) if severities else np.empty(0, dtype=np.int64),
        withdrew=np.concatenate(stopped) if stopped else np.empty(0, dtype=bool),
        related=np.concatenate(related) if related else np.empty(0, dtype=bool),
        withdrawal_day=withdrawal,
        first_dose_day=first_dose,
        exposure_end_day=np.minimum(np.minimum(dropout_day, withdrawal), end_day),
    )


def truncate_follow_up(events: AdverseEvents, last_day: FloatArray) -> AdverseEvents:
    """Drop events after each patient's last day of follow-up (death, censoring, not entering an
    extension) and end exposure there; `last_day` is (replicate, patient)."""
    keep = events.onset_day <= last_day[events.replicate_index, events.patient]
    return replace(
        events,
        replicate_index=events.replicate_index[keep],
        patient=events.patient[keep],
        term=events.term[keep],
        onset_day=events.onset_day[keep],
        severity=events.severity[keep],
        withdrew=events.withdrew[keep],
        related=events.related[keep],
        withdrawal_day=np.where(events.withdrawal_day <= last_day, events.withdrawal_day, np.inf),
        exposure_end_day=np.minimum(events.exposure_end_day, last_day),
    )


__all__ = ["SEVERITIES", "AdverseEvents", "simulate_adverse_events", "truncate_follow_up"]
