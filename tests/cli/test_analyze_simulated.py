"""`alsim analyze` on what `alsim simulate` writes: the two tools meet at the ADaM-like contract."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import template_path

runner = CliRunner()
TREATED = "TOFERSEN 100 MG"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "phase12"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(template_path("phase12")),
            "--replicates",
            "2",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def analyze(simulated: Path, method: str, *extra: str, treated: str = TREATED) -> dict[str, object]:
    args = [
        "analyze",
        "--method",
        method,
        "--adsl",
        str(simulated / "adsl.parquet"),
        "--bds",
        str(simulated / "adlb.csv"),
        "--paramcd",
        "CSFSOD1",
        "--visit",
        "DAY 85",
        "--arm-var",
        "TRT01P",
        "--treated",
        treated,
        "--control",
        "PLACEBO",
        "--replicate",
        "1",
        "--json",
        *extra,
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output)
    return document


def test_gmr_on_simulated_phase12_matches_statsmodels_ols(simulated: Path) -> None:
    """Reference: statsmodels OLS of log(AVAL/BASE) ~ treated + log(BASE) on the written file."""
    adlb = pd.read_csv(simulated / "adlb.csv")
    rows = adlb[
        (adlb.REPLICATE == 1)
        & (adlb.PARAMCD == "CSFSOD1")
        & (adlb.AVISIT == "DAY 85")
        & adlb.TRT01P.isin([TREATED, "PLACEBO"])
    ].copy()
    rows["treated"] = (rows.TRT01P == TREATED).astype(float)
    rows["log_ratio"] = np.log(rows.AVAL / rows.BASE)
    rows["log_base"] = np.log(rows.BASE)
    fit = smf.ols("log_ratio ~ treated + log_base", data=rows).fit()
    got = analyze(simulated, "gmr")
    assert got["estimate"] == pytest.approx(np.exp(fit.params["treated"]), rel=1e-8)
    assert got["p_value"] == pytest.approx(fit.pvalues["treated"], rel=1e-6)
    assert got["n"] == len(rows)


@pytest.mark.parametrize("method", ["ancova", "mmrm", "joint-rank", "rank-ancova", "win-ratio"])
def test_every_function_analysis_runs_on_simulated_phase12(simulated: Path, method: str) -> None:
    # at 100 mg the few simulated patients per arm separate completely on CSF SOD1, where a win
    # ratio is 0 or infinite ("cannot estimate"); 60 mg leaves the arms overlapping
    got = analyze(simulated, method, treated="TOFERSEN 60 MG" if method == "win-ratio" else TREATED)
    assert got["status"] == "ok"
    # a win ratio is a ratio: its SE is that of the log ratio, and the column says so
    se = "std_error_log" if method == "win-ratio" else "std_error"
    for key in ("estimate", se, "ci_low", "ci_high", "p_value", "n"):
        assert key in got
    assert ("std_error" in got) == (method != "win-ratio")
