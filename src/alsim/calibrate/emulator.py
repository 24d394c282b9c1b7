"""Gaussian-process emulators of simulated statistics over the space of free parameters.

Each output (a target statistic's mean over replicates, or the log of its replicate-to-replicate
SD) gets its own GP (scikit-learn; constant x anisotropic RBF + white noise, hyperparameters by
maximum marginal likelihood with a fixed `random_state`). Inputs are the free parameters on their
prior's standardised scale, so every length scale is in prior SDs. The leave-one-out check uses
the closed form (Rasmussen & Williams 2006, s.5.4.2): no refits.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import cho_solve
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
    """One GP per output name, all over the same design points `u` (point, parameter)."""

    names: tuple[str, ...]
    u: FloatArray
    y: FloatArray
    models: tuple[GaussianProcessRegressor, ...]

    def predict(self, u: FloatArray, names: tuple[str, ...]) -> tuple[FloatArray, FloatArray]:
        """Mean and variance of each named output at points `u`, both (point, output)."""
        u = np.atleast_2d(u)
        means = np.empty((u.shape[0], len(names)))
        variances = np.empty_like(means)
        for j, name in enumerate(names):
            model = self.models[self.names.index(name)]
            mean, sd = model.predict(u, return_std=True)
            means[:, j] = mean
            variances[:, j] = np.asarray(sd) ** 2
        return means, variances

    def leave_one_out(self, name: str) -> LeaveOneOut:
        """Leave-one-out residuals (observed - predicted) and predictive SDs at the design."""
        model = self.models[self.names.index(name)]
        inverse = cho_solve((model.L_, True), np.eye(model.L_.shape[0]))
        diagonal = np.diag(inverse)
        scale = float(np.atleast_1d(model._y_train_std)[0])
        residual = model.alpha_.ravel() / diagonal * scale
        return LeaveOneOut(residual=residual, sd=np.sqrt(1.0 / diagonal) * scale)


def fit_emulator(
    u: FloatArray, outputs: dict[str, FloatArray], *, seed: int, restarts: int = 2
) -> Emulator:
    """Fit one GP per output (`outputs[name]` shaped (point,)); non-finite points are left out
    of that output's fit."""
    names = tuple(outputs)
    models = []
    for k, name in enumerate(names):
        y = outputs[name]
        ok = np.isfinite(y)
        model = GaussianProcessRegressor(
            kernel=_kernel(u.shape[1]),
            normalize_y=True,
            n_restarts_optimizer=restarts,
            random_state=seed + k,
        )
        with warnings.catch_warnings():
            # a bound reached or a slow optimiser is judged by the leave-one-out check instead
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(u[ok], y[ok])
        models.append(model)
    y_all = np.column_stack([outputs[n] for n in names])
    return Emulator(names=names, u=u, y=y_all, models=tuple(models))
