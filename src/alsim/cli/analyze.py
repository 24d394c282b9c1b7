"""`alsim analyze`: analyse ADaM-like trial files (one trial or many replicates, batched)."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from alsim.cli._common import console, user_errors

if TYPE_CHECKING:
    from alsim.analysis import EstimateResult


class Method(StrEnum):
    """Analyses `alsim analyze` can run."""

    ancova = "ancova"
    mmrm = "mmrm"
    gmr = "gmr"
    joint_rank = "joint-rank"
    rank_ancova = "rank-ancova"
    cox = "cox"
    logrank = "logrank"
    km = "km"
    win_ratio = "win-ratio"


_CORE = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "df", "n", "status")


def _scalar(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _as_json(result: EstimateResult, replicates: list[int], note: str | None) -> dict[str, Any]:
    frame = result.to_frame().drop(columns=["replicate", "method"])
    doc: dict[str, Any] = {"method": result.method, "ci_level": result.ci_level}
    if note:
        doc["note"] = note
    if len(frame) == 1:
        doc["replicate"] = replicates[0]
        doc.update({col: _scalar(frame[col].iloc[0]) for col in frame.columns})
        return doc
    doc["n_replicates"] = len(frame)
    doc["replicate"] = replicates
    doc.update({col: [_scalar(v) for v in frame[col]] for col in frame.columns})
    doc["summary"] = _summary(result)
    return doc


def _summary(result: EstimateResult) -> dict[str, Any]:
    import numpy as np

    ok = result.ok
    alpha = 1 - result.ci_level
    est = result.estimate[ok]
    return {
        "n_ok": int(ok.sum()),
        "n_failed": int((~ok).sum()),
        "mean_estimate": _scalar(float(np.mean(est))) if est.size else None,
        "sd_estimate": _scalar(float(np.std(est, ddof=1))) if est.size > 1 else None,
        "mean_std_error": _scalar(float(np.mean(result.std_error[ok]))) if est.size else None,
        "proportion_significant": (
            _scalar(float(np.mean(result.p_value[ok] < alpha))) if est.size else None
        ),
    }


def _fmt(value: Any) -> str:
    value = _scalar(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _print(result: EstimateResult, replicates: list[int], note: str | None) -> None:
    from rich.table import Table

    frame = result.to_frame()
    level = f"{100 * result.ci_level:.0f}%"
    console.print(f"[bold]{result.method}[/]", highlight=False)
    if note:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if len(frame) == 1:
        table = Table(show_header=True, header_style="bold")
        table.add_column("quantity")
        table.add_column("value", justify="right")
        for col in frame.columns:
            if col in ("replicate", "method"):
                continue
            label = f"{col} ({level})" if col in ("ci_low", "ci_high") else col
            table.add_row(label, _fmt(frame[col].iloc[0]))
        console.print(table)
        return
    table = Table(show_header=True, header_style="bold")
    columns = [c for c in _CORE if c in frame.columns]
    table.add_column("replicate", justify="right")
    for col in columns:
        table.add_column(col, justify="right")
    for r, row in zip(replicates, frame.itertuples(index=False), strict=True):
        table.add_row(str(r), *[_fmt(getattr(row, col)) for col in columns])
    console.print(table)
    summary = Table(title="summary over replicates", show_header=True, header_style="bold")
    summary.add_column("quantity")
    summary.add_column("value", justify="right")
    for key, value in _summary(result).items():
        summary.add_row(key, _fmt(value))
    console.print(summary)


def analyze(
    method: Annotated[
        Method | None, typer.Option(help="One analysis to run (or give --plan).")
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(help="Design YAML whose analysis_plan to run (instead of --method)."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Directory written by alsim simulate (adsl, adlb, adqs, adtte files)."),
    ] = None,
    analysis: Annotated[
        list[str] | None,
        typer.Option("--analysis", help="With --plan: run only this analysis (repeatable)."),
    ] = None,
    adsl: Annotated[Path | None, typer.Option(help="ADSL file (.csv or .parquet).")] = None,
    bds: Annotated[Path | None, typer.Option(help="BDS file (ADLB/ADQS) with the PARAMCD.")] = None,
    adtte: Annotated[
        Path | None, typer.Option(help="ADTTE file with DTHPV (death or permanent ventilation).")
    ] = None,
    paramcd: Annotated[str, typer.Option(help="BDS parameter to analyse.")] = "ALSFRSR",
    visit: Annotated[
        str | None, typer.Option(help="Visit of the contrast (default: last post-baseline).")
    ] = None,
    arm_var: Annotated[str, typer.Option(help="ADSL column holding the arm.")] = "TRT01P",
    treated: Annotated[str, typer.Option(help="Arm label of tofersen.")] = "TOFERSEN 100 MG",
    control: Annotated[str, typer.Option(help="Arm label of the control.")] = "PLACEBO",
    covariates: Annotated[
        str | None, typer.Option(help="Comma-separated covariates from BDS or ADSL, e.g. BASE,AGE.")
    ] = None,
    strata: Annotated[str | None, typer.Option(help="ADSL column of the strata.")] = None,
    imputations: Annotated[
        int | None,
        typer.Option(
            help="Multiple imputations of missing values (--method: 0 = none; --plan: overrides "
            "the plan's).",
            min=0,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the imputations.")] = 0,
    replicate: Annotated[int | None, typer.Option(help="Analyse only this REPLICATE.")] = None,
    landmark_days: Annotated[
        float | None, typer.Option(help="Kaplan-Meier landmark (default: shortest follow-up).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Analyse ADaM-like trial data: one method, or a design's whole analysis plan (--plan)."""
    with user_errors():
        from alsim.errors import AnalysisError

        if (method is None) == (plan is None):
            raise AnalysisError("give either --method (one analysis) or --plan DESIGN.yaml")
        if imputations == 1:
            raise AnalysisError("--imputations must be 0 (none) or at least 2")
        if plan is not None:
            _run_plan(
                plan,
                data=data,
                adsl=adsl,
                bds=bds,
                adtte=adtte,
                names=analysis or [],
                imputations=imputations,
                seed=seed,
                replicate=replicate,
                json_output=json_output,
            )
            return
        assert method is not None
        if adsl is None:
            raise AnalysisError("--method needs --adsl (and --bds or --adtte)")
        from alsim.analysis.adam import SURVIVAL_METHODS, read_table, run_analysis, trial_arrays

        name = method.value
        if bds is None and name not in SURVIVAL_METHODS:
            raise AnalysisError(f"method {name!r} needs --bds")
        note = None
        if name in ("joint-rank", "rank-ancova", "win-ratio") and adtte is None:
            note = "no --adtte given: comparisons use the continuous endpoint only"
        arrays = trial_arrays(
            read_table(adsl, "ADSL"),
            read_table(bds, "BDS") if bds is not None else None,
            read_table(adtte, "ADTTE") if adtte is not None else None,
            paramcd=paramcd,
            arm_var=arm_var,
            treated_label=treated,
            control_label=control,
            covariates=[c.strip() for c in covariates.split(",") if c.strip()]
            if covariates
            else (),
            strata=strata,
            replicate=replicate,
        )
        result = run_analysis(
            name,
            arrays,
            visit=visit,
            n_imputations=imputations or 0,
            seed=seed,
            landmark_days=landmark_days,
        )
        replicates = [int(r) for r in arrays.replicates]
        if json_output:
            print(json.dumps(_as_json(result, replicates, note)))
        else:
            _print(result, replicates, note)


PLAN_CHUNK = 50
TABLE_NAMES = ("adsl", "adlb", "adqs", "adtte")


def _find_table(directory: Path, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _run_plan(
    design_file: Path,
    *,
    data: Path | None,
    adsl: Path | None,
    bds: Path | None,
    adtte: Path | None,
    names: list[str],
    imputations: int | None,
    seed: int,
    replicate: int | None,
    json_output: bool,
) -> None:
    """Every (or each named) analysis of the design's plan on the data, in chunks of replicates
    with a progress bar; one summary per analysis."""
    import pandas as pd

    from alsim.analysis.adam import plan_data, read_table
    from alsim.analysis.plan import PlanRunner
    from alsim.cli._common import replicate_progress
    from alsim.design import load_design
    from alsim.errors import AnalysisError

    design = load_design(design_file)
    chosen = design.plan
    if names:
        known = {a.name: a for a in chosen}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise AnalysisError(
                f"--analysis {unknown[0]!r} is not in the plan of {design_file}; allowed: "
                f"{', '.join(known)}"
            )
        chosen = tuple(known[n] for n in names)
    paths: dict[str, Path | None] = {"adsl": adsl, "adlb": bds, "adqs": None, "adtte": adtte}
    if data is not None:
        if not data.is_dir():
            raise AnalysisError(f"--data {data} is not a directory")
        paths = {name: _find_table(data, name) for name in TABLE_NAMES}
    if paths["adsl"] is None:
        raise AnalysisError("--plan needs --data DIR or --adsl (with --bds and --adtte)")
    adsl_frame = read_table(paths["adsl"], "ADSL")
    if replicate is not None:
        if "REPLICATE" not in adsl_frame.columns or replicate not in set(adsl_frame["REPLICATE"]):
            raise AnalysisError(f"--replicate {replicate} not found in ADSL REPLICATE")
        adsl_frame = adsl_frame[adsl_frame["REPLICATE"] == replicate]
    bds_frames = [
        read_table(path, name.upper())
        for name in ("adlb", "adqs")
        if (path := paths[name]) is not None
    ]
    tte_path = paths["adtte"]
    study = plan_data(
        design,
        adsl_frame,
        bds_frames,
        read_table(tte_path, "ADTTE") if tte_path is not None else None,
        seed=seed,
    )
    frames: list[pd.DataFrame] = []
    methods: dict[str, str] = {}
    total = study.n_replicates
    with replicate_progress("analyze") as progress:
        task = progress.add_task("analyze", total=total)
        for first in range(0, total, PLAN_CHUNK):
            chunk = study.select(slice(first, first + PLAN_CHUNK))
            results = PlanRunner(chunk, n_imputations=imputations).run(chosen)
            for a in chosen:
                frame = results[a.name].to_frame()
                frame["replicate"] = chunk.replicate
                frame.insert(0, "analysis", a.name)
                frames.append(frame)
                methods[a.name] = results[a.name].method
            progress.advance(task, chunk.n_replicates)
    table = pd.concat(frames, ignore_index=True)
    if json_output:
        print(json.dumps(_plan_json(chosen, table, methods)))
        return
    _print_plan(chosen, table, methods)


def _plan_summary(block: Any, alpha: float) -> dict[str, Any]:
    import numpy as np

    ok = (block["status"] == "ok").to_numpy()
    est = block["estimate"].to_numpy()[ok]
    log = "std_error_log" in block.columns and block["std_error_log"].notna().any()
    se = block["std_error_log" if log else "std_error"].to_numpy()[ok]
    spread = np.log(est) if log else est
    return {
        "n_replicates": len(block),
        "n_ok": int(ok.sum()),
        "n_failed": int((~ok).sum()),
        "mean_estimate": _scalar(float(np.mean(est))) if est.size else None,
        ("sd_log_estimate" if log else "sd_estimate"): (
            _scalar(float(np.std(spread, ddof=1))) if est.size > 1 else None
        ),
        ("mean_std_error_log" if log else "mean_std_error"): (
            _scalar(float(np.mean(se))) if se.size else None
        ),
        "proportion_significant": (
            _scalar(float(np.mean(block["p_value"].to_numpy()[ok] < alpha))) if est.size else None
        ),
    }


def _plan_json(chosen: Any, table: Any, methods: dict[str, str]) -> dict[str, Any]:
    out = []
    for a in chosen:
        block = table[table["analysis"] == a.name].dropna(axis=1, how="all")
        entry: dict[str, Any] = {
            "name": a.name,
            "primary": a.primary,
            "estimand": a.estimand_text(),
            "method": methods[a.name],
            "summary": _plan_summary(block, a.alpha),
        }
        for col in block.columns:
            if col not in ("analysis", "method"):
                entry[col] = [_scalar(v) for v in block[col]]
        out.append(entry)
    return {"analyses": out}


def _print_plan(chosen: Any, table: Any, methods: dict[str, str]) -> None:
    from rich.table import Table

    for a in chosen:
        block = table[table["analysis"] == a.name]
        title = f"{a.name}{' (primary)' if a.primary else ''}"
        console.print(f"[bold]{title}[/]: {a.estimand_text()}", highlight=False)
        console.print(f"  {methods[a.name]}", highlight=False)
        out = Table(show_header=True, header_style="bold")
        if len(block) == 1:
            out.add_column("quantity")
            out.add_column("value", justify="right")
            row = block.iloc[0]
            for col in block.columns:
                if col not in ("analysis", "method", "replicate") and _fmt(row[col]) != "":
                    out.add_row(col, _fmt(row[col]))
        else:
            out.add_column("quantity")
            out.add_column("value", justify="right")
            for key, value in _plan_summary(block, a.alpha).items():
                out.add_row(key, _fmt(value))
        console.print(out)
