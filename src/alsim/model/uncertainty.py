"""Parameter uncertainty for predictions and assurance: one parameter set per replicate.

The posterior draws of the shipped calibration (`shipped_posterior`; `alsim simulate|reproduce
|power --uncertainty`, `alsim power --vary parameters=posterior`): replicate `r` of a run with
seed `s` uses draw number ``SeedSequence(s, spawn_key=(r, DRAW_STREAM)).integers(n_draws)``, the
same draw whatever the number of replicates, the chunking or the worker; every parameter that is
not free in the calibration keeps its table value. The stream is used by no other part of a
simulation.
"""

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

FloatArray = NDArray[np.float64]
DRAW_STREAM = 3_000_017


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
