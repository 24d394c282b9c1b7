"""Individual values of a block of the parameter table, drawn in table order."""

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, logit

from alsim.model.parameters import ParameterSet

FloatArray = NDArray[np.float64]


def sample_parameter_block(
    parameters: ParameterSet, block: str, n_patients: int, rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Individual values of every parameter of `block`, in table order: one standard-normal
    draw per parameter and patient (also for parameters without variability), parameter by
    parameter, so the draw order is fixed."""
    names = [name for name in parameters if parameters[name].block == block]
    z = rng.standard_normal((len(names), n_patients))
    values: dict[str, FloatArray] = {}
    for name, z_row in zip(names, z, strict=True):
        p = parameters[name]
        eta = z_row * p.omega
        if p.variability == "lognormal":
            values[name] = p.value * np.exp(eta)
        elif p.variability == "logitnormal":
            values[name] = expit(logit(p.value) + eta)
        elif p.variability == "normal":
            values[name] = p.value + eta
        else:
            values[name] = np.full(n_patients, p.value)
    return values
