"""Which planned analysis answers each published quantity of VALOR and its extension.

The analyses themselves are data: the design's ``analysis_plan`` (`alsim.design.plan`), run by
`alsim.analysis.plan.PlanRunner`. A published quantity (targets.yaml) names a method, endpoint,
population and visit; `target_analysis` returns the plan's analysis with those features, or, for
quantities the plan does not carry (observed-case ANCOVAs of SVC and HHD, the extension's later
visits, other strata), the same analysis in the plan's form:

- ``ancova_*``: ANCOVA of change from baseline adjusted for the baseline (and, in the ITT
  population of a stratified design, the stratum); observed cases, or (``ancova_mi_*``) with
  multiple imputation of the values missing after death (hypothetical) and discontinuation
  (hypothetical, MAR), pooled by Rubin's rules; per-arm LS means averaged over imputations.
- ``joint_rank_p``: the joint rank test, death or permanent ventilation ranked worst, then
  ALSFRS-R change (MAR imputation after discontinuation).
- ``gmr_*``: GMR ANCOVA on the log ratio to baseline, observed cases.
- ``cox_hr``, ``event_pct``: Cox regression (Efron ties) of death or permanent ventilation to the
  visit, stratified in the ITT population; per-arm percentages with the event.

In an extension the randomised arms become early start (tofersen) and delayed start (placebo),
compared with the same models at later visits.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alsim.analysis import AncovaResult, EstimateResult, GmrResult
from alsim.analysis.imputation import PooledResult
from alsim.analysis.plan import PlanRunner, study_data
from alsim.design.plan import (
    DEATH_EVENT,
    DEFAULT_IMPUTATIONS,
    ITT,
    EventHandling,
    IntercurrentEvents,
    PlannedAnalysis,
)
from alsim.design.trial import FASTER_STRATUM, SLOWER_STRATUM, TrialDesign
from alsim.errors import EvidenceError
from alsim.simulate.trial import TrialSimulation

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

POPULATIONS = ("ITT", FASTER_STRATUM, SLOWER_STRATUM)
_MAR = EventHandling(strategy="hypothetical", imputation="mar")
_OBSERVED = EventHandling(strategy="hypothetical")


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmContrast:
    """Per-replicate results of one analysis: the treated and control arm values and the
    contrast, each shaped (replicate,)."""

    treated: FloatArray
    control: FloatArray
    contrast: FloatArray
    p_value: FloatArray
    method: str


def _method_of(quantity: str) -> str:
    if quantity.startswith("ancova"):
        return "ancova"
    if quantity == "joint_rank_p":
        return "joint-rank"
    if quantity.startswith("gmr"):
        return "gmr"
    if quantity in ("cox_hr", "event_pct"):
        return "cox"
    raise EvidenceError(f"quantity {quantity!r} is not a protocol analysis")


def _visit_name(design: TrialDesign, visit: str) -> str:
    return {"PRIMARY": design.primary_visit, "LAST": design.visits[-1].name}.get(visit, visit)


def target_analysis(
    design: TrialDesign,
    quantity: str,
    paramcd: str,
    visit: str,
    population: str,
    *,
    treated_arm: str | None = None,
) -> PlannedAnalysis:
    """The planned analysis behind a published `quantity` (see the module docstring)."""
    method = _method_of(quantity)
    groups = [g.name for g in design.randomization.groups]
    if population != ITT and population not in groups:
        raise EvidenceError(
            f"population {population!r} is not a stratum of {design.study_id}; "
            f"allowed: {ITT}, {', '.join(groups)}"
        )
    imputes = quantity.startswith("ancova_mi") or method == "joint-rank"
    endpoint = DEATH_EVENT if method == "cox" else paramcd
    name = _visit_name(design, visit)
    for analysis in design.plan:
        if (
            analysis.method == method
            and analysis.endpoint == endpoint
            and analysis.population == population
            and _visit_name(design, analysis.visit) == name
            and (analysis.imputations >= 2) == imputes
            and (treated_arm is None or analysis.treated_arm in (None, treated_arm))
        ):
            return analysis
    stratified = design.randomization.unit == "stratum" and len(groups) > 1
    strata: tuple[str, ...] = ("STRATUM",) if stratified and population == ITT else ()
    if method == "joint-rank":
        events = IntercurrentEvents(
            death_or_ventilation=EventHandling(strategy="composite"), discontinuation=_MAR
        )
    elif method == "cox":
        events = IntercurrentEvents(discontinuation=_OBSERVED)
    elif imputes:
        events = IntercurrentEvents(death_or_ventilation=_MAR, discontinuation=_MAR)
    else:
        events = IntercurrentEvents(death_or_ventilation=_OBSERVED, discontinuation=_OBSERVED)
    return PlannedAnalysis.model_validate(
        {
            "name": f"{quantity}_{endpoint}_{population}_{name}".replace(" ", "_").lower(),
            "method": method,
            "endpoint": endpoint,
            "population": population,
            "visit": name,
            "treated_arm": treated_arm,
            "strata": strata,
            "imputations": DEFAULT_IMPUTATIONS if imputes else 0,
            "intercurrent_events": events,
        }
    )


def runner(sim: TrialSimulation, *, n_imputations: int | None = None) -> PlanRunner:
    """A plan runner over `sim`'s observed data; analyses run on it share imputations."""
    return PlanRunner(study_data(sim), n_imputations=n_imputations)


def contrast(
    plan_runner: PlanRunner, sim: TrialSimulation, analysis: PlannedAnalysis
) -> ArmContrast:
    """Per-arm values and the contrast of one analysis: LS means (ANCOVA, averaged over
    imputations), adjusted GMRs to baseline (GMR), percentages with the event (Cox), NaN for the
    joint rank test."""
    result: EstimateResult = plan_runner.fit(analysis)
    nan = np.full(sim.n_replicates, np.nan)
    treated, control = nan, nan
    if isinstance(result, AncovaResult | PooledResult):
        treated, control = result.lsmean_treated, result.lsmean_control
    elif isinstance(result, GmrResult):
        treated, control = result.gmr_treated, result.gmr_control
    elif analysis.method == "cox":
        treated, control = _event_percentages(plan_runner, sim, analysis)
    return ArmContrast(
        treated=treated,
        control=control,
        contrast=np.asarray(result.estimate),
        p_value=np.asarray(result.p_value),
        method=result.method,
    )


def _event_percentages(
    plan_runner: PlanRunner, sim: TrialSimulation, analysis: PlannedAnalysis
) -> tuple[FloatArray, FloatArray]:
    if not sim.has_events:
        raise EvidenceError(f"{sim.design.study_id} has no DTHPV endpoint to analyse")
    data = plan_runner.data
    limit = float(data.visit_days[data.visit_position(analysis.visit)])
    times = data.events[DEATH_EVENT]
    event = times.event_day <= np.minimum(times.censor_day, limit)
    population = patients_in(sim, analysis.population)
    control_index = sim.design.arm_labels.index(sim.design.control_arm)
    treated_label = analysis.treated_arm or data.default_treated_arm
    treated_index = sim.design.arm_labels.index(treated_label)
    arms = sim.arm_index[population]
    hit = event[:, population]
    return (
        100.0 * hit[:, arms == treated_index].mean(axis=1),
        100.0 * hit[:, arms == control_index].mean(axis=1),
    )


def patients_in(sim: TrialSimulation, population: str) -> IntArray:
    """Indices of the patients of `population` (ITT, FASTER or SLOWER) along the patient axis."""
    if population == ITT:
        return np.arange(sim.n_patients, dtype=np.int64)
    names = [g.name for g in sim.design.randomization.groups]
    if population not in names:
        raise EvidenceError(
            f"population {population!r} is not a stratum of {sim.design.study_id}; "
            f"allowed: ITT, {', '.join(names)}"
        )
    return np.flatnonzero(sim.group_index == names.index(population)).astype(np.int64)


def _run(
    sim: TrialSimulation,
    quantity: str,
    paramcd: str,
    visit: str,
    population: str,
    n_imputations: int | None = None,
) -> ArmContrast:
    analysis = target_analysis(sim.design, quantity, paramcd, visit, population)
    return contrast(runner(sim, n_imputations=n_imputations), sim, analysis)


def change_ancova(
    sim: TrialSimulation,
    paramcd: str,
    visit: str,
    population: str,
    *,
    n_imputations: int = 0,
) -> ArmContrast:
    """ANCOVA of change from baseline at `visit`; with `n_imputations` >= 2 the values missing
    after death or discontinuation are multiply imputed (MAR) and pooled by Rubin's rules."""
    quantity = "ancova_mi_diff" if n_imputations >= 2 else "ancova_diff"
    return _run(sim, quantity, paramcd, visit, population, n_imputations or None)


def joint_rank(
    sim: TrialSimulation, visit: str, population: str, *, n_imputations: int
) -> ArmContrast:
    """Joint rank test (death or permanent ventilation, then ALSFRS-R change up to `visit`);
    `contrast` is the pooled statistic T (positive favours tofersen)."""
    return _run(sim, "joint_rank_p", "ALSFRSR", visit, population, max(2, n_imputations))


def gmr_ancova(sim: TrialSimulation, paramcd: str, visit: str, population: str) -> ArmContrast:
    """GMR ANCOVA at `visit`: per-arm adjusted GMR to baseline and the ratio tofersen/control."""
    return _run(sim, "gmr_ratio", paramcd, visit, population)


def cox_death_or_ventilation(sim: TrialSimulation, visit: str, population: str) -> ArmContrast:
    """Cox hazard ratio tofersen/control of death or permanent ventilation up to `visit`;
    `treated`/`control` hold the percentage of patients with an event per arm."""
    if not sim.has_events:
        raise EvidenceError(f"{sim.design.study_id} has no DTHPV endpoint to analyse")
    return _run(sim, "cox_hr", DEATH_EVENT, visit, population)
