"""Operating characteristics at scale: design grids, analysis plans, resumable chunked runs.

`alsim power` is a thin layer over this package: `design_grid` turns ``--vary`` options into
design points, `default_plan` picks the protocol analyses, and `run_campaign` simulates and
analyses chunks of replicates (in-process or on Dask), writes each chunk atomically, and
summarises power, type I error, bias and coverage with Monte Carlo standard errors.
"""

from alsim.campaign.grid import (
    EFFECT_VALUES,
    VARY_KEYS,
    CampaignError,
    DesignPoint,
    apply_setting,
    design_grid,
    parse_vary,
    scale_patients,
    set_duration,
    without_drug,
)
from alsim.campaign.plan import (
    AnalysisPlan,
    PlannedAnalysis,
    default_plan,
    fit_analysis,
    run_plan,
)
from alsim.campaign.run import (
    Campaign,
    CampaignResult,
    Chunk,
    run_campaign,
    simulate_chunk,
    true_effects,
)
from alsim.campaign.summary import operating_characteristics

__all__ = [
    "EFFECT_VALUES",
    "VARY_KEYS",
    "AnalysisPlan",
    "Campaign",
    "CampaignError",
    "CampaignResult",
    "Chunk",
    "DesignPoint",
    "PlannedAnalysis",
    "apply_setting",
    "default_plan",
    "design_grid",
    "fit_analysis",
    "operating_characteristics",
    "parse_vary",
    "run_campaign",
    "run_plan",
    "scale_patients",
    "set_duration",
    "simulate_chunk",
    "true_effects",
    "without_drug",
]
