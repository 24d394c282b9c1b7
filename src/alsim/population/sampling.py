"""Virtual patients, one sampler for every design: the disease course first, then the model
parameters and the baseline values that follow from it.

Variant class -> disease course at screening (`alsim.population.progression`) -> baseline plasma
NfL from the current disease activity, ``level x (in-study slope)^beta`` (`alsim.model.nfl`), so
correlations arise by construction rather than from a free correlation matrix (SCIENCE.md s.3).
Phase 1/2 biomarker studies and clinical trials draw their patients the same way.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alsim.model.nfl import baseline_plasma_nfl_pg_ml
from alsim.model.parameters import ParameterSet
from alsim.population.blocks import sample_parameter_block
from alsim.population.progression import (
    DiseaseCourse,
    Eligibility,
    FasterProgressionRule,
    sample_stratified_courses,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

VARIANT_A4V = "A4V"
VARIANT_OTHER = "NON-A4V"


class PopulationSpec(BaseModel):
    """Who presents for screening: variant-class mix, sex, and the age range a trial accepts.

    `a4v_fraction` is the share of A4V-like variants among the patients who present for
    screening (alive, before any eligibility criterion or stratum cap): in a stratified trial
    the share among entrants follows from it and the rule (A4V-like patients, all faster
    progressors, fill the faster stratum, whose size is fixed). The default is the A4V share of
    the Bali 2016 SOD1 cohort, 63/173 (evidence nh16_alsfrs_slope_a4v, nh16_alsfrs_slope_all)
    [D]; a patient's age is the age at onset (parameter table) plus the time to screening, and
    `age_min_years` / `age_max_years` bound it at screening. `age_mean_years` / `age_sd_years`
    give the age at entry of presymptomatic carriers (designs with a monitoring run-in,
    `alsim.population.carriers`), who have no disease course yet. `male_fraction`: VALOR ITT
    (evidence valor_demographics_label).
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
    """Patients of one replicate: covariates, individual parameters (each shaped (patient,))
    and their disease course.

    `parameters` holds every value the model needs per patient: the parameter table's (both
    blocks, the course-only ones excepted) and the course's latent baseline and speed, the
    breathing and strength logits at Day 1, and the baseline plasma NfL.
    """

    age_years: FloatArray
    male: BoolArray
    a4v: BoolArray
    parameters: dict[str, FloatArray]
    course: DiseaseCourse

    @property
    def n_patients(self) -> int:
        return int(self.age_years.shape[0])


def sample_population(
    spec: PopulationSpec,
    parameters: ParameterSet,
    n_patients: int,
    rng: np.random.Generator,
    *,
    stratum_sizes: Sequence[int] | None = None,
    rule: FasterProgressionRule | None = None,
    eligibility: Eligibility | None = None,
) -> Population:
    """Draw `n_patients` virtual patients; the draw order is fixed so a seed fixes the patients.

    With a faster-progression `rule`, `stratum_sizes` gives the (faster, slower) sizes and the
    patients come ordered by stratum. `eligibility` (ALSFRS-R, SVC) is applied at screening, with
    the spec's age range.
    """
    sizes = [n_patients] if stratum_sizes is None else list(stratum_sizes)
    if sum(sizes) != n_patients:
        raise ValueError(f"stratum sizes {sizes} must add up to {n_patients} patients")
    values = sample_parameter_block(parameters, "biomarker", n_patients, rng)
    male = np.asarray(rng.random(n_patients) < spec.male_fraction)
    criteria = eligibility or Eligibility()
    course = sample_stratified_courses(
        parameters,
        sizes,
        a4v_fraction=spec.a4v_fraction,
        rule=rule,
        eligibility=Eligibility(
            min_alsfrsr=criteria.min_alsfrsr,
            max_alsfrsr=criteria.max_alsfrsr,
            min_svc_pct=criteria.min_svc_pct,
            min_age_years=spec.age_min_years,
            max_age_years=spec.age_max_years,
        ),
        rng=rng,
    )
    values.update(course.parameters)
    values["latent_baseline"] = course.latent_baseline
    values["latent_speed_per_day"] = course.latent_speed_per_day
    values["svc_latent_baseline"] = course.svc_latent_baseline
    values["hhd_latent_baseline"] = course.hhd_latent_baseline
    values["hazard_log_offset_per_day"] = course.hazard_log_offset_per_day
    values["plasma_nfl_base_pg_ml"] = baseline_plasma_nfl_pg_ml(
        course.slope_per_month, values["plasma_nfl_level_pg_ml"], values["nfl_activity_exponent"]
    )
    return Population(
        age_years=course.age_years, male=male, a4v=course.a4v, parameters=values, course=course
    )
