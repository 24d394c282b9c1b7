"""Simulated vs published adverse events: per-arm incidences and risk differences at week 28.

Published incidences come from the evidence file (the counts in each record's note, parsed by
`alsim.calibrate.safety.arm_incidences`), never from code. A per-arm incidence is met when the
simulated median lies within 3 percentage points of the published rate, a risk difference when
the simulated median lies inside the published 95% CI.
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from alsim.analysis.safety import risk_difference
from alsim.calibrate.safety import TERM_SOURCES, arm_incidences
from alsim.evidence.compare import ComparisonRow
from alsim.evidence.records import EvidenceRecord, evidence
from alsim.simulate.adverse_events import AdverseEvents, truncate_follow_up
from alsim.simulate.trial import TrialSimulation

INCIDENCE_MARGIN_PP = 3.0
SERIOUS_NEURO_RECORD = "valor_neuro_sae_randomized"


def had_event(events: AdverseEvents, n_replicates: int, n_patients: int) -> NDArray[np.bool_]:
    """(term, replicate, patient): whether each patient had at least one event of each term."""
    hit = np.zeros((len(events.terms), n_replicates, n_patients), dtype=bool)
    hit[events.term, events.replicate_index, events.patient] = True
    return hit


def _quantiles(values: NDArray[np.float64]) -> tuple[float, float, float]:
    median, low, high = np.nanquantile(values, [0.5, 0.025, 0.975])
    return float(median), float(low), float(high)


def _row(
    study: str,
    record: EvidenceRecord,
    arm: str,
    quantity: str,
    values: NDArray[np.float64],
    published: float,
    ci: tuple[float | None, float | None],
    visit: str,
) -> ComparisonRow:
    median, low, high = _quantiles(values)
    if ci[0] is not None and ci[1] is not None:
        criterion = "simulated median inside published 95% CI"
        inside = ci[0] <= median <= ci[1]
    else:
        criterion = f"simulated median within {INCIDENCE_MARGIN_PP:g} pp of published"
        inside = abs(median - published) <= INCIDENCE_MARGIN_PP
    return ComparisonRow(
        study=study,
        target=record.id,
        paramcd="AE",
        visit=visit,
        arm=arm,
        quantity=quantity,
        sim_median=median,
        sim_low=low,
        sim_high=high,
        published=published,
        published_ci_low=ci[0],
        published_ci_high=ci[1],
        criterion=criterion,
        inside=bool(inside),
        source=record.source,
        verification_tier=record.verification_tier,
    )


def compare_safety(
    study: str,
    events: AdverseEvents,
    *,
    arm_index: NDArray[np.int64],
    arm_labels: Sequence[str],
    treated: str,
    control: str,
    n_replicates: int,
    visit: str = "WEEK 28",
) -> list[ComparisonRow]:
    """Every VALOR adverse-event record of the evidence beside its simulated counterpart."""
    labels = list(arm_labels)
    in_treated = arm_index == labels.index(treated)
    in_control = arm_index == labels.index(control)
    hit = had_event(events, n_replicates, arm_index.shape[0])
    decods = [t.decod for t in events.terms]
    rows: list[ComparisonRow] = []
    for source in TERM_SOURCES:
        if source.evidence_id is None or source.decod not in decods:
            continue
        record = evidence(source.evidence_id)
        result = risk_difference(hit[decods.index(source.decod)], in_treated, in_control)
        if source.route == "serious":
            published_t, published_c = 100 * record.numeric_value / float(record.n or 1), 0.0
        else:
            p_t, p_c, _, _ = arm_incidences(record)
            published_t, published_c = 100 * p_t, 100 * p_c
        rows.append(
            _row(
                study,
                record,
                treated,
                "ae_incidence",
                result.incidence_treated,
                published_t,
                (None, None),
                visit,
            )
        )
        rows.append(
            _row(
                study,
                record,
                control,
                "ae_incidence",
                result.incidence_control,
                published_c,
                (None, None),
                visit,
            )
        )
        if record.has_ci:
            rows.append(
                _row(
                    study,
                    record,
                    f"{treated} vs {control}",
                    "ae_risk_difference",
                    result.estimate,
                    record.numeric_value,
                    (record.ci_low, record.ci_high),
                    visit,
                )
            )
    serious = np.array([t.serious for t in events.terms])
    any_serious = hit[serious].any(axis=0)
    record = evidence(SERIOUS_NEURO_RECORD)
    counts = any_serious[:, in_treated].sum(axis=1).astype(np.float64)
    median, low, high = _quantiles(counts)
    rows.append(
        ComparisonRow(
            study=study,
            target=record.id,
            paramcd="AE",
            visit=visit,
            arm=treated,
            quantity="ae_patients",
            sim_median=median,
            sim_low=low,
            sim_high=high,
            published=record.numeric_value,
            published_ci_low=None,
            published_ci_high=None,
            criterion="published count inside simulated 95% range",
            inside=bool(low <= record.numeric_value <= high),
            source=record.source,
            verification_tier=record.verification_tier,
        )
    )
    return rows


OLE_SERIOUS_RECORD = "valor_ole_neuro_sae_pct"
SAFETY_STUDIES = {"valor": "WEEK 28", "ole": "WEEK 28"}
WEEK_28_DAY = 197.0


def safety_rows(study: str, sim: TrialSimulation) -> list[ComparisonRow]:
    """The safety comparison of a reproduced study (empty for studies without safety targets).

    VALOR: every week-28 adverse-event record. The extension adds the share of tofersen-treated
    patients with a serious neurological event over the whole simulated follow-up, beside the
    published VALOR + extension share; the published data cut's follow-up is not in the
    evidence, so that row is context, not a test.
    """
    events = sim.adverse_events
    if study not in SAFETY_STUDIES or events is None:
        return []
    design = sim.design
    treated = next(arm.label for arm in design.arms if arm.dose_mg > 0)
    week28 = truncate_follow_up(events, np.full(events.withdrawal_day.shape, WEEK_28_DAY))
    rows = compare_safety(
        study,
        week28,
        arm_index=sim.arm_index,
        arm_labels=design.arm_labels,
        treated=treated,
        control=design.control_arm,
        n_replicates=sim.n_replicates,
        visit=SAFETY_STUDIES[study],
    )
    if design.extension is None:
        return rows
    hit = had_event(events, sim.n_replicates, sim.n_patients)
    serious = np.array([t.serious for t in events.terms])
    ever_treated = np.isfinite(events.first_dose_day)
    any_serious = hit[serious].any(axis=0)
    share = 100 * (any_serious & ever_treated).sum(axis=1) / np.maximum(ever_treated.sum(axis=1), 1)
    record = evidence(OLE_SERIOUS_RECORD)
    median, low, high = _quantiles(share.astype(np.float64))
    rows.append(
        ComparisonRow(
            study=study,
            target=record.id,
            paramcd="AE",
            visit=design.visits[-1].name,
            arm="ever treated with tofersen",
            quantity="ae_incidence",
            sim_median=median,
            sim_low=low,
            sim_high=high,
            published=record.numeric_value,
            published_ci_low=None,
            published_ci_high=None,
            criterion="context only: the published data cut's follow-up is not in the evidence",
            inside=None,
            source=record.source,
            verification_tier=record.verification_tier,
        )
    )
    return rows
