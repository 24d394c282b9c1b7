"""Proper multiple imputation of monotone missing data, and Rubin's rules.

Imputation (normal regression, by arm, visit by visit): for visit ``k``, regress the value on
``1 + baseline + covariates + values at visits < k`` over the patients of the arm observed at
``k``, giving ``b_hat``, ``s^2`` and ``(X'X)^-1``. For each imputation draw
``s*^2 = s^2 (n - p) / chi2_(n-p)``, ``b* ~ N(b_hat, s*^2 (X'X)^-1)``, and impute
``y = x' b* + N(0, s*^2)``; later visits use the values imputed at earlier ones (monotone
dropout). Every replicate draws from its own ``SeedSequence`` child, so its imputations do not
depend on which other replicates are imputed with it.

Rubin's rules: ``Q_bar`` = mean of the estimates, ``U_bar`` = mean within-imputation variance,
``B`` = between-imputation variance, ``T = U_bar + (1 + 1/m) B``, with the Barnard-Rubin (1999)
small-sample df (as R ``mice::pool``, including its floor of 1e-4 on ``lambda``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsim.analysis._arrays import as_covariates, as_patient_array, as_treated, batched_ols
from alsim.analysis._result import BoolArray, EstimateResult, FloatArray
from alsim.analysis.ancova import AncovaResult, t_interval
from alsim.analysis.rank import JointRankResult, RankAncovaResult
from alsim.errors import AnalysisError

__all__ = [
    "ImputationSpec",
    "Imputed",
    "PooledResult",
    "RubinPooled",
    "rubin_pool",
]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RubinPooled:
    """Rubin's rules over the first axis (imputation) of estimates and variances.

    Attributes
    ----------
    estimate : Q_bar.
    within : U_bar, the mean within-imputation variance.
    between : B, the between-imputation variance (ddof 1).
    total : T = U_bar + (1 + 1/m) B.
    df : Barnard-Rubin degrees of freedom.
    riv : relative increase in variance ``(1 + 1/m) B / U_bar``.
    fmi : fraction of missing information ``(riv + 2/(df + 3)) / (riv + 1)``.
    """

    estimate: FloatArray
    within: FloatArray
    between: FloatArray
    total: FloatArray
    df: FloatArray
    riv: FloatArray
    fmi: FloatArray


def rubin_pool(
    estimates: npt.ArrayLike, variances: npt.ArrayLike, df_complete: npt.ArrayLike = np.inf
) -> RubinPooled:
    """Pool ``m`` completed-data analyses (first axis) by Rubin's rules, Barnard-Rubin df.

    Parameters
    ----------
    estimates, variances : array_like, shape (m, ...)
        Completed-data estimates and their squared standard errors.
    df_complete : array_like
        Complete-data degrees of freedom (``inf`` for large-sample statistics), broadcast to
        the trailing shape.

    Examples
    --------
    >>> pooled = rubin_pool([1.0, 2.0, 3.0], [0.5, 0.5, 0.5])
    >>> float(pooled.total)
    1.8333333333333333
    """
    q = np.asarray(estimates, dtype=np.float64)
    u = np.asarray(variances, dtype=np.float64)
    m = q.shape[0]
    if m < 2:
        raise AnalysisError(f"Rubin's rules need at least 2 imputations, got {m}")
    # reduce over a contiguous last axis: the summation order, and so every bit of the result,
    # is then the same however many replicates are pooled together (chunking never shows)
    q_last = np.ascontiguousarray(np.moveaxis(q, 0, -1))
    qbar = q_last.mean(axis=-1)
    ubar = np.ascontiguousarray(np.moveaxis(u, 0, -1)).mean(axis=-1)
    b = q_last.var(axis=-1, ddof=1)
    t = ubar + (1 + 1 / m) * b
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.maximum((1 + 1 / m) * b / t, 1e-4)
        df_old = (m - 1) / lam**2
        dfc = np.broadcast_to(np.asarray(df_complete, dtype=np.float64), qbar.shape)
        finite = np.isfinite(dfc)
        dfc_safe = np.where(finite, dfc, 1.0)
        df_obs = (dfc_safe + 1) / (dfc_safe + 3) * dfc_safe * (1 - lam)
        df = np.where(finite, df_old * df_obs / (df_old + df_obs), df_old)
        riv = (1 + 1 / m) * b / ubar
        fmi = (riv + 2 / (df + 3)) / (riv + 1)
    return RubinPooled(estimate=qbar, within=ubar, between=b, total=t, df=df, riv=riv, fmi=fmi)


@dataclass(frozen=True, kw_only=True, eq=False)
class PooledResult(EstimateResult):
    """An analysis pooled over multiple imputations by Rubin's rules.

    ``estimate`` is on the scale of the completed-data analysis it pools (LS-mean difference for
    ANCOVA, ``T`` for the joint rank test, rank difference for rank ANCOVA); the CI and p-value
    use the t distribution with Barnard-Rubin ``df``.

    Attributes
    ----------
    within_variance, between_variance : ndarray
        Rubin's ``U_bar`` and ``B``.
    fmi : ndarray
        Fraction of missing information.
    n_imputations : int
    """

    within_variance: FloatArray
    between_variance: FloatArray
    fmi: FloatArray
    n_imputations: int = 0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Imputed:
    """``m`` completed copies of a (replicate, patient, visit) array, and how to analyse them.

    Analyse all imputations of all replicates in one batched call: pass `stacked` (shape
    ``(m * replicate, patient, visit)``) and every other per-replicate input through `tile`,
    then `pool` the result.
    """

    values: FloatArray  # (m, replicate, patient, visit)
    status: npt.NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))

    @property
    def n_imputations(self) -> int:
        """Number of imputations ``m``."""
        return int(self.values.shape[0])

    @property
    def n_replicates(self) -> int:
        """Number of replicates."""
        return int(self.values.shape[1])

    def stacked(self) -> FloatArray:
        """Imputations stacked on the replicate axis: ``(m * replicate, patient, visit)``."""
        m, r, n, k = self.values.shape
        return self.values.reshape(m * r, n, k)

    @overload
    def tile(self, value: None) -> None: ...

    @overload
    def tile(self, value: npt.ArrayLike) -> npt.NDArray[Any]: ...

    def tile(self, value: npt.ArrayLike | None) -> npt.NDArray[Any] | None:
        """Repeat a per-replicate input (shape ``(replicate, ...)`` or per patient) ``m`` times."""
        if value is None:
            return None
        arr = np.asarray(value)
        if arr.ndim >= 1 and arr.shape[0] == self.n_replicates and arr.ndim >= 2:
            return np.concatenate([arr] * self.n_imputations, axis=0)
        return arr

    def pool(self, result: EstimateResult, alpha: float = 0.05) -> PooledResult:
        """Combine a batched analysis of `stacked` by Rubin's rules."""
        if not isinstance(result, AncovaResult | JointRankResult | RankAncovaResult):
            raise AnalysisError(
                f"Rubin's rules need an estimate with a symmetric SE; "
                f"{type(result).__name__} is not supported (use ANCOVA, joint rank, rank ANCOVA)"
            )
        m, r = self.n_imputations, self.n_replicates
        est = result.estimate.reshape(m, r)
        var = (result.std_error**2).reshape(m, r)
        df_com = result.df.reshape(m, r).min(axis=0)
        pooled = rubin_pool(est, var, df_com)
        se = np.sqrt(pooled.total)
        lo, hi, p = t_interval(pooled.estimate, se, pooled.df, alpha)
        status_all = result.status.reshape(m, r)
        failed = (status_all != "ok").any(axis=0)
        first_bad = np.argmax(status_all != "ok", axis=0)
        status = np.where(failed, status_all[first_bad, np.arange(r)], "ok")
        if self.status.size:
            status = np.where(self.status != "ok", self.status, status)
        return PooledResult(
            method=(
                f"{result.method} + multiple imputation (m={m}; Rubin's rules, Barnard-Rubin df)"
            ),
            estimate=pooled.estimate,
            std_error=se,
            ci_low=lo,
            ci_high=hi,
            p_value=p,
            df=pooled.df,
            n=result.n.reshape(m, r)[0],
            status=status,
            ci_level=1 - alpha,
            within_variance=pooled.within,
            between_variance=pooled.between,
            fmi=pooled.fmi,
            n_imputations=m,
        )


def _seed_children(
    seed: int | Sequence[np.random.SeedSequence], n: int
) -> list[np.random.SeedSequence]:
    if isinstance(seed, int | np.integer):
        return np.random.SeedSequence(int(seed)).spawn(n)
    children = list(seed)
    if len(children) != n:
        raise AnalysisError(
            f"seed must give one SeedSequence per replicate ({n}), got {len(children)}"
        )
    return children


@dataclass(frozen=True, slots=True, kw_only=True)
class ImputationSpec:
    """Proper normal-regression multiple imputation for monotone dropout, by arm.

    Parameters
    ----------
    n_imputations : int
        Number of imputations ``m`` (at least 2).
    seed : int or sequence of SeedSequence
        An integer is split into one `SeedSequence` child per replicate
        (``SeedSequence(seed).spawn(n_replicates)``); or pass those children directly, e.g. to
        impute one replicate of a batch on its own with the same draws.
    """

    n_imputations: int = 20
    seed: int | Sequence[np.random.SeedSequence] = 0

    def __post_init__(self) -> None:
        if self.n_imputations < 2:
            raise AnalysisError(f"n_imputations must be >= 2, got {self.n_imputations}")

    def impute(
        self,
        values: npt.ArrayLike,
        *,
        baseline: npt.ArrayLike,
        treated: npt.ArrayLike,
        covariates: npt.ArrayLike | None = None,
    ) -> Imputed:
        """Impute the NaNs of ``values`` (replicate, patient, visit), visit by visit.

        ``baseline`` (replicate, patient) and ``covariates`` (replicate, patient, n_cov) are the
        fixed predictors; patients with a NaN baseline are left as they are.
        """
        y = np.asarray(values, dtype=np.float64)
        if y.ndim == 2:
            y = y[None]
        if y.ndim != 3:
            raise AnalysisError(f"values must be (replicate, patient, visit), got shape {y.shape}")
        n_rep, n_pat, n_vis = y.shape
        shape = (n_rep, n_pat)
        base = as_patient_array("baseline", baseline, n_rep)
        trt = as_treated(treated, shape)
        cov = as_covariates(covariates, shape)
        m = self.n_imputations
        fixed = np.concatenate([np.ones((*shape, 1)), base[..., None], cov], axis=-1)
        p_max = fixed.shape[-1] + n_vis - 1
        # per-replicate random numbers, independent of the batch composition
        uniforms = np.empty((n_rep, m, 2, n_vis))
        coef_z = np.empty((n_rep, m, 2, n_vis, p_max))
        noise_z = np.empty((n_rep, m, n_vis, n_pat))
        for r, child in enumerate(_seed_children(self.seed, n_rep)):
            rng = np.random.default_rng(child)
            uniforms[r] = rng.random((m, 2, n_vis))
            coef_z[r] = rng.standard_normal((m, 2, n_vis, p_max))
            noise_z[r] = rng.standard_normal((m, n_vis, n_pat))
        out = np.repeat(y[None], m, axis=0)
        ok = np.ones(n_rep, dtype=bool)
        observed = np.isfinite(y)
        for arm_index, arm in enumerate((False, True)):
            in_arm = trt == arm
            for k in range(n_vis):
                need = in_arm & ~observed[:, :, k]
                if not need.any():
                    continue
                for j in range(m):
                    X = np.concatenate([fixed, out[j][:, :, :k]], axis=-1)
                    p = X.shape[-1]
                    fit = batched_ols(y[:, :, k], X, in_arm & observed[:, :, k])
                    fit_ok = fit.ok
                    df_resid = np.where(fit_ok, fit.df_resid, 1.0)
                    chi2 = stats.chi2.ppf(uniforms[:, j, arm_index, k], df_resid)
                    s2_star = np.where(fit_ok, fit.sigma2 * df_resid / chi2, np.nan)
                    chol = np.linalg.cholesky(
                        np.where(fit_ok[:, None, None], fit.xtx_inv, np.eye(p))
                    )
                    b_star = fit.beta + np.sqrt(s2_star)[:, None] * np.einsum(
                        "rpq,rq->rp", chol, coef_z[:, j, arm_index, k, :p]
                    )
                    pred = (
                        np.einsum("rnp,rp->rn", X, b_star)
                        + np.sqrt(s2_star)[:, None] * noise_z[:, j, k, :]
                    )
                    out[j][:, :, k] = np.where(need, pred, out[j][:, :, k])
                    ok &= fit_ok | ~need.any(axis=1)
        status = np.where(
            ok,
            "ok",
            "cannot impute: too few observed patients in an arm at some visit for the "
            "imputation regression",
        )
        frozen = out.copy()
        frozen.setflags(write=False)
        return Imputed(values=frozen, status=status)


def observed_fraction(values: npt.ArrayLike) -> BoolArray:
    """Whether each (replicate, patient, visit) value is observed (helper for reports)."""
    return np.isfinite(np.asarray(values, dtype=np.float64))
