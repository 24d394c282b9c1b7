"""Simulated vs published, side by side: each target's simulated distribution over replicates
beside the published value, its CI and its source."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml
from numpy.typing import NDArray

from alsim.analysis.change import PercentChangeResult, percent_change_by_arm
from alsim.errors import EvidenceError
from alsim.evidence import protocol
from alsim.evidence.carriers import CARRIER_QUANTITY_LABELS, carrier_values
from alsim.evidence.natural_history import NH_QUANTITIES, natural_history_values
from alsim.evidence.records import evidence
from alsim.simulate.trial import TrialSimulation

if TYPE_CHECKING:
    from alsim.analysis.plan import PlanRunner

FloatArray = NDArray[np.float64]
Quantity = Literal[
    "pct_change_diff",
    "mean_pct_change",
    "geo_mean_pct_change",
    "ancova_lsmean_change",
    "ancova_diff",
    "ancova_mi_lsmean_change",
    "ancova_mi_diff",
    "joint_rank_p",
    "gmr_to_baseline",
    "gmr_ratio",
    "gmr_diff_pct",
    "cox_hr",
    "event_pct",
    "extension_entered_n",
    "nh_median_survival",
    "nh_slope_mean",
    "nh_svc_slope_mean",
]
QUANTITY_LABELS: dict[str, str] = {
    "pct_change_diff": "difference in mean % change vs control",
    "mean_pct_change": "mean % change from baseline",
    "geo_mean_pct_change": "geometric mean % change from baseline",
    "ae_incidence": "% of patients with the adverse event",
    "ae_risk_difference": "adverse-event risk difference vs control (pp)",
    "ae_patients": "patients with the adverse event",
    "ancova_lsmean_change": "adjusted mean change from baseline (ANCOVA, observed cases)",
    "ancova_diff": "difference in adjusted mean change vs control (ANCOVA, observed cases)",
    "ancova_mi_lsmean_change": "adjusted mean change from baseline (ANCOVA, multiple imputation)",
    "ancova_mi_diff": "difference in adjusted mean change vs control (ANCOVA, multiple imputation)",
    "joint_rank_p": "p-value of the joint rank test (death or permanent ventilation, then "
    "ALSFRS-R; multiple imputation)",
    "gmr_to_baseline": "adjusted geometric mean ratio to baseline",
    "gmr_ratio": "ratio of adjusted GMRs vs control",
    "gmr_diff_pct": "difference in GMRs vs control (% reduction)",
    "cox_hr": "hazard ratio of death or permanent ventilation vs control (Cox)",
    "event_pct": "% of patients who died or needed permanent ventilation",
    "extension_entered_n": "patients entering the open-label extension",
    "nh_median_survival": "natural history: median survival from onset (years)",
    "nh_slope_mean": "natural history: mean pre-study ALSFRS-R slope (points/month)",
    "nh_svc_slope_mean": "natural history: mean SVC decline since onset (% predicted/month)",
    **CARRIER_QUANTITY_LABELS,
}
PROTOCOL_QUANTITIES = (
    frozenset(QUANTITY_LABELS)
    - set(CARRIER_QUANTITY_LABELS)
    - {
        "pct_change_diff",
        "mean_pct_change",
        "geo_mean_pct_change",
        "ae_incidence",
        "ae_risk_difference",
        "ae_patients",
        "extension_entered_n",
        *NH_QUANTITIES,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A simulated quantity, and the evidence record it is compared with (None: a prediction)."""

    quantity: Quantity
    paramcd: str
    visit: str
    arm: str
    evidence: str | None = None
    label: str = ""
    population: str = "ITT"
    tolerance: float | None = None


Role = Literal["calibrated", "validation", "prediction"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonRow:
    """One line of the simulated-vs-published table.

    `role`: "calibrated" (a fit used this published number; `fitted` names what was fitted to
    it), "validation" (a published number no fit used) or "prediction" (no published number).
    """

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
    role: Role = "prediction"
    fitted: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["fitted"] = list(self.fitted)
        return document


@cache
def _targets_document() -> dict[str, Any]:
    text = files("alsim.evidence").joinpath("data", "targets.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


#: Top-level keys of targets.yaml that are not studies.
NOT_STUDIES = ("calibration_groups", "cross_validation", "design_inputs")


def targets_document() -> dict[str, Any]:
    """targets.yaml as read (do not modify)."""
    return _targets_document()


def study_targets(study: str) -> tuple[tuple[Target, ...], tuple[Target, ...]]:
    """Targets with published values, and predictions without, for `study`."""
    document = _targets_document()
    studies = [k for k in document if k not in NOT_STUDIES]
    if study not in studies:
        raise EvidenceError(f"no targets for study {study!r}; allowed: {', '.join(studies)}")
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


def _protocol_analysis(
    sim: TrialSimulation,
    target: Target,
    n_imputations: int | None,
    runner: "PlanRunner | None" = None,
) -> "protocol.ArmContrast":
    """The target's planned analysis (the design's plan, `protocol.target_analysis`), run on
    `runner` (one per simulation: analyses that impute the same values share imputations)."""
    analysis = protocol.target_analysis(
        sim.design, target.quantity, target.paramcd, target.visit, target.population
    )
    plan_runner = runner or protocol.runner(sim, n_imputations=n_imputations)
    return protocol.contrast(plan_runner, sim, analysis)


def _pick_protocol(result: "protocol.ArmContrast", target: Target, control_arm: str) -> FloatArray:
    q = target.quantity
    if q in {"ancova_lsmean_change", "ancova_mi_lsmean_change", "gmr_to_baseline", "event_pct"}:
        return result.control if target.arm == control_arm else result.treated
    if q == "joint_rank_p":
        return result.p_value
    if q == "gmr_diff_pct":
        values: FloatArray = 100.0 * (1.0 - result.contrast)
        return values
    return result.contrast


def _natural_history(sim: TrialSimulation, target: Target) -> FloatArray:
    if sim.uncertainty is None:
        return natural_history_values(
            target.quantity,
            target.arm,
            seed=sim.seed,
            replicates=sim.replicate,
            parameters=sim.parameter_set,
        )
    return np.concatenate(
        [
            natural_history_values(
                target.quantity,
                target.arm,
                seed=sim.seed,
                replicates=sim.replicate[i : i + 1],
                parameters=sim.replicate_parameters(int(r)),
            )
            for i, r in enumerate(sim.replicate)
        ]
    )


def _entered(sim: TrialSimulation) -> FloatArray:
    if sim.extension_entered.size == 0:
        raise EvidenceError(f"{sim.design.study_id} has no open-label extension")
    values: FloatArray = sim.extension_entered.sum(axis=1).astype(np.float64)
    return values


def simulated_values(
    sim: TrialSimulation,
    target: Target,
    *,
    n_imputations: int | None = None,
    runner: "PlanRunner | None" = None,
) -> FloatArray:
    """The target's estimate in every replicate, shaped (replicate,).

    Pass one `runner` (`protocol.runner(sim)`) for many targets of the same simulation: the
    analyses that impute the same values then share one set of imputations. `n_imputations`
    overrides the plan's number of imputations."""
    if target.quantity == "extension_entered_n":
        return _entered(sim)
    if target.quantity in CARRIER_QUANTITY_LABELS:
        return carrier_values(sim, target.quantity, target.arm)
    if target.quantity in NH_QUANTITIES:
        return _natural_history(sim, target)
    if target.quantity in PROTOCOL_QUANTITIES:
        return _pick_protocol(
            _protocol_analysis(sim, target, n_imputations, runner), target, sim.design.control_arm
        )
    return _pick(_change_at(sim, target.paramcd, target.visit), target)


def target_values(
    sim: TrialSimulation,
    targets: Sequence[Target],
    *,
    n_imputations: int | None = None,
) -> list[FloatArray]:
    """Each target's estimate in every replicate of `sim`, shaped (replicate,), in the order of
    `targets`: one plan runner for all, so analyses that impute the same values share one set of
    imputations and targets of the same analysis share one fit. `n_imputations` overrides the
    plan's number of imputations."""
    out = []
    analysed: dict[tuple[str, str], PercentChangeResult] = {}
    protocol_results: dict[tuple[str, str, str, str], protocol.ArmContrast] = {}
    runner = protocol.runner(sim, n_imputations=n_imputations)
    runner.prepare(
        [
            protocol.target_analysis(sim.design, t.quantity, t.paramcd, t.visit, t.population)
            for t in targets
            if t.quantity in PROTOCOL_QUANTITIES
        ]
    )
    for target in targets:
        if target.quantity == "extension_entered_n":
            values = _entered(sim)
        elif target.quantity in CARRIER_QUANTITY_LABELS:
            values = carrier_values(sim, target.quantity, target.arm)
        elif target.quantity in NH_QUANTITIES:
            values = _natural_history(sim, target)
        elif target.quantity in PROTOCOL_QUANTITIES:
            kind = target.quantity.split("_")[0]
            if target.quantity.startswith("ancova_mi"):
                kind = "ancova_mi"
            if target.quantity in {"cox_hr", "event_pct"}:
                kind = "cox"
            pkey = (kind, target.paramcd, target.visit, target.population)
            if pkey not in protocol_results:
                protocol_results[pkey] = _protocol_analysis(sim, target, n_imputations, runner)
            values = _pick_protocol(protocol_results[pkey], target, sim.design.control_arm)
        else:
            key = (target.paramcd, target.visit)
            if key not in analysed:
                analysed[key] = _change_at(sim, *key)
            values = _pick(analysed[key], target)
        out.append(values)
    return out


def compare(
    study: str, sim: TrialSimulation, *, n_imputations: int | None = None
) -> list[ComparisonRow]:
    """Every target and prediction of `study`, simulated (median, 2.5-97.5%) vs published.

    A published CI is met when the simulated median lies inside it; a published value without a
    CI is met when it lies within the target's `tolerance` of the simulated median, or, without a
    tolerance, inside the simulated 2.5-97.5% range. When `sim` carries parameter uncertainty
    (each replicate its own posterior draw), the simulated range is posterior predictive (trial
    sampling and what the evidence leaves unknown) and every published value is judged on it:
    met when it lies inside the simulated 2.5-97.5% range. An evidence record whose value is a
    gap (null) makes the row a prediction that still names the record. Each row carries its role
    (`alsim.evidence.roles`).
    """
    from alsim.evidence.roles import role_of

    targets, predictions = study_targets(study)
    every = (*targets, *predictions)
    rows = []
    for target, values in zip(
        every, target_values(sim, every, n_imputations=n_imputations), strict=True
    ):
        if np.all(np.isnan(values)):
            median = low = high = float("nan")
        else:
            median, low, high = (float(q) for q in np.nanquantile(values, [0.5, 0.025, 0.975]))
        published = ci_low = ci_high = None
        inside: bool | None = None
        criterion, source, tier = "prediction (no published value)", "", ""
        name = target.label or f"{target.paramcd} {QUANTITY_LABELS[target.quantity]}"
        if target.population != "ITT":
            name = f"{name} ({target.population.lower()} progression)"
        if target.evidence is not None and evidence(target.evidence).value is None:
            record = evidence(target.evidence)
            source, tier, name = record.source, record.verification_tier, record.id
            criterion = "prediction (published value not available: a gap in the evidence)"
        elif target.evidence is not None and not evidence(target.evidence).is_numeric:
            # a published range (e.g. "6-12" months) held in the CI fields
            record = evidence(target.evidence)
            source, tier, name = record.source, record.verification_tier, record.id
            ci_low, ci_high = record.ci_low, record.ci_high
            criterion = "simulated median inside the published range"
            inside = bool(
                ci_low is not None and ci_high is not None and ci_low <= median <= ci_high
            )
        elif target.evidence is not None:
            record = evidence(target.evidence)
            published = record.numeric_value
            source, tier, name = record.source, record.verification_tier, record.id
            if record.has_ci:
                ci_low, ci_high = record.ci_low, record.ci_high
            if sim.uncertainty is not None:
                criterion = "published value inside simulated 95% posterior predictive range"
                inside = bool(low <= published <= high)
            elif target.tolerance is not None and not record.has_ci:
                criterion = f"simulated median within {target.tolerance:g} of published value"
                inside = bool(abs(median - published) <= target.tolerance)
            elif record.has_ci:
                criterion = "simulated median inside published 95% CI"
                inside = bool(
                    ci_low is not None and ci_high is not None and ci_low <= median <= ci_high
                )
            else:
                criterion = "published value inside simulated 95% range"
                inside = bool(low <= published <= high)
        has_published = published is not None or (ci_low is not None and ci_high is not None)
        role, fitted = role_of(name if has_published else None)
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
                role=role,
                fitted=fitted,
            )
        )
    return rows
