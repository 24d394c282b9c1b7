"""Simulated vs published, side by side: each target's simulated distribution over replicates
beside the published value, its CI and its source."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import numpy as np
import yaml
from numpy.typing import NDArray

from alsim.analysis.change import PercentChangeResult, percent_change_by_arm
from alsim.errors import EvidenceError
from alsim.evidence.records import evidence
from alsim.simulate.trial import TrialSimulation

FloatArray = NDArray[np.float64]
Quantity = Literal["pct_change_diff", "mean_pct_change", "geo_mean_pct_change"]
QUANTITY_LABELS: dict[str, str] = {
    "pct_change_diff": "difference in mean % change vs control",
    "mean_pct_change": "mean % change from baseline",
    "geo_mean_pct_change": "geometric mean % change from baseline",
    "ae_incidence": "% of patients with the adverse event",
    "ae_risk_difference": "adverse-event risk difference vs control (pp)",
    "ae_patients": "patients with the adverse event",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A simulated quantity, and the evidence record it is compared with (None: a prediction)."""

    quantity: Quantity
    paramcd: str
    visit: str
    arm: str
    evidence: str | None = None
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonRow:
    """One line of the simulated-vs-published table."""

    study: str
    target: str
    paramcd: str
    visit: str
    arm: str
    quantity: str
    sim_median: float
    sim_low: float
    sim_high: float
    published: float | None
    published_ci_low: float | None
    published_ci_high: float | None
    criterion: str
    inside: bool | None
    source: str
    verification_tier: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def _targets_document() -> dict[str, Any]:
    text = files("alsim.evidence").joinpath("data", "targets.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def study_targets(study: str) -> tuple[tuple[Target, ...], tuple[Target, ...]]:
    """Targets with published values, and predictions without, for `study`."""
    document = _targets_document()
    if study not in document:
        raise EvidenceError(f"no targets for study {study!r}; allowed: {', '.join(document)}")
    entry = document[study]
    return (
        tuple(Target(**t) for t in entry.get("targets", [])),
        tuple(Target(**t) for t in entry.get("predictions", [])),
    )


def _change_at(sim: TrialSimulation, paramcd: str, visit: str) -> PercentChangeResult:
    observed = sim.observed[paramcd]
    return percent_change_by_arm(
        observed[:, :, 0],
        observed[:, :, sim.visit_position(visit)],
        sim.arm_index,
        sim.design.arm_labels,
        sim.design.control_arm,
    )


def _pick(result: PercentChangeResult, target: Target) -> FloatArray:
    by_quantity: Mapping[str, FloatArray] = {
        "pct_change_diff": result.estimate,
        "mean_pct_change": result.mean_pct_change,
        "geo_mean_pct_change": result.geo_mean_pct_change,
    }
    values: FloatArray = by_quantity[target.quantity][:, result.arm_position(target.arm)]
    return values


def simulated_values(sim: TrialSimulation, target: Target) -> FloatArray:
    """The target's estimate in every replicate, shaped (replicate,)."""
    return _pick(_change_at(sim, target.paramcd, target.visit), target)


def compare(study: str, sim: TrialSimulation) -> list[ComparisonRow]:
    """Every target and prediction of `study`, simulated (median, 2.5-97.5%) vs published.

    A published CI is met when the simulated median lies inside it; a published value without a
    CI is met when it lies inside the simulated 2.5-97.5% range.
    """
    targets, predictions = study_targets(study)
    rows = []
    analysed: dict[tuple[str, str], PercentChangeResult] = {}
    for target in (*targets, *predictions):
        key = (target.paramcd, target.visit)
        if key not in analysed:
            analysed[key] = _change_at(sim, *key)
        values = _pick(analysed[key], target)
        median, low, high = (float(q) for q in np.nanquantile(values, [0.5, 0.025, 0.975]))
        published = ci_low = ci_high = None
        inside: bool | None = None
        criterion, source, tier = "prediction (no published value)", "", ""
        name = target.label or f"{target.paramcd} {QUANTITY_LABELS[target.quantity]}"
        if target.evidence is not None:
            record = evidence(target.evidence)
            published = record.numeric_value
            source, tier, name = record.source, record.verification_tier, record.id
            if record.has_ci:
                ci_low, ci_high = record.ci_low, record.ci_high
                criterion = "simulated median inside published 95% CI"
                inside = bool(
                    ci_low is not None and ci_high is not None and ci_low <= median <= ci_high
                )
            else:
                criterion = "published value inside simulated 95% range"
                inside = bool(low <= published <= high)
        rows.append(
            ComparisonRow(
                study=study,
                target=name,
                paramcd=target.paramcd,
                visit=target.visit,
                arm=target.arm,
                quantity=target.quantity,
                sim_median=median,
                sim_low=low,
                sim_high=high,
                published=published,
                published_ci_low=ci_low,
                published_ci_high=ci_high,
                criterion=criterion,
                inside=inside,
                source=source,
                verification_tier=tier,
            )
        )
    return rows
