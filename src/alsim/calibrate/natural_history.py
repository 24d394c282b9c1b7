"""The untreated course of SOD1-ALS natural history (Bali 2016/2017), measured by variant class.

The natural-history cohort is the population that presents for a first visit, before any trial
eligibility (`alsim.population.progression`). These helpers measure it with common random numbers
(one generator seed per class): survival from onset and its median by class and over Bali's A4V
share. The values behind it (pre-study slopes, respiratory paces, the hazard) are fitted jointly
by `alsim calibrate` (target group ``natural_history``); tests and the plausibility suite use
these measurements.
"""

import numpy as np
from numpy.typing import NDArray

from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet
from alsim.population.progression import (
    DiseaseCourse,
    draw_courses,
    survival_from_onset_years,
)
from alsim.population.sampling import PopulationSpec

FloatArray = NDArray[np.float64]
N_PER_CLASS = 40_000
SEED = 1


def class_cohort(
    parameters: ParameterSet, a4v: bool, *, n: int = N_PER_CLASS, seed: int = SEED
) -> DiseaseCourse:
    """Untreated patients of one class who reach a first visit (no eligibility criteria)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(a4v),)))
    course, presents = draw_courses(parameters, np.full(n, a4v), rng)
    return course.take(presents)


def mixture_median(samples: dict[bool, FloatArray], a4v_fraction: float) -> float:
    """Median of the mixture of the class samples with weight `a4v_fraction` on A4V."""
    values = np.concatenate([samples[True], samples[False]])
    weights = np.concatenate(
        [
            np.full(samples[True].size, a4v_fraction / samples[True].size),
            np.full(samples[False].size, (1.0 - a4v_fraction) / samples[False].size),
        ]
    )
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5)])


def survival_by_class(parameters: ParameterSet, *, seed: int = SEED) -> dict[bool, FloatArray]:
    """Survival from onset (years) of each class's natural-history cohort."""
    return {
        a4v: survival_from_onset_years(class_cohort(parameters, a4v, seed=seed))
        for a4v in (True, False)
    }


def median_survival(parameters: ParameterSet, *, seed: int = SEED) -> dict[str, float]:
    """Median survival from onset (years): A4V, NON-A4V and ALL (Bali's A4V share)."""
    samples = survival_by_class(parameters, seed=seed)
    return {
        "A4V": float(np.median(samples[True])),
        "NON-A4V": float(np.median(samples[False])),
        "ALL": mixture_median(samples, PopulationSpec().a4v_fraction),
    }


def log_range(parameters: ParameterSet, name: str) -> tuple[float, float]:
    """The log of a parameter's sourced plausible range: where a fit may look."""
    spec = parameters[name]
    low, high = spec.sensitivity or (spec.value, spec.value)
    return float(np.log(low)), float(np.log(high))


def from_log(parameters: ParameterSet, name: str, log_value: float) -> float:
    """exp(log_value), kept inside the parameter's range despite rounding."""
    spec = parameters[name]
    low, high = spec.sensitivity or (-np.inf, np.inf)
    return float(np.clip(np.exp(log_value), low, high))


def main() -> None:
    medians = median_survival(DEFAULT_PARAMETERS)
    print("median survival " + ", ".join(f"{k} {v:.2f} y" for k, v in medians.items()))


if __name__ == "__main__":
    main()
