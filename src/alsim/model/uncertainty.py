"""Parameter uncertainty for predictions and assurance: one parameter set per replicate.

Until a calibration posterior is shipped, the uncertainty is a design prior over the sensitivity
ranges of the parameter table: every parameter with a range is drawn, independently,
log-uniformly within it (uniformly where the range starts at 0 or below); every other parameter
keeps its typical value. Replicate r draws from ``SeedSequence(seed, spawn_key=(r,
PRIOR_STREAM))``, a stream no other part of a simulation uses, so the same seed gives the same
parameter sets whatever the chunking.
"""

from collections.abc import Sequence

import numpy as np

from alsim.model.parameters import ParameterSet

PRIOR_STREAM = 3_000_017


def uncertain_parameters(parameters: ParameterSet) -> tuple[str, ...]:
    """Names of the parameters the design prior varies (those with a sensitivity range)."""
    return tuple(name for name in parameters if parameters[name].sensitivity is not None)


def prior_parameter_sets(
    parameters: ParameterSet, *, seed: int, replicates: Sequence[int]
) -> list[ParameterSet]:
    """One parameter set per replicate, drawn from the design prior (see the module docstring)."""
    names = uncertain_parameters(parameters)
    sets = []
    for r in replicates:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(r), PRIOR_STREAM)))
        values = {}
        for name in names:
            low, high = parameters[name].sensitivity or (0.0, 0.0)
            u = float(rng.random())
            if low > 0:
                values[name] = float(np.exp(np.log(low) + u * (np.log(high) - np.log(low))))
            else:
                values[name] = low + u * (high - low)
        sets.append(parameters.with_values(**values))
    return sets
