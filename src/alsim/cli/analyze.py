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
    method: Annotated[Method, typer.Option(help="Analysis to run.")],
    adsl: Annotated[Path, typer.Option(help="ADSL file (.csv or .parquet).")],
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
        int, typer.Option(help="Multiple imputations of missing values (0 = none).", min=0)
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the imputations.")] = 0,
    replicate: Annotated[int | None, typer.Option(help="Analyse only this REPLICATE.")] = None,
    landmark_days: Annotated[
        float | None, typer.Option(help="Kaplan-Meier landmark (default: shortest follow-up).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Analyse ADaM-like trial data (ANCOVA, MMRM, GMR, joint rank, win ratio, survival)."""
    with user_errors():
        from alsim.analysis.adam import SURVIVAL_METHODS, read_table, run_analysis, trial_arrays
        from alsim.errors import AnalysisError

        name = method.value
        if imputations == 1:
            raise AnalysisError("--imputations must be 0 (none) or at least 2")
        if bds is None and name not in SURVIVAL_METHODS:
            raise AnalysisError(f"method {name!r} needs --bds")
        note = None
        if name in ("joint-rank", "rank-ancova", "win-ratio") and adtte is None:
            note = "no --adtte given: comparisons use the continuous endpoint only"
        data = trial_arrays(
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
            data,
            visit=visit,
            n_imputations=imputations,
            seed=seed,
            landmark_days=landmark_days,
        )
        replicates = [int(r) for r in data.replicates]
        if json_output:
            print(json.dumps(_as_json(result, replicates, note)))
        else:
            _print(result, replicates, note)
