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
from alsim.design.presymptomatic import event_endpoint
from alsim.design.trial import TrialDesign
from alsim.errors import AlsimError
from alsim.simulate.presymptomatic import TRIAL_METRICS, carrier_record, trial_metrics
from alsim.simulate.trial import TrialSimulation

if TYPE_CHECKING:
    from alsim.campaign.grid import DesignPoint
    from alsim.campaign.plan import AnalysisPlan, PlannedAnalysis

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

EVENT = "PHENOCNV"
FUNNEL_PREFIX = "funnel:"


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


def fit_event_analysis(
    sim: TrialSimulation,
    analysis: "PlannedAnalysis",
    index: IntArray,
    treated: NDArray[np.bool_],
    stratum: IntArray | None,
) -> EstimateResult:
    """One planned analysis of the event endpoint on every replicate of `sim`, for the patients
    at `index` (the plan's selection, `alsim.campaign.plan.fit_analysis`)."""
    record = carrier_record(sim)
    landmark = event_endpoint(sim.design, analysis.paramcd).landmark_day
    if analysis.method == "risk_difference":
        status = record.landmark_status(landmark)[:, index]
        return RiskDifferenceSpec(alpha=analysis.alpha).fit(
            status, treated=treated, stratum=stratum
        )
    time = record.event_or_censor_day[:, index] - 1.0
    event = record.event_observed[:, index]
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
            for name, values in trial_metrics(sim).items()
        ],
        ignore_index=True,
    )


def funnel_table(results: pd.DataFrame, points: "tuple[DesignPoint, ...]") -> pd.DataFrame:
    """Per design point and metric: mean, median and 2.5-97.5% over replicates."""
    rows = []
    for point in points:
        for name, description in TRIAL_METRICS.items():
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
