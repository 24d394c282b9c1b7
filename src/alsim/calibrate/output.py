"""What `alsim calibrate` writes: posterior draws, a summary, diagnostics and a report.

- ``posterior.parquet``: one row per posterior draw: ``draw``, every free parameter on its own
  scale, ``log_posterior``, and the evidence and model fingerprints.
- ``summary.json``: per parameter its prior, posterior median and 95% credible interval, the
  target groups and evidence ids it was fitted to; the evidence ids the fit used (``roles``);
  posterior predictive checks, cross-validation, Sobol indices, diagnostics; the command that
  regenerates it. Numbers are rounded to 6 significant digits and keys sorted, so the same seed
  gives the same bytes.
- ``design.parquet``: the design points and their simulated statistics (for re-analysis).
- ``report.html``: the calibration report (tables, pairs plot, profiles).

`posterior.parquet` and `summary.json` are the files shipped in ``alsim/model/data/calibration``.
"""

import html
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from alsim.calibrate.joint import (
    HEADLINE_OUTPUTS,
    CalibrationResult,
    TargetCheck,
    log_posterior,
)
from alsim.calibrate.targets import all_targets_by_id
from alsim.model.parameters import CALIBRATION_DRAWS, CALIBRATION_SUMMARY


def _round(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {str(k): _round(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    if isinstance(value, np.floating):
        return _round(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


def _check(c: TargetCheck) -> dict[str, Any]:
    return {
        "group": c.group,
        "target": c.target,
        "in_likelihood": c.in_likelihood,
        "published": c.published,
        "published_ci": None if c.published_ci is None else list(c.published_ci),
        "predicted_median": c.predicted,
        "predicted_low": c.low,
        "predicted_high": c.high,
        "inside_95_prediction_interval": c.inside,
        "error": c.error,
    }


def roles(result: CalibrationResult) -> dict[str, list[str]]:
    """Evidence id -> free parameters fitted to it, for every number the fit used (or that
    restates one it used)."""
    targets = all_targets_by_id()
    out: dict[str, list[str]] = {}
    for record_id, target in targets.items():
        if target.group not in result.fitted_groups:
            continue
        names = [q.name for q in result.space.quantities if target.group in q.fitted_to]
        out[record_id] = names or list(result.space.names)
    return dict(sorted(out.items()))


def emulator_check(result: CalibrationResult) -> dict[str, dict[str, float]]:
    """Per emulated output: leave-one-out RMSE relative to the output's spread over the design,
    and the share of design points inside their 95% leave-one-out interval."""
    out = {}
    for k, name in enumerate(result.emulator.names):
        loo = result.emulator.leave_one_out(name)
        y = result.emulator.y[:, k]
        spread = float(np.nanstd(y))
        out[name] = {
            "loo_rmse_over_sd": float(np.sqrt(np.mean(loo.residual**2)) / spread)
            if spread > 0
            else math.nan,
            "loo_coverage_95": float(np.mean(np.abs(loo.standardized) <= 1.96)),
        }
    return out


def summary_document(result: CalibrationResult) -> dict[str, Any]:
    s = result.settings
    document = {
        "format": 1,
        "command": result.command,
        "seed": s.seed,
        "settings": {k: v for k, v in asdict(s).items() if k != "seed"},
        "evidence_fingerprint": result.evidence_fingerprint,
        "model_fingerprint": result.model_fingerprint,
        "fitted_groups": list(result.fitted_groups),
        "left_out": list(result.left_out),
        "parameters": {
            p.name: {
                "unit": p.unit,
                "prior": p.prior,
                "median": p.median,
                "low": p.low,
                "high": p.high,
                "posterior_sd_over_prior_sd": p.sd_ratio,
                "weakly_identified": p.weakly_identified,
                "groups": list(p.groups),
                "targets": list(p.targets),
                "rhat": p.rhat,
                "ess": p.ess,
                "autocorrelation_time": p.tau,
            }
            for p in result.parameters
        },
        "roles": roles(result),
        "targets": [_check(c) for c in result.checks],
        "cross_validation": [
            {
                "left_out": f.group,
                "coverage_95": f.coverage,
                "targets": [_check(c) for c in f.checks],
            }
            for f in result.cross_validation
        ],
        "sobol": {
            name: {
                "label": HEADLINE_OUTPUTS.get(name, name),
                "parameters": list(result.space.names),
                **indices,
            }
            for name, indices in result.sobol.items()
        },
        "diagnostics": {
            "acceptance_fraction": result.chain.acceptance,
            "max_rhat": float(np.max(result.chain.rhat)),
            "min_ess": float(np.min(result.chain.ess)),
            "emulator": emulator_check(result),
        },
    }
    rounded: dict[str, Any] = _round(document)
    return rounded


def write_draws(result: CalibrationResult, target: Path) -> None:
    columns: dict[str, Any] = {"draw": pa.array(np.arange(result.values.shape[0]), pa.int64())}
    for j, name in enumerate(result.space.names):
        columns[name] = pa.array(result.values[:, j], pa.float64())
    n = result.values.shape[0]
    columns["log_posterior"] = pa.array(result.chain.log_posterior, pa.float64())
    columns["evidence_fingerprint"] = pa.array([result.evidence_fingerprint] * n, pa.string())
    columns["model_fingerprint"] = pa.array([result.model_fingerprint] * n, pa.string())
    pq.write_table(pa.table(columns), target, compression="zstd")


def write_design(result: CalibrationResult, target: Path) -> None:
    columns: dict[str, Any] = {}
    for j, name in enumerate(result.space.names):
        columns[f"u_{name}"] = pa.array(result.design.u[:, j], pa.float64())
    for name in sorted(result.design.mean):
        columns[f"mean:{name}"] = pa.array(result.design.mean[name], pa.float64())
        columns[f"sd:{name}"] = pa.array(result.design.sd[name], pa.float64())
    for key in sorted(result.design.corr):
        columns[f"corr:{key}"] = pa.array(result.design.corr[key], pa.float64())
    pq.write_table(pa.table(columns), target, compression="zstd")


def write_calibration(result: CalibrationResult, directory: Path) -> list[Path]:
    """Write every file of a calibration run into `directory`; return their paths."""
    from alsim.calibrate.report import calibration_report

    paths = [directory / CALIBRATION_DRAWS, directory / CALIBRATION_SUMMARY]
    write_draws(result, paths[0])
    document = summary_document(result)
    paths[1].write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    paths.append(directory / "design.parquet")
    write_design(result, paths[-1])
    paths.append(directory / "report.html")
    paths[-1].write_text(calibration_report(result, document), encoding="utf-8")
    return paths


def conditional_profile(result: CalibrationResult, j: int, n: int = 41) -> tuple[Any, Any]:
    """The emulated log posterior along parameter `j` (standardised scale), the others at their
    posterior medians: (grid of values on the parameter's own scale, log posterior)."""
    from alsim.calibrate.joint import BOX

    center = np.median(result.chain.draws, axis=0)
    grid = np.linspace(-BOX, BOX, n)
    points = np.tile(center, (n, 1))
    points[:, j] = grid
    return result.space.values(points)[:, j], log_posterior(result.like, points)


def escape(text: str) -> str:
    return html.escape(text)


__all__ = ["HEADLINE_OUTPUTS", "write_calibration"]
