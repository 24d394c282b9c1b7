"""The sections of `report.html`: per study the design, the trajectories, the dose-response, the
clinical endpoints and survival when the data has them, adverse events, and the forest plot of
every published result; then the parameter table. Used by `alsim reproduce`, `alsim simulate` and
the web app."""

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from alsim.design.trial import TrialDesign
from alsim.errors import EvidenceError
from alsim.evidence.compare import ComparisonRow, study_targets
from alsim.io.adae import build_adae
from alsim.io.adam import build_adsl
from alsim.model.parameters import ParameterSet
from alsim.report.html import Section, render_page
from alsim.report.summaries import (
    BIOMARKERS,
    CLINICAL,
    FIRST_EVENT_KINDS,
    ae_incidence_summary,
    bds_trajectory_summary,
    first_event_frame,
    km_summary,
    trajectory_summary,
    tte_frame,
)
from alsim.report.tables import comparison_html, html_table, parameter_html
from alsim.simulate.trial import TrialSimulation


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyFigures:
    """What a study's report section draws from: the design, per-arm trajectories, Kaplan-Meier
    summaries (empty without time-to-event data) and the comparison rows (empty without
    published targets)."""

    design: TrialDesign
    trajectories: pd.DataFrame
    km: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: tuple[ComparisonRow, ...] = ()
    n_replicates: int = 0
    seed: int | None = None
    ae_incidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    first_events: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def from_simulation(
        cls, sim: TrialSimulation, rows: Sequence[ComparisonRow] = ()
    ) -> "StudyFigures":
        """Summaries of a simulation (numpy; fast for thousands of replicates)."""
        geometric = {
            r.paramcd: "geo_mean_pct_change"
            for r in itt_rows(rows)
            if r.quantity == "gmr_to_baseline" and r.published is not None
        }
        adae, adsl = build_adae(sim), build_adsl(sim)
        return cls(
            design=sim.design,
            trajectories=trajectory_summary(sim, geometric),
            km=km_summary(tte_frame(sim)) if sim.has_events else pd.DataFrame(),
            rows=tuple(rows),
            n_replicates=sim.n_replicates,
            seed=sim.seed,
            ae_incidence=ae_incidence_summary(adae, adsl),
            first_events=first_event_frame(adae, adsl),
        )

    @classmethod
    def from_adam(
        cls,
        design: TrialDesign,
        bds: Sequence[pd.DataFrame],
        adtte: pd.DataFrame | None = None,
        *,
        seed: int | None = None,
        adae: pd.DataFrame | None = None,
        adsl: pd.DataFrame | None = None,
    ) -> "StudyFigures":
        """Summaries of ADaM-like tables: BDS frames (ADLB, ADQS), ADTTE (DTHPV), and ADAE with
        ADSL for the adverse events."""
        frames = [b for b in bds if not b.empty]
        long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        trajectories = (
            bds_trajectory_summary(long)
            if not long.empty
            else bds_trajectory_summary(pd.DataFrame({"PARAMCD": []}))
        )
        km = pd.DataFrame()
        if adtte is not None and not adtte.empty and (adtte["PARAMCD"] == "DTHPV").any():
            km = km_summary(adtte)
        n_replicates = int(long["REPLICATE"].nunique()) if "REPLICATE" in long else 1
        ae_incidence = first_events = pd.DataFrame()
        if adae is not None and adsl is not None:
            ae_incidence = ae_incidence_summary(adae, adsl)
            first_events = first_event_frame(adae, adsl)
        return cls(
            design=design,
            trajectories=trajectories,
            km=km,
            n_replicates=n_replicates,
            seed=seed,
            ae_incidence=ae_incidence,
            first_events=first_events,
        )

    def has(self, paramcd: str) -> bool:
        return bool((self.trajectories["PARAMCD"] == paramcd).any())


def itt_rows(rows: Sequence[ComparisonRow]) -> tuple[ComparisonRow, ...]:
    """The rows about the whole randomised population (not a progression subgroup): only these
    belong on the per-arm trajectories."""
    populations: dict[tuple[str, str], str] = {}
    for study in {r.study for r in rows}:
        try:
            targets, predictions = study_targets(study)
        except EvidenceError:
            continue
        for target in (*targets, *predictions):
            if target.evidence is not None:
                populations[(study, target.evidence)] = getattr(target, "population", "ITT")
    return tuple(r for r in rows if populations.get((r.study, r.target), "ITT") == "ITT")


def figure_html(figure: Figure, caption: str, alt: str) -> str:
    """An embedded PNG figure with its caption."""
    from alsim.report.figures import png_data_uri

    return (
        f'<figure><img src="{png_data_uri(figure)}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def design_html(design: TrialDesign) -> str:
    """Arms with dose and N, the regimen, the visits, the extension."""
    sizes = design.arm_sizes()
    arms = html_table(
        ("Arm (TRT01P)", "Dose (mg)", "N randomised"),
        [(a.label, f"{a.dose_mg:g}", str(sizes[a.label])) for a in design.arms],
    )
    regimen = design.regimen
    dose_days = ", ".join(str(d) for d in regimen.dose_days)
    lines = [
        f"<p><b>{html.escape(design.study_id)}</b>: {design.n_patients} patients, randomisation "
        f"by {html.escape(design.randomization.unit)} at {html.escape(design.randomization.ratio)}"
        f" (groups: {html.escape(', '.join(g.name for g in design.randomization.groups))}); "
        f"primary visit {html.escape(design.primary_visit)}; dropout "
        f"{design.dropout_per_year:g}/year.</p>",
        f"<p>Regimen: intrathecal bolus on Days {html.escape(dose_days)} "
        f"({len(regimen.loading_days)} loading doses, then every {regimen.interval_days} "
        "days).</p>",
        "<p>Visits: "
        + html.escape(", ".join(f"{v.name} (Day {v.day})" for v in design.visits))
        + f".</p><p>Endpoints: {html.escape(', '.join(design.endpoints))}.</p>",
    ]
    if design.extension is not None:
        ext = design.extension
        lines.append(
            f"<p>Open-label extension from Day {ext.start_day}: {html.escape(ext.arm_label)} "
            f"({ext.dose_mg:g} mg on Days "
            f"{html.escape(', '.join(str(d) for d in ext.regimen.dose_days[:6]))}"
            f"{', ...' if len(ext.regimen.dose_days) > 6 else ''}); "
            f"{100 * ext.entry_fraction:.0f}% expected to enter.</p>"
        )
    return arms + "".join(lines)


def _early_delayed_arms(design: TrialDesign) -> tuple[str, str] | None:
    if design.extension is None:
        return None
    active = [a.label for a in design.arms if a.label != design.control_arm]
    if not active:
        return None
    return active[-1], design.control_arm


def study_html(study: StudyFigures, *, forest: bool = True) -> str:
    """The body of one study's section: design, figures, comparison table."""
    from alsim.report.figures import (
        design_timeline_figure,
        dose_response_figure,
        early_delayed_figure,
        forest_figure,
        km_figure,
        trajectory_figure,
    )

    design = study.design
    arms = design.arm_labels
    bands = f"median over {study.n_replicates} simulated trials, band: 2.5-97.5% of trials"
    parts = ["<h3>Design</h3>", design_html(design)]
    parts.append(
        figure_html(
            design_timeline_figure(design),
            "Intrathecal injections per arm by study day: filled triangles tofersen, open "
            "triangles placebo (the same procedure without drug), grey triangles the open-label "
            "extension's doses; grey lines are visits.",
            "regimen timeline",
        )
    )
    ext_day = design.extension.start_day if design.extension else None
    biomarkers = [p for p in BIOMARKERS if study.has(p)]
    if biomarkers:
        parts.append("<h3>Biomarkers</h3>")
        parts.append(
            figure_html(
                trajectory_figure(
                    study.trajectories,
                    biomarkers,
                    rows=itt_rows(study.rows),
                    arms=arms,
                    extension_start_day=ext_day,
                ),
                f"Per-arm trajectories ({bands}). Diamonds: published values with 95% CI.",
                "biomarker trajectories",
            )
        )
    doses = [
        r
        for r in study.rows
        if r.quantity == "pct_change_diff" and r.paramcd == "CSFSOD1" and r.published is not None
    ]
    if len({r.arm for r in doses}) >= 2:
        parts.append("<h3>Dose-response</h3>")
        parts.append(
            figure_html(
                dose_response_figure(study.rows, design, visit=doses[0].visit),
                "CSF SOD1 difference vs placebo in mean % change: simulated median and 95% range "
                "over trials (circles) against the published difference and 95% CI (diamonds).",
                "dose-response",
            )
        )
    clinical = [p for p in CLINICAL if study.has(p)]
    if clinical:
        parts.append("<h3>Clinical endpoints</h3>")
        parts.append(
            figure_html(
                trajectory_figure(
                    study.trajectories,
                    clinical,
                    rows=itt_rows(study.rows),
                    arms=arms,
                    extension_start_day=ext_day,
                ),
                f"Mean change from baseline per arm ({bands}).",
                "clinical trajectories",
            )
        )
    if not study.km.empty:
        parts.append("<h3>Death or permanent ventilation</h3>")
        parts.append(
            figure_html(
                km_figure(study.km, arms=arms),
                "Kaplan-Meier freedom from death or permanent ventilation per arm "
                f"(median curve over up to {study.n_replicates} trials, band 2.5-97.5%).",
                "Kaplan-Meier curves",
            )
        )
    pair = _early_delayed_arms(design)
    if pair is not None and ext_day is not None and (clinical or biomarkers):
        assert design.extension is not None
        parts.append("<h3>Early vs delayed start</h3>")
        parts.append(
            figure_html(
                early_delayed_figure(
                    study.trajectories,
                    [*clinical, *(p for p in ("PLNFL",) if study.has(p))] or biomarkers,
                    early_arm=pair[0],
                    delayed_arm=pair[1],
                    extension_start_day=ext_day,
                    extension_label=design.extension.arm_label,
                ),
                "Patients randomised to tofersen (early start) against patients randomised to "
                f"placebo who switch to {design.extension.arm_label} at the extension "
                f"(delayed start, from Day {ext_day}).",
                "early vs delayed start",
            )
        )
    if not study.ae_incidence.empty:
        parts.append(safety_html(study))
    if study.rows:
        parts.append("<h3>Simulated vs published</h3>")
        if forest and any(r.published is not None for r in study.rows):
            parts.append(
                figure_html(
                    forest_figure(study.rows),
                    "Every published result (black diamond, with its 95% CI where published) "
                    "beside its simulated counterpart (circle: median, bar: 2.5-97.5% over "
                    "trials); green when the row's criterion is met (simulated median inside "
                    "the published CI; without a CI, within the stated tolerance of the "
                    "published value, or the published value inside the simulated range), "
                    "orange when not. One panel per statistic, each on its own scale.",
                    "forest plot",
                )
            )
        in_safety = (
            {id(r) for r in safety_rows_of(study)} if not study.ae_incidence.empty else set()
        )
        parts.append(comparison_html([r for r in study.rows if id(r) not in in_safety]))
    return "\n".join(parts)


def safety_rows_of(study: StudyFigures) -> tuple[ComparisonRow, ...]:
    """The adverse-event rows of the comparison (shown in the safety section)."""
    return tuple(r for r in study.rows if r.paramcd == "AE")


def safety_html(study: StudyFigures) -> str:
    """Adverse events: incidence by arm (simulated, with the published rate where there is one)
    and the time to the first drug-caused and the first serious neurological event."""
    from alsim.report.figures import km_figure

    incidence = study.ae_incidence
    arms = [a for a in study.design.arm_labels if (incidence["ARM"] == a).any()]
    last = study.design.visits[-1]
    body = []
    for (decod, serious), block in incidence.groupby(["AEDECOD", "AESER"], sort=False):
        cells = [str(decod), "yes" if serious == "Y" else ""]
        for arm in arms:
            row = block[block["ARM"] == arm].iloc[0]
            cells.append(f"{row.MEDIAN:.1f} [{row.LOW:.1f}, {row.HIGH:.1f}]")
        body.append(cells)
    header = [
        "Adverse event",
        "Serious",
        *(f"{arm} (randomised): % of patients" for arm in arms),
    ]
    parts = [
        "<h3>Safety</h3>",
        "<p class='note'>Simulated share of patients with at least one event over the whole "
        f"follow-up (Day 1 to {html.escape(last.name)}, day {last.day}): median and "
        "2.5-97.5% over trials, by randomised arm.</p>",
        html_table(header, body),
    ]
    compared = safety_rows_of(study)
    if compared:
        parts += [
            "<h4>Beside the published rates, at the published timepoint</h4>",
            "<p class='note'>Each simulated rate here is counted over the same window as the "
            "published one (the Statistic column names it): VALOR's rates cover its 28 "
            "randomised weeks, so the simulated follow-up is cut at week 28 for them, whatever "
            "the design's length. Where a publication states no timepoint, the row says so and "
            "the whole simulated follow-up is used.</p>",
            comparison_html(compared),
        ]
    for paramcd, label in FIRST_EVENT_KINDS.items():
        rows = study.first_events[study.first_events["PARAMCD"] == paramcd]
        if rows.empty:
            continue
        parts.append(
            figure_html(
                km_figure(
                    km_summary(rows, paramcd=paramcd),
                    arms=arms,
                    title=f"Time to {label}",
                    ylabel="Cumulative share of patients",
                    cumulative=True,
                ),
                f"Kaplan-Meier cumulative incidence of the {label} per arm (median over up to "
                f"{study.n_replicates} trials, band 2.5-97.5%), censored at the last day on study; "
                "the vertical axis is zoomed to the band, and an arm whose median stays at 0 (most "
                "trials had no such event) is drawn on the axis and named so in the legend.",
                f"time to {label}",
            )
        )
    return "\n".join(parts)


def parameter_section(parameters: ParameterSet) -> Section:
    return Section(
        title="Model parameters",
        note="Every value the model uses, with its source. Rows marked ASSUMPTION are ours to "
        "revisit: they are not published numbers.",
        content_html=parameter_html(parameters),
    )


def study_section(study: StudyFigures, *, title: str | None = None) -> Section:
    seed = "" if study.seed is None else f", seed {study.seed}"
    return Section(
        title=title or study.design.title,
        note=f"{study.n_replicates} simulated replicates{seed}. {study.design.reference}",
        content_html=study_html(study),
    )


def write_report(
    target: Path,
    title: str,
    subtitle: str,
    studies: Sequence[StudyFigures],
    parameters: ParameterSet,
    extra: Sequence[Section] = (),
) -> Path:
    """Write one self-contained `report.html` with a section per study, `extra` sections and the
    parameter table."""
    sections = [study_section(s) for s in studies]
    sections += [*extra, parameter_section(parameters)]
    target.write_text(render_page(title, subtitle, sections), encoding="utf-8")
    return target


def power_section(
    frame: pd.DataFrame, *, x: str = "design_point", x_label: str | None = None
) -> Section:
    """A report section with the power curves of `frame` (see `power_curve_figure`)."""
    from alsim.report.figures import power_curve_figure

    figure = power_curve_figure(frame, x=x, x_label=x_label)
    return Section(
        title="Power",
        note="Power per design point and endpoint; bands are ±1.96 Monte-Carlo standard errors.",
        content_html=figure_html(figure, "Power curves.", "power curves"),
    )
