"""ANCOVA of change from baseline, and the geometric-mean-ratio ANCOVA for biomarkers.

Both fit ``y ~ 1 + treatment + baseline (+ covariates) (+ stratum)`` by least squares for every
replicate at once (stacked normal equations), and report the treatment contrast with a
t-based CI on ``n - p`` df and LS means per arm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsim.analysis._arrays import (
    OlsFit,
    as_covariates,
    as_patient_array,
    as_stratum,
    as_treated,
    batched_ols,
    stratum_dummies,
)
from alsim.analysis._result import EstimateResult, FloatArray, IntArray
from alsim.errors import AnalysisError

__all__ = ["AncovaResult", "AncovaSpec", "GmrResult", "GmrSpec", "LinearFit", "fit_linear"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LinearFit:
    """Treatment contrast and LS means of one batched ANCOVA (internal building block).

    ``estimate`` is the treated-minus-control LS-mean difference (the treatment coefficient).
    LS means are taken at the mean of continuous covariates over the patients analysed and
    with equal weights over stratum levels (as R ``emmeans`` and SAS ``LSMEANS`` do).
    """

    ols: OlsFit
    estimate: FloatArray
    std_error: FloatArray
    df: FloatArray
    lsmean_treated: FloatArray
    lsmean_control: FloatArray
    se_lsmean_treated: FloatArray
    se_lsmean_control: FloatArray
    n_treated: IntArray
    n_control: IntArray
    status: npt.NDArray[np.str_]


def fit_linear(
    y: npt.ArrayLike,
    treated: npt.ArrayLike,
    baseline: npt.ArrayLike | None,
    covariates: npt.ArrayLike | None = None,
    stratum: npt.ArrayLike | None = None,
) -> LinearFit:
    """Fit ``y ~ 1 + treated (+ baseline) (+ covariates) (+ stratum)`` for every replicate.

    Parameters
    ----------
    y : array_like, shape (replicate, patient) or (patient,)
        Outcome; NaN marks a patient left out of that replicate.
    treated : array_like of bool, shape (patient,) or (replicate, patient)
    baseline : array_like, same shape as ``y``, or None
    covariates : array_like, shape (replicate, patient, n_cov), optional
    stratum : array_like of int, shape (patient,) or (replicate, patient), optional
        Stratum codes; entered as a factor (treatment coding).
    """
    yy = as_patient_array("y", y)
    shape = (yy.shape[0], yy.shape[1])
    trt = as_treated(treated, shape)
    cols = [np.ones(shape), trt.astype(np.float64)]
    if baseline is not None:
        base = as_patient_array("baseline", baseline, shape[0])
        if base.shape != shape:
            raise AnalysisError(f"baseline has shape {base.shape}; expected {shape}")
        cols.append(base)
    X = np.concatenate([np.stack(cols, axis=-1), as_covariates(covariates, shape)], axis=-1)
    strat = as_stratum(stratum, shape)
    n_dummies = 0
    mask = np.ones(shape, dtype=bool)
    if strat is not None:
        dummies = stratum_dummies(strat)
        n_dummies = dummies.shape[-1]
        X = np.concatenate([X, dummies], axis=-1)
        mask &= strat >= 0
    ols = batched_ols(yy, X, mask)
    n_treated = (ols.used & trt).sum(axis=1)
    n_control = (ols.used & ~trt).sum(axis=1)
    p = X.shape[-1]
    # LS-mean weights: continuous columns at their mean, stratum dummies at 1/(levels)
    weights = ols.x_mean.copy()
    if n_dummies:
        weights[:, p - n_dummies :] = 1.0 / (n_dummies + 1)
    w_treated = weights.copy()
    w_treated[:, 1] = 1.0
    w_control = weights.copy()
    w_control[:, 1] = 0.0
    lsm_t = np.einsum("rp,rp->r", w_treated, ols.beta)
    lsm_c = np.einsum("rp,rp->r", w_control, ols.beta)
    se_t = np.sqrt(np.einsum("rp,rpq,rq->r", w_treated, ols.cov, w_treated))
    se_c = np.sqrt(np.einsum("rp,rpq,rq->r", w_control, ols.cov, w_control))
    ok = ols.ok & (n_treated > 0) & (n_control > 0)
    status = np.where(
        ok,
        "ok",
        np.char.add(
            np.char.add(
                "cannot fit: rank-deficient design or too few patients (n=", ols.n.astype(str)
            ),
            f", parameters={p}); check both arms and every stratum have patients",
        ),
    )

    def nan_if_bad(a: FloatArray) -> FloatArray:
        return np.where(ok, a, np.nan)

    return LinearFit(
        ols=ols,
        estimate=nan_if_bad(ols.beta[:, 1]),
        std_error=nan_if_bad(np.sqrt(ols.cov[:, 1, 1])),
        df=nan_if_bad(ols.df_resid),
        lsmean_treated=nan_if_bad(lsm_t),
        lsmean_control=nan_if_bad(lsm_c),
        se_lsmean_treated=nan_if_bad(se_t),
        se_lsmean_control=nan_if_bad(se_c),
        n_treated=n_treated.astype(np.int64),
        n_control=n_control.astype(np.int64),
        status=status,
    )


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise AnalysisError(f"alpha must be in (0, 1), got {alpha!r}")


def t_interval(
    estimate: FloatArray, std_error: FloatArray, df: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Two-sided ``1 - alpha`` t interval and p-value (``df = inf`` gives the normal)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(1.0 - alpha / 2.0, df)
        p = 2.0 * stats.t.sf(np.abs(estimate / std_error), df)
    return estimate - q * std_error, estimate + q * std_error, p


@dataclass(frozen=True, kw_only=True, eq=False)
class AncovaResult(EstimateResult):
    """ANCOVA of change from baseline: treated-minus-control LS-mean difference.

    Attributes
    ----------
    lsmean_treated, lsmean_control : ndarray
        Adjusted (LS) mean change per arm.
    se_lsmean_treated, se_lsmean_control : ndarray
        Their standard errors.
    n_treated, n_control : ndarray
        Patients analysed per arm.
    """

    lsmean_treated: FloatArray
    lsmean_control: FloatArray
    se_lsmean_treated: FloatArray
    se_lsmean_control: FloatArray
    n_treated: IntArray
    n_control: IntArray


@dataclass(frozen=True, slots=True, kw_only=True)
class AncovaSpec:
    """ANCOVA of change from baseline at one visit: ``chg ~ treatment + baseline (+ ...)``.

    Parameters
    ----------
    alpha : float
        Two-sided level: intervals are ``1 - alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> base = rng.normal(38, 5, size=(2, 30))
    >>> treated = np.arange(30) % 3 != 0
    >>> chg = -6 + 2.5 * treated - 0.1 * (base - 38) + rng.normal(0, 4, size=(2, 30))
    >>> result = AncovaSpec().fit(chg, baseline=base, treated=treated)
    >>> result.estimate.shape
    (2,)
    """

    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)

    def fit(
        self,
        chg: npt.ArrayLike,
        *,
        baseline: npt.ArrayLike,
        treated: npt.ArrayLike,
        covariates: npt.ArrayLike | None = None,
        stratum: npt.ArrayLike | None = None,
    ) -> AncovaResult:
        """Fit every replicate; ``chg`` is (replicate, patient) with NaN for missing."""
        lin = fit_linear(chg, treated, baseline, covariates, stratum)
        lo, hi, p = t_interval(lin.estimate, lin.std_error, lin.df, self.alpha)
        return AncovaResult(
            method="ANCOVA (t, residual df)",
            estimate=lin.estimate,
            std_error=lin.std_error,
            ci_low=lo,
            ci_high=hi,
            p_value=p,
            df=lin.df,
            n=lin.ols.n,
            status=lin.status,
            ci_level=1.0 - self.alpha,
            lsmean_treated=lin.lsmean_treated,
            lsmean_control=lin.lsmean_control,
            se_lsmean_treated=lin.se_lsmean_treated,
            se_lsmean_control=lin.se_lsmean_control,
            n_treated=lin.n_treated,
            n_control=lin.n_control,
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class GmrResult(EstimateResult):
    """Geometric-mean-ratio ANCOVA: ``estimate`` is the ratio tofersen / control.

    ``estimate``, ``ci_low`` and ``ci_high`` are on the ratio scale (``exp`` of the log-scale
    contrast); ``std_error`` is the standard error of the log ratio.

    Attributes
    ----------
    log_ratio : ndarray
        Treatment coefficient on the log scale.
    gmr_treated, gmr_control : ndarray
        Adjusted geometric mean ratio to baseline per arm, ``exp(LS mean)``.
    difference_pct, difference_pct_ci_low, difference_pct_ci_high : ndarray
        "Difference in GMRs" ``100 (1 - ratio)`` (a reduction when positive) and its CI.
    """

    std_error_scale: ClassVar[str] = "log"

    log_ratio: FloatArray
    gmr_treated: FloatArray
    gmr_control: FloatArray
    difference_pct: FloatArray
    difference_pct_ci_low: FloatArray
    difference_pct_ci_high: FloatArray
    n_treated: IntArray
    n_control: IntArray


@dataclass(frozen=True, slots=True, kw_only=True)
class GmrSpec:
    """GMR ANCOVA: ``log(Y_t / Y_0) ~ treatment + log(Y_0) (+ covariates) (+ stratum)``."""

    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)

    def fit(
        self,
        value: npt.ArrayLike,
        *,
        baseline: npt.ArrayLike,
        treated: npt.ArrayLike,
        covariates: npt.ArrayLike | None = None,
        stratum: npt.ArrayLike | None = None,
    ) -> GmrResult:
        """Fit every replicate; ``value`` and ``baseline`` are positive, NaN for missing."""
        yt = as_patient_array("value", value)
        y0 = as_patient_array("baseline", baseline, yt.shape[0])
        if np.any(yt[np.isfinite(yt)] <= 0) or np.any(y0[np.isfinite(y0)] <= 0):
            raise AnalysisError("GMR needs positive values at baseline and at the visit")
        log_y0 = np.log(y0)
        lin = fit_linear(np.log(yt) - log_y0, treated, log_y0, covariates, stratum)
        lo, hi, p = t_interval(lin.estimate, lin.std_error, lin.df, self.alpha)
        ratio = np.exp(lin.estimate)
        return GmrResult(
            method="GMR ANCOVA on log ratio to baseline (t, residual df)",
            estimate=ratio,
            std_error=lin.std_error,
            ci_low=np.exp(lo),
            ci_high=np.exp(hi),
            p_value=p,
            df=lin.df,
            n=lin.ols.n,
            status=lin.status,
            ci_level=1.0 - self.alpha,
            log_ratio=lin.estimate,
            gmr_treated=np.exp(lin.lsmean_treated),
            gmr_control=np.exp(lin.lsmean_control),
            difference_pct=100.0 * (1.0 - ratio),
            difference_pct_ci_low=100.0 * (1.0 - np.exp(hi)),
            difference_pct_ci_high=100.0 * (1.0 - np.exp(lo)),
            n_treated=lin.n_treated,
            n_control=lin.n_control,
        )
