"""alsim power on run-in designs: the event plan, trigger grids, trial metrics, assurance."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from alsim.campaign import CampaignError, design_grid, parse_vary
from alsim.cli.main import app
from alsim.design import load_template, template_path

ATLAS = load_template("atlas")
runner = CliRunner()


def test_trigger_keys_change_the_rule_and_bad_values_are_refused() -> None:
    points = design_grid(ATLAS, parse_vary(["trigger_level=40,50", "trigger_rise=5"]))
    rules = [p.design.trigger for p in points]
    assert [(r.min_level_pg_ml, r.min_rise_pg_ml) for r in rules if r] == [(40, 5), (50, 5)]
    with pytest.raises(CampaignError, match=r"--vary trigger_level: value 'high' must be a number"):
        parse_vary(["trigger_level=high"])
    with pytest.raises(CampaignError, match=r"--vary parameters: value 'x' is not allowed"):
        parse_vary(["parameters=x"])
    with pytest.raises(CampaignError, match="has no trigger rule"):
        design_grid(load_template("valor"), parse_vary(["trigger_level=44"]))
    with pytest.raises(CampaignError, match=r"--vary parameters: value 'prior' is not allowed"):
        parse_vary(["parameters=prior"])


def test_power_on_atlas_writes_the_event_analyses_and_trial_metrics(tmp_path: Path) -> None:
    out = tmp_path / "power"
    result = runner.invoke(
        app,
        [
            "power",
            str(template_path("atlas")),
            "--replicates",
            "4",
            "--seed",
            "2",
            "--vary",
            "n_total=10",
            "--vary",
            "parameters=typical,posterior",
            "--truth-patients",
            "40",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "summary.csv")
    primary = summary[summary["primary"]]
    assert set(primary["analysis"]) == {"risk_difference_phenocnv_landmark"}
    assert set(summary["method"]) == {"risk-difference", "km", "logrank", "cox", "gmr"}
    posterior = summary[summary["label"].str.contains("parameters=posterior")]
    assert posterior["true_value"].isna().all()  # no single true effect over the posterior
    funnel = pd.read_csv(out / "funnel.csv")
    assert {"trigger_rate_per_year", "screened_per_randomised", "projected_randomised"} <= set(
        funnel["metric"]
    )
    assert np.all(funnel.loc[funnel["metric"] == "screened_per_randomised", "median"] >= 1)
    assert "assurance" in result.output
