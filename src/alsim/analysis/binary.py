"""Difference in the proportion of patients with an event by a visit, stratified (Mantel-Haenszel).

Within stratum ``s``: ``a`` of ``n1`` treated and ``c`` of ``n0`` control patients had the event,
``N = n1 + n0``. The Mantel-Haenszel risk difference (Greenland & Robins 1985) is

    RD_MH = sum_s (a n0 - c n1) / N  /  sum_s n1 n0 / N

with Sato's (1989) variance, consistent both with many sparse strata and with few large ones:

    Var = (RD_MH sum_s P_s + sum_s Q_s) / (sum_s n1 n0 / N)^2
    P_s = (n1^2 c - n0^2 a + n1 n0 (n0 - n1) / 2) / N^2,   Q_s = (a (n0 - c) + c (n1 - a)) / (2 N)

Wald CI and z-test. Without strata it is the crude difference with the same variance. Estimates
are proportions (not percentages). Validated against an independent R implementation of the
same formulas (tests/reference/risk_difference.R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsim.analysis._arrays import as_stratum, as_treated
from alsim.analysis._result import EstimateResult, FloatArray, IntArray
from alsim.errors import AnalysisError

__all__ = ["RiskDifferenceMhResult", "RiskDifferenceSpec"]


@dataclass(frozen=True, kw_only=True, eq=False)
class RiskDifferenceMhResult(EstimateResult):
    """Mantel-Haenszel difference in proportions with an event, treated minus control.

    Attributes
    ----------
    proportion_treated, proportion_control : ndarray
        Crude proportions with the event per arm (pooled over strata).
    events_treated, events_control, n_treated, n_control : ndarray
    """

    proportion_treated: FloatArray
    proportion_control: FloatArray
    events_treated: IntArray
    events_control: IntArray
    n_treated: IntArray
    n_control: IntArray


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskDifferenceSpec:
    """Mantel-Haenszel risk difference with Sato's variance (see the module docstring)."""

    alpha: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise AnalysisError(f"alpha must be in (0, 1), got {self.alpha!r}")

    def fit(
        self,
        event: npt.ArrayLike,
        *,
        treated: npt.ArrayLike,
        stratum: npt.ArrayLike | None = None,
    ) -> RiskDifferenceMhResult:
        """``event`` (replicate, patient): 1/True with the event, 0/False without, NaN unknown
        (left out); ``stratum`` codes < 0 leave a patient out."""
        e = np.asarray(event, dtype=np.float64)
        if e.ndim == 1:
            e = e[None]
        if e.ndim != 2:
            raise AnalysisError(f"event must be shaped (replicate, patient), got {e.shape}")
        known = np.isfinite(e)
        if np.any(~np.isin(e[known], (0.0, 1.0))):
            raise AnalysisError("event must be 0/1 (or True/False), NaN where unknown")
        shape = (e.shape[0], e.shape[1])
        trt = np.asarray(as_treated(treated, shape))
        strat = as_stratum(stratum, shape)
        s = np.zeros(shape, dtype=np.int64) if strat is None else np.asarray(strat)
        use = known & (s >= 0)
        hit = np.where(use, e, 0.0) > 0
        n_rep = shape[0]
        numerator = np.zeros(n_rep)
        weight = np.zeros(n_rep)
        p_sum = np.zeros(n_rep)
        q_sum = np.zeros(n_rep)
        for level in np.unique(s[use]):
            in_s = use & (s == level)
            n1 = (in_s & trt).sum(axis=1).astype(np.float64)
            n0 = (in_s & ~trt).sum(axis=1).astype(np.float64)
            a = (in_s & trt & hit).sum(axis=1).astype(np.float64)
            c = (in_s & ~trt & hit).sum(axis=1).astype(np.float64)
            n = n1 + n0
            both = (n1 > 0) & (n0 > 0)  # a stratum with one arm carries no information
            with np.errstate(invalid="ignore", divide="ignore"):
                numerator += np.where(both, (a * n0 - c * n1) / n, 0.0)
                weight += np.where(both, n1 * n0 / n, 0.0)
                p_sum += np.where(both, (n1**2 * c - n0**2 * a + n1 * n0 * (n0 - n1) / 2) / n**2, 0)
                q_sum += np.where(both, (a * (n0 - c) + c * (n1 - a)) / (2 * n), 0.0)
        n_t = (use & trt).sum(axis=1)
        n_c = (use & ~trt).sum(axis=1)
        x_t = (use & trt & hit).sum(axis=1)
        x_c = (use & ~trt & hit).sum(axis=1)
        ok = weight > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            rd = np.where(ok, numerator / weight, np.nan)
            var = (rd * p_sum + q_sum) / weight**2
            se = np.where(ok & (var > 0), np.sqrt(np.maximum(var, 0.0)), np.nan)
            z = rd / se
        status = np.where(
            ok,
            "ok",
            "cannot estimate: no stratum has patients in both arms with a known outcome",
        )
        q = float(stats.norm.ppf(1 - self.alpha / 2))
        with np.errstate(invalid="ignore"):
            p_value = 2 * stats.norm.sf(np.abs(z))
        return RiskDifferenceMhResult(
            method="Mantel-Haenszel risk difference (Sato variance, Wald CI)"
            + (" stratified" if strat is not None else ""),
            estimate=rd,
            std_error=se,
            ci_low=rd - q * se,
            ci_high=rd + q * se,
            p_value=p_value,
            df=np.full(n_rep, np.inf),
            n=(n_t + n_c).astype(np.int64),
            status=status,
            ci_level=1 - self.alpha,
            proportion_treated=np.where(n_t > 0, x_t / np.maximum(n_t, 1), np.nan),
            proportion_control=np.where(n_c > 0, x_c / np.maximum(n_c, 1), np.nan),
            events_treated=x_t.astype(np.int64),
            events_control=x_c.astype(np.int64),
            n_treated=n_t.astype(np.int64),
            n_control=n_c.astype(np.int64),
        )
