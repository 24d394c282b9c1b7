"""Analysis plans in campaigns: the design's plan (``analysis_plan:``) run on every replicate.

The plan is data: `default_plan` returns the design's stated plan (`TrialDesign.plan`, or the
documented default of `alsim.design.plan` for designs that state none), with the number of
imputations optionally overridden. `run_plan` runs it on a simulation through
`alsim.analysis.plan.PlanRunner`, so analyses that impute the same values share one set of
imputations. Imputations of replicate ``r`` draw from
``SeedSequence(seed, spawn_key=(r, IMPUTATION_STREAM))``, so a replicate's results do not
depend on the chunk it ran in.

Result columns: ``estimate``, ``ci_low``, ``ci_high`` on the analysis' own scale (a ratio for
GMR, hazard ratio and win ratio; a difference or a statistic otherwise); the standard error is
``std_error`` for difference-scale analyses and ``std_error_log`` (of the log ratio) for
ratio-scale ones, the other column NaN.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from alsim.analysis import EstimateResult
from alsim.analysis.plan import IMPUTATION_STREAM, PlanRunner, study_data
from alsim.design.plan import PlannedAnalysis
from alsim.design.trial import TrialDesign
from alsim.simulate.trial import TrialSimulation

__all__ = [
    "IMPUTATION_STREAM",
    "RESULT_COLUMNS",
    "AnalysisPlan",
    "PlannedAnalysis",
    "default_plan",
    "fit_analysis",
    "result_frame",
    "run_plan",
]

AnalysisPlan = tuple[PlannedAnalysis, ...]
RESULT_COLUMNS = ("estimate", "std_error", "std_error_log", "ci_low", "ci_high", "p_value")

FloatArray = NDArray[np.float64]


def default_plan(design: TrialDesign, *, n_imputations: int | None = None) -> AnalysisPlan:
    """The design's analysis plan; `n_imputations` (>= 2) replaces the number of imputations
    of every analysis that imputes."""
    plan = design.plan
    if n_imputations is None:
        return plan
    return tuple(
        a.model_copy(update={"imputations": n_imputations}) if a.imputations >= 2 else a
        for a in plan
    )


def fit_analysis(
    sim: TrialSimulation,
    analysis: PlannedAnalysis,
    values: Mapping[str, FloatArray] | None = None,
) -> EstimateResult:
    """Run one planned analysis on every replicate of `sim`; `values` may be
    ``sim.true_values`` for the noise-free run (default: ``sim.observed``)."""
    noise_free = values is not None and values is sim.true_values
    return PlanRunner(study_data(sim, noise_free=noise_free)).fit(analysis)


def result_frame(
    analysis: PlannedAnalysis, result: EstimateResult, replicates: NDArray[np.int64]
) -> pd.DataFrame:
    """One row per replicate: estimate, the SE on its scale (see the module), CI, p, status."""
    se = np.asarray(result.std_error, dtype=np.float64)
    nan = np.full(se.shape, np.nan)
    return pd.DataFrame(
        {
            "analysis": analysis.name,
            "replicate": replicates,
            "estimate": np.asarray(result.estimate, dtype=np.float64),
            "std_error": nan if analysis.log_scale else se,
            "std_error_log": se if analysis.log_scale else nan,
            "ci_low": np.asarray(result.ci_low, dtype=np.float64),
            "ci_high": np.asarray(result.ci_high, dtype=np.float64),
            "p_value": np.asarray(result.p_value, dtype=np.float64),
            "status": np.asarray(result.status, dtype=str),
        }
    )


def run_plan(sim: TrialSimulation, plan: AnalysisPlan, *, noise_free: bool = False) -> pd.DataFrame:
    """Every analysis of `plan` on every replicate: one row per (analysis, replicate)."""
    runner = PlanRunner(study_data(sim, noise_free=noise_free))
    results = runner.run(plan)
    frames = [result_frame(a, results[a.name], sim.replicate) for a in plan]
    return pd.concat(frames, ignore_index=True)
