"""Mixed model for repeated measures: unstructured covariance over visits, REML, Satterthwaite.

Model for patient ``i`` at its observed visits ``O_i``::

    chg_ik = mu_k + tau_k * treated_i + beta * baseline_i (+ gamma' x_i) (+ stratum) + e_ik
    e_i ~ N(0, S[O_i, O_i]),  S unstructured (K x K)

i.e. ``chg ~ baseline + visit * treatment (+ covariates)`` as in R. ``S = L L'`` with ``L``
lower-triangular and its diagonal on the log scale, so the REML optimisation is unconstrained
(SCIENCE.md section 7):

    -2 l_R(theta) = sum_i [log|S_i| + r_i' S_i^-1 r_i] + log|sum_i X_i' S_i^-1 X_i|

with ``b_hat`` the GLS estimate for the current ``S``. Every patient is processed in one set of
batched array operations (each visit pattern's block padded to ``K x K``), and the gradient of
``-2 l_R`` is analytic (`RemlProblem`). The optimum is found by scoring steps with the expected
information (start: the covariance of OLS residuals), then one Newton step on the observed
Hessian (forward differences of the analytic gradient), which also serves the df. The contrast
at a visit has SE ``sqrt(c' Phi c)``, ``Phi = (sum_i X_i' S_i^-1 X_i)^-1``, and Satterthwaite
df ``2 (c' Phi c)^2 / (g' A g)`` with ``g = d(c' Phi c)/d theta`` (analytic) and
``A = 2 H^-1``. Kenward-Roger is not implemented. About 0.05 s per replicate of 108 patients x
8 visits on one core (`benchmarks/bench_mmrm.py`, against R ``nlme::gls``); replicates are
fitted one after another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsim.analysis._arrays import as_covariates, as_patient_array, as_stratum, as_treated
from alsim.analysis._result import BoolArray, EstimateResult, FloatArray
from alsim.errors import AnalysisError

__all__ = ["MmrmResult", "MmrmSpec", "RemlProblem"]

CONVERGENCE_GRADIENT = 1e-2  # largest |d(-2 l_R)/d theta| accepted at the optimum


class RemlProblem:
    """The REML objective of one trial (internal, final).

    Patients are processed together, each visit pattern's covariance block padded to ``K x K``
    (identity on the missing visits, masked out of the inverse), so one evaluation is a handful
    of batched array operations whatever the pattern. `value_and_gradient` returns ``-2 l_R``
    and its analytic gradient in the log-Cholesky parameters: with ``b = b_hat(S)`` (the
    profile, whose own derivative vanishes), ``d(-2 l_R) = tr(G dS)`` with
    ``G = sum_i S_i^-1 - S_i^-1 (r_i r_i' + X_i Phi X_i') S_i^-1`` (each embedded at the
    patient's visits), and through ``S = L L'``, ``d/dL = 2 G L`` (times ``L_kk`` on the log
    diagonal).

    Parameters
    ----------
    y : (patient, visit) outcomes, NaN where missing.
    X : (patient, visit, p) fixed-effect design rows.
    """

    def __init__(self, y: FloatArray, X: FloatArray) -> None:
        self.n_visits = y.shape[1]
        self.n_params = X.shape[2]
        observed = np.isfinite(y)
        keep = observed.any(axis=1)
        observed = observed[keep]
        self.patterns, self.pattern_of = np.unique(observed, axis=0, return_inverse=True)
        self.pattern_of = self.pattern_of.ravel()
        self.pattern_count = np.bincount(self.pattern_of, minlength=len(self.patterns))
        self.block = self.patterns[:, :, None] & self.patterns[:, None, :]  # (pattern, K, K)
        self.y = np.where(observed, y[keep], 0.0)
        self.X = np.where(observed[..., None], X[keep], 0.0)
        self.n_obs = int(observed.sum())
        self.tril = np.tril_indices(self.n_visits)
        self.diagonal = np.flatnonzero(self.tril[0] == self.tril[1])
        self._eye = np.eye(self.n_visits)

    def cholesky_factor(self, theta: FloatArray) -> FloatArray:
        """``L`` with ``S = L L'`` from the log-Cholesky parameters."""
        L = np.zeros((self.n_visits, self.n_visits))
        L[self.tril] = theta
        diag = np.arange(self.n_visits)
        L[diag, diag] = np.exp(L[diag, diag])
        return L

    def sigma(self, theta: FloatArray) -> FloatArray:
        """Covariance ``S = L L'`` from the log-Cholesky parameters."""
        L = self.cholesky_factor(theta)
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
        b, phi, m2lr, _ = self._fit(S, gradient=False)
        return b, phi, m2lr

    def _fit(
        self, S: FloatArray, *, gradient: bool, contrast: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray, float, FloatArray]:
        """GLS at ``S``; with `gradient` also ``G = d(-2 l_R)/dS`` (or, given a `contrast`
        ``c``, ``d(c' Phi c)/dS``)."""
        p, K = self.n_params, self.n_visits
        padded = np.where(self.block, S, self._eye)
        chol = np.linalg.cholesky(padded)
        logdet = 2.0 * float(
            self.pattern_count @ np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1)
        )
        s_inv_pattern = np.where(self.block, np.linalg.inv(padded), 0.0)
        s_inv = s_inv_pattern[self.pattern_of]  # (patient, K, K)
        W = s_inv @ self.X  # S_i^-1 X_i
        Xf = self.X.reshape(-1, p)
        xsx = Xf.T @ W.reshape(-1, p)
        sy = (s_inv @ self.y[..., None])[..., 0]
        xsy = Xf.T @ sy.reshape(-1)
        ysy = float(np.sum(self.y * sy))
        chol_x = np.linalg.cholesky(xsx)  # raises if the design is singular
        phi: FloatArray = np.linalg.inv(xsx)
        b = phi @ xsy
        m2lr = logdet + ysy - float(b @ xsy) + 2.0 * float(np.sum(np.log(np.diag(chol_x))))
        if not gradient:
            return b, phi, m2lr, np.zeros((K, K))
        if contrast is not None:
            u = W @ (phi @ contrast)  # S_i^-1 X_i Phi c
            return b, phi, m2lr, u.T @ u
        s_r = sy - W @ b  # S_i^-1 r_i
        w_phi = (W @ phi).transpose(1, 0, 2).reshape(K, -1)
        G = self.pattern_count @ s_inv_pattern.reshape(len(self.patterns), -1)
        G = G.reshape(K, K) - s_r.T @ s_r - w_phi @ W.transpose(1, 0, 2).reshape(K, -1).T
        return b, phi, m2lr, G

    def _chain(self, G: FloatArray, L: FloatArray) -> FloatArray:
        """``d/dtheta`` from ``d/dS = G`` (symmetric) through ``S = L L'``."""
        dL = 2.0 * G @ L
        grad: FloatArray = np.asarray(dL[self.tril], dtype=np.float64)
        grad[self.diagonal] *= L[self.tril][self.diagonal]
        return grad

    def value_and_gradient(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """``-2 l_R`` and its gradient at log-Cholesky parameters ``theta``."""
        L = self.cholesky_factor(theta)
        try:
            _, _, m2lr, G = self._fit(L @ L.T, gradient=True)
        except np.linalg.LinAlgError:
            return float("inf"), np.zeros_like(theta)
        return m2lr, self._chain(G, L)

    def objective(self, theta: FloatArray) -> float:
        """``-2 l_R`` at log-Cholesky parameters ``theta``."""
        try:
            return self.gls(self.sigma(theta))[2]
        except np.linalg.LinAlgError:
            return float("inf")

    def gradient(self, theta: FloatArray) -> FloatArray:
        """Gradient of ``-2 l_R`` in ``theta``."""
        return self.value_and_gradient(theta)[1]

    def contrast_variance_gradient(self, theta: FloatArray, contrast: FloatArray) -> FloatArray:
        """Gradient in ``theta`` of ``c' Phi c``."""
        L = self.cholesky_factor(theta)
        _, _, _, G = self._fit(L @ L.T, gradient=True, contrast=contrast)
        return self._chain(G, L)

    def hessian(self, theta: FloatArray, h: float = 1e-6) -> FloatArray:
        """Hessian of ``-2 l_R``: forward differences of the analytic gradient, symmetrised."""
        n = theta.size
        H = np.empty((n, n))
        g0 = self.gradient(theta)
        for j in range(n):
            e = np.zeros(n)
            e[j] = h
            H[:, j] = (self.gradient(theta + e) - g0) / h
        return 0.5 * (H + H.T)

    def expected_information(self, theta: FloatArray) -> FloatArray:
        """``J' M J``: the expected Hessian of ``-2 l`` (ML part) in ``theta``, the metric of the
        scoring steps. ``M`` sums ``tr(S_i^-1 dS S_i^-1 dS)`` over patients; ``J`` maps
        ``dtheta`` to ``dS`` through ``S = L L'``."""
        L = self.cholesky_factor(theta)
        K = self.n_visits
        rows, cols = self.tril
        D = np.zeros((rows.size, K, K))
        index = np.arange(rows.size)
        D[index, rows, :] += L[:, cols].T
        D[index, :, rows] += L[:, cols].T
        D[self.diagonal] *= L[rows[self.diagonal], cols[self.diagonal]][:, None, None]
        padded = np.where(self.block, self.sigma(theta), self._eye)
        A = np.where(self.block, np.linalg.inv(padded), 0.0)  # (pattern, K, K)
        ADA = A[:, None] @ D[None] @ A[:, None]  # (pattern, parameter, K, K)
        weighted = np.tensordot(self.pattern_count.astype(np.float64), ADA, axes=1)
        info: FloatArray = weighted.reshape(rows.size, -1) @ D.reshape(rows.size, -1).T
        return info

    def maximise(
        self, theta: FloatArray, *, tolerance: float = 1e-6, max_steps: int = 200
    ) -> FloatArray:
        """Scoring steps with the expected information and step halving from `theta`, until a
        step is below `tolerance` (a Newton step on the observed Hessian then finishes)."""
        value, grad = self.value_and_gradient(theta)
        for _ in range(max_steps):
            step = np.linalg.solve(self.expected_information(theta), grad)
            for _ in range(40):
                candidate = theta - step
                new_value, new_grad = self.value_and_gradient(candidate)
                if new_value <= value + 1e-12 * abs(value):
                    break
                step = step / 2
            else:
                break
            theta, value, grad = candidate, new_value, new_grad
            if np.max(np.abs(step)) < tolerance:
                break
        return theta


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
    problem: RemlProblem,
    theta: FloatArray,
    contrast: FloatArray,
    hessian: FloatArray | None = None,
) -> float:
    """Satterthwaite df of ``c' b_hat`` at the REML optimum ``theta`` (log-Cholesky scale):
    ``2 (c' Phi c)^2 / (g' A g)``, ``g`` the analytic gradient of ``c' Phi c``, ``A = 2 H^-1``."""
    H = problem.hessian(theta) if hessian is None else hessian
    g = problem.contrast_variance_gradient(theta, contrast)
    variance = float(contrast @ problem.gls(problem.sigma(theta))[1] @ contrast)
    return float(2.0 * variance**2 / (g @ (2.0 * np.linalg.solve(H, g))))


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
    hessian: FloatArray
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
        # start: the covariance of OLS residuals (pairwise), or their variances if not PD
        rows = np.isfinite(y)
        beta0 = np.linalg.lstsq(X[rows], y[rows], rcond=None)[0]
        resid = np.where(rows, y - X @ beta0, np.nan)
        filled = np.where(rows, resid, 0.0)
        count = rows.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            var0 = (filled**2).sum(axis=0) / count
        fallback = float(np.sum(filled**2) / max(int(count.sum()), 1)) or 1.0
        var0 = np.where(np.isfinite(var0) & (var0 > 0), var0, fallback)
        start = np.diag(var0)
        # residuals have mean zero at every visit (the visit effects): pairwise cross-products
        pairs = rows.T.astype(np.float64) @ rows
        with np.errstate(invalid="ignore", divide="ignore"):
            full = np.where(pairs > 1, filled.T @ filled / (pairs - 1), np.nan)
        if np.all(np.isfinite(full)) and np.linalg.eigvalsh(full)[0] > 1e-8 * var0.max():
            start = full
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            theta = problem.maximise(problem.theta_from_sigma(start))
            # Newton polish on the Hessian (differences of the analytic gradient), kept for the df
            hessian = problem.hessian(theta)
            step = np.linalg.solve(hessian, problem.gradient(theta))
            if problem.objective(theta - step) <= problem.objective(theta):
                theta = theta - step
            S = problem.sigma(theta)
            b, phi, _ = problem.gls(S)
            gradient = problem.gradient(theta)
        finite = all(np.all(np.isfinite(a)) for a in (theta, hessian, S, b, phi, gradient))
        if not finite or np.max(np.abs(gradient)) > CONVERGENCE_GRADIENT:
            raise np.linalg.LinAlgError("REML did not converge (a degenerate covariance)")
        x_patient = X[:, 0, :n_fixed]
        return _MmrmFit(
            b=b,
            phi=phi,
            sigma=S,
            theta=theta,
            hessian=hessian,
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
                out["df"][r] = satterthwaite_df(fit.problem, fit.theta, c, fit.hessian)
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
