"""The Streamlit page of `alsim app`: a view over `alsim.app.logic` and the report's figures.

Run with `alsim app` (or `streamlit run` on this file). Nothing here simulates or analyses: it
collects bounded inputs, calls the public API and shows what comes back.
"""

from collections.abc import Callable

import streamlit as st

from alsim.app.logic import (
    MAX_APP_PATIENTS,
    MAX_APP_REPLICATES,
    TEMPLATE_LABELS,
    AppRun,
    DesignEdit,
    RunCancelledError,
    data_zip,
    design_from_upload,
    design_yaml,
    edited_design,
    load_base,
    primary_table,
    report_html,
    run_design,
    template_names,
)
from alsim.design.trial import TrialDesign
from alsim.errors import AlsimError
from alsim.report.figures import (
    design_timeline_figure,
    dose_response_figure,
    forest_figure,
    km_figure,
    png_bytes,
    trajectory_figure,
)
from alsim.report.pages import StudyFigures, itt_rows
from alsim.report.summaries import BIOMARKERS, CLINICAL


def _sidebar() -> tuple[TrialDesign | None, str | None, int, int]:
    """Template or upload, the edits, and the run size; returns the validated design (None with
    an error shown), the study it came from, replicates and seed."""
    st.sidebar.header("Design")
    names = template_names()
    study = st.sidebar.selectbox(
        "Study template",
        names,
        format_func=lambda s: TEMPLATE_LABELS.get(s, s),
        key="template",
    )
    upload = st.sidebar.file_uploader("…or upload a design YAML", type=["yaml", "yml"])
    try:
        base = design_from_upload(upload.getvalue()) if upload is not None else load_base(study)
    except AlsimError as error:
        st.sidebar.error(str(error))
        return None, None, 0, 0
    source = None if upload is not None else study
    prefix = f"{source or 'upload'}"
    doses: dict[str, float] = {}
    with st.sidebar.expander("Arms and doses", expanded=True):
        for arm in base.arms:
            if arm.label == base.control_arm:
                continue
            doses[arm.label] = st.number_input(
                f"Dose of {arm.label} (mg)",
                min_value=0.0,
                max_value=1000.0,
                value=float(arm.dose_mg),
                step=10.0,
                key=f"{prefix}-dose-{arm.label}",
            )
        n_patients = st.number_input(
            "Patients randomised",
            min_value=2,
            max_value=MAX_APP_PATIENTS,
            value=base.n_patients,
            step=1,
            key=f"{prefix}-n",
        )
        ratio = st.text_input(
            "Allocation ratio (active:control)",
            value=base.randomization.ratio,
            max_chars=5,
            key=f"{prefix}-ratio",
        )
    with st.sidebar.expander("Regimen and follow-up"):
        loading = st.text_input(
            "Loading-dose study days",
            value=", ".join(str(d) for d in base.regimen.loading_days),
            max_chars=80,
            key=f"{prefix}-loading",
        )
        interval = st.number_input(
            "Maintenance interval (days)",
            min_value=1,
            max_value=365,
            value=base.regimen.interval_days,
            key=f"{prefix}-interval",
        )
        n_maintenance = st.number_input(
            "Maintenance doses",
            min_value=0,
            max_value=200,
            value=base.regimen.n_maintenance,
            key=f"{prefix}-nmaint",
        )
        last_day = st.number_input(
            "Last study day (visits after it are dropped)",
            min_value=2,
            max_value=base.visits[-1].day,
            value=base.visits[-1].day,
            key=f"{prefix}-last",
        )
        dropout = st.number_input(
            "Dropout (per patient-year)",
            min_value=0.0,
            max_value=5.0,
            value=float(base.dropout_per_year),
            step=0.05,
            key=f"{prefix}-dropout",
        )
    slope = a4v = min_svc = None
    if base.faster_rule is not None:
        with st.sidebar.expander("Enrichment (faster-progression rule)"):
            slope = st.number_input(
                "Faster if pre-study ALSFRS-R slope ≥ (points/month)",
                min_value=0.05,
                max_value=48.0,
                value=float(base.faster_rule.prestudy_slope_per_month),
                step=0.05,
                key=f"{prefix}-slope",
            )
            a4v = st.checkbox(
                "A4V-like variants count as faster",
                value=base.faster_rule.a4v_is_faster,
                key=f"{prefix}-a4v",
            )
            if base.eligibility is not None:
                min_svc = st.number_input(
                    "Minimum SVC at entry (% predicted)",
                    min_value=0.0,
                    max_value=150.0,
                    value=float(base.eligibility.min_svc_pct),
                    key=f"{prefix}-svc",
                )
    st.sidebar.header("Run")
    replicates = int(
        st.sidebar.number_input(
            "Replicates", min_value=1, max_value=MAX_APP_REPLICATES, value=20, key="replicates"
        )
    )
    seed = int(st.sidebar.number_input("Seed", min_value=0, max_value=2**31 - 1, value=1))
    edit = DesignEdit(
        arm_doses_mg=doses,
        loading_days=loading,
        interval_days=int(interval),
        n_maintenance=int(n_maintenance),
        # re-sizing redistributes the groups, so only when asked (the templates' own counts stay)
        n_patients=int(n_patients) if n_patients != base.n_patients else None,
        ratio=ratio if ratio != base.randomization.ratio else None,
        last_day=int(last_day) if last_day != base.visits[-1].day else None,
        dropout_per_year=float(dropout),
        faster_slope_per_month=slope,
        a4v_is_faster=a4v,
        min_svc_pct=min_svc,
    )
    try:
        design = edited_design(base, edit)
    except AlsimError as error:
        st.sidebar.error(str(error))
        return None, None, replicates, seed
    return design, source, replicates, seed


def _figures(run: AppRun, *, compact: bool = False) -> None:
    study = StudyFigures.from_simulation(run.sim, run.rows)
    arms = run.design.arm_labels
    ext = run.design.extension.start_day if run.design.extension else None
    biomarkers = [p for p in BIOMARKERS if study.has(p)]
    clinical = [p for p in CLINICAL if study.has(p)]
    shown = biomarkers[:1] if compact else biomarkers
    if shown:
        st.image(
            png_bytes(
                trajectory_figure(
                    study.trajectories,
                    shown,
                    rows=itt_rows(run.rows),
                    arms=arms,
                    extension_start_day=ext,
                )
            ),
            caption="Biomarker trajectories: median over replicates, band 2.5-97.5%; "
            "diamonds: published values with 95% CI",
        )
    if clinical and not compact:
        st.image(
            png_bytes(
                trajectory_figure(study.trajectories, clinical, arms=arms, extension_start_day=ext)
            ),
            caption="Clinical endpoints: mean change from baseline",
        )
    if not study.km.empty and not compact:
        st.image(
            png_bytes(km_figure(study.km, arms=arms)),
            caption="Death or permanent ventilation",
            width=760,
        )
    if compact:
        return
    if len({r.arm for r in run.rows if r.quantity == "pct_change_diff"}) >= 2:
        st.image(
            png_bytes(dose_response_figure(run.rows, run.design)),
            caption="Dose-response",
            width=760,
        )
    if any(r.published is not None for r in run.rows):
        st.image(png_bytes(forest_figure(run.rows)), caption="Simulated vs published", width=960)


def _cancel() -> None:
    st.session_state["cancelled"] = True


def _keep(run: AppRun) -> None:
    st.session_state["run_a"] = run


def _run_tab(design: TrialDesign, source: str | None, replicates: int, seed: int) -> None:
    left, right = st.columns([1, 1])
    start = left.button("Run simulation", type="primary", key="run")
    left.caption("Changing any input while a run is going stops it.")
    right.button("Cancel run", key="cancel", on_click=_cancel)
    if start:
        st.session_state["cancelled"] = False
        bar = st.progress(0.0, text="starting")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=f"simulated {done}/{total} replicates")

        try:
            run = run_design(
                design,
                n_replicates=replicates,
                seed=seed,
                study=source,
                on_progress=progress,
                should_stop=lambda: bool(st.session_state.get("cancelled")),
            )
        except RunCancelledError:
            st.warning("Run cancelled.")
            return
        except AlsimError as error:
            st.error(str(error))
            return
        st.session_state["latest_run"] = run
        bar.empty()
    elif st.session_state.get("cancelled"):
        st.warning("Run cancelled.")
    latest: AppRun | None = st.session_state.get("latest_run")
    if latest is None:
        st.info("Pick or edit a design in the sidebar, then press Run simulation.")
        return
    _show_run(latest)


def _cached(run: AppRun, name: str, build: Callable[[AppRun], bytes]) -> bytes:
    """Downloads are built once per run, not on every page refresh."""
    cache: dict[tuple[int, str], bytes] = st.session_state.setdefault("downloads", {})
    key = (id(run), name)
    if key not in cache:
        if len(cache) > 8:
            cache.clear()
        cache[key] = build(run)
    return cache[key]


def _show_run(run: AppRun) -> None:
    st.success(
        f"{run.sim.n_replicates} replicates of {run.design.study_id} "
        f"({run.design.n_patients} patients each) in {run.seconds:.1f} s"
    )
    # callbacks run before the page does, so a click is kept even if a rerun interrupts the page
    st.button("Keep this result as A for comparison", key="keep", on_click=_keep, args=(run,))
    if st.session_state.get("run_a") is run:
        st.caption("Kept as A: see the Compare tab.")
    st.subheader(f"At {run.design.primary_visit}")
    st.table(primary_table(run))
    _figures(run)
    st.download_button(
        "Download report (HTML)",
        _cached(run, "report", report_html),
        file_name="report.html",
        mime="text/html",
        key="dl-report",
    )
    st.download_button(
        "Download data (ADSL, ADLB: CSV + SAS XPT)",
        _cached(run, "data", data_zip),
        file_name="alsim_data.zip",
        mime="application/zip",
        key="dl-data",
    )


def _compare_tab() -> None:
    a, b = st.session_state.get("run_a"), st.session_state.get("latest_run")
    if a is None or b is None:
        st.info("Run a design, keep it as A, change the design and run again to compare.")
        return
    left, right = st.columns(2)
    for column, run, name in ((left, a, "A"), (right, b, "B (latest)")):
        with column:
            st.markdown(f"**{name}**: {run.design.study_id}, {run.design.n_patients} patients")
            st.table(primary_table(run))
            _figures(run, compact=True)


def main() -> None:
    st.set_page_config(page_title="alsim", layout="wide")
    st.title("alsim: in-silico trials of tofersen in SOD1-ALS")
    design, source, replicates, seed = _sidebar()
    if design is None:
        st.error("Fix the design in the sidebar to run it.")
        return
    tab_design, tab_run, tab_compare = st.tabs(["Design", "Run and results", "Compare"])
    with tab_design:
        st.markdown(f"**{design.title}**  \n{design.reference}")
        st.table(
            {
                "Arm": list(design.arm_labels),
                "Dose (mg)": [f"{a.dose_mg:g}" for a in design.arms],
                "N": [design.arm_sizes()[a] for a in design.arm_labels],
            }
        )
        st.image(png_bytes(design_timeline_figure(design)), caption="Dosing and visits")
        st.download_button(
            "Download design YAML",
            design_yaml(design),
            file_name=f"{design.study_id}.yaml",
            mime="application/x-yaml",
            key="dl-yaml",
        )
    with tab_run:
        _run_tab(design, source, replicates, seed)
    with tab_compare:
        _compare_tab()


main()
