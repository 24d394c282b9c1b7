"""Virtual SOD1-ALS patients: covariates and between-subject variability."""

from alsim.population.sampling import Population, PopulationSpec, sample_population

__all__ = ["Population", "PopulationSpec", "sample_population"]
