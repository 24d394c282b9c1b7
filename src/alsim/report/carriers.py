"""The report section of run-in (prevention) designs such as ATLAS: the stated prediction of the
randomised part's primary result, NfL before phenoconversion and the trigger's lead time, time
to clinically manifest ALS per arm, and the run-in metrics a trialist plans with."""

import html

import numpy as np
import pandas as pd

from alsim.evidence.carriers import PrimaryPrediction
from alsim.evidence.records import evidence
from alsim.io.adam import build_adtte
from alsim.report.html import Section
from alsim.report.pages import figure_html
from alsim.report.tables import html_table
from alsim.simulate.presymptomatic import (
    DAYS_PER_MONTH,
    TRIAL_METRICS,
    carrier_record,
    trial_metrics,
)
from alsim.simulate.trial import TrialSimulation

LEAD_EVIDENCE = "nh_prefals_nfl_lead"
MONTHS_BEFORE = 36
MONTHS_AFTER = 6


def prodromal_nfl_summary(sim: TrialSimulation) -> pd.DataFrame:
    """Observed plasma NfL of untreated carriers by whole month from phenoconversion: every
    run-in sample of the randomised carriers and every control-arm sample after Day 1, each
    placed against the carrier's own untreated onset. Columns MONTH, MEDIAN, LOW (10%),
    HIGH (90%), N."""
    record = carrier_record(sim)
    onset = record.untreated_onset_day[:, :, None]
    days = [record.run_in_day - onset]
    values = [record.run_in_nfl]
    if "PLNFL" in sim.observed:
        control = sim.arm_index == sim.design.arm_labels.index(sim.design.control_arm)
        visit = sim.visit_days[None, None, 1:].astype(np.float64) - onset[:, control]
        days.append(visit)
        values.append(sim.observed["PLNFL"][:, control, 1:])
    month = np.concatenate([d.reshape(-1) for d in days]) / DAYS_PER_MONTH
    nfl = np.concatenate([v.reshape(-1) for v in values])
    keep = np.isfinite(month) & np.isfinite(nfl) & (month >= -MONTHS_BEFORE)
    keep &= month <= MONTHS_AFTER
    frame = pd.DataFrame({"MONTH": np.floor(month[keep]) + 0.5, "NFL": nfl[keep]})
    grouped = frame.groupby("MONTH")["NFL"]
    out = grouped.quantile(np.array([0.5, 0.1, 0.9])).unstack()
    out.columns = pd.Index(["MEDIAN", "LOW", "HIGH"])
    out["N"] = grouped.size()
    return out.reset_index()


def _interval(median: float, low: float, high: float, digits: int = 0) -> str:
    return f"{median:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def prediction_rows(prediction: PrimaryPrediction) -> list[list[str]]:
    """Table rows: quantity, arm, at typical values, over the posterior."""
    rows = []
    labels = {
        "event_proportion_landmark": "% with clinically manifest ALS by the landmark",
        "risk_difference_landmark": "difference vs placebo (percentage points)",
        "phenocnv_hr": "hazard ratio vs placebo (Cox, whole randomised part)",
    }
    seen = []
    for v in prediction.values:
        if (v.quantity, v.arm) not in seen:
            seen.append((v.quantity, v.arm))
    for quantity, arm in seen:
        digits = 2 if quantity == "phenocnv_hr" else 0
        cells = [labels[quantity], arm]
        for parameters in ("typical", "posterior"):
            v = prediction.value(quantity, arm, parameters)
            cells.append(_interval(v.median, v.low, v.high, digits))
        rows.append(cells)
    rows.append(
        [
            "probability the primary test succeeds (p < 0.05)",
            "",
            f"power {prediction.power:.2f} +/- {prediction.power_mcse:.2f}",
            f"assurance {prediction.assurance:.2f} +/- {prediction.assurance_mcse:.2f}",
        ]
    )
    return rows


def prediction_statement(prediction: PrimaryPrediction) -> str:
    """The prediction in one paragraph of plain text."""
    control = prediction.value("event_proportion_landmark", prediction.control_arm, "typical")
    treated = prediction.value("event_proportion_landmark", prediction.treated_arm, "typical")
    difference = prediction.value("risk_difference_landmark", prediction.treated_arm, "typical")
    return (
        f"Stated on {prediction.stated_on}, before the trial reads out: with "
        f"{prediction.n_randomised} carriers randomised, {control.median:.0f}% "
        f"[{control.low:.0f}, {control.high:.0f}] of the {control.arm.lower()} arm and "
        f"{treated.median:.0f}% [{treated.low:.0f}, {treated.high:.0f}] of the "
        f"{treated.arm.lower()} arm develop clinically manifest ALS by study day "
        f"{prediction.landmark_day}; difference {difference.median:+.0f} percentage points "
        f"[{difference.low:+.0f}, {difference.high:+.0f}]. Brackets: 2.5-97.5% of "
        f"{prediction.n_replicates} simulated trials at the parameter table's values. The primary "
        f"test reaches p < 0.05 in {100 * prediction.power:.0f}% of them (power) and in "
        f"{100 * prediction.assurance:.0f}% when each trial takes its own draw of the "
        "calibration's posterior (assurance)."
    )


def carrier_section(sim: TrialSimulation, prediction: PrimaryPrediction | None) -> Section:
    """The run-in section of a report for the simulation `sim` of a run-in design."""
    from alsim.report.figures import km_figure, prodromal_nfl_figure
    from alsim.report.summaries import km_summary

    design = sim.design
    record = carrier_record(sim)
    parts = []
    if prediction is not None:
        statement = html.escape(prediction_statement(prediction))
        parts.append(f"<h3>Prediction of the primary result</h3><p>{statement}</p>")
        parts.append(
            html_table(
                (
                    "Quantity",
                    "Arm",
                    "Typical parameters: median [2.5%, 97.5%] over trials",
                    "Over the posterior: median [2.5%, 97.5%]",
                ),
                prediction_rows(prediction),
            )
        )
    lead = evidence(LEAD_EVIDENCE)
    published = None
    if lead.ci_low is not None and lead.ci_high is not None:
        published = (lead.ci_low, lead.ci_high)
    trigger = design.trigger
    parts.append("<h3>Trigger and phenoconversion</h3>")
    parts.append(
        figure_html(
            prodromal_nfl_figure(
                prodromal_nfl_summary(sim),
                ((record.untreated_onset_day - 1.0) / DAYS_PER_MONTH).reshape(-1),
                trigger_level_pg_ml=None if trigger is None else trigger.min_level_pg_ml,
                evidence_range_months=published,
            ),
            "Left: observed plasma NfL of untreated carriers (run-in samples of every randomised "
            "carrier, and the placebo arm after Day 1) against months from their phenoconversion; "
            "flat far from onset, rising over its last months. Right: months from the NfL trigger "
            "to phenoconversion had the carrier stayed untreated; shaded: "
            f"{lead.value} {lead.unit} before phenoconversion (evidence {lead.id}).",
            "NfL before phenoconversion",
        )
    )
    km = km_summary(build_adtte(sim), paramcd="PHENOCNV")
    parts.append(
        figure_html(
            km_figure(
                km,
                arms=design.arm_labels,
                title="Clinically manifest ALS (Kaplan-Meier)",
                ylabel="Cumulative share with clinically manifest ALS",
                cumulative=True,
            ),
            "Cumulative incidence of clinically manifest ALS per arm from randomisation "
            f"(median over up to {sim.n_replicates} trials, band 2.5-97.5%); found at the "
            "scheduled assessments, censored at withdrawal or the end of the randomised part.",
            "time to phenoconversion",
        )
    )
    metrics = trial_metrics(sim)
    body = []
    for name, description in TRIAL_METRICS.items():
        values = metrics[name][np.isfinite(metrics[name])]
        if values.size == 0:
            continue
        low, median, high = np.quantile(values, [0.025, 0.5, 0.975])
        body.append([description, f"{median:.3g} [{low:.3g}, {high:.3g}]"])
    parts.append("<h3>Run-in metrics</h3>")
    parts.append(html_table(("Metric", "Median [2.5%, 97.5%] over trials"), body))
    return Section(
        title=f"{design.title}: before symptoms",
        note=(
            f"{sim.n_replicates} simulated trials. Carriers are monitored in the run-in and "
            "randomised when the NfL trigger fires; phenoconversion (clinically manifest ALS) is "
            "the day the carrier's disease clock reaches their latent onset, found at the next "
            "assessment. Tofersen acts only through the calibrated mechanism (SOD1 lowering slows "
            "the disease clock); there is no separate prevention effect."
        ),
        content_html="\n".join(parts),
    )
