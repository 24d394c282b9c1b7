"""Virtual SOD1-ALS patients: disease course, covariates and between-subject variability."""

from alsim.population.progression import DiseaseCourse, Eligibility, FasterProgressionRule
from alsim.population.sampling import Population, PopulationSpec, sample_population

__all__ = [
    "DiseaseCourse",
    "Eligibility",
    "FasterProgressionRule",
    "Population",
    "PopulationSpec",
    "sample_population",
]
