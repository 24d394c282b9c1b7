"""Gaussian-process emulators of simulated statistics over the space of free parameters.

Each output (a target statistic's mean over replicates, or the log of its replicate-to-replicate
SD) gets its own GP (scikit-learn; constant x anisotropic RBF + white noise, hyperparameters by
maximum marginal likelihood with a fixed `random_state`). Inputs are the free parameters on their
prior's standardised scale, so every length scale is in prior SDs. The hyperparameters may be
fitted on the first `hyper_points` design points (a Sobol design's leading points are a design
themselves) and the GP then conditioned on every point: the cost of the fit stays that of the
smaller design. Predictions are of the smooth part (the white noise, which holds the Monte Carlo
error of the simulated means, is accounted for by the likelihood itself). The leave-one-out check
uses the closed form (Rasmussen & Williams 2006, s.5.4.2): no refits.

A GP's own variance can understate its error (Bastos & O'Hagan 2009): `Emulator.calibrated`
scales each output's predictive variance by the mean square of its standardised leave-one-out
errors where that exceeds 1, so the variance matches the error measured on the design.
"""

import warnings
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import cho_solve, solve_triangular
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

FloatArray = NDArray[np.float64]


def _kernel(n_dims: int) -> ConstantKernel:
    return ConstantKernel(1.0, (1e-3, 1e3)) * RBF(
        length_scale=np.full(n_dims, 2.0), length_scale_bounds=(0.05, 200.0)
    ) + WhiteKernel(1e-3, (1e-8, 1.0))


@dataclass(frozen=True, slots=True)
class LeaveOneOut:
    """Closed-form leave-one-out predictions at the design points of one emulator."""

    residual: FloatArray
    sd: FloatArray

    @property
    def standardized(self) -> FloatArray:
        out: FloatArray = self.residual / self.sd
        return out


@dataclass(frozen=True, slots=True)
class Emulator:
    """One GP per output name, all over the same design points `u` (point, parameter), and per
    output the factor its predictive variance is multiplied by (`calibrated`; none: 1)."""

    names: tuple[str, ...]
    u: FloatArray
    y: FloatArray
    models: tuple[GaussianProcessRegressor, ...]
    variance_scale: tuple[float, ...] = ()

    def predict(
        self, u: FloatArray, names: tuple[str, ...], *, variance: bool = True
    ) -> tuple[FloatArray, FloatArray]:
        """Mean and variance of the smooth part of each named output at points `u`, both
        (point, output); the variance is zero when `variance` is False (cheaper)."""
        u = np.atleast_2d(u)
        means = np.empty((u.shape[0], len(names)))
        variances = np.zeros_like(means)
        for j, name in enumerate(names):
            k = self.names.index(name)
            model = self.models[k]
            smooth = model.kernel_.k1  # constant x RBF, without the white noise
            scale = float(np.atleast_1d(model._y_train_std)[0])
            cross = smooth(u, model.X_train_)
            means[:, j] = (cross @ model.alpha_).ravel() * scale + float(
                np.atleast_1d(model._y_train_mean)[0]
            )
            if variance:
                v = solve_triangular(model.L_, cross.T, lower=True, check_finite=False)
                latent = smooth.diag(u) - np.einsum("ij,ij->j", v, v)
                inflation = self.variance_scale[k] if self.variance_scale else 1.0
                variances[:, j] = np.maximum(latent, 0.0) * scale**2 * inflation
        return means, variances

    def leave_one_out(self, name: str) -> LeaveOneOut:
        """Leave-one-out residuals (observed - predicted) and predictive SDs at the design."""
        model = self.models[self.names.index(name)]
        inverse = cho_solve((model.L_, True), np.eye(model.L_.shape[0]))
        diagonal = np.diag(inverse)
        scale = float(np.atleast_1d(model._y_train_std)[0])
        residual = model.alpha_.ravel() / diagonal * scale
        return LeaveOneOut(residual=residual, sd=np.sqrt(1.0 / diagonal) * scale)

    def calibrated(self) -> "Emulator":
        """The same GPs, each output's predictive variance multiplied by the mean square of its
        standardised leave-one-out errors where that exceeds 1 (never narrowed): the variance
        then matches the emulator's error measured on the design."""
        factors = tuple(
            max(1.0, float(np.mean(self.leave_one_out(name).standardized ** 2)))
            for name in self.names
        )
        return replace(self, variance_scale=factors)


def fit_emulator(
    u: FloatArray,
    outputs: dict[str, FloatArray],
    *,
    seed: int,
    restarts: int = 2,
    hyper_points: int | None = None,
) -> Emulator:
    """Fit one GP per output (`outputs[name]` shaped (point,)); non-finite points are left out
    of that output's fit. Hyperparameters from the first `hyper_points` finite points (all by
    default), then the GP conditioned on every finite point."""
    names = tuple(outputs)
    models = []
    for k, name in enumerate(names):
        y = outputs[name]
        ok = np.flatnonzero(np.isfinite(y))
        subset = ok if hyper_points is None else ok[:hyper_points]
        model = GaussianProcessRegressor(
            kernel=_kernel(u.shape[1]),
            normalize_y=True,
            n_restarts_optimizer=restarts,
            random_state=seed + k,
        )
        with warnings.catch_warnings():
            # a bound reached or a slow optimiser is judged by the leave-one-out check instead
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(u[subset], y[subset])
        if subset.size < ok.size:
            model = GaussianProcessRegressor(
                kernel=model.kernel_, optimizer=None, normalize_y=True
            ).fit(u[ok], y[ok])
        models.append(model)
    y_all = np.column_stack([outputs[n] for n in names])
    return Emulator(names=names, u=u, y=y_all, models=tuple(models))
