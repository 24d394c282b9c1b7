"""The clinical half of a trial simulation: who enters, function, vital capacity, strength,
death or permanent ventilation, and the open-label extension.

`sample_design_population` draws every design's patients (one sampler for all); `clinical_outcomes`
turns the solved effect chain into the clinical endpoints for designs that have them.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alsim.design.trial import TrialDesign
from alsim.model.parameters import ParameterSet
from alsim.model.progression import (
    cumulative_hazard,
    event_time_days,
    latent_course,
    log_hazard_per_day,
    logistic_measure,
    observe_alsfrsr,
    score_from_latent,
)
from alsim.population.progression import Eligibility, FasterProgressionRule
from alsim.population.sampling import Population, sample_population

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

HAZARD_GRID_DAYS = 7.0
# The lowest slow vital capacity a spirometer reports for a living patient (% predicted).
SVC_FLOOR_PCT = 1.0
SOLVE_CHUNK_PATIENTS = 20_000
# patients whose hazard is integrated together (grid-sized temporaries of about 1 MB)
HAZARD_BLOCK_PATIENTS = 1024


def sample_design_population(
    design: TrialDesign, parameters: ParameterSet, rng: np.random.Generator
) -> Population:
    """The patients of one replicate of `design`, ordered like `design.allocation()` (group,
    then arm): strata filled by the design's faster-progression rule, after its eligibility."""
    sizes = [sum(g.n_per_arm.values()) for g in design.randomization.groups]
    rule = None
    if design.faster_rule is not None:
        rule = FasterProgressionRule(
            a4v_is_faster=design.faster_rule.a4v_is_faster,
            prestudy_slope_per_month=design.faster_rule.prestudy_slope_per_month,
        )
    else:
        sizes = [sum(sizes)]
    criteria = design.eligibility
    eligibility = (
        Eligibility()
        if criteria is None
        else Eligibility(
            min_alsfrsr=criteria.min_alsfrsr,
            max_alsfrsr=criteria.max_alsfrsr,
            min_svc_pct=criteria.min_svc_pct,
        )
    )
    return sample_population(
        design.population,
        parameters,
        sum(sizes),
        rng,
        stratum_sizes=sizes,
        rule=rule,
        eligibility=eligibility,
    )


def output_grid_days(visit_t_days: FloatArray) -> tuple[FloatArray, NDArray[np.int64]]:
    """Model output times (days since Day 1): a weekly hazard grid plus every visit, and the
    position of each visit in it."""
    t_end = float(visit_t_days[-1])
    grid = np.union1d(np.arange(0.0, t_end + 1e-9, HAZARD_GRID_DAYS), visit_t_days)
    return grid, np.searchsorted(grid, visit_t_days).astype(np.int64)


@dataclass(frozen=True, slots=True)
class ClinicalOutcomes:
    """True and observed clinical values (replicate, patient, visit) and the event times."""

    true_values: dict[str, FloatArray]
    observed: dict[str, FloatArray]
    event_day: FloatArray
    censor_day: FloatArray
    extension_entered: BoolArray
    observed_visit: BoolArray


def clinical_outcomes(
    design: TrialDesign,
    *,
    individual: Mapping[str, FloatArray],
    course: Mapping[str, FloatArray],
    effect_time_days: FloatArray,
    effect: FloatArray,
    grid_days: FloatArray,
    visit_position: NDArray[np.int64],
    visit_days: NDArray[np.int64],
    dropout_day: FloatArray,
    entry_draw: FloatArray,
    z: FloatArray,
) -> ClinicalOutcomes:
    """Function, breathing, strength and survival from the effective disease time Z(t) and the
    last compartment of the effect chain E_n(t).

    Shapes: `individual` and `course` arrays (replicate, patient); `effect_time_days` and
    `effect` (replicate, patient, grid); `z` standard normals in the order of
    `design.endpoints`, shaped (replicate, endpoint, patient, visit).
    """
    n_rep, n_pat = dropout_day.shape

    def per_patient(name: str) -> FloatArray:
        return individual[name][:, :, None]

    speed = per_patient("latent_speed_per_day")
    # the hazard on the whole output grid, a block of patients at a time so the grid-sized
    # temporaries stay in cache; the rest at the visits alone
    n_grid = grid_days.size
    rows = n_rep * n_pat

    def flat(name: str) -> FloatArray:
        return individual[name].reshape(rows, 1)

    speed_flat, svc_full, svc_baseline, svc_speed, log_offset, svc_coefficient = (
        flat(name)
        for name in (
            "latent_speed_per_day",
            "svc_full_pct",
            "svc_latent_baseline",
            "svc_speed",
            "hazard_log_offset_per_day",
            "hazard_svc_per_10pct",
        )
    )
    time_flat = effect_time_days.reshape(rows, n_grid)
    threshold = course["event_threshold"].reshape(-1)
    event_flat = np.empty(rows)
    svc_flat = np.empty((rows, visit_position.size))
    for first in range(0, rows, HAZARD_BLOCK_PATIENTS):
        b = slice(first, first + HAZARD_BLOCK_PATIENTS)
        svc_grid = logistic_measure(
            svc_full[b], svc_baseline[b] - svc_speed[b] * (speed_flat[b] * time_flat[b])
        )
        log_h = log_hazard_per_day(svc_grid, log_offset[b], svc_coefficient[b])
        cum = cumulative_hazard(grid_days, log_h)
        event_flat[b] = event_time_days(grid_days, cum, threshold[b])
        svc_flat[b] = svc_grid[:, visit_position]
    event_day = (1.0 + event_flat).reshape(n_rep, n_pat)

    last_day = float(visit_days[-1])
    end_day = np.minimum(dropout_day, last_day)
    entered = np.zeros((n_rep, n_pat), dtype=bool)
    if design.extension is not None:
        start = float(design.extension.start_day)
        in_study = (dropout_day >= start) & (event_day > start)
        share = np.maximum(in_study.mean(axis=1, keepdims=True), 1e-12)
        p_enter = np.minimum(1.0, design.extension.entry_fraction / share)
        entered = in_study & (entry_draw < p_enter)
        end_day = np.where(entered, end_day, np.minimum(end_day, start))
    censor_day = end_day
    observed_visit = (visit_days[None, None, :] <= end_day[:, :, None]) & (
        visit_days[None, None, :] < event_day[:, :, None]
    )

    time_at_visits = effect_time_days[:, :, visit_position]
    u = latent_course(
        per_patient("latent_baseline"),
        speed,
        time_at_visits,
        effect[:, :, visit_position],
        per_patient("recovery_capacity"),
    )
    score = score_from_latent(u)
    svc = svc_flat.reshape(n_rep, n_pat, -1)
    hhd = logistic_measure(
        per_patient("hhd_full"),
        per_patient("hhd_latent_baseline") - per_patient("hhd_speed") * (speed * time_at_visits),
    )
    true_values = {"ALSFRSR": score, "SVCPP": svc, "HHDMEGA": hhd}
    observed: dict[str, FloatArray] = {}
    for k, endpoint in enumerate(design.endpoints):
        if endpoint == "ALSFRSR":
            value = observe_alsfrsr(score, z[:, k], per_patient("sigma_alsfrsr"))
        elif endpoint == "SVCPP":
            value = np.maximum(svc + per_patient("sigma_svc") * z[:, k], SVC_FLOOR_PCT)
        elif endpoint == "HHDMEGA":
            value = hhd * np.exp(per_patient("sigma_hhd") * z[:, k])
        else:
            continue
        observed[endpoint] = np.where(observed_visit, value, np.nan)
    return ClinicalOutcomes(
        true_values={k: v for k, v in true_values.items() if k in observed},
        observed=observed,
        event_day=event_day,
        censor_day=censor_day,
        extension_entered=entered,
        observed_visit=observed_visit,
    )
