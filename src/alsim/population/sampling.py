"""Virtual patients: covariates generated first, then model parameters that depend on them.

Variant class -> baseline plasma NfL (A4V-like variants progress faster and start with higher NfL),
so correlations arise by construction rather than from a free correlation matrix (SCIENCE.md s.3).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import expit, logit

from alsim.model.parameters import ParameterSet

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

VARIANT_A4V = "A4V"
VARIANT_OTHER = "NON-A4V"

_NFL_BASE_BY_VARIANT = ("plasma_nfl_base_other_pg_ml", "plasma_nfl_base_a4v_pg_ml")


class PopulationSpec(BaseModel):
    """Who enters the trial: demographic and variant-class mix.

    Defaults: age and sex from VALOR ITT demographics (evidence valor_demographics_label,
    valor_age_*); A4V share 63/173 of the Bali 2016 SOD1 cohort (evidence nh16_alsfrs_slope_a4v,
    nh16_alsfrs_slope_all) [D].
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    age_mean_years: float = Field(49.8, ge=18, le=90)
    age_sd_years: float = Field(12.0, ge=0, le=30)
    age_min_years: float = Field(18.0, ge=0, le=120)
    age_max_years: float = Field(85.0, ge=0, le=120)
    male_fraction: float = Field(0.57, ge=0, le=1)
    a4v_fraction: float = Field(0.36, ge=0, le=1)

    @model_validator(mode="after")
    def _age_range(self) -> "PopulationSpec":
        if self.age_min_years >= self.age_max_years:
            raise ValueError(
                f"age_min_years ({self.age_min_years}) must be < age_max_years "
                f"({self.age_max_years})"
            )
        return self


@dataclass(frozen=True, slots=True)
class Population:
    """Patients of one replicate: covariates and individual parameters, each shaped (patient,)."""

    age_years: FloatArray
    male: BoolArray
    a4v: BoolArray
    parameters: dict[str, FloatArray]

    @property
    def n_patients(self) -> int:
        return int(self.age_years.shape[0])


def sample_parameter_block(
    parameters: ParameterSet, block: str, n_patients: int, rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Individual values of every parameter of `block`, in table order: one standard-normal
    draw per parameter (also for those without variability), so the draw order is fixed."""
    values: dict[str, FloatArray] = {}
    for name in parameters:
        p = parameters[name]
        if p.block != block:
            continue
        eta = rng.standard_normal(n_patients) * p.omega
        if p.variability == "lognormal":
            values[name] = p.value * np.exp(eta)
        elif p.variability == "logitnormal":
            values[name] = expit(logit(p.value) + eta)
        elif p.variability == "normal":
            values[name] = p.value + eta
        else:
            values[name] = np.full(n_patients, p.value)
    return values


def sample_population(
    spec: PopulationSpec, parameters: ParameterSet, n_patients: int, rng: np.random.Generator
) -> Population:
    """Draw `n_patients` virtual patients; the draw order is fixed so a seed fixes the patients."""
    a4v = rng.random(n_patients) < spec.a4v_fraction
    male = rng.random(n_patients) < spec.male_fraction
    age = np.clip(
        spec.age_mean_years + spec.age_sd_years * rng.standard_normal(n_patients),
        spec.age_min_years,
        spec.age_max_years,
    )
    values = sample_parameter_block(parameters, "biomarker", n_patients, rng)
    values["plasma_nfl_base_pg_ml"] = np.where(
        a4v, values[_NFL_BASE_BY_VARIANT[1]], values[_NFL_BASE_BY_VARIANT[0]]
    )
    for name in _NFL_BASE_BY_VARIANT:
        del values[name]
    return Population(age_years=age, male=male, a4v=a4v, parameters=values)
