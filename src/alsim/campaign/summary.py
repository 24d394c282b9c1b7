"""Operating characteristics of each design point and analysis, with Monte Carlo standard errors.

Over the replicates whose analysis succeeded (``status == "ok"``):

- ``rejection_rate``: share with ``p < alpha``; power, or the type I error at a null point, or
  the assurance at ``parameters=posterior``; MCSE ``sqrt(p (1 - p) / n)``.
- ``bias``: mean estimate minus the true value, on the log scale for ratios (GMR, HR) so that it
  measures the bias of the log ratio; MCSE ``sd / sqrt(n)``.
- ``coverage``: share of CIs containing the true value; MCSE ``sqrt(c (1 - c) / n)``.
- ``empirical_se`` (SD of the estimates, log scale for ratios) beside ``mean_std_error`` (the mean
  model-based SE, ``std_error_log`` for ratios) shows whether the analysis' SEs are right.
- ``n_failed``: replicates whose analysis was not "ok" (failures are data); ``failure`` quotes
  the most frequent reason with its count.

Every true value is that of the analysis' own estimand (see `alsim.campaign.run.true_effects`),
so coverage measures the CI against what the analysis claims to estimate.

The true value is NaN for test statistics (the joint rank T grows with the sample size) except at
a null point, where it is exactly 0.
"""

import numpy as np
import pandas as pd

from alsim.campaign.grid import DesignPoint
from alsim.campaign.plan import AnalysisPlan


def _share(hits: np.ndarray, n: int) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    p = float(hits.sum()) / n
    return p, float(np.sqrt(p * (1.0 - p) / n))


def operating_characteristics(
    results: pd.DataFrame,
    truths: pd.DataFrame,
    points: tuple[DesignPoint, ...],
    plan: AnalysisPlan,
) -> pd.DataFrame:
    """One row per (design point, analysis): power or type I error, bias, coverage, MCSEs."""
    rows = []
    truth = {
        (int(p), str(a)): (float(v), float(se))
        for p, a, v, se in zip(
            truths["point"],
            truths["analysis"],
            truths["true_value"],
            truths["true_value_se"],
            strict=True,
        )
    }
    for point in points:
        settings = dict(point.settings)
        trigger = point.design.trigger
        for analysis in plan:
            sel = results[
                (results["point"] == point.index) & (results["analysis"] == analysis.name)
            ]
            ok = (sel["status"] == "ok").to_numpy() & np.isfinite(sel["p_value"].to_numpy())
            good = sel[ok]
            reasons = sel.loc[~ok, "status"].value_counts()
            failure = f"{reasons.iloc[0]} x {reasons.index[0]}" if len(reasons) else ""
            se_column = "std_error_log" if analysis.log_scale else "std_error"
            n = int(ok.sum())
            true_value, true_se = truth[(point.index, analysis.name)]
            rate, rate_se = _share(good["p_value"].to_numpy() < analysis.alpha, n)
            estimate = good["estimate"].to_numpy()
            scaled = np.log(estimate) if analysis.log_scale else estimate
            scaled_truth = (
                np.log(true_value) if analysis.log_scale and true_value > 0 else true_value
            )
            sd = float(np.std(scaled, ddof=1)) if n > 1 else float("nan")
            if np.isfinite(true_value) and n:
                inside = (good["ci_low"].to_numpy() <= true_value) & (
                    true_value <= good["ci_high"].to_numpy()
                )
                coverage, coverage_se = _share(inside, n)
                bias = float(np.mean(scaled)) - scaled_truth
                bias_se = sd / np.sqrt(n) if n > 1 else float("nan")
            else:
                coverage = coverage_se = bias = bias_se = float("nan")
            rows.append(
                {
                    "point": point.index,
                    "label": point.label,
                    "n_total": point.design.n_patients,
                    "duration_weeks": (point.design.visits[-1].day - 1) / 7,
                    "effect": settings.get("effect", "drug"),
                    "parameters": point.parameters,
                    "trigger_level": trigger.min_level_pg_ml if trigger else float("nan"),
                    "trigger_rise": trigger.min_rise_pg_ml if trigger else float("nan"),
                    "analysis": analysis.name,
                    "method": analysis.method,
                    "paramcd": analysis.endpoint,
                    "population": analysis.population,
                    "primary": analysis.primary,
                    "alpha": analysis.alpha,
                    "n_replicates": len(sel),
                    "n_failed": int(len(sel) - n),
                    "failure": failure,
                    "rejection_rate": rate,
                    "rejection_mcse": rate_se,
                    "mean_estimate": float(np.mean(estimate)) if n else float("nan"),
                    "true_value": true_value,
                    "true_value_se": true_se,
                    "bias_scale": "log" if analysis.log_scale else "identity",
                    "bias": bias,
                    "bias_mcse": bias_se,
                    "empirical_se": sd,
                    "mean_std_error": float(np.mean(good[se_column])) if n else float("nan"),
                    "coverage": coverage,
                    "coverage_mcse": coverage_se,
                }
            )
    return pd.DataFrame(rows)
