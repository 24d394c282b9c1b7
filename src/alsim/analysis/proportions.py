"""Difference in the proportion of patients with an event (e.g. clinically manifest ALS within 12
months), treated minus control, batched over replicates.

- Without strata: the crude difference with the Wald standard error
  ``sqrt(p1 (1 - p1) / n1 + p0 (1 - p0) / n0)`` (R ``prop.test(correct = FALSE)``).
- With strata: the Mantel-Haenszel risk difference, weights ``n1k n0k / Nk``, with the variance
  of Sato (1989) that is consistent in both sparse and large strata (R ``metafor::rma.mh``,
  measure "RD").

Both give a normal CI and Wald p-value. Estimates are proportions (between -1 and 1). Patients
whose status is unknown (NaN, e.g. withdrawn before the landmark without the event) or whose
stratum code is negative are left out. Validated against R (tests/reference/proportions.R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsim.analysis._arrays import as_patient_array, as_stratum, as_treated
from alsim.analysis._result import EstimateResult, FloatArray, IntArray
from alsim.errors import AnalysisError

__all__ = ["ProportionDifferenceResult", "RiskDifferenceSpec"]


@dataclass(frozen=True, kw_only=True, eq=False)
class ProportionDifferenceResult(EstimateResult):
    """``estimate`` = proportion with the event, treated minus control (stratum-weighted with
    strata).

    Attributes
    ----------
    proportion_treated, proportion_control : ndarray
        Crude proportion with the event per arm (over all strata).
    events_treated, events_control, n_treated, n_control : ndarray
        Patients with the event, and patients with a known status, per arm.
    """

    proportion_treated: FloatArray
    proportion_control: FloatArray
    events_treated: IntArray
    events_control: IntArray
    n_treated: IntArray
    n_control: IntArray


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskDifferenceSpec:
    """Risk difference of treated vs control; Mantel-Haenszel (Sato variance) with strata."""

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
    ) -> ProportionDifferenceResult:
        """`event` is (replicate, patient): 1/True with the event, 0/False without, NaN unknown."""
        y = as_patient_array("event", event)
        known = np.isfinite(y)
        if np.any((y[known] != 0) & (y[known] != 1)):
            raise AnalysisError("event must be 0, 1 or NaN (unknown status)")
        trt = as_treated(treated, y.shape)
        strat = as_stratum(stratum, y.shape)
        codes = np.zeros(y.shape, dtype=np.int64) if strat is None else strat
        use = known & (codes >= 0)
        levels = np.unique(codes[use]) if use.any() else np.zeros(1, dtype=np.int64)
        # per (replicate, stratum): events and counts in each arm
        x1, x0, n1, n0 = (
            np.stack([np.sum(use & (codes == k) & arm & hit, axis=1) for k in levels], axis=1)
            for arm, hit in (
                (trt, y == 1),
                (~trt, y == 1),
                (trt, np.ones(y.shape, dtype=bool)),
                (~trt, np.ones(y.shape, dtype=bool)),
            )
        )
        x1, x0, n1, n0 = (a.astype(np.float64) for a in (x1, x0, n1, n0))
        with np.errstate(divide="ignore", invalid="ignore"):
            if strat is None:
                p1, p0 = x1[:, 0] / n1[:, 0], x0[:, 0] / n0[:, 0]
                estimate = p1 - p0
                se = np.sqrt(p1 * (1 - p1) / n1[:, 0] + p0 * (1 - p0) / n0[:, 0])
                method = "difference in proportions, Wald CI"
            else:
                estimate, se = _mantel_haenszel(x1, x0, n1, n0)
                method = "Mantel-Haenszel risk difference (stratified), Sato variance, Wald CI"
            q = float(stats.norm.ppf(1 - self.alpha / 2))
            testable = np.isfinite(se) & (se > 0)
            p_value = np.where(
                testable, 2 * stats.norm.sf(np.abs(estimate / np.where(testable, se, 1.0))), np.nan
            )
            tot1, tot0 = n1.sum(axis=1), n0.sum(axis=1)
            prop1, prop0 = x1.sum(axis=1) / tot1, x0.sum(axis=1) / tot0
        empty = (tot1 == 0) | (tot0 == 0)
        status = np.where(
            empty,
            "cannot estimate: an arm has no patients with a known status",
            np.where(testable, "ok", "cannot test: no variation (all or none had the event)"),
        )
        nan_unless = np.where(testable & ~empty, 1.0, np.nan)
        return ProportionDifferenceResult(
            method=method,
            estimate=np.where(empty, np.nan, estimate),
            std_error=se * nan_unless,
            ci_low=(estimate - q * se) * nan_unless,
            ci_high=(estimate + q * se) * nan_unless,
            p_value=p_value * nan_unless,
            df=np.full(y.shape[0], np.inf),
            n=(tot1 + tot0).astype(np.int64),
            status=status.astype(str),
            ci_level=1 - self.alpha,
            proportion_treated=prop1,
            proportion_control=prop0,
            events_treated=x1.sum(axis=1).astype(np.int64),
            events_control=x0.sum(axis=1).astype(np.int64),
            n_treated=tot1.astype(np.int64),
            n_control=tot0.astype(np.int64),
        )


def _mantel_haenszel(
    x1: FloatArray, x0: FloatArray, n1: FloatArray, n0: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """MH risk difference and Sato's (1989) standard error, arrays (replicate, stratum)."""
    total = n1 + n0
    informative = (n1 > 0) & (n0 > 0)
    big_n = np.where(informative, total, 1.0)
    weight = np.where(informative, n1 * n0 / big_n, 0.0)
    difference = np.where(informative, (x1 * n0 - x0 * n1) / big_n, 0.0)
    sum_w = weight.sum(axis=1)
    rd = difference.sum(axis=1) / sum_w
    p_term = np.where(
        informative, (n1**2 * x0 - n0**2 * x1 + n1 * n0 * (n0 - n1) / 2) / big_n**2, 0.0
    )
    q_term = np.where(informative, (x1 * (n0 - x0) + x0 * (n1 - x1)) / (2 * big_n), 0.0)
    variance = (rd * p_term.sum(axis=1) + q_term.sum(axis=1)) / sum_w**2
    se: FloatArray = np.sqrt(np.maximum(variance, 0.0))
    return rd, se
