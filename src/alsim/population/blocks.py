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
    block_parameters = [p for p in parameters.parameters if p.block == block]
    z = rng.standard_normal((len(block_parameters), n_patients))
    values: dict[str, FloatArray] = {}
    for p, z_row in zip(block_parameters, z, strict=True):
        if p.variability == "lognormal":
            values[p.name] = p.value * np.exp(z_row * p.omega)
        elif p.variability == "logitnormal":
            values[p.name] = expit(logit(p.value) + z_row * p.omega)
        elif p.variability == "normal":
            values[p.name] = p.value + z_row * p.omega
        else:
            values[p.name] = np.full(n_patients, p.value)
    return values
