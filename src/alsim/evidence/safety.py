"""Simulated vs published adverse events: per-arm incidences and risk differences at week 28.

Published incidences come from the evidence file (the counts in each record's note, parsed by
`alsim.calibrate.safety.arm_incidences`), never from code. A per-arm incidence is met when the
simulated median lies within 3 percentage points of the published rate, a risk difference when
the simulated median lies inside the published 95% CI.
"""

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from alsim.analysis.safety import risk_difference
from alsim.calibrate.safety import TERM_SOURCES, arm_incidences
from alsim.evidence.compare import ComparisonRow
from alsim.evidence.records import EvidenceRecord, evidence
from alsim.evidence.roles import role_of
from alsim.simulate.adverse_events import AdverseEvents, truncate_follow_up
from alsim.simulate.trial import TrialSimulation

INCIDENCE_MARGIN_PP = 3.0
SERIOUS_NEURO_RECORD = "valor_neuro_sae_randomized"


def _quantiles(values: NDArray[np.float64]) -> tuple[float, float, float]:
    median, low, high = np.nanquantile(values, [0.5, 0.025, 0.975])
    return float(median), float(low), float(high)


Check = Literal["ci", "margin", "range", "unstated"]
_CRITERIA: dict[str, str] = {
    "ci": "simulated median inside published 95% CI",
    "margin": f"simulated median within {INCIDENCE_MARGIN_PP:g} pp of published",
    "range": "published count inside simulated 95% range",
    "unstated": "published value inside the simulated 95% range over the whole simulated "
    "follow-up; the publication states no timepoint for it",
}


def _row(
    study: str,
    record: EvidenceRecord,
    arm: str,
    quantity: str,
    values: NDArray[np.float64],
    published: float,
    visit: str,
    check: Check,
) -> ComparisonRow:
    median, low, high = _quantiles(values)
    ci_low, ci_high = (record.ci_low, record.ci_high) if check == "ci" else (None, None)
    inside: bool | None = {
        "ci": ci_low is not None and ci_high is not None and ci_low <= median <= ci_high,
        "margin": abs(median - published) <= INCIDENCE_MARGIN_PP,
        "range": low <= published <= high,
        "unstated": low <= published <= high,
    }[check]
    role, fitted = role_of(record.id)
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
        published_ci_low=ci_low,
        published_ci_high=ci_high,
        criterion=_CRITERIA[check],
        inside=None if inside is None else bool(inside),
        source=record.source,
        verification_tier=record.verification_tier,
        role=role,
        fitted=fitted,
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
    hit = events.patients_with_event()
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
                visit,
                "margin",
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
                visit,
                "margin",
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
                    visit,
                    "ci",
                )
            )
    record = evidence(SERIOUS_NEURO_RECORD)
    counts = events.patients_with_serious_event()[:, in_treated].sum(axis=1).astype(np.float64)
    rows.append(
        _row(study, record, treated, "ae_patients", counts, record.numeric_value, visit, "range")
    )
    return rows


OLE_SERIOUS_RECORD = "valor_ole_neuro_sae_pct"
SAFETY_STUDIES = {"valor": "WEEK 28", "ole": "WEEK 28"}
WEEK_28_DAY = 197.0


def safety_rows(study: str, sim: TrialSimulation) -> list[ComparisonRow]:
    """The safety comparison of a reproduced study (empty for studies without safety targets).

    VALOR: every week-28 adverse-event record, at week 28 whatever the design's length. The
    extension adds the share of tofersen-treated patients with a serious neurological event over
    the whole simulated follow-up, beside the published VALOR + extension share; the publication
    states no data-cut timepoint, so the row says so (its visit and criterion) and is met when
    the published share lies inside the simulated range.
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
    ever_treated = events.ever_treated
    with_serious = events.patients_with_serious_event() & ever_treated
    share = 100 * with_serious.sum(axis=1) / np.maximum(ever_treated.sum(axis=1), 1)
    record = evidence(OLE_SERIOUS_RECORD)
    rows.append(
        _row(
            study,
            record,
            "ever treated with tofersen",
            "ae_incidence",
            share.astype(np.float64),
            record.numeric_value,
            f"{design.visits[-1].name} (published: timepoint not stated)",
            "unstated",
        )
    )
    return rows
