"""Natural history of SOD1-ALS as the model generates it, for comparison with Bali 2016/2017.

Each replicate draws a cohort the size of Bali's (evidence nh_n) from the patients who present for
a first visit, before any trial eligibility: the variant mix of `PopulationSpec()` (the A4V share
of the Bali cohort). Survival is from onset (months since onset at the first visit plus the time
to death or permanent ventilation along the patient's own untreated course and hazard); slopes are
the declines since onset (ALSFRS-R points or SVC % predicted per month), negative for decline, as
published. The model's SVC stands for Bali's FVC (both % predicted).
"""

import numpy as np
from numpy.typing import NDArray

from alsim.errors import EvidenceError
from alsim.evidence.records import evidence
from alsim.model.parameters import ParameterSet
from alsim.population.progression import (
    sample_candidates,
    survival_from_onset_years,
    svc_prestudy_slope_per_month,
)
from alsim.population.sampling import PopulationSpec

FloatArray = NDArray[np.float64]
NH_QUANTITIES = ("nh_median_survival", "nh_slope_mean", "nh_svc_slope_mean")
_STREAM = 2_000_003


def natural_history_values(
    quantity: str, arm: str, *, seed: int, replicates: NDArray[np.int64], parameters: ParameterSet
) -> FloatArray:
    """Per-replicate median survival (years), mean ALSFRS-R slope (points/month) or mean SVC
    slope (% predicted/month) of arm A4V, NON-A4V or ALL in a Bali-sized natural-history cohort."""
    if quantity not in NH_QUANTITIES or arm not in ("A4V", "NON-A4V", "ALL"):
        raise EvidenceError(
            f"natural history: unknown quantity {quantity!r} or arm {arm!r}; allowed "
            f"{', '.join(NH_QUANTITIES)} with arm A4V, NON-A4V or ALL"
        )
    n = int(evidence("nh_n").numeric_value)
    a4v_fraction = PopulationSpec().a4v_fraction
    out = np.empty(replicates.size)
    for i, r in enumerate(replicates):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(r), _STREAM)))
        cohort = sample_candidates(parameters, n, a4v_fraction, rng)
        pick = {"A4V": cohort.a4v, "NON-A4V": ~cohort.a4v, "ALL": np.ones(n, dtype=bool)}[arm]
        if not pick.any():
            out[i] = np.nan
        elif quantity == "nh_median_survival":
            out[i] = np.median(survival_from_onset_years(cohort.take(pick)))
        elif quantity == "nh_slope_mean":
            out[i] = -np.mean(cohort.prestudy_slope_per_month[pick])
        else:
            out[i] = -np.mean(svc_prestudy_slope_per_month(cohort.take(pick)))
    return out
