"""Proper multiple imputation (MAR or reference-based), with bounded values, and Rubin's rules.

Imputation (`ImputationSpec`): by arm, visit by visit, from a sequence of normal regressions
whose parameters are drawn from their posterior once per imputation; under MAR a value comes from
its own arm's regression, under the reference-based models of Carpenter, Roger & Kenward (2013)
from the reference arm's conditional law around a new mean. Imputed values are rounded and
clipped to the endpoint's scale (`ENDPOINT_SCALES`: ALSFRS-R integers 0-48, SVC and HHD >= 0,
biomarkers imputed on the log scale). Every replicate draws from its own ``SeedSequence`` child.

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
from scipy import special

from alsim.analysis._arrays import as_covariates, as_patient_array, as_treated, batched_ols
from alsim.analysis._result import BoolArray, EstimateResult, FloatArray, IntArray
from alsim.analysis.ancova import AncovaResult, t_interval
from alsim.analysis.rank import JointRankResult, RankAncovaResult
from alsim.errors import AnalysisError

__all__ = [
    "ENDPOINT_SCALES",
    "KEEP",
    "METHOD_CODES",
    "ImputationSpec",
    "Imputed",
    "PooledResult",
    "RubinPooled",
    "Scale",
    "endpoint_scale",
    "pool_imputations",
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
    lsmean_treated, lsmean_control : ndarray
        Per-arm LS means averaged over imputations (ANCOVA; NaN for other analyses).
    n_imputations : int
    """

    within_variance: FloatArray
    between_variance: FloatArray
    fmi: FloatArray
    lsmean_treated: FloatArray
    lsmean_control: FloatArray
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
    # (replicate, visit): the imputation of the visits up to and including this one succeeded
    ok_through: BoolArray = field(default_factory=lambda: np.ones((0, 0), dtype=bool))

    @property
    def n_imputations(self) -> int:
        """Number of imputations ``m``."""
        return int(self.values.shape[0])

    @property
    def n_replicates(self) -> int:
        """Number of replicates."""
        return int(self.values.shape[1])

    def status_through(self, n_visits: int) -> npt.NDArray[np.str_]:
        """The status of the first `n_visits` visits alone (their values do not depend on the
        later ones; an imputation of later visits can fail where theirs did not)."""
        if n_visits >= self.values.shape[-1] or not self.ok_through.size:
            return self.status
        ok = self.ok_through[:, n_visits - 1] if n_visits > 0 else np.ones_like(self.status, bool)
        return np.where(ok, "ok", CANNOT_IMPUTE)

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
        return pool_imputations(
            result, self.n_imputations, alpha=alpha, imputation_status=self.status
        )


def pool_imputations(
    result: EstimateResult,
    n_imputations: int,
    *,
    alpha: float = 0.05,
    imputation_status: npt.NDArray[np.str_] | None = None,
) -> PooledResult:
    """Rubin's rules over a batched analysis of ``m`` stacked imputations (imputation-major).

    A replicate whose analysis failed in any imputation, or whose imputation failed, is not ok.
    Per-arm LS means (where the analysis has them) are averaged over imputations.
    """
    if not isinstance(result, AncovaResult | JointRankResult | RankAncovaResult):
        raise AnalysisError(
            f"Rubin's rules need an estimate with a symmetric SE; "
            f"{type(result).__name__} is not supported (use ANCOVA, joint rank, rank ANCOVA)"
        )
    m = n_imputations
    r = result.n_replicates // m
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
    if imputation_status is not None and imputation_status.size:
        status = np.where(imputation_status != "ok", imputation_status, status)
    bad = status != "ok"
    nan = np.full(r, np.nan)
    lsm_t, lsm_c = nan, nan
    if isinstance(result, AncovaResult):
        with np.errstate(invalid="ignore"):
            lsm_t = result.lsmean_treated.reshape(m, r).mean(axis=0)
            lsm_c = result.lsmean_control.reshape(m, r).mean(axis=0)

    def blank(a: FloatArray) -> FloatArray:
        return np.where(bad, np.nan, a)

    return PooledResult(
        method=f"{result.method} + multiple imputation (m={m}; Rubin's rules, Barnard-Rubin df)",
        estimate=blank(pooled.estimate),
        std_error=blank(se),
        ci_low=blank(lo),
        ci_high=blank(hi),
        p_value=blank(p),
        df=blank(pooled.df),
        n=result.n.reshape(m, r)[0],
        status=status,
        ci_level=1 - alpha,
        within_variance=pooled.within,
        between_variance=pooled.between,
        fmi=pooled.fmi,
        lsmean_treated=blank(lsm_t),
        lsmean_control=blank(lsm_c),
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
class Scale:
    """The range of an endpoint, which imputed values respect.

    ``lower``/``upper`` clip, ``integer`` rounds (ALSFRS-R totals), ``log`` imputes on the log
    scale (positive biomarkers).
    """

    lower: float | None = None
    upper: float | None = None
    integer: bool = False
    log: bool = False

    def bound(self, values: FloatArray) -> FloatArray:
        """``values`` rounded and clipped to the scale (NaN stays NaN)."""
        out = np.round(values) if self.integer else values
        if self.lower is not None or self.upper is not None:
            out = np.clip(out, self.lower, self.upper)
        return np.asarray(out, dtype=np.float64)

    @property
    def width(self) -> float:
        """``upper - lower`` (inf when unbounded): the largest possible change."""
        if self.lower is None or self.upper is None:
            return float("inf")
        return float(self.upper - self.lower)


ALSFRSR_SCALE = Scale(lower=0.0, upper=48.0, integer=True)
ENDPOINT_SCALES: dict[str, Scale] = {
    "ALSFRSR": ALSFRSR_SCALE,
    "SVCPP": Scale(lower=0.0),
    "HHDMEGA": Scale(lower=0.0),
    "CSFSOD1": Scale(log=True),
    "PLNFL": Scale(log=True),
    "CSFNFL": Scale(log=True),
}


def endpoint_scale(paramcd: str) -> Scale:
    """The scale of a PARAMCD (unbounded for endpoints alsim does not know)."""
    return ENDPOINT_SCALES.get(paramcd, Scale())


# what to do with each (replicate, patient, visit) value: keep it (observed, or left missing),
# or impute it under one of these models
KEEP = 0
METHOD_CODES: dict[str, int] = {
    "mar": 1,
    "jump-to-reference": 2,
    "copy-increments-from-reference": 3,
    "copy-reference": 4,
}
PREVIOUS_VISITS = 3
CANNOT_IMPUTE = (
    "cannot impute: an arm has too few patients observed at some visit to estimate the "
    "imputation regression (need more patients than parameters); analyse fewer visits "
    "or a larger trial"
)


def chi_square_quantile(q: FloatArray, df: FloatArray) -> FloatArray:
    """``scipy.stats.chi2.ppf(q, df)`` for ``0 <= q <= 1`` and ``df > 0``, bit for bit, without
    its argument checks (a third of the time the imputation regressions took): the same special
    function, ``2 * gammaincinv(df / 2, q)``, which is 0 at ``q = 0`` and infinite at 1."""
    out: FloatArray = 2 * special.gammaincinv(df / 2, q)
    return out


def _arm_draws(
    y_t: FloatArray,
    X: FloatArray,
    rows: BoolArray,
    uniform_z: FloatArray,
    coef_z: FloatArray,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Posterior draws of one arm's regression of a visit on its predictors, per replicate.

    ``s*^2 = s^2 (n - p) / chi2_(n-p)`` and ``b* ~ N(b_hat, s*^2 (X'X)^-1)``; returns ``b*``
    (replicate, m, p), ``s*^2`` (replicate, m) and whether the regression could be estimated.
    """
    fit = batched_ols(y_t, X, rows)
    p = X.shape[-1]
    df = np.where(fit.ok, fit.df_resid, 1.0)
    chi2 = chi_square_quantile(special.ndtr(uniform_z), df[:, None])
    s2 = np.where(fit.ok[:, None], fit.sigma2[:, None] * df[:, None] / chi2, np.nan)
    chol = np.linalg.cholesky(np.where(fit.ok[:, None, None], fit.xtx_inv, np.eye(p)))
    spread = (chol[:, None] @ coef_z[..., :p, None])[..., 0]
    b = fit.beta[:, None, :] + np.sqrt(s2)[..., None] * spread
    return b, s2, fit.ok


@dataclass(frozen=True, slots=True, kw_only=True)
class ImputationSpec:
    """Proper multiple imputation by arm, visit by visit, under MAR or a reference-based model.

    The imputation model of each arm is a sequence of normal regressions: the value at visit
    ``t`` on the fixed predictors (intercept, baseline, covariates) and the values at up to
    `previous_visits` preceding visits, fitted over the arm's patients observed at ``t`` and at
    those visits. Parameters are drawn from their posterior (``s*^2 = s^2 (n-p)/chi2_(n-p)``,
    ``b* ~ N(b_hat, s*^2 (X'X)^-1)``) once per imputation and shared by every patient. The
    sequence defines each arm's multivariate normal: mean ``mu_a(x)`` (recursively
    ``mu_t = b'x + c' mu_previous``) and the conditional law of a visit given the earlier ones.

    A value is imputed from the conditional law of its visit given the patient's earlier values:

    - ``mar``: the patient's own arm's regression;
    - reference-based (Carpenter, Roger & Kenward 2013), after the patient's last observed visit
      ``j``: the reference (control) arm's regression applied to deviations from a new mean,
      ``mu_new_t + c_ref' (y_previous - mu_new_previous)`` with the reference residual variance;
      ``mu_new`` is the own arm's mean up to ``j`` and then the reference mean
      (``jump-to-reference``), ``mu_own_j + mu_ref_t - mu_ref_j`` (``copy-increments-from-
      reference``), or the reference mean throughout (``copy-reference``). This is the
      conditional law of the joint normal Carpenter et al. construct (pre-deviation marginal from
      the own arm, post-deviation given pre-deviation from the reference arm). Values missing
      before ``j`` are imputed under MAR.

    Imputed values are rounded and clipped to `scale` before later visits use them. Random
    numbers come from one ``SeedSequence`` child per replicate, visit by visit, so a replicate's
    imputations do not depend on the batch, and the values at the first ``k`` visits do not
    depend on how many later visits are imputed.

    Parameters
    ----------
    n_imputations : int
        Number of imputations ``m`` (at least 2).
    seed : int or sequence of SeedSequence
        An integer is split into one `SeedSequence` child per replicate
        (``SeedSequence(seed).spawn(n_replicates)``); or pass those children directly, e.g. to
        impute one replicate of a batch on its own with the same draws.
    scale : Scale
        The endpoint's range (default unbounded).
    previous_visits : int
        Preceding visits in each regression (an antedependence model of that order; fewer
        parameters than a fully unstructured one, which small arms with long schedules cannot
        estimate).
    """

    n_imputations: int = 20
    seed: int | Sequence[np.random.SeedSequence] = 0
    scale: Scale = Scale()
    previous_visits: int = PREVIOUS_VISITS

    def __post_init__(self) -> None:
        if self.n_imputations < 2:
            raise AnalysisError(f"n_imputations must be >= 2, got {self.n_imputations}")
        if self.previous_visits < 1:
            raise AnalysisError(f"previous_visits must be >= 1, got {self.previous_visits}")

    def impute(
        self,
        values: npt.ArrayLike,
        *,
        baseline: npt.ArrayLike,
        treated: npt.ArrayLike,
        covariates: npt.ArrayLike | None = None,
        method: npt.ArrayLike | None = None,
    ) -> Imputed:
        """Impute ``values`` (replicate, patient, visit; post-baseline visits in order).

        ``method`` (same shape, codes of `METHOD_CODES`, `KEEP` = leave as it is) says which
        missing values to impute and how; by default every NaN is imputed under MAR.
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
        trt = np.asarray(as_treated(treated, shape))
        cov = as_covariates(covariates, shape)
        original = y
        missing = ~np.isfinite(y)
        codes = (
            np.where(missing, METHOD_CODES["mar"], KEEP)
            if method is None
            else np.where(missing, np.broadcast_to(np.asarray(method), y.shape), KEEP)
        )
        codes = np.where(np.isfinite(base)[..., None], codes, KEEP)
        scale = self.scale
        if scale.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                y, base = np.log(y), np.log(base)
        m = self.n_imputations
        fixed = np.concatenate([np.ones((*shape, 1)), base[..., None], cov], axis=-1)
        n_fixed = fixed.shape[-1]
        width = n_fixed + self.previous_visits + 1  # one uniform, then coefficient normals
        last_need = int(np.flatnonzero(codes.any(axis=(0, 1)))[-1]) + 1 if codes.any() else 0
        draws = np.empty((n_rep, last_need, m, 2 * width + n_pat))
        for r, child in enumerate(_seed_children(self.seed, n_rep)):
            np.random.default_rng(child).standard_normal(out=draws[r])
        out = np.repeat(y[None], m, axis=0)
        observed = ~missing
        visit_index = np.arange(n_vis)
        last_obs = np.where(observed, visit_index, -1).max(axis=-1)  # j: -1 = baseline
        ok = np.ones(n_rep, dtype=bool)
        ok_through = np.ones((n_rep, n_vis), dtype=bool)
        reference_based = codes > METHOD_CODES["mar"]
        any_reference = bool(reference_based.any())
        # each arm's mean at each patient's x (needed by reference-based imputation only)
        mu = np.zeros((2, m, n_rep, n_pat, last_need if any_reference else 0))
        for t in range(last_need):
            previous = list(range(max(0, t - self.previous_visits), t))
            X = np.concatenate([fixed, y[:, :, previous]], axis=-1)
            complete = observed[:, :, t] & observed[:, :, previous].all(axis=-1)
            coefs: list[FloatArray] = []
            s2s: list[FloatArray] = []
            for arm in (0, 1):
                block = draws[:, t, :, arm * width : (arm + 1) * width]
                b, s2, fit_ok = _arm_draws(
                    y[:, :, t], X, complete & (trt == bool(arm)), block[..., 0], block[..., 1:]
                )
                b_m = np.moveaxis(b, 1, 0)  # (m, replicate, p)
                if any_reference:
                    mu[arm, :, :, :, t] = _linear(fixed, b_m[..., :n_fixed]) + _linear(
                        mu[arm][..., previous], b_m[..., n_fixed:]
                    )
                coefs.append(b_m)
                s2s.append(np.moveaxis(s2, 1, 0))
                need_arm = (codes[:, :, t] > KEEP) & (trt == bool(arm))
                needed_by = need_arm.any(axis=1)
                if arm == 0:  # the reference arm serves reference-based imputation in both arms
                    needed_by |= (reference_based[:, :, t] & (codes[:, :, t] > KEEP)).any(axis=1)
                ok &= fit_ok | ~needed_by
            ok_through[:, t:] = ok[:, None]
            need = codes[:, :, t] > KEEP
            if not need.any():
                continue
            eps = np.moveaxis(draws[:, t, :, 2 * width :], 1, 0)  # (m, replicate, patient)
            y_prev = out[..., previous]
            own = [
                _linear(fixed, coefs[a][..., :n_fixed]) + _linear(y_prev, coefs[a][..., n_fixed:])
                for a in (0, 1)
            ]
            s2_own = np.where(trt, s2s[1][:, :, None], s2s[0][:, :, None])
            value = np.where(trt, own[1], own[0]) + np.sqrt(s2_own) * eps
            after = reference_based[:, :, t] & (t > last_obs) & trt  # control: MAR is it
            if after.any():
                mu_new = _reference_mean(codes[:, :, t], mu, trt, last_obs, base, t)
                deviation = y_prev - mu_new[..., previous]
                ref = (
                    mu_new[..., t]
                    + _linear(deviation, coefs[0][..., n_fixed:])
                    + np.sqrt(s2s[0][:, :, None]) * eps
                )
                value = np.where(after, ref, value)
            if not scale.log:
                value = scale.bound(value)
            out[..., t] = np.where(need, value, out[..., t])
        if scale.log:
            out = np.exp(out)
        out = np.where(observed, original, out)  # observed values exactly as given
        unfilled = (codes > KEEP) & ~np.isfinite(out).all(axis=0)
        ok_through &= ~np.logical_or.accumulate(unfilled.any(axis=1), axis=-1)
        ok &= ~unfilled.any(axis=(1, 2))
        status = np.where(ok, "ok", CANNOT_IMPUTE)
        frozen = out.copy()
        frozen.setflags(write=False)
        return Imputed(values=frozen, status=status, ok_through=ok_through)


def _linear(x: FloatArray, coef: FloatArray) -> FloatArray:
    """``x`` (replicate, patient, q) or (m, replicate, patient, q) times per-(imputation,
    replicate) coefficients ``coef`` (m, replicate, q): (m, replicate, patient)."""
    if x.ndim == 3:
        x = x[None]
    out: FloatArray = (x @ coef[:, :, :, None])[..., 0]
    return out


def _reference_mean(
    codes: IntArray,
    mu: FloatArray,
    treated: BoolArray,
    last_obs: IntArray,
    base: FloatArray,
    t: int,
) -> FloatArray:
    """``mu_new`` over visits ``0..t`` (m, replicate, patient, t + 1) for reference-based codes.

    ``mu`` is (arm, m, replicate, patient, visit); arm 0 is the reference. The mean at the
    baseline (``j = -1``) is the baseline value in both arms.
    """
    mu_ref = mu[0][..., : t + 1]
    mu_own = np.where(treated[None, :, :, None], mu[1][..., : t + 1], mu_ref)
    visits = np.arange(t + 1)
    before = visits <= last_obs[..., None]  # (replicate, patient, visit)
    j = np.clip(last_obs, 0, t)[None, :, :, None]  # later j: those visits are all own-arm
    at_baseline = (last_obs < 0)[None, :, :, None]
    own_j = np.where(at_baseline, base[None, :, :, None], np.take_along_axis(mu_own, j, axis=-1))
    ref_j = np.where(at_baseline, base[None, :, :, None], np.take_along_axis(mu_ref, j, axis=-1))
    j2r = np.where(before, mu_own, mu_ref)
    cir = np.where(before, mu_own, own_j + mu_ref - ref_j)
    code = codes[None, :, :, None]
    mean: FloatArray = np.where(
        code == METHOD_CODES["copy-reference"],
        mu_ref,
        np.where(code == METHOD_CODES["copy-increments-from-reference"], cir, j2r),
    )
    return mean
