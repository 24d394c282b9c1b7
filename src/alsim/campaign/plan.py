"""Analysis plans: which protocol analyses a campaign runs on every simulated replicate.

A plan is a tuple of `PlannedAnalysis` values, derived from the design's features by
`default_plan` (plans live in code, keyed by the design's endpoints, strata and extension, so the
design YAML stays a description of the trial alone):

- biomarker-only designs (Phase 1/2): GMR ANCOVA of CSF SOD1 (primary) and plasma NfL at the
  primary visit, highest dose vs control, observed cases.
- designs with ALSFRS-R and a FASTER/SLOWER stratification (VALOR): in the FASTER stratum at the
  primary visit, the joint rank test (death or permanent ventilation, then ALSFRS-R change) on
  multiply imputed data (primary) and the ANCOVA of ALSFRS-R change with multiple imputation;
  in the ITT population the same ANCOVA, GMR ANCOVAs of CSF SOD1 and plasma NfL (adjusted for the
  stratum), and the Cox hazard ratio of death or permanent ventilation up to the last visit.
- with an open-label extension also the ITT ANCOVA of ALSFRS-R change at the last visit (early vs
  delayed start).

Every statistic comes from `alsim.analysis`; this module only selects patients, visits and
covariates. Analyses that draw random numbers (multiple imputation) take one `SeedSequence`
child per replicate, ``SeedSequence(seed, spawn_key=(replicate, IMPUTATION_STREAM))``, so a
replicate's results do not depend on the chunk it ran in.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from alsim.analysis import (
    AncovaSpec,
    CoxSpec,
    EstimateResult,
    GmrSpec,
    ImputationSpec,
    JointRankSpec,
)
from alsim.design.presymptomatic import EVENT_ENDPOINTS
from alsim.design.trial import TrialDesign
from alsim.errors import AlsimError
from alsim.simulate.trial import TrialSimulation

Method = Literal["gmr", "ancova", "joint_rank", "cox", "risk_difference", "logrank", "km"]
METHODS: tuple[Method, ...] = (
    "gmr",
    "ancova",
    "joint_rank",
    "cox",
    "risk_difference",
    "logrank",
    "km",
)
PRIMARY_VISIT = "PRIMARY"
LAST_VISIT = "LAST"
ITT = "ITT"
DEFAULT_IMPUTATIONS = 10
IMPUTATION_STREAM = 1_000_003
IMPUTATION_FROM_DAY = 57
RESULT_COLUMNS = ("estimate", "std_error", "ci_low", "ci_high", "p_value")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedAnalysis:
    """One analysis of the plan.

    ``visit`` is a visit name, ``PRIMARY`` (the design's primary visit) or ``LAST`` (its last
    visit), resolved per design point so that a grid over durations analyses each at its own end.
    ``population`` is ``ITT`` or a randomisation group name. ``treated_arm`` is compared with the
    design's control arm (other arms are left out). With ``n_imputations >= 2`` missing values
    are multiply imputed and pooled by Rubin's rules.
    """

    name: str
    method: Method
    paramcd: str
    treated_arm: str
    visit: str = PRIMARY_VISIT
    population: str = ITT
    alpha: float = 0.05
    n_imputations: int = 0
    primary: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise AlsimError(f"analysis {self.name}: method must be one of {METHODS}")
        if not 0 < self.alpha < 1:
            raise AlsimError(f"analysis {self.name}: alpha must be in (0, 1), got {self.alpha}")
        if self.n_imputations == 1 or self.n_imputations < 0:
            raise AlsimError(
                f"analysis {self.name}: n_imputations must be 0 or >= 2, got {self.n_imputations}"
            )

    @property
    def log_scale(self) -> bool:
        """Whether the estimate is a ratio (GMR, HR): bias is then taken on the log scale."""
        return self.method in ("gmr", "cox", "logrank")

    @property
    def null_value(self) -> float:
        """The estimate under no treatment effect."""
        return 1.0 if self.log_scale else 0.0

    @property
    def has_effect_size(self) -> bool:
        """False for test statistics (joint rank T grows with N): no true value off the null."""
        return self.method != "joint_rank"


AnalysisPlan = tuple[PlannedAnalysis, ...]


def highest_dose_arm(design: TrialDesign) -> str:
    """The label of the arm with the highest dose (first one on ties), control excluded."""
    arms = [a for a in design.arms if a.label != design.control_arm]
    return max(arms, key=lambda a: a.dose_mg).label


def default_plan(design: TrialDesign, *, n_imputations: int = DEFAULT_IMPUTATIONS) -> AnalysisPlan:
    """The protocol analyses for `design`, chosen from its endpoints, strata and extension."""
    if design.run_in is not None:
        from alsim.campaign.carriers import carrier_plan

        return carrier_plan(design)
    arm = highest_dose_arm(design)
    endpoints = set(design.endpoints)
    groups = [g.name for g in design.randomization.groups]
    plan: list[PlannedAnalysis] = []
    if "ALSFRSR" in endpoints:
        focus = "FASTER" if "FASTER" in groups else ITT
        plan.append(
            PlannedAnalysis(
                name=f"joint_rank_alsfrsr_{focus.lower()}",
                method="joint_rank",
                paramcd="ALSFRSR",
                treated_arm=arm,
                population=focus,
                n_imputations=max(2, n_imputations),
                primary=True,
            )
        )
        populations = [focus] if focus == ITT else [focus, ITT]
        for population in populations:
            plan.append(
                PlannedAnalysis(
                    name=f"ancova_alsfrsr_{population.lower()}",
                    method="ancova",
                    paramcd="ALSFRSR",
                    treated_arm=arm,
                    population=population,
                    n_imputations=n_imputations,
                )
            )
    for paramcd, label in (("CSFSOD1", "csf_sod1"), ("PLNFL", "plasma_nfl")):
        if paramcd in endpoints:
            plan.append(
                PlannedAnalysis(
                    name=f"gmr_{label}",
                    method="gmr",
                    paramcd=paramcd,
                    treated_arm=arm,
                    primary=not plan,
                )
            )
    if "DTHPV" in endpoints:
        plan.append(
            PlannedAnalysis(
                name="cox_death_or_ventilation",
                method="cox",
                paramcd="DTHPV",
                treated_arm=arm,
                visit=LAST_VISIT,
            )
        )
    if design.extension is not None and "ALSFRSR" in endpoints:
        plan.append(
            PlannedAnalysis(
                name="ancova_alsfrsr_itt_end",
                method="ancova",
                paramcd="ALSFRSR",
                treated_arm=arm,
                visit=LAST_VISIT,
                n_imputations=n_imputations,
            )
        )
    if not plan:
        raise AlsimError(
            f"{design.study_id}: no default analysis for endpoints {sorted(endpoints)}"
        )
    return tuple(plan)


def resolve_visit(design: TrialDesign, visit: str) -> str:
    """A plan's visit name on `design` (``PRIMARY`` and ``LAST`` resolved)."""
    if visit == PRIMARY_VISIT:
        return design.primary_visit
    if visit == LAST_VISIT:
        return design.visits[-1].name
    return visit


def _patients(sim: TrialSimulation, analysis: PlannedAnalysis) -> IntArray:
    design = sim.design
    labels = design.arm_labels
    if analysis.treated_arm not in labels:
        raise AlsimError(
            f"analysis {analysis.name}: unknown arm {analysis.treated_arm!r}; allowed: "
            f"{', '.join(labels)}"
        )
    arms = [labels.index(analysis.treated_arm), labels.index(design.control_arm)]
    keep = np.isin(sim.arm_index, arms)
    if analysis.population != ITT:
        groups = [g.name for g in design.randomization.groups]
        if analysis.population not in groups:
            raise AlsimError(
                f"analysis {analysis.name}: population {analysis.population!r} is not a group of "
                f"{design.study_id}; allowed: {ITT}, {', '.join(groups)}"
            )
        keep &= sim.group_index == groups.index(analysis.population)
    return np.flatnonzero(keep).astype(np.int64)


def _stratum(sim: TrialSimulation, index: IntArray, analysis: PlannedAnalysis) -> IntArray | None:
    design = sim.design
    if (
        analysis.population != ITT
        or design.randomization.unit != "stratum"
        or len(design.randomization.groups) < 2
    ):
        return None
    return np.broadcast_to(sim.group_index[index], (sim.n_replicates, index.size)).copy()


def imputation_seeds(sim: TrialSimulation) -> list[np.random.SeedSequence]:
    """One `SeedSequence` child per replicate for multiple imputation."""
    return [
        np.random.SeedSequence(sim.seed, spawn_key=(int(r), IMPUTATION_STREAM))
        for r in sim.replicate
    ]


def fit_analysis(
    sim: TrialSimulation, analysis: PlannedAnalysis, values: dict[str, FloatArray]
) -> EstimateResult:
    """Run one planned analysis on every replicate of `sim`, using `values` as the measurements
    (``sim.observed``, or ``sim.true_values`` for a noise-free run)."""
    index = _patients(sim, analysis)
    control = sim.design.arm_labels.index(sim.design.control_arm)
    treated = np.asarray(sim.arm_index[index] != control)
    stratum = _stratum(sim, index, analysis)
    if analysis.paramcd in EVENT_ENDPOINTS:
        from alsim.campaign.carriers import fit_event_analysis

        return fit_event_analysis(sim, analysis, index, treated, stratum)
    k = sim.visit_position(resolve_visit(sim.design, analysis.visit))
    if analysis.method == "cox":
        limit = float(sim.visit_days[k])
        end = np.minimum(sim.censor_day, limit)[:, index]
        died = sim.event_day[:, index] <= end
        time = np.where(died, sim.event_day[:, index], end) - 1.0
        return CoxSpec(alpha=analysis.alpha).fit(time, event=died, treated=treated, stratum=stratum)
    if analysis.paramcd not in values:
        raise AlsimError(
            f"analysis {analysis.name}: {sim.design.study_id} does not measure "
            f"{analysis.paramcd}; allowed: {', '.join(values)}"
        )
    data = values[analysis.paramcd][:, index, :]
    base = data[:, :, 0]
    if analysis.method == "gmr":
        return GmrSpec(alpha=analysis.alpha).fit(
            data[:, :, k], baseline=base, treated=treated, stratum=stratum
        )
    if analysis.method == "ancova" and analysis.n_imputations < 2:
        return AncovaSpec(alpha=analysis.alpha).fit(
            data[:, :, k] - base, baseline=base, treated=treated, stratum=stratum
        )
    if analysis.method == "ancova":
        first = min(IMPUTATION_FROM_DAY, int(sim.visit_days[k]))
        used = [j for j in range(1, k + 1) if sim.visit_days[j] >= first]
        imputed = ImputationSpec(
            n_imputations=analysis.n_imputations, seed=imputation_seeds(sim)
        ).impute(data[:, :, used], baseline=base, treated=treated)
        base_m = imputed.tile(base)
        fit = AncovaSpec(alpha=analysis.alpha).fit(
            imputed.stacked()[:, :, -1] - base_m,
            baseline=base_m,
            treated=treated,
            stratum=imputed.tile(stratum),
        )
        return imputed.pool(fit, alpha=analysis.alpha)
    # joint rank: death or permanent ventilation first, then ALSFRS-R change up to the visit
    imputed = ImputationSpec(
        n_imputations=max(2, analysis.n_imputations), seed=imputation_seeds(sim)
    ).impute(data[:, :, 1 : k + 1], baseline=base, treated=treated)
    change = imputed.stacked() - imputed.tile(base)[:, :, None]
    time_days: FloatArray | None = None
    event: NDArray[np.bool_] | None = None
    if sim.has_events:
        limit = float(sim.visit_days[k])
        t = np.minimum(sim.event_day, sim.censor_day)[:, index]
        event = (sim.event_day <= sim.censor_day)[:, index] & (t <= limit)
        time_days = np.minimum(t, limit) - 1.0
    result = JointRankSpec(alpha=analysis.alpha).fit(
        change,
        treated=treated,
        time_days=imputed.tile(time_days),
        event=imputed.tile(event),
        stratum=imputed.tile(stratum),
    )
    return imputed.pool(result, alpha=analysis.alpha)


def run_plan(sim: TrialSimulation, plan: AnalysisPlan, *, noise_free: bool = False) -> pd.DataFrame:
    """Every analysis of `plan` on every replicate: one row per (analysis, replicate) with
    estimate, std_error, ci_low, ci_high, p_value and status."""
    values = sim.true_values if noise_free else sim.observed
    frames = []
    for analysis in plan:
        result = fit_analysis(sim, analysis, values)
        frame = pd.DataFrame(
            {
                "analysis": analysis.name,
                "replicate": sim.replicate,
                **{c: np.asarray(getattr(result, c), dtype=np.float64) for c in RESULT_COLUMNS},
                "status": np.asarray(result.status, dtype=str),
            }
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
