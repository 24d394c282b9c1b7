"""Mixed model for repeated measures: unstructured covariance over visits, REML, Satterthwaite.

Model for patient ``i`` at its observed visits ``O_i``::

    chg_ik = mu_k + tau_k * treated_i + beta * baseline_i (+ gamma' x_i) (+ stratum) + e_ik
    e_i ~ N(0, S[O_i, O_i]),  S unstructured (K x K)

i.e. ``chg ~ baseline + visit * treatment (+ covariates)`` as in R. ``S = L L'`` with ``L``
lower-triangular and its diagonal on the log scale, so the REML optimisation is unconstrained
(SCIENCE.md section 7):

    -2 l_R(theta) = sum_i [log|S_i| + r_i' S_i^-1 r_i] + log|sum_i X_i' S_i^-1 X_i|

with ``b_hat`` the GLS estimate for the current ``S``. Patients sharing a missingness pattern
are processed together. The contrast at a visit has SE ``sqrt(c' Phi c)``,
``Phi = (sum_i X_i' S_i^-1 X_i)^-1``, and Satterthwaite df
``2 (c' Phi c)^2 / (g' A g)`` with ``g = d(c' Phi c)/d theta`` (central differences) and
``A = 2 H^-1``, ``H`` the Hessian of ``-2 l_R`` (central differences). Kenward-Roger is not
implemented. The model is fitted per replicate (a Python loop over replicates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

from alsim.analysis._arrays import as_covariates, as_patient_array, as_stratum, as_treated
from alsim.analysis._result import BoolArray, EstimateResult, FloatArray
from alsim.errors import AnalysisError

__all__ = ["MmrmResult", "MmrmSpec", "RemlProblem"]


class RemlProblem:
    """The REML objective of one trial, grouped by missingness pattern (internal, final).

    Parameters
    ----------
    y : (patient, visit) outcomes, NaN where missing.
    X : (patient, visit, p) fixed-effect design rows.
    """

    def __init__(self, y: FloatArray, X: FloatArray) -> None:
        self.n_visits = y.shape[1]
        self.n_params = X.shape[2]
        observed = np.isfinite(y)
        patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
        self.groups: list[tuple[BoolArray, FloatArray, FloatArray]] = []
        for g, pattern in enumerate(patterns):
            if not pattern.any():
                continue
            sel = inverse.ravel() == g
            self.groups.append((pattern, y[sel][:, pattern], X[sel][:, pattern, :]))
        self.n_obs = int(observed.sum())
        self.tril = np.tril_indices(self.n_visits)

    def sigma(self, theta: FloatArray) -> FloatArray:
        """Covariance ``S = L L'`` from the log-Cholesky parameters."""
        L = np.zeros((self.n_visits, self.n_visits))
        L[self.tril] = theta
        diag = np.arange(self.n_visits)
        L[diag, diag] = np.exp(L[diag, diag])
        return L @ L.T

    def theta_from_sigma(self, S: FloatArray) -> FloatArray:
        """Inverse of `sigma`."""
        L = np.linalg.cholesky(S)
        diag = np.arange(self.n_visits)
        L[diag, diag] = np.log(L[diag, diag])
        theta: FloatArray = np.asarray(L[self.tril], dtype=np.float64)
        return theta

    def gls(self, S: FloatArray) -> tuple[FloatArray, FloatArray, float]:
        """``b_hat``, ``Phi`` and ``-2 l_R`` (without constants) for covariance ``S``."""
        p = self.n_params
        xsx = np.zeros((p, p))
        xsy = np.zeros(p)
        ysy = 0.0
        logdet = 0.0
        for pattern, y, X in self.groups:
            chol = np.linalg.cholesky(S[np.ix_(pattern, pattern)])
            # whiten: solve chol z = y, chol W = X
            z = np.linalg.solve(chol, y.T)  # (|O|, n_g)
            W = np.linalg.solve(chol, X.transpose(1, 0, 2).reshape(pattern.sum(), -1))
            W = W.reshape(pattern.sum(), y.shape[0], p)
            xsx += np.einsum("kip,kiq->pq", W, W)
            xsy += np.einsum("kip,ki->p", W, z)
            ysy += float(np.sum(z * z))
            logdet += 2.0 * y.shape[0] * float(np.sum(np.log(np.diag(chol))))
        chol_x = np.linalg.cholesky(xsx)
        phi: FloatArray = np.asarray(np.linalg.inv(xsx), dtype=np.float64)
        b = phi @ xsy
        m2lr = logdet + ysy - float(b @ xsy) + 2.0 * float(np.sum(np.log(np.diag(chol_x))))
        return b, phi, m2lr

    def objective(self, theta: FloatArray) -> float:
        """``-2 l_R`` at log-Cholesky parameters ``theta``."""
        try:
            return self.gls(self.sigma(theta))[2]
        except np.linalg.LinAlgError:
            return float("inf")


def _central_gradient(f: object, x: FloatArray, h: float) -> FloatArray:
    fun = f  # callable(FloatArray) -> float
    g = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        g[j] = (fun(x + e) - fun(x - e)) / (2 * h)  # type: ignore[operator]
    return g


def central_hessian(f: object, x: FloatArray, h: float = 1e-4) -> FloatArray:
    """Symmetric central-difference Hessian of a scalar function."""
    fun = f
    n = x.size
    H = np.empty((n, n))
    f0 = fun(x)  # type: ignore[operator]
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h
        H[i, i] = (fun(x + ei) - 2 * f0 + fun(x - ei)) / h**2  # type: ignore[operator]
        for j in range(i):
            ej = np.zeros(n)
            ej[j] = h
            H[i, j] = H[j, i] = (
                fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej) + fun(x - ei - ej)  # type: ignore[operator]
            ) / (4 * h**2)
    return H


def satterthwaite_df(
    problem: RemlProblem, theta: FloatArray, contrast: FloatArray, h: float = 1e-4
) -> float:
    """Satterthwaite df of ``c' b_hat`` at the REML optimum ``theta`` (log-Cholesky scale)."""

    def variance(t: FloatArray) -> float:
        return float(contrast @ problem.gls(problem.sigma(t))[1] @ contrast)

    g = _central_gradient(variance, theta, h)
    H = central_hessian(problem.objective, theta, h)
    A = 2.0 * np.linalg.inv(H)
    return float(2.0 * variance(theta) ** 2 / (g @ A @ g))


@dataclass(frozen=True, kw_only=True, eq=False)
class MmrmResult(EstimateResult):
    """MMRM treated-minus-control LS-mean difference in change at the chosen visit.

    ``df`` is Satterthwaite's; the CI and p-value use the t distribution on it.

    Attributes
    ----------
    lsmean_treated, lsmean_control : ndarray
        LS means at the visit (covariates at their patient means, equal stratum weights).
    se_lsmean_treated, se_lsmean_control : ndarray
    covariance : ndarray, shape (replicate, visit, visit)
        REML estimate of the unstructured covariance.
    visit_index : int
        Index (0-based) of the visit of the contrast among the post-baseline visits.
    """

    lsmean_treated: FloatArray
    lsmean_control: FloatArray
    se_lsmean_treated: FloatArray
    se_lsmean_control: FloatArray
    covariance: FloatArray
    visit_index: int = -1


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _MmrmFit:
    b: FloatArray
    phi: FloatArray
    sigma: FloatArray
    theta: FloatArray
    problem: RemlProblem
    x_mean: FloatArray
    n_dummies: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MmrmSpec:
    """MMRM ``chg ~ baseline + visit * treatment (+ covariates) (+ stratum)``, UN covariance.

    Parameters
    ----------
    visit_index : int
        Visit (0-based index among post-baseline visits; negative counts from the end) at which
        the treatment contrast and LS means are reported.
    alpha : float
    """

    visit_index: int = -1
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise AnalysisError(f"alpha must be in (0, 1), got {self.alpha!r}")

    def _design(
        self,
        n_visits: int,
        treated: BoolArray,
        baseline: FloatArray,
        covariates: FloatArray,
        dummies: FloatArray,
    ) -> FloatArray:
        n = treated.size
        visit = np.eye(n_visits)[None].repeat(n, axis=0)  # (n, K, K)
        trt = treated.astype(np.float64)[:, None, None] * visit
        cols = [
            np.ones((n, n_visits, 1)),
            np.repeat(baseline[:, None, None], n_visits, axis=1),
            np.repeat(covariates[:, None, :], n_visits, axis=1),
            np.repeat(dummies[:, None, :], n_visits, axis=1),
            visit[:, :, 1:],
            np.repeat(treated.astype(np.float64)[:, None, None], n_visits, axis=1),
            trt[:, :, 1:],
        ]
        return np.concatenate(cols, axis=-1)

    def _fit_one(self, y: FloatArray, X: FloatArray, n_dummies: int, n_fixed: int) -> _MmrmFit:
        problem = RemlProblem(y, X)
        # start: diagonal covariance from the per-visit residual variance of OLS
        rows = np.isfinite(y)
        beta0 = np.linalg.lstsq(X[rows], y[rows], rcond=None)[0]
        resid = np.where(rows, y - X @ beta0, np.nan)
        var0 = np.nanvar(resid, axis=0)
        var0 = np.where(np.isfinite(var0) & (var0 > 0), var0, np.nanmean(var0))
        theta0 = problem.theta_from_sigma(np.diag(var0))
        res = optimize.minimize(
            problem.objective,
            theta0,
            method="BFGS",
            jac=lambda t: _central_gradient(problem.objective, t, 1e-6),
            options={"gtol": 1e-7, "maxiter": 2000},
        )
        theta = np.asarray(res.x)
        # Newton polish on the finite-difference Hessian (also used for the df)
        for _ in range(2):
            grad = _central_gradient(problem.objective, theta, 1e-5)
            step = np.linalg.solve(central_hessian(problem.objective, theta, 1e-4), grad)
            if problem.objective(theta - step) <= problem.objective(theta):
                theta = theta - step
        S = problem.sigma(theta)
        b, phi, _ = problem.gls(S)
        x_patient = X[:, 0, :n_fixed]
        return _MmrmFit(
            b=b,
            phi=phi,
            sigma=S,
            theta=theta,
            problem=problem,
            x_mean=x_patient.mean(axis=0),
            n_dummies=n_dummies,
        )

    def fit(
        self,
        chg: npt.ArrayLike,
        *,
        baseline: npt.ArrayLike,
        treated: npt.ArrayLike,
        covariates: npt.ArrayLike | None = None,
        stratum: npt.ArrayLike | None = None,
    ) -> MmrmResult:
        """Fit every replicate; ``chg`` is (replicate, patient, visit), NaN where missing."""
        y_all = np.asarray(chg, dtype=np.float64)
        if y_all.ndim == 2:
            y_all = y_all[None]
        if y_all.ndim != 3:
            raise AnalysisError(f"chg must be (replicate, patient, visit), got {y_all.shape}")
        n_rep, n_pat, n_vis = y_all.shape
        if n_vis < 2:
            raise AnalysisError("MMRM needs at least 2 post-baseline visits")
        k = self.visit_index % n_vis
        if not -n_vis <= self.visit_index < n_vis:
            raise AnalysisError(f"visit_index {self.visit_index} out of range for {n_vis} visits")
        shape = (n_rep, n_pat)
        base = as_patient_array("baseline", baseline, n_rep)
        trt = as_treated(treated, shape)
        cov = as_covariates(covariates, shape)
        strat = as_stratum(stratum, shape)
        out = {
            name: np.full(n_rep, np.nan) for name in ("est", "se", "df", "lt", "lc", "slt", "slc")
        }
        n = np.zeros(n_rep, dtype=np.int64)
        status = np.full(n_rep, "ok", dtype=object)
        covariance = np.full((n_rep, n_vis, n_vis), np.nan)
        for r in range(n_rep):
            keep = np.isfinite(base[r]) & np.all(np.isfinite(cov[r]), axis=1)
            keep &= np.isfinite(y_all[r]).any(axis=1)
            dummies = np.zeros((n_pat, 0))
            if strat is not None:
                keep &= strat[r] >= 0
                levels = np.unique(strat[r][keep])
                dummies = (strat[r][:, None] == levels[None, 1:]).astype(np.float64)
            n[r] = keep.sum()
            tr = trt[r][keep]
            if tr.all() or not tr.any():
                status[r] = "cannot fit: an arm has no patients with post-baseline data"
                continue
            X = self._design(n_vis, tr, base[r][keep], cov[r][keep], dummies[keep])
            n_fixed = 2 + cov.shape[-1] + dummies.shape[1]
            try:
                fit = self._fit_one(y_all[r][keep], X, dummies.shape[1], n_fixed)
                p = X.shape[-1]
                c = np.zeros(p)
                c[n_fixed + n_vis - 1] = 1.0
                if k > 0:
                    c[n_fixed + n_vis - 1 + k] = 1.0
                w = np.zeros(p)
                w[:n_fixed] = fit.x_mean
                if fit.n_dummies:
                    w[n_fixed - fit.n_dummies : n_fixed] = 1.0 / (fit.n_dummies + 1)
                if k > 0:
                    w[n_fixed + k - 1] = 1.0
                wt = w + c
                covariance[r] = fit.sigma
                out["est"][r] = c @ fit.b
                out["se"][r] = np.sqrt(c @ fit.phi @ c)
                out["df"][r] = satterthwaite_df(fit.problem, fit.theta, c)
                out["lc"][r] = w @ fit.b
                out["lt"][r] = wt @ fit.b
                out["slc"][r] = np.sqrt(w @ fit.phi @ w)
                out["slt"][r] = np.sqrt(wt @ fit.phi @ wt)
            except np.linalg.LinAlgError as exc:
                status[r] = f"cannot fit: {exc}; too few patients per visit for UN covariance?"
        est, se, df = out["est"], out["se"], out["df"]
        with np.errstate(invalid="ignore"):
            q = stats.t.ppf(1 - self.alpha / 2, df)
            p_value = 2 * stats.t.sf(np.abs(est / se), df)
        return MmrmResult(
            method="MMRM (UN covariance, REML, Satterthwaite df)",
            estimate=est,
            std_error=se,
            ci_low=est - q * se,
            ci_high=est + q * se,
            p_value=p_value,
            df=df,
            n=n,
            status=status.astype(str),
            ci_level=1 - self.alpha,
            lsmean_treated=out["lt"],
            lsmean_control=out["lc"],
            se_lsmean_treated=out["slt"],
            se_lsmean_control=out["slc"],
            covariance=covariance,
            visit_index=k,
        )
