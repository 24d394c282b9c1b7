"""The protocol analyses of VALOR and its extension, run on every simulated replicate.

Every statistic comes from `alsim.analysis` (ANCOVA, GMR ANCOVA, multiple imputation with Rubin's
rules, the joint rank test, Cox regression); this module only picks the patients, visits and
covariates the protocol names:

- function (ALSFRS-R, SVC, HHD): ANCOVA of change from baseline at a visit, adjusted for the
  baseline value; for ALSFRS-R the missing values (withdrawal, death) are multiply imputed by
  arm and pooled by Rubin's rules, as in VALOR's primary analysis. Per-arm adjusted means are
  averaged over imputations.
- the joint rank test (death or permanent ventilation first, then ALSFRS-R change) on the same
  imputations.
- biomarkers (CSF SOD1, plasma NfL): GMR ANCOVA on the log ratio to baseline, observed cases,
  adjusted for log baseline and, in the ITT population, the stratum.
- time to death or permanent ventilation: Cox regression (Efron ties), stratified in the ITT
  population by the randomisation stratum.

In an extension the randomised arms become early start (tofersen) and delayed start (placebo),
compared with the same models at later visits.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alsim.analysis import AncovaSpec, CoxSpec, GmrSpec, ImputationSpec, JointRankSpec
from alsim.design.trial import FASTER_STRATUM, SLOWER_STRATUM
from alsim.errors import EvidenceError
from alsim.simulate.trial import TrialSimulation

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

POPULATIONS = ("ITT", FASTER_STRATUM, SLOWER_STRATUM)
DEFAULT_IMPUTATIONS = 10
IMPUTATION_FROM_DAY = 57  # visits used by the imputation model: from week 8 to the analysed one


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmContrast:
    """Per-replicate results of one analysis: the treated and control arm values and the
    contrast, each shaped (replicate,)."""

    treated: FloatArray
    control: FloatArray
    contrast: FloatArray
    p_value: FloatArray
    method: str


def patients_in(sim: TrialSimulation, population: str) -> IntArray:
    """Indices of the patients of `population` (ITT, FASTER or SLOWER) along the patient axis."""
    if population == "ITT":
        return np.arange(sim.n_patients, dtype=np.int64)
    names = [g.name for g in sim.design.randomization.groups]
    if population not in names:
        raise EvidenceError(
            f"population {population!r} is not a stratum of {sim.design.study_id}; "
            f"allowed: ITT, {', '.join(names)}"
        )
    return np.flatnonzero(sim.group_index == names.index(population)).astype(np.int64)


def _treated(sim: TrialSimulation, index: IntArray) -> NDArray[np.bool_]:
    control = sim.design.arm_labels.index(sim.design.control_arm)
    return np.asarray(sim.arm_index[index] != control)


def _stratum(sim: TrialSimulation, index: IntArray, population: str) -> IntArray | None:
    if population != "ITT" or len(sim.design.randomization.groups) < 2:
        return None
    return np.broadcast_to(sim.group_index[index], (sim.n_replicates, index.size)).copy()


def change_ancova(
    sim: TrialSimulation,
    paramcd: str,
    visit: str,
    population: str,
    *,
    n_imputations: int = 0,
) -> ArmContrast:
    """ANCOVA of change from baseline at `visit`; with `n_imputations` >= 2 the missing values
    are multiply imputed (visits from week 8 up to `visit`) and pooled by Rubin's rules."""
    index = patients_in(sim, population)
    values = sim.observed[paramcd][:, index, :]
    k = sim.visit_position(visit)
    base = values[:, :, 0]
    treated = _treated(sim, index)
    stratum = _stratum(sim, index, population)
    if n_imputations < 2:
        result = AncovaSpec().fit(
            values[:, :, k] - base, baseline=base, treated=treated, stratum=stratum
        )
        return ArmContrast(
            treated=result.lsmean_treated,
            control=result.lsmean_control,
            contrast=result.estimate,
            p_value=result.p_value,
            method=result.method + ", observed cases",
        )
    used = [
        j
        for j in range(1, k + 1)
        if sim.visit_days[j] >= min(IMPUTATION_FROM_DAY, sim.visit_days[k])
    ]
    imputed = ImputationSpec(n_imputations=n_imputations, seed=_imputation_seed(sim)).impute(
        values[:, :, used], baseline=base, treated=treated
    )
    stacked = imputed.stacked()
    base_m = imputed.tile(base)
    strat_m = imputed.tile(stratum)
    fit = AncovaSpec().fit(
        stacked[:, :, -1] - base_m, baseline=base_m, treated=treated, stratum=strat_m
    )
    pooled = imputed.pool(fit)
    m, r = n_imputations, sim.n_replicates
    return ArmContrast(
        treated=np.nanmean(fit.lsmean_treated.reshape(m, r), axis=0),
        control=np.nanmean(fit.lsmean_control.reshape(m, r), axis=0),
        contrast=pooled.estimate,
        p_value=pooled.p_value,
        method=pooled.method,
    )


def _imputation_seed(sim: TrialSimulation) -> list[np.random.SeedSequence]:
    """One child per replicate, so a replicate's imputations do not depend on the batch."""
    return [np.random.SeedSequence(sim.seed, spawn_key=(int(r), 1_000_003)) for r in sim.replicate]


def joint_rank(
    sim: TrialSimulation, visit: str, population: str, *, n_imputations: int
) -> ArmContrast:
    """Joint rank test (death or permanent ventilation, then ALSFRS-R change up to `visit`) on
    multiply imputed function data; `contrast` is the pooled statistic T (positive favours
    tofersen), `treated`/`control` are empty (NaN)."""
    index = patients_in(sim, population)
    values = sim.observed["ALSFRSR"][:, index, :]
    k = sim.visit_position(visit)
    base = values[:, :, 0]
    treated = _treated(sim, index)
    used = [j for j in range(1, k + 1)]
    limit = float(sim.visit_days[k])
    time = np.minimum(sim.event_day, sim.censor_day)[:, index]
    event = (sim.event_day <= sim.censor_day)[:, index] & (time <= limit)
    time = np.minimum(time, limit) - 1.0
    stratum = _stratum(sim, index, population)
    imputed = ImputationSpec(
        n_imputations=max(2, n_imputations), seed=_imputation_seed(sim)
    ).impute(values[:, :, used], baseline=base, treated=treated)
    stacked = imputed.stacked() - imputed.tile(base)[:, :, None]
    # after death or permanent ventilation the event level decides; function values imputed
    # past it are not compared
    result = JointRankSpec().fit(
        stacked,
        treated=treated,
        time_days=imputed.tile(time),
        event=imputed.tile(event),
        stratum=imputed.tile(stratum),
    )
    pooled = imputed.pool(result)
    nan = np.full(sim.n_replicates, np.nan)
    return ArmContrast(
        treated=nan,
        control=nan,
        contrast=pooled.estimate,
        p_value=pooled.p_value,
        method=pooled.method,
    )


def gmr_ancova(sim: TrialSimulation, paramcd: str, visit: str, population: str) -> ArmContrast:
    """GMR ANCOVA at `visit`: per-arm adjusted GMR to baseline and the ratio tofersen/control."""
    index = patients_in(sim, population)
    values = sim.observed[paramcd][:, index, :]
    result = GmrSpec().fit(
        values[:, :, sim.visit_position(visit)],
        baseline=values[:, :, 0],
        treated=_treated(sim, index),
        stratum=_stratum(sim, index, population),
    )
    return ArmContrast(
        treated=result.gmr_treated,
        control=result.gmr_control,
        contrast=result.estimate,
        p_value=result.p_value,
        method=result.method,
    )


def cox_death_or_ventilation(sim: TrialSimulation, visit: str, population: str) -> ArmContrast:
    """Cox hazard ratio tofersen/control of death or permanent ventilation up to `visit`;
    `treated`/`control` hold the percentage of patients with an event per arm."""
    if not sim.has_events:
        raise EvidenceError(f"{sim.design.study_id} has no DTHPV endpoint to analyse")
    index = patients_in(sim, population)
    limit = float(sim.visit_days[sim.visit_position(visit)])
    end = np.minimum(sim.censor_day, limit)[:, index]
    event = sim.event_day[:, index] <= end
    time = np.where(event, sim.event_day[:, index], end) - 1.0
    treated = _treated(sim, index)
    result = CoxSpec().fit(
        time, event=event, treated=treated, stratum=_stratum(sim, index, population)
    )
    return ArmContrast(
        treated=100.0 * event[:, treated].mean(axis=1),
        control=100.0 * event[:, ~treated].mean(axis=1),
        contrast=result.estimate,
        p_value=result.p_value,
        method=result.method,
    )
