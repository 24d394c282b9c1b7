"""Analyses and trial metrics of prevention designs with a monitoring run-in (ATLAS).

The analysis plan of a run-in design (`carrier_plan`):

- primary: the difference in the proportion with the event (PHENOCNV, clinically manifest ALS)
  by the design's landmark day, treated minus control; Mantel-Haenszel over the randomisation
  strata when the design stratifies, else the crude difference with a Wald CI
  (`alsim.analysis.proportions`). Patients withdrawn before the landmark without the event have
  an unknown status and are left out.
- the same landmark as a Kaplan-Meier difference in event-free survival (censoring-aware);
- time to the event over the whole randomised part: log-rank and Cox (Efron) hazard ratios;
- plasma NfL: GMR ANCOVA at the primary visit.

Event times are days from Day 1 (ADTTE AVAL): the assessment that found the event, or the last
assessment without it. `funnel_rows` adds, per replicate, what a trialist plans with: the share
of carriers triggering per carrier-year of run-in, carriers screened per randomised patient,
phenoconversions in the run-in missed by the trigger, the untreated time from trigger to
phenoconversion, the Part B size a Part A cohort of `run_in.n_carriers` would give, and the
proportion with the event by the landmark in each arm.
"""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from alsim.analysis import CoxSpec, EstimateResult, KaplanMeierSpec, LogRankSpec
from alsim.analysis.proportions import RiskDifferenceSpec
from alsim.design.presymptomatic import EventEndpoint
from alsim.design.trial import TrialDesign
from alsim.errors import AlsimError
from alsim.simulate.presymptomatic import CarrierRecord
from alsim.simulate.trial import TrialSimulation

if TYPE_CHECKING:
    from alsim.campaign.grid import DesignPoint
    from alsim.campaign.plan import AnalysisPlan, PlannedAnalysis

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

EVENT = "PHENOCNV"
DAYS_PER_MONTH = 365.25 / 12.0
FUNNEL_METRICS = {
    "projected_randomised": "Part B size from the Part A cohort (run_in.n_carriers)",
    "trigger_rate_per_year": "carriers triggering per carrier-year of run-in",
    "screened_per_randomised": "carriers screened per randomised patient",
    "missed_by_trigger": "share of run-in phenoconversions not preceded by a trigger",
    "trigger_to_onset_months": "median months from trigger to phenoconversion, untreated",
    "event_proportion_control": "proportion with the event by the landmark, control arm",
    "event_proportion_treated": "proportion with the event by the landmark, treated arm",
}
FUNNEL_PREFIX = "funnel:"


def carrier_record(sim: TrialSimulation) -> CarrierRecord:
    """The run-in part of `sim`, or an error for designs without a run-in."""
    if sim.carriers is None:
        raise AlsimError(f"{sim.design.study_id} has no run-in: no phenoconversion to analyse")
    return sim.carriers


def event_endpoint(design: TrialDesign, paramcd: str = EVENT) -> EventEndpoint:
    """The event endpoint `paramcd` of `design`."""
    for event in design.event_endpoints:
        if event.paramcd == paramcd:
            return event
    raise AlsimError(f"{design.study_id} has no event endpoint {paramcd}")


def event_times(sim: TrialSimulation) -> tuple[FloatArray, NDArray[np.bool_]]:
    """(replicate, patient) days from Day 1 to the event or the last assessment without it, and
    whether the event was found."""
    record = carrier_record(sim)
    time: FloatArray = record.event_or_censor_day - 1.0
    return time, record.event_observed


def landmark_status(sim: TrialSimulation, landmark_day: int) -> FloatArray:
    """(replicate, patient): 1 = event found by `landmark_day`, 0 = assessed on or after it
    without the event (found later, or never), NaN = unknown (withdrawn before it)."""
    record = carrier_record(sim)
    by = record.event_day <= landmark_day
    clear = ~by & (record.event_or_censor_day >= landmark_day)
    out: FloatArray = np.where(by, 1.0, np.where(clear, 0.0, np.nan))
    return out


def carrier_plan(design: TrialDesign) -> "AnalysisPlan":
    """The analyses of a run-in design (see the module docstring)."""
    from alsim.campaign.plan import LAST_VISIT, PlannedAnalysis, highest_dose_arm

    arm = highest_dose_arm(design)
    plan = [
        PlannedAnalysis(
            name="risk_difference_phenocnv_landmark",
            method="risk_difference",
            paramcd=EVENT,
            treated_arm=arm,
            primary=True,
        ),
        PlannedAnalysis(name="km_phenocnv_landmark", method="km", paramcd=EVENT, treated_arm=arm),
        PlannedAnalysis(
            name="logrank_phenocnv",
            method="logrank",
            paramcd=EVENT,
            treated_arm=arm,
            visit=LAST_VISIT,
        ),
        PlannedAnalysis(
            name="cox_phenocnv", method="cox", paramcd=EVENT, treated_arm=arm, visit=LAST_VISIT
        ),
    ]
    if "PLNFL" in design.endpoints:
        plan.append(
            PlannedAnalysis(name="gmr_plasma_nfl", method="gmr", paramcd="PLNFL", treated_arm=arm)
        )
    return tuple(plan)


def _treated_and_stratum(
    sim: TrialSimulation, analysis: "PlannedAnalysis"
) -> tuple[IntArray, NDArray[np.bool_], IntArray | None]:
    design = sim.design
    labels = design.arm_labels
    if analysis.treated_arm not in labels:
        raise AlsimError(
            f"analysis {analysis.name}: unknown arm {analysis.treated_arm!r}; allowed: "
            f"{', '.join(labels)}"
        )
    arms = [labels.index(analysis.treated_arm), labels.index(design.control_arm)]
    index = np.flatnonzero(np.isin(sim.arm_index, arms)).astype(np.int64)
    treated = np.asarray(sim.arm_index[index] == arms[0])
    stratum = None
    if design.randomization.unit == "stratum" and len(design.randomization.groups) > 1:
        stratum = np.broadcast_to(sim.group_index[index], (sim.n_replicates, index.size)).copy()
    return index, treated, stratum


def fit_event_analysis(sim: TrialSimulation, analysis: "PlannedAnalysis") -> EstimateResult:
    """One planned analysis of the event endpoint on every replicate of `sim`."""
    index, treated, stratum = _treated_and_stratum(sim, analysis)
    landmark = event_endpoint(sim.design, analysis.paramcd).landmark_day
    if analysis.method == "risk_difference":
        status = landmark_status(sim, landmark)[:, index]
        return RiskDifferenceSpec(alpha=analysis.alpha).fit(
            status, treated=treated, stratum=stratum
        )
    time, event = event_times(sim)
    time, event = time[:, index], event[:, index]
    if analysis.method == "km":
        return KaplanMeierSpec(landmark_days=landmark - 1.0, alpha=analysis.alpha).fit(
            time, event=event, treated=treated
        )
    if analysis.method == "logrank":
        return LogRankSpec(alpha=analysis.alpha).fit(
            time, event=event, treated=treated, stratum=stratum
        )
    if analysis.method == "cox":
        return CoxSpec(alpha=analysis.alpha).fit(
            time, event=event, treated=treated, stratum=stratum
        )
    raise AlsimError(
        f"analysis {analysis.name}: method {analysis.method} does not apply to the event "
        f"{analysis.paramcd}; allowed: risk_difference, km, logrank, cox"
    )


def funnel_values(sim: TrialSimulation) -> dict[str, FloatArray]:
    """Per-replicate trial metrics of a run-in design (keys of `FUNNEL_METRICS`)."""
    record = carrier_record(sim)
    design = sim.design
    funnel = record.funnel
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "projected_randomised": funnel["projected_randomised"],
            "trigger_rate_per_year": funnel["n_triggered"] / funnel["carrier_years"],
            "screened_per_randomised": funnel["n_screened"] / sim.n_patients,
            "missed_by_trigger": funnel["n_converted_in_run_in"] / funnel["n_onset_in_run_in"],
            "trigger_to_onset_months": np.median(
                (record.untreated_onset_day - 1.0) / DAYS_PER_MONTH, axis=1
            ),
        }
        status = landmark_status(sim, event_endpoint(design).landmark_day)
        control = sim.arm_index == design.arm_labels.index(design.control_arm)
        values["event_proportion_control"] = np.nanmean(status[:, control], axis=1)
        values["event_proportion_treated"] = np.nanmean(status[:, ~control], axis=1)
    return values


def funnel_rows(sim: TrialSimulation) -> pd.DataFrame:
    """The metrics of `funnel_values` in the layout of the plan results (``estimate``); empty for
    designs without a run-in."""
    if sim.carriers is None:
        return pd.DataFrame()
    nan = np.full(sim.n_replicates, np.nan)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "analysis": f"{FUNNEL_PREFIX}{name}",
                    "replicate": sim.replicate,
                    "estimate": values,
                    "std_error": nan,
                    "ci_low": nan,
                    "ci_high": nan,
                    "p_value": nan,
                    "status": "ok",
                }
            )
            for name, values in funnel_values(sim).items()
        ],
        ignore_index=True,
    )


def funnel_table(results: pd.DataFrame, points: "tuple[DesignPoint, ...]") -> pd.DataFrame:
    """Per design point and metric: mean, median and 2.5-97.5% over replicates."""
    rows = []
    for point in points:
        for name, description in FUNNEL_METRICS.items():
            sel = results[
                (results["point"] == point.index)
                & (results["analysis"] == f"{FUNNEL_PREFIX}{name}")
            ]
            values = sel["estimate"].to_numpy(dtype=np.float64)
            values = values[np.isfinite(values)]
            if values.size == 0:
                continue
            low, median, high = np.quantile(values, [0.025, 0.5, 0.975])
            rows.append(
                {
                    "point": point.index,
                    "label": point.label,
                    "n_total": point.design.n_patients,
                    "metric": name,
                    "description": description,
                    "mean": float(values.mean()),
                    "median": float(median),
                    "low": float(low),
                    "high": float(high),
                    "n_replicates": int(values.size),
                }
            )
    return pd.DataFrame(rows)
