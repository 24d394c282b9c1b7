"""`alsim analyze --plan`: a design's analysis plan on the files `alsim simulate` writes."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from alsim.campaign.plan import run_plan
from alsim.cli.main import app
from alsim.design import load_template, template_path
from alsim.simulate import simulate_trial

runner = CliRunner()
SEED = 4


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "valor"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(template_path("valor")),
            "-r",
            "3",
            "--seed",
            str(SEED),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_plan_on_simulated_files_equals_the_plan_on_the_simulation(simulated: Path) -> None:
    """The ADaM files carry everything the plan needs (values, deaths, discontinuations,
    strata): with the simulation's seed for the imputations, every analysis gives the numbers
    `run_plan` gives on the simulation itself."""
    result = runner.invoke(
        app,
        [
            "analyze",
            "--plan",
            str(template_path("valor")),
            "--data",
            str(simulated),
            "--seed",
            str(SEED),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    sim = simulate_trial(load_template("valor"), n_replicates=3, seed=SEED)
    direct = run_plan(sim, load_template("valor").plan)
    assert [a["name"] for a in doc["analyses"]] == [a.name for a in load_template("valor").plan]
    for entry in doc["analyses"]:
        rows = direct[direct["analysis"] == entry["name"]]
        got = np.array([np.nan if v is None else v for v in entry["estimate"]], dtype=float)
        np.testing.assert_allclose(got, rows["estimate"].to_numpy(), rtol=1e-9)
        assert entry["status"] == list(rows["status"])
        assert "death or permanent ventilation" in entry["estimand"] or entry["name"].startswith(
            "cox"
        )


def test_one_analysis_of_the_plan_and_a_bad_name(simulated: Path) -> None:
    args = ["analyze", "--plan", str(template_path("valor")), "--data", str(simulated)]
    result = runner.invoke(app, [*args, "--analysis", "gmr_plasma_nfl", "--json"])
    assert result.exit_code == 0, result.output
    assert [a["name"] for a in json.loads(result.output)["analyses"]] == ["gmr_plasma_nfl"]
    assert "std_error_log" in json.loads(result.output)["analyses"][0]
    bad = runner.invoke(app, [*args, "--analysis", "gmr_nfl"])
    assert bad.exit_code == 2
    assert "--analysis 'gmr_nfl' is not in the plan" in bad.output
    assert "allowed: joint_rank_alsfrsr_faster" in bad.output


def test_method_or_plan_not_both() -> None:
    result = runner.invoke(app, ["analyze", "--method", "gmr", "--plan", "x.yaml"])
    assert result.exit_code == 2
    assert "give either --method (one analysis) or --plan DESIGN.yaml" in result.output
