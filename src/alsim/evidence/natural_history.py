"""Natural history of SOD1-ALS as the model generates it, for comparison with Bali 2016/2017.

Each replicate draws a cohort the size of Bali's (evidence nh_n) from the untreated natural-history
population: the variant mix of `PopulationSpec()` (A4V share of the Bali cohort) and the
natural-history slopes (`in_study_slope_factor` = 1: Bali's patients were not trial entrants).
Survival is from onset (months since onset at entry plus the time to death or permanent
ventilation along the patient's own hazard); slopes are the pre-study ALSFRS-R slopes, negative
for decline, as published.
"""

import numpy as np
from numpy.typing import NDArray

from alsim.errors import EvidenceError
from alsim.evidence.records import evidence
from alsim.model.parameters import ParameterSet
from alsim.population.progression import sample_candidates, survival_from_onset_years
from alsim.population.sampling import PopulationSpec

FloatArray = NDArray[np.float64]
NH_QUANTITIES = ("nh_median_survival", "nh_slope_mean")
_STREAM = 2_000_003


def natural_history_values(
    quantity: str, arm: str, *, seed: int, replicates: NDArray[np.int64], parameters: ParameterSet
) -> FloatArray:
    """Per-replicate median survival (years) or mean slope (points/month) of arm A4V, NON-A4V
    or ALL in a Bali-sized natural-history cohort."""
    if quantity not in NH_QUANTITIES or arm not in ("A4V", "NON-A4V", "ALL"):
        raise EvidenceError(
            f"natural history: unknown quantity {quantity!r} or arm {arm!r}; allowed "
            f"{', '.join(NH_QUANTITIES)} with arm A4V, NON-A4V or ALL"
        )
    n = int(evidence("nh_n").numeric_value)
    natural = parameters.with_values(in_study_slope_factor=1.0)
    hazard = parameters.value("hazard_mid_per_year")
    exponent = parameters.value("hazard_stage_exponent")
    a4v_fraction = PopulationSpec().a4v_fraction
    out = np.empty(replicates.size)
    for i, r in enumerate(replicates):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(r), _STREAM)))
        cohort = sample_candidates(natural, n, a4v_fraction, rng)
        pick = {"A4V": cohort.a4v, "NON-A4V": ~cohort.a4v, "ALL": np.ones(n, dtype=bool)}[arm]
        if quantity == "nh_median_survival":
            years = survival_from_onset_years(cohort, hazard, exponent)
            out[i] = np.median(years[pick]) if pick.any() else np.nan
        else:
            slopes = cohort.prestudy_slope_per_month[pick]
            out[i] = -np.mean(slopes) if pick.any() else np.nan
    return out
