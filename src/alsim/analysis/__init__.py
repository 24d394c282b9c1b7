"""Statistical analyses of simulated or real trials: Spec -> fit(arrays) -> immutable Result.

Every analysis takes arrays shaped ``(replicate, patient[, visit])`` and returns per-replicate
estimates, standard errors, confidence intervals and p-values; a single trial is one replicate.
"""

from alsim.analysis._result import EstimateResult
from alsim.analysis.ancova import AncovaResult, AncovaSpec, GmrResult, GmrSpec

__all__ = [
    "AncovaResult",
    "AncovaSpec",
    "EstimateResult",
    "GmrResult",
    "GmrSpec",
]
