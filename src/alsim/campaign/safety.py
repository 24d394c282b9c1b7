"""Safety operating characteristics: how likely a trial is to see serious neurological events.

Each replicate records how many tofersen-treated patients had at least one serious neurological
adverse event (myelitis, radiculitis, chemical meningitis, ... from the calibrated adverse-event
model); across replicates that gives the probability of seeing at least k such patients in a
trial of the design's size and length, with its Monte Carlo SE.
"""

import numpy as np
import pandas as pd

from alsim.analysis.safety import probability_at_least
from alsim.campaign.grid import DesignPoint
from alsim.simulate.trial import TrialSimulation

SERIOUS_EVENTS = "serious_neuro_event_patients"
AT_LEAST_K = (1, 2, 3, 5)


def serious_event_rows(sim: TrialSimulation) -> pd.DataFrame:
    """One row per replicate, in the layout of the plan results: ``estimate`` is the number of
    patients who received tofersen and had a serious neurological event."""
    counts = np.zeros(sim.n_replicates)
    events = sim.adverse_events
    if events is not None:
        treated_with_serious = events.patients_with_serious_event() & events.ever_treated
        counts = treated_with_serious.sum(axis=1).astype(np.float64)
    nan = np.full(sim.n_replicates, np.nan)
    return pd.DataFrame(
        {
            "analysis": SERIOUS_EVENTS,
            "replicate": sim.replicate,
            "estimate": counts,
            "std_error": nan,
            "ci_low": nan,
            "ci_high": nan,
            "p_value": nan,
            "status": "ok",
        }
    )


def serious_event_table(
    results: pd.DataFrame, points: tuple[DesignPoint, ...], ks: tuple[int, ...] = AT_LEAST_K
) -> pd.DataFrame:
    """P(at least k tofersen-treated patients with a serious neurological event) per point."""
    rows = []
    for point in points:
        sel = results[(results["point"] == point.index) & (results["analysis"] == SERIOUS_EVENTS)]
        counts = sel["estimate"].to_numpy().astype(np.int64)
        if counts.size == 0:
            continue
        for k in ks:
            probability, mcse = probability_at_least(counts, k)
            rows.append(
                {
                    "point": point.index,
                    "label": point.label,
                    "n_total": point.design.n_patients,
                    "at_least_k": k,
                    "probability": probability,
                    "mcse": mcse,
                    "mean_patients": float(counts.mean()),
                }
            )
    return pd.DataFrame(rows)
