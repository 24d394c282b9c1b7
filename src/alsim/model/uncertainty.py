"""Parameter uncertainty for predictions and assurance: one parameter set per replicate.

Two sources, never combined in one run:

- the posterior draws of the shipped calibration (`shipped_posterior`, `alsim simulate|reproduce
  |power --uncertainty`): replicate `r` of a run with seed `s` uses draw number
  ``SeedSequence(s, spawn_key=(r, DRAW_STREAM)).integers(n_draws)``, the same draw whatever the
  number of replicates, the chunking or the worker; every other parameter keeps its value;
- a design prior over the sensitivity ranges of the parameter table (`prior_parameter_sets`,
  `alsim power --vary parameters=prior`): every parameter with a range is drawn, independently,
  log-uniformly within it (uniformly where the range starts at 0 or below); every other parameter
  keeps its typical value. Replicate r draws from ``SeedSequence(seed, spawn_key=(r,
  PRIOR_STREAM))``.

Both streams are used by no other part of a simulation.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from alsim.errors import AlsimError
from alsim.model.parameters import (
    CALIBRATION_DIR,
    CALIBRATION_DRAWS,
    DEFAULT_PARAMETERS,
    ParameterSet,
    shipped_calibration,
)

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


FloatArray = NDArray[np.float64]
DRAW_STREAM = 3_000_017  # the same number as PRIOR_STREAM: the two are never combined


@dataclass(frozen=True, slots=True, eq=False)
class PosteriorDraws:
    """Posterior draws of the free parameters, (draw, parameter) on their own scale."""

    names: tuple[str, ...]
    values: FloatArray
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape[1] != len(self.names):
            raise AlsimError("posterior draws must be (draw, parameter) with one column per name")
        if self.values.shape[0] < 1:
            raise AlsimError("posterior draws: need at least one draw")

    @property
    def n_draws(self) -> int:
        return int(self.values.shape[0])

    def draw_index(self, seed: int, replicate: int) -> int:
        """The draw replicate `replicate` of a run with `seed` uses."""
        stream = np.random.SeedSequence(seed, spawn_key=(replicate, DRAW_STREAM))
        return int(np.random.default_rng(stream).integers(self.n_draws))

    def parameters_for(
        self, seed: int, replicate: int, base: ParameterSet = DEFAULT_PARAMETERS
    ) -> ParameterSet:
        """`base` with the free parameters at the replicate's posterior draw."""
        row = self.values[self.draw_index(seed, replicate)]
        return base.with_free({n: float(v) for n, v in zip(self.names, row, strict=True)})


@cache
def shipped_posterior() -> PosteriorDraws:
    """The posterior draws shipped with alsim (`alsim calibrate`'s posterior.parquet)."""
    from importlib.resources import as_file, files

    import pyarrow.parquet as pq

    summary = shipped_calibration()
    resource = files("alsim.model").joinpath(*CALIBRATION_DIR, CALIBRATION_DRAWS)
    if summary is None or not resource.is_file():
        raise AlsimError(
            "no shipped calibration: --uncertainty needs posterior draws; run alsim calibrate "
            "(see README.md)"
        )
    with as_file(resource) as path:
        table = pq.read_table(path)
    names = tuple(summary["parameters"])
    values = np.column_stack([table.column(n).to_numpy() for n in names]).astype(np.float64)
    return PosteriorDraws(names=names, values=values, fingerprint=summary["model_fingerprint"])
