"""Run-in (prevention) trials beside the evidence: the quantities `compare` reads from a simulated
ATLAS-type trial, and the stated prediction of its randomised part's primary result.

Quantities (targets.yaml, study ``atlas``):

- ``carrier_lead_months``: median months from the NfL trigger to phenoconversion of the
  randomised carriers had they stayed untreated (their natural history; compared with the 6-12
  months of evidence nh_prefals_nfl_lead);
- ``event_proportion_landmark``: the proportion with clinically manifest ALS by the landmark
  (ATLAS: 12 months, evidence atlas_primary), in the arm named;
- ``risk_difference_landmark``: the primary analysis, treated minus control;
- ``phenocnv_hr``: Cox hazard ratio of clinically manifest ALS over the randomised part;
- ``projected_randomised``, ``trigger_rate_per_year``, ``screened_per_randomised``,
  ``missed_by_trigger``: the run-in metrics of `alsim.simulate.presymptomatic.trial_metrics`.

`predict_primary` states the primary result of a run-in design twice: at the parameter table's
typical values (intervals: trial-to-trial variation) and over the posterior of the shipped
calibration (`alsim.model.uncertainty`: intervals also carry what the evidence leaves unknown about
the biology), with the probability that the primary test succeeds (power, and assurance over the
posterior).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from alsim.errors import EvidenceError
from alsim.simulate.presymptomatic import TRIAL_METRICS, trial_metrics
from alsim.simulate.trial import TrialSimulation

if TYPE_CHECKING:
    from alsim.analysis import EstimateResult

FloatArray = NDArray[np.float64]

CARRIER_QUANTITY_LABELS = {
    "carrier_lead_months": TRIAL_METRICS["trigger_to_onset_months"],
    "event_proportion_landmark": "% with clinically manifest ALS by the landmark",
    "risk_difference_landmark": "difference in % with clinically manifest ALS by the landmark "
    "vs control (primary)",
    "phenocnv_hr": "hazard ratio of clinically manifest ALS vs control (Cox)",
    "projected_randomised": TRIAL_METRICS["projected_randomised"],
    "trigger_rate_per_year": "% of carriers triggering per carrier-year of run-in",
    "screened_per_randomised": TRIAL_METRICS["screened_per_randomised"],
    "missed_by_trigger": "% of run-in phenoconversions not preceded by a trigger",
}
_PERCENT = ("event_proportion_landmark", "risk_difference_landmark", "trigger_rate_per_year")
_PERCENT_METRICS = ("missed_by_trigger",)


def _fit(sim: TrialSimulation, method: str, alpha: float = 0.05) -> "EstimateResult":
    """The run-in design's planned `method` (``risk-difference`` or ``cox``) of the event
    endpoint (`alsim.design.plan.default_plan`), at level `alpha`."""
    from alsim.analysis.plan import PlanRunner, study_data

    for analysis in sim.design.plan:
        if analysis.method == method and analysis.endpoint in sim.design.event_endpoint_codes:
            planned = analysis.model_copy(update={"alpha": alpha})
            return PlanRunner(study_data(sim)).fit(planned)
    raise EvidenceError(f"the plan of {sim.design.study_id} has no {method} of its event endpoint")


def carrier_values(sim: TrialSimulation, quantity: str, arm: str) -> FloatArray:
    """Per-replicate values of a run-in quantity (percentages where the label says %)."""
    if sim.carriers is None:
        raise EvidenceError(f"{sim.design.study_id} has no run-in: no {quantity}")
    if quantity in ("risk_difference_landmark", "phenocnv_hr"):
        result = _fit(sim, "risk-difference" if quantity == "risk_difference_landmark" else "cox")
        scale = 100.0 if quantity == "risk_difference_landmark" else 1.0
        return scale * np.asarray(result.estimate, dtype=np.float64)
    metrics = trial_metrics(sim)
    if quantity == "event_proportion_landmark":
        side = "control" if arm == sim.design.control_arm else "treated"
        return 100.0 * metrics[f"event_proportion_{side}"]
    name = "trigger_to_onset_months" if quantity == "carrier_lead_months" else quantity
    if name not in metrics:
        raise EvidenceError(
            f"unknown run-in quantity {quantity!r}; allowed: {', '.join(CARRIER_QUANTITY_LABELS)}"
        )
    scale = 100.0 if quantity in (*_PERCENT, *_PERCENT_METRICS) else 1.0
    return scale * metrics[name]


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictedValue:
    """Median and 2.5-97.5% over simulated trials of one quantity."""

    quantity: str
    arm: str
    parameters: str
    median: float
    low: float
    high: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PrimaryPrediction:
    """The stated prediction of a run-in trial's primary result, at typical parameter values
    and over the posterior: proportions with the event by the landmark in both arms, their
    difference, and the probability that the primary test rejects at its alpha."""

    study_id: str
    stated_on: str
    control_arm: str
    treated_arm: str
    landmark_day: int
    n_randomised: int
    n_replicates: int
    seed: int
    values: tuple[PredictedValue, ...]
    power: float
    power_mcse: float
    assurance: float
    assurance_mcse: float

    def value(self, quantity: str, arm: str, parameters: str) -> PredictedValue:
        for v in self.values:
            if (v.quantity, v.arm, v.parameters) == (quantity, arm, parameters):
                return v
        raise EvidenceError(f"no predicted {quantity} for {arm} ({parameters})")


def _success(sim: TrialSimulation, alpha: float) -> tuple[float, float]:
    """Share of replicates whose primary test rejects, with its Monte Carlo SE; a replicate that
    cannot be tested (no variation) counts as not showing an effect."""
    p_value = _fit(sim, "risk-difference", alpha).p_value
    hit = np.where(np.isfinite(p_value), p_value < alpha, False)
    p = float(hit.mean())
    return p, float(np.sqrt(p * (1 - p) / hit.size))


def predict_primary(
    typical: TrialSimulation, posterior: TrialSimulation, *, stated_on: str, alpha: float = 0.05
) -> PrimaryPrediction:
    """The prediction from two simulations of the same run-in design: at typical parameters and
    with each replicate's own posterior draw of the calibrated quantities."""
    from alsim.design.plan import highest_dose_arm
    from alsim.design.presymptomatic import event_endpoint

    design = typical.design
    treated = highest_dose_arm(design)
    values = []
    for label, sim in (("typical", typical), ("posterior", posterior)):
        for quantity, arm in (
            ("event_proportion_landmark", design.control_arm),
            ("event_proportion_landmark", treated),
            ("risk_difference_landmark", treated),
            ("phenocnv_hr", treated),
        ):
            x = carrier_values(sim, quantity, arm)
            x = x[np.isfinite(x)]
            median, low, high = (float(q) for q in np.quantile(x, [0.5, 0.025, 0.975]))
            values.append(
                PredictedValue(
                    quantity=quantity,
                    arm=arm,
                    parameters=label,
                    median=median,
                    low=low,
                    high=high,
                )
            )
    power, power_mcse = _success(typical, alpha)
    assurance, assurance_mcse = _success(posterior, alpha)
    return PrimaryPrediction(
        study_id=design.study_id,
        stated_on=stated_on,
        control_arm=design.control_arm,
        treated_arm=treated,
        landmark_day=event_endpoint(design).landmark_day,
        n_randomised=design.n_patients,
        n_replicates=typical.n_replicates,
        seed=typical.seed,
        values=tuple(values),
        power=power,
        power_mcse=power_mcse,
        assurance=assurance,
        assurance_mcse=assurance_mcse,
    )
