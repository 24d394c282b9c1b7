"""Input checks and the batched least-squares kernel shared by the linear-model analyses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alsim.analysis._result import BoolArray, FloatArray, IntArray
from alsim.errors import AnalysisError

__all__ = [
    "OlsFit",
    "as_covariates",
    "as_patient_array",
    "as_stratum",
    "as_treated",
    "batched_ols",
    "stratum_dummies",
]


def as_patient_array(
    name: str, value: npt.ArrayLike, n_replicates: int | None = None
) -> FloatArray:
    """Return ``value`` as float ``(replicate, patient)``; a 1-D array is one replicate."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise AnalysisError(f"{name} must be shaped (replicate, patient), got shape {arr.shape}")
    if n_replicates is not None and arr.shape[0] == 1 and n_replicates > 1:
        arr = np.broadcast_to(arr, (n_replicates, arr.shape[1]))
    return arr


def as_treated(treated: npt.ArrayLike, shape: tuple[int, int]) -> BoolArray:
    """Broadcast a boolean ``treated`` array, shaped (patient,) or (replicate, patient)."""
    arr = np.asarray(treated)
    if arr.dtype != np.bool_:
        if not np.all(np.isin(arr, (0, 1))):
            raise AnalysisError("treated must be boolean (True = tofersen, False = control)")
        arr = arr.astype(bool)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise AnalysisError(
            f"treated has shape {arr.shape}; expected (patient,) or (replicate, patient) = {shape}"
        ) from None


def as_covariates(covariates: npt.ArrayLike | None, shape: tuple[int, int]) -> FloatArray:
    """Covariates as float ``(replicate, patient, n_cov)``; ``None`` gives zero columns."""
    if covariates is None:
        return np.zeros((*shape, 0))
    arr = np.asarray(covariates, dtype=np.float64)
    if arr.ndim == 2 and arr.shape == (shape[1], arr.shape[1]) and shape[0] >= 1:
        arr = arr[None]
    if arr.ndim != 3:
        raise AnalysisError(
            f"covariates must be shaped (replicate, patient, n_cov), got shape {arr.shape}"
        )
    try:
        return np.broadcast_to(arr, (*shape, arr.shape[2]))
    except ValueError:
        raise AnalysisError(
            f"covariates have shape {arr.shape}; expected ({shape[0]}, {shape[1]}, n_cov)"
        ) from None


def as_stratum(stratum: npt.ArrayLike | None, shape: tuple[int, int]) -> IntArray | None:
    """Stratum codes as int ``(replicate, patient)`` (negative = unknown), or ``None``."""
    if stratum is None:
        return None
    arr = np.asarray(stratum)
    if not np.issubdtype(arr.dtype, np.integer):
        raise AnalysisError("stratum must hold integer codes (0, 1, ...)")
    try:
        return np.broadcast_to(arr.astype(np.int64), shape)
    except ValueError:
        raise AnalysisError(
            f"stratum has shape {arr.shape}; expected (patient,) or (replicate, patient) = {shape}"
        ) from None


def stratum_dummies(stratum: IntArray) -> FloatArray:
    """Treatment-coded dummies (first level is the reference) shaped (replicate, patient, k-1)."""
    levels = np.unique(stratum[stratum >= 0])
    if levels.size <= 1:
        return np.zeros((*stratum.shape, 0))
    dummies: FloatArray = (stratum[..., None] == levels[None, None, 1:]).astype(np.float64)
    return dummies


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OlsFit:
    """Ordinary least squares over stacked replicates (internal).

    Attributes
    ----------
    beta : (replicate, p) coefficients.
    cov : (replicate, p, p) model-based covariance ``sigma2 (X'X)^-1``.
    xtx_inv : (replicate, p, p) ``(X'X)^-1``.
    sigma2 : (replicate,) residual variance with ``n - p`` divisor.
    df_resid : (replicate,) residual degrees of freedom.
    n : (replicate,) rows used.
    ok : (replicate,) the design had full column rank and ``n > p``.
    used : (replicate, patient) rows used.
    x_used : (replicate, patient, p) the design with the rows not used set to 0.
    x_mean : (replicate, p) each predictor's mean over the rows used (a property).
    """

    beta: FloatArray
    cov: FloatArray
    xtx_inv: FloatArray
    sigma2: FloatArray
    df_resid: FloatArray
    n: IntArray
    ok: BoolArray
    used: BoolArray
    x_used: FloatArray

    @property
    def x_mean(self) -> FloatArray:
        """(replicate, p) mean of each predictor over the rows used (computed when asked:
        the imputation regressions never read it)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            mean: FloatArray = self.x_used.sum(axis=1) / np.maximum(self.n, 1)[:, None]
        return mean


def finite_rows(X: FloatArray) -> BoolArray:
    """(..., p) -> (...): whether every entry of the last axis is finite, taken column by
    column (the same as ``np.isfinite(X).all(axis=-1)`` in a third of the time for short rows)."""
    if X.shape[-1] == 0:
        return np.ones(X.shape[:-1], dtype=bool)
    finite: BoolArray = np.isfinite(X[..., 0])
    for j in range(1, X.shape[-1]):
        finite &= np.isfinite(X[..., j])
    return finite


def batched_ols(y: FloatArray, X: FloatArray, mask: BoolArray) -> OlsFit:
    """Least squares of ``y`` (replicate, patient) on ``X`` (replicate, patient, p), per replicate.

    Rows where ``mask`` is False or any of ``y``/``X`` is NaN are left out of that replicate.
    A replicate whose design is rank deficient (or has no residual df) gets NaN estimates and
    ``ok = False``. The normal equations are solved for all replicates at once.
    """
    used = mask & np.isfinite(y) & finite_rows(X)
    w = used.astype(np.float64)
    Xw = np.where(used[..., None], X, 0.0)
    yw = np.where(used, y, 0.0)
    n_used = used.sum(axis=1)
    p = X.shape[-1]
    xtx = np.einsum("rnp,rnq->rpq", Xw, Xw)
    xty = np.einsum("rnp,rn->rp", Xw, yw)
    # scale to unit diagonal before judging rank, so units of covariates do not matter
    d = np.sqrt(np.diagonal(xtx, axis1=1, axis2=2))
    d_safe = np.where(d > 0, d, 1.0)
    scaled = xtx / (d_safe[:, :, None] * d_safe[:, None, :])
    eig = np.linalg.eigvalsh(scaled)
    ok = (d > 0).all(axis=1) & (eig[:, 0] > 1e-10 * eig[:, -1]) & (n_used > p)
    eye = np.eye(p)
    safe = np.where(ok[:, None, None], scaled, eye)
    inv_scaled = np.linalg.inv(safe)
    xtx_inv = inv_scaled / (d_safe[:, :, None] * d_safe[:, None, :])
    beta = np.einsum("rpq,rq->rp", xtx_inv, xty)
    resid = (yw - np.einsum("rnp,rp->rn", Xw, beta)) * w
    df_resid = (n_used - p).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = np.where(ok, (resid**2).sum(axis=1) / np.where(ok, df_resid, 1.0), np.nan)
    beta = np.where(ok[:, None], beta, np.nan)
    xtx_inv = np.where(ok[:, None, None], xtx_inv, np.nan)
    cov = sigma2[:, None, None] * xtx_inv
    return OlsFit(
        beta=beta,
        cov=cov,
        xtx_inv=xtx_inv,
        sigma2=sigma2,
        df_resid=df_resid,
        n=n_used.astype(np.int64),
        ok=ok,
        used=used,
        x_used=Xw,
    )
