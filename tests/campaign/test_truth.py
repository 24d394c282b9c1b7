"""True effects: analyses with an effect size fitted on the noise-free run, no test statistic."""

import numpy as np

from alsim.campaign import DesignPoint, default_plan, run_plan, set_duration, true_effects
from alsim.campaign.grid import scale_patients
from alsim.campaign.run import TRUTH_REPLICATE
from alsim.design import load_template
from alsim.simulate import simulate_trial


def test_true_effects_are_the_noise_free_fits_and_skip_the_joint_rank_statistic() -> None:
    design = set_duration(load_template("valor"), 16)
    plan = default_plan(design, n_imputations=2)
    point = DesignPoint(index=0, settings=(), design=design)
    truth = true_effects(point, plan, seed=4, n_patients=120).set_index("analysis")
    for analysis in plan:
        row = truth.loc[analysis.name]
        if not analysis.has_effect_size:
            assert np.isnan(row["true_value"]) and np.isnan(row["true_value_se"])
            continue
        hypothetical = analysis.discontinuation_handling().strategy == "hypothetical"
        sim = simulate_trial(
            scale_patients(design, 120),
            n_replicates=1,
            seed=4,
            first_replicate=TRUTH_REPLICATE,
            discontinuation=not hypothetical,
        )
        fit = run_plan(sim, (analysis,), noise_free=True).iloc[0]
        if fit["status"] == "ok":
            assert row["true_value"] == fit["estimate"]
            se = fit["std_error_log"] if analysis.log_scale else fit["std_error"]
            assert row["true_value_se"] == se
