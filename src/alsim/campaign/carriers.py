"""Trial metrics of prevention designs with a monitoring run-in (ATLAS).

Their analysis plan is data like every other design's (`alsim.design.plan.default_plan` derives
it for a run-in design that states none): the difference in the proportion with the event
(PHENOCNV, clinically manifest ALS) by the landmark day, treated minus control (Mantel-Haenszel
over the randomisation strata when the design stratifies, else the crude difference with a Wald
CI, `alsim.analysis.proportions`; patients withdrawn before the landmark without the event have an
unknown status and are left out); the Kaplan-Meier difference at the landmark; log-rank and Cox
(Efron) hazard ratios over the whole randomised part; plasma NfL by GMR ANCOVA.

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

from alsim.simulate.presymptomatic import TRIAL_METRICS, trial_metrics
from alsim.simulate.trial import TrialSimulation

if TYPE_CHECKING:
    from alsim.campaign.grid import DesignPoint

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

EVENT = "PHENOCNV"
FUNNEL_PREFIX = "funnel:"


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
