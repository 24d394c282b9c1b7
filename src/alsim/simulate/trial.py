"""Simulate replicates of a trial: patients, doses, the model, measurement noise and dropout.

Replicate r draws everything from `SeedSequence(seed, spawn_key=(r,))`, so its numbers do not
depend on how many replicates run, in which chunk, or on which worker. Within a run the model is
solved once for all replicates and patients together.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alsim.design.trial import TrialDesign
from alsim.errors import AlsimError
from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet
from alsim.model.system import DoseSchedule, solve
from alsim.population.sampling import Population, sample_population

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

MAX_REPLICATES = 1_000_000
DAYS_PER_YEAR = 365.25

RESIDUAL_SD_PARAMETER = {
    "CSFSOD1": "sigma_csf_sod1",
    "PLNFL": "sigma_plasma_nfl",
    "CSFNFL": "sigma_csf_nfl",
}


@dataclass(frozen=True, slots=True)
class TrialSimulation:
    """Replicates of one trial. Patient arrays are (replicate, patient); endpoint arrays are
    (replicate, patient, time) over the design's visits, NaN where a visit was missed (dropout)."""

    design: TrialDesign
    seed: int
    replicate: IntArray
    arm_index: IntArray
    group_index: IntArray
    age_years: FloatArray
    male: BoolArray
    a4v: BoolArray
    parameters: dict[str, FloatArray]
    dropout_day: FloatArray
    visit_days: IntArray
    true_values: dict[str, FloatArray]
    observed: dict[str, FloatArray]

    @property
    def n_replicates(self) -> int:
        return int(self.replicate.shape[0])

    @property
    def n_patients(self) -> int:
        return int(self.arm_index.shape[0])

    def visit_position(self, visit: str) -> int:
        """Index along the time axis of the visit named `visit`."""
        names = [v.name for v in self.design.visits]
        if visit not in names:
            raise AlsimError(f"unknown visit {visit!r}; allowed: {', '.join(names)}")
        return names.index(visit)


def replicate_rng(seed: int, replicate: int) -> np.random.Generator:
    """The random stream of one replicate: child `replicate` of the run's seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replicate,)))


def _stack(
    populations: list[Population],
) -> tuple[FloatArray, BoolArray, BoolArray, dict[str, FloatArray]]:
    names = populations[0].parameters
    return (
        np.stack([p.age_years for p in populations]),
        np.stack([p.male for p in populations]),
        np.stack([p.a4v for p in populations]),
        {name: np.stack([p.parameters[name] for p in populations]) for name in names},
    )


def simulate_trial(
    design: TrialDesign,
    *,
    n_replicates: int,
    seed: int,
    parameters: ParameterSet = DEFAULT_PARAMETERS,
    first_replicate: int = 0,
) -> TrialSimulation:
    """Simulate replicates `first_replicate .. first_replicate + n_replicates - 1` of `design`."""
    if not 1 <= n_replicates <= MAX_REPLICATES:
        raise AlsimError(f"replicates must be 1..{MAX_REPLICATES}, got {n_replicates}")
    if seed < 0 or first_replicate < 0:
        raise AlsimError(f"seed and first replicate must be >= 0, got {seed}, {first_replicate}")
    arm_index, group_index = design.allocation()
    n_patients = arm_index.shape[0]
    visit_days = np.array([v.day for v in design.visits], dtype=np.int64)
    endpoints = design.endpoints
    replicates = np.arange(first_replicate, first_replicate + n_replicates, dtype=np.int64)

    populations: list[Population] = []
    noise: list[FloatArray] = []
    dropout: list[FloatArray] = []
    for r in replicates:
        rng = replicate_rng(seed, int(r))
        populations.append(sample_population(design.population, parameters, n_patients, rng))
        noise.append(rng.standard_normal((len(endpoints), n_patients, visit_days.size)))
        if design.dropout_per_year > 0:
            mean_days = DAYS_PER_YEAR / design.dropout_per_year
            dropout.append(1.0 + np.asarray(rng.exponential(mean_days, n_patients), np.float64))
        else:
            dropout.append(np.full(n_patients, np.inf))
    age, male, a4v, individual = _stack(populations)
    z = np.stack(noise)
    dropout_day = np.stack(dropout)

    dose_days = np.array(design.regimen.dose_days, dtype=np.float64)
    arm_dose_mg = np.array([arm.dose_mg for arm in design.arms])[arm_index]
    amount_mg = np.where(
        dose_days[None, None, :] < dropout_day[:, :, None], arm_dose_mg[None, :, None], 0.0
    )
    flat = {name: values.reshape(-1) for name, values in individual.items()}
    trajectories = solve(
        flat,
        DoseSchedule(t_days=dose_days - 1.0, amount_mg=amount_mg.reshape(-1, dose_days.size)),
        visit_days.astype(np.float64) - 1.0,
    )
    shape = (n_replicates, n_patients, visit_days.size)
    p = trajectories.sod1_protein.reshape(shape)
    n = trajectories.nfl.reshape(shape)
    f_cns = individual["f_cns"][:, :, None]
    plasma_nfl = individual["plasma_nfl_base_pg_ml"][:, :, None] * n
    true_values = {
        "CSFSOD1": individual["csf_sod1_base_ng_ml"][:, :, None] * (f_cns * p + 1.0 - f_cns),
        "PLNFL": plasma_nfl,
        "CSFNFL": plasma_nfl * individual["csf_plasma_nfl_ratio"][:, :, None],
    }
    observed_visit = visit_days[None, None, :] <= dropout_day[:, :, None]
    observed: dict[str, FloatArray] = {}
    for k, endpoint in enumerate(endpoints):
        sigma = individual[RESIDUAL_SD_PARAMETER[endpoint]][:, :, None]
        noisy = true_values[endpoint] * np.exp(sigma * z[:, k])
        observed[endpoint] = np.where(observed_visit, noisy, np.nan)

    return TrialSimulation(
        design=design,
        seed=seed,
        replicate=replicates,
        arm_index=arm_index,
        group_index=group_index,
        age_years=age,
        male=male,
        a4v=a4v,
        parameters=individual,
        dropout_day=dropout_day,
        visit_days=visit_days,
        true_values={k: true_values[k] for k in endpoints},
        observed=observed,
    )
