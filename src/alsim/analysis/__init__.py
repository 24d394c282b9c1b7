"""Statistical analyses of simulated or real trials: Spec -> fit(arrays) -> immutable Result.

Every analysis takes arrays shaped ``(replicate, patient[, visit])`` and returns per-replicate
estimates, standard errors, confidence intervals and p-values; a single trial is one replicate.
"""

from alsim.analysis._result import EstimateResult
from alsim.analysis.ancova import AncovaResult, AncovaSpec, GmrResult, GmrSpec
from alsim.analysis.imputation import ImputationSpec, Imputed, PooledResult, RubinPooled, rubin_pool
from alsim.analysis.mmrm import MmrmResult, MmrmSpec
from alsim.analysis.plan import PlanRunner, StudyData, study_data
from alsim.analysis.rank import (
    JointRankResult,
    JointRankSpec,
    PairwiseScores,
    RankAncovaResult,
    RankAncovaSpec,
    WinRatioResult,
    WinRatioSpec,
    pairwise_scores,
)
from alsim.analysis.survival import (
    CoxResult,
    CoxSpec,
    KaplanMeierCurve,
    KaplanMeierResult,
    KaplanMeierSpec,
    LogRankResult,
    LogRankSpec,
    kaplan_meier,
)

__all__ = [
    "AncovaResult",
    "AncovaSpec",
    "CoxResult",
    "CoxSpec",
    "EstimateResult",
    "GmrResult",
    "GmrSpec",
    "ImputationSpec",
    "Imputed",
    "JointRankResult",
    "JointRankSpec",
    "KaplanMeierCurve",
    "KaplanMeierResult",
    "KaplanMeierSpec",
    "LogRankResult",
    "LogRankSpec",
    "MmrmResult",
    "MmrmSpec",
    "PairwiseScores",
    "PlanRunner",
    "PooledResult",
    "RankAncovaResult",
    "RankAncovaSpec",
    "RubinPooled",
    "StudyData",
    "WinRatioResult",
    "WinRatioSpec",
    "kaplan_meier",
    "pairwise_scores",
    "rubin_pool",
    "study_data",
]
