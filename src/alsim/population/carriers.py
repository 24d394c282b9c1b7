"""Presymptomatic SOD1 carriers: who they are at Part A entry and when they would convert.

Recipe (SCIENCE.md s.4; parameters in the "carrier" block of the parameter table):

1. Age, sex and variant class from the design's `PopulationSpec` (for ATLAS: adults with a
   rapidly progressive, high-penetrance variant, evidence atlas_eligibility), and every
   individual model parameter of the biomarker and progression blocks, as for patients.
2. Whether the carrier will ever convert and when: a penetrant carrier's age at symptom onset
   follows the model's onset-age law (``onset_age_years``: its value and SD) conditioned on being
   presymptomatic at entry, and the share of penetrant carriers is updated for having stayed
   well to that age, ``pi S(a) / (pi S(a) + 1 - pi)``. The latent onset time ``tau`` is days
   from entry to onset without drug (+inf if the carrier never converts).
3. Plasma NfL: the flat presymptomatic level ``N0``, and the level ``N_on`` the carrier joins at
   onset: the symptomatic baseline NfL the patient sampler draws for the variant class (NfL is
   relatively stable within a patient once ALS is manifest, evidence prefals_nfl_stable_in_als).
4. The prodromal e-folding time ``lambda`` of the variant class.

`Carriers` is the narrow interface to the symptomatic machinery: onset time, variant class,
age and NfL at onset.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from alsim.model.parameters import ParameterSet
from alsim.population.blocks import sample_parameter_block
from alsim.population.sampling import PopulationSpec, sample_population

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
DAYS_PER_YEAR = 365.25
_LAST_QUANTILE = 1.0 - 1e-12


@dataclass(frozen=True, slots=True)
class Carriers:
    """Carriers at Part A entry, each array shaped (carrier,).

    `onset_days`: latent days from entry to phenoconversion without drug (inf: never);
    `nfl_base_pg_ml` and `nfl_onset_pg_ml`: presymptomatic and symptomatic plasma NfL;
    `prodromal_scale_days`: the prodromal e-folding time; `parameters`: every individual model
    parameter the solver and the observation model need.
    """

    age_years: FloatArray
    male: BoolArray
    a4v: BoolArray
    onset_days: FloatArray
    prodromal_scale_days: FloatArray
    nfl_base_pg_ml: FloatArray
    nfl_onset_pg_ml: FloatArray
    parameters: dict[str, FloatArray]

    @property
    def n_carriers(self) -> int:
        return int(self.age_years.shape[0])

    def take(self, index: NDArray[np.int64]) -> "Carriers":
        """The carriers at `index`, in that order."""
        return Carriers(
            **{f.name: getattr(self, f.name)[index] for f in _ARRAYS},
            parameters={k: v[index] for k, v in self.parameters.items()},
        )

    @classmethod
    def concatenate(cls, parts: Sequence["Carriers"]) -> "Carriers":
        """The carriers of `parts`, one after the other."""
        return cls(
            **{f.name: np.concatenate([getattr(c, f.name) for c in parts]) for f in _ARRAYS},
            parameters={
                k: np.concatenate([c.parameters[k] for c in parts]) for k in parts[0].parameters
            },
        )


_ARRAYS = tuple(f for f in fields(Carriers) if f.name != "parameters")


def latent_onset_days(
    age_years: FloatArray,
    penetrance: FloatArray,
    onset_age_mean_years: float,
    onset_age_sd_years: float,
    u_penetrant: FloatArray,
    u_age: FloatArray,
) -> FloatArray:
    """Days from entry at `age_years` to onset, given the carrier is presymptomatic at entry.

    `u_penetrant` and `u_age` are uniform draws: the first decides penetrance (updated for
    having stayed well), the second the onset age by inversion of the normal law truncated to
    ages above the entry age.
    """
    z_entry = (age_years - onset_age_mean_years) / onset_age_sd_years
    still_well = norm.sf(z_entry)
    p_penetrant = penetrance * still_well / (penetrance * still_well + 1.0 - penetrance)
    lower = norm.cdf(z_entry)
    quantile = np.minimum(lower + (1.0 - lower) * u_age, _LAST_QUANTILE)
    onset_age = onset_age_mean_years + onset_age_sd_years * norm.ppf(quantile)
    days = np.maximum(onset_age - age_years, 0.0) * DAYS_PER_YEAR
    out: FloatArray = np.where(u_penetrant < p_penetrant, days, np.inf)
    return out


def sample_carriers(
    spec: PopulationSpec, parameters: ParameterSet, n: int, rng: np.random.Generator
) -> Carriers:
    """`n` presymptomatic carriers; the draw order is fixed so a seed fixes the carriers."""
    population = sample_population(spec, parameters, n, rng)
    # a carrier's age at entry is the spec's, not that of a patient screened after onset
    age = np.clip(
        spec.age_mean_years + spec.age_sd_years * rng.standard_normal(n),
        spec.age_min_years,
        spec.age_max_years,
    )
    individual = dict(population.parameters)
    individual.update(sample_parameter_block(parameters, "progression", n, rng))
    carrier = sample_parameter_block(parameters, "carrier", n, rng)
    a4v = population.a4v
    penetrance = np.where(
        a4v, parameters.value("penetrance_a4v"), parameters.value("penetrance_other")
    )
    onset_age = parameters["onset_age_years"]
    onset = latent_onset_days(
        age,
        penetrance,
        onset_age.value,
        onset_age.omega,
        rng.random(n),
        rng.random(n),
    )
    scale = np.where(
        a4v, carrier["prodromal_scale_a4v_days"], carrier["prodromal_scale_other_days"]
    )
    return Carriers(
        age_years=age,
        male=population.male,
        a4v=a4v,
        onset_days=onset,
        prodromal_scale_days=scale,
        nfl_base_pg_ml=carrier["carrier_nfl_base_pg_ml"],
        nfl_onset_pg_ml=individual.pop("plasma_nfl_base_pg_ml"),
        parameters=individual,
    )
