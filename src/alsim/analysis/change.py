"""Percent change from baseline by arm, and its difference from control, batched over replicates.

As the Phase 1/2 publication reports CSF SOD1: mean percent change from baseline per arm, and the
difference (treated minus control) with a 95% CI. The CI is Welch's two-sample t interval;
the geometric mean percent change, 100 (exp(mean log(Y/Y0)) - 1), is reported beside it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from alsim.errors import AnalysisError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentChangeResult:
    """Per-arm summaries shaped (replicate, arm); differences vs `control` (NaN in its column)."""

    arms: tuple[str, ...]
    control: str
    n: IntArray
    mean_pct_change: FloatArray
    sd_pct_change: FloatArray
    geo_mean_pct_change: FloatArray
    estimate: FloatArray
    std_error: FloatArray
    df: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    p_value: FloatArray
    method: str = "welch-pct-change"

    def arm_position(self, arm: str) -> int:
        """Column of `arm` in the (replicate, arm) arrays."""
        if arm not in self.arms:
            raise AnalysisError(f"unknown arm {arm!r}; allowed: {', '.join(self.arms)}")
        return self.arms.index(arm)

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per replicate and arm."""
        n_rep, n_arm = self.n.shape
        columns = {
            "replicate": np.repeat(np.arange(n_rep), n_arm),
            "arm": np.tile(np.array(self.arms, dtype=object), n_rep),
            "n": self.n.reshape(-1),
        }
        for name in (
            "mean_pct_change",
            "sd_pct_change",
            "geo_mean_pct_change",
            "estimate",
            "std_error",
            "df",
            "ci_low",
            "ci_high",
            "p_value",
        ):
            columns[name] = getattr(self, name).reshape(-1)
        return pd.DataFrame(columns)


def percent_change_by_arm(
    baseline: FloatArray,
    value: FloatArray,
    arm_index: IntArray,
    arms: Sequence[str],
    control: str,
    *,
    confidence: float = 0.95,
) -> PercentChangeResult:
    """Summaries of 100 (value / baseline - 1) per arm for every replicate at once.

    `baseline` and `value` are (replicate, patient) with NaN for missing; `arm_index` (patient,)
    indexes `arms`.
    """
    if baseline.shape != value.shape or baseline.ndim != 2:
        raise AnalysisError("baseline and value must both be shaped (replicate, patient)")
    if arm_index.shape != (baseline.shape[1],):
        raise AnalysisError("arm_index must have one entry per patient")
    arms = tuple(arms)
    if control not in arms:
        raise AnalysisError(f"unknown control arm {control!r}; allowed: {', '.join(arms)}")
    ratio = value / baseline
    pct = 100.0 * (ratio - 1.0)
    log_ratio = np.log(ratio)
    member = arm_index[None, :] == np.arange(len(arms))[:, None]  # (arm, patient)
    observed = ~np.isnan(pct)  # (replicate, patient)
    mask = member[None, :, :] & observed[:, None, :]  # (replicate, arm, patient)
    n = mask.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_masked = np.where(mask, pct[:, None, :], 0.0)
        mean = pct_masked.sum(axis=2) / n
        dev = np.where(mask, pct[:, None, :] - mean[:, :, None], 0.0)
        var = (dev**2).sum(axis=2) / (n - 1)
        geo = 100.0 * (np.exp(np.where(mask, log_ratio[:, None, :], 0.0).sum(axis=2) / n) - 1.0)
        c = arms.index(control)
        se_sq_t, se_sq_c = var / n, (var / n)[:, c : c + 1]
        se = np.sqrt(se_sq_t + se_sq_c)
        df = (se_sq_t + se_sq_c) ** 2 / (se_sq_t**2 / (n - 1) + se_sq_c**2 / (n[:, c : c + 1] - 1))
        estimate = mean - mean[:, c : c + 1]
        t_crit = stats.t.ppf(0.5 + confidence / 2.0, df)
        p_value = 2.0 * stats.t.sf(np.abs(estimate / se), df)
    not_control = np.arange(len(arms)) != c
    nan = np.full_like(estimate, np.nan)
    return PercentChangeResult(
        arms=arms,
        control=control,
        n=n.astype(np.int64),
        mean_pct_change=mean,
        sd_pct_change=np.sqrt(var),
        geo_mean_pct_change=geo,
        estimate=np.where(not_control, estimate, nan),
        std_error=np.where(not_control, se, nan),
        df=np.where(not_control, df, nan),
        ci_low=np.where(not_control, estimate - t_crit * se, nan),
        ci_high=np.where(not_control, estimate + t_crit * se, nan),
        p_value=np.where(not_control, p_value, nan),
    )
