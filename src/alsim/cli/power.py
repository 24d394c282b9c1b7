"""`alsim power DESIGN.yaml --replicates R [--vary key=v1,v2]... --seed S --out DIR`: operating
characteristics (power or type I error, bias, coverage, Monte Carlo SEs) over a design grid."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alsim.cli._common import console, print_table, replicate_progress, user_errors

if TYPE_CHECKING:
    import pandas as pd

    from alsim.campaign import Campaign
    from alsim.campaign.run import CampaignResult

DEFAULT_CHUNK = 50


def power(
    design_file: Annotated[Path, typer.Argument(help="Trial design YAML (see designs/).")],
    replicates: Annotated[
        int, typer.Option("--replicates", "-r", help="Trial replicates per design point.")
    ] = 1000,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="Grid axis key=v1,v2,... (repeatable); keys: n_total, duration_weeks, "
            "effect (drug|none), trigger_level, trigger_rise, parameters (typical|posterior).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (>= 0).")] = 0,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Campaign directory (re-run to resume).")
    ] = Path("out/power"),
    chunk: Annotated[
        int, typer.Option("--chunk", help="Replicates per unit of work.")
    ] = DEFAULT_CHUNK,
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Local Dask worker processes (1: in-process).")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a running Dask scheduler, tcp://HOST:PORT."),
    ] = None,
    truth_patients: Annotated[
        int,
        typer.Option(
            "--truth-patients", help="Patients in the noise-free run giving true effects."
        ),
    ] = 5000,
    imputations: Annotated[
        int | None,
        typer.Option(
            "--imputations",
            help="Imputations of every analysis that imputes (default: the plan's).",
        ),
    ] = None,
    uncertainty: Annotated[
        bool,
        typer.Option(
            "--uncertainty",
            help="Also run every replicate at its own posterior draw: assurance beside power.",
        ),
    ] = False,
) -> None:
    """Power, type I error, bias and CI coverage of a design's analysis plan over a grid.

    Finished chunks are kept in --out: after a crash or Ctrl-C, the same command resumes.
    """
    with user_errors():
        _run(
            design_file,
            replicates=replicates,
            vary=vary or [],
            seed=seed,
            out=out,
            chunk=chunk,
            workers=workers,
            scheduler=scheduler,
            truth_patients=truth_patients,
            imputations=imputations,
            uncertainty=uncertainty,
        )


def _run(
    design_file: Path,
    *,
    replicates: int,
    vary: list[str],
    seed: int,
    out: Path,
    chunk: int,
    workers: int,
    scheduler: str | None,
    truth_patients: int,
    imputations: int | None,
    uncertainty: bool = False,
) -> None:
    import time
    from dataclasses import replace

    from alsim.campaign import Campaign, default_plan, design_grid, parse_vary
    from alsim.campaign.run import check_workers
    from alsim.design import load_design
    from alsim.errors import AlsimError

    check_workers(workers, scheduler)
    if imputations is not None and imputations < 2:
        raise AlsimError(f"--imputations must be >= 2, got {imputations}")
    base = load_design(design_file)
    points = design_grid(base, parse_vary(vary))
    campaign = Campaign(
        points=points,
        plan=default_plan(base, n_imputations=imputations),
        n_replicates=replicates,
        seed=seed,
        chunk_replicates=chunk,
        truth_patients=truth_patients,
    )
    started = time.perf_counter()
    if uncertainty:
        from alsim.campaign.assurance import assurance_table
        from alsim.io.output import write_parquet_atomic, write_text_atomic

        at_median = _execute(campaign, out / MEDIAN_DIR, workers, scheduler)
        over = _execute(
            replace(campaign, uncertainty=True), out / POSTERIOR_DIR, workers, scheduler
        )
        table = assurance_table(at_median.summary, over.summary)
        write_parquet_atomic(table, out / "assurance.parquet")
        write_text_atomic(table.to_csv(index=False), out / "assurance.csv")
        _print_summary(at_median.summary)
        _print_assurance(table)
        console.print(
            f"{len(points)} design point(s) x {replicates} replicates of {base.study_id}, at the "
            f"posterior median and over the posterior, in {time.perf_counter() - started:.1f} s; "
            f"wrote {out}/assurance.csv, {MEDIAN_DIR}/ and {POSTERIOR_DIR}/"
        )
        return
    result = _execute(campaign, out, workers, scheduler)
    seconds = time.perf_counter() - started
    _print_summary(result.summary)
    _print_safety(result.safety)
    _print_funnel(result.funnel)
    report = _write_report(result.summary, out, base.study_id, result.funnel)
    console.print(
        f"{len(points)} design point(s) x {replicates} replicates of {base.study_id} in "
        f"{seconds:.1f} s; wrote {out}/summary.parquet, summary.csv, safety.csv, points/"
        + (f", {report.name}" if report else "")
    )


MEDIAN_DIR = "at-posterior-median"
POSTERIOR_DIR = "over-posterior"


def _execute(
    campaign: "Campaign", out: Path, workers: int, scheduler: str | None
) -> "CampaignResult":
    """Run (or resume) one campaign with the progress bar."""
    from alsim.campaign import run_campaign

    with replicate_progress("power") as progress:
        task = progress.add_task("power", total=None)

        def on_start(total: int, done: int) -> None:
            progress.update(task, total=total, completed=done)
            if done:
                console.print(f"resuming: {done} of {total} replicates already done in {out}")

        return run_campaign(
            campaign,
            out,
            workers=workers,
            scheduler=scheduler,
            on_start=on_start,
            on_done=lambda n: progress.advance(task, n),
        )


def _print_assurance(table: "pd.DataFrame") -> None:
    from rich.table import Table

    out = Table(title="power at the posterior median and assurance over the posterior")
    for column in ("design point", "analysis", "power at median", "assurance"):
        out.add_column(
            column, justify="left" if column in ("design point", "analysis") else "right"
        )
    for row in table.itertuples(index=False):
        name = f"{row.analysis}{' (primary)' if row.primary else ''}"
        out.add_row(
            str(row.label),
            name,
            f"{row.power_at_median:.3f} +/- {row.power_mcse:.3f}",
            f"{row.assurance:.3f} +/- {row.assurance_mcse:.3f}",
        )
    console.print(out)


def _print_safety(safety: "pd.DataFrame") -> None:
    from alsim.campaign.safety import AT_LEAST_K

    if safety.empty:
        return
    rows = []
    for label, block in safety.groupby("label", sort=False):
        by_k = {int(r["at_least_k"]): r for r in block.to_dict("records")}
        cells = [
            f"{by_k[k]['probability']:.3f} +/- {by_k[k]['mcse']:.3f}" if k in by_k else "n/a"
            for k in AT_LEAST_K
        ]
        rows.append([str(label), f"{block['mean_patients'].iloc[0]:.2f}", *cells])
    print_table(
        "tofersen-treated patients with a serious neurological event: P(at least k)",
        ["design point", "mean patients", *(f"k >= {k}" for k in AT_LEAST_K)],
        rows,
    )


def _print_funnel(funnel: "pd.DataFrame") -> None:
    """Run-in designs: the trial metrics per design point (median [2.5%, 97.5%])."""
    if funnel.empty:
        return
    print_table(
        "run-in and randomised part: median [2.5%, 97.5%] over trials",
        ["design point: metric", "value"],
        [
            [
                f"{row.label}: {row.description}",
                f"{row.median:.3g} [{row.low:.3g}, {row.high:.3g}]",
            ]
            for row in funnel.itertuples(index=False)
        ],
    )


def _print_summary(summary: "pd.DataFrame") -> None:
    import math

    def pm(value: float, mcse: float, sign: str = "") -> str:
        if not math.isfinite(value):
            return "n/a"
        return f"{value:{sign}.3f} +/- {mcse:.3f}"

    rows = []
    for row in summary.itertuples(index=False):
        name = f"{row.analysis}{' (primary)' if row.primary else ''}"
        rate_name = "type I" if row.effect == "none" else "power"
        if row.parameters != "typical" and row.effect != "none":
            rate_name = "assurance"
        bias = pm(row.bias, row.bias_mcse, "+")  # type: ignore[arg-type]
        rows.append(
            [
                f"{row.label}: {name}",
                f"{rate_name} {pm(row.rejection_rate, row.rejection_mcse)}",  # type: ignore[arg-type]
                bias if bias == "n/a" else f"{bias} ({row.bias_scale})",
                pm(row.coverage, row.coverage_mcse),  # type: ignore[arg-type]
                str(row.n_failed),
            ]
        )
    print_table(
        "operating characteristics (estimate +/- Monte Carlo SE)",
        ["design point: analysis", "power / type I", "bias", "coverage", "failed"],
        rows,
    )
    for failed in summary[summary["n_failed"] > 0].to_dict("records"):
        console.print(
            f"not ok: {failed['analysis']} at {failed['label']}: {failed['n_failed']} of "
            f"{failed['n_replicates']} replicates; most often: {failed['failure']}",
            highlight=False,
        )


def _write_report(
    summary: "pd.DataFrame", out: Path, study_id: str, funnel: "pd.DataFrame | None" = None
) -> Path | None:
    """report.html: the power curves (when `alsim.report.power_curve_figure` is available) and the
    summary table; None when the report helpers are not available."""
    import html
    import importlib

    from alsim.io.output import write_text_atomic

    try:
        from alsim.report import Section, render_page
    except ImportError:
        return None
    sections = []
    try:
        power_section = getattr(
            importlib.import_module("alsim.report.pages"), "power_section", None
        )
    except ImportError:
        power_section = None
    drug = summary[summary["effect"] == "drug"]
    if power_section is not None and len(drug):
        frame = drug.rename(columns={"analysis": "endpoint", "rejection_rate": "power"}).assign(
            design_point=drug["label"], mc_se=drug["rejection_mcse"]
        )
        varied = [
            c
            for c in ("n_total", "duration_weeks", "trigger_level", "trigger_rise")
            if frame[c].nunique() > 1
        ]
        x = "design_point"
        if len(varied) == 1 and frame[varied[0]].nunique() == frame["label"].nunique():
            x = varied[0]
        sections.append(power_section(frame, x=x, x_label=x.replace("_", " ")))
    sections.append(
        Section(
            "Operating characteristics",
            "Rejection rate is power, or the type I error at effect=none; bias on the log scale "
            "for ratios; +/- Monte Carlo standard errors in the _mcse columns.",
            summary.to_html(index=False, float_format=lambda v: f"{v:.4g}", escape=True),
        )
    )
    if funnel is not None and not funnel.empty:
        sections.append(
            Section(
                "Run-in and randomised part",
                "Per design point: median and 2.5-97.5% over simulated trials (funnel.csv).",
                funnel.to_html(index=False, float_format=lambda v: f"{v:.4g}", escape=True),
            )
        )
    page = render_page(f"Operating characteristics: {html.escape(study_id)}", "", sections)
    return write_text_atomic(page, out / "report.html")
