"""`alsim power --uncertainty`: power at the posterior median beside assurance."""

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import template_path

runner = CliRunner()


def test_power_uncertainty_reports_assurance_beside_power(tmp_path: Path) -> None:
    out = tmp_path / "power"
    result = runner.invoke(
        app,
        [
            "power",
            str(template_path("phase12")),
            "--replicates",
            "6",
            "--seed",
            "2",
            "--chunk",
            "3",
            "--truth-patients",
            "60",
            "--uncertainty",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "assurance" in result.output
    table = pd.read_csv(out / "assurance.csv")
    assert {"power_at_median", "assurance", "power_mcse", "assurance_mcse"} <= set(table.columns)
    assert table["assurance"].between(0, 1).all()
    median = pd.read_parquet(out / "at-posterior-median" / "points" / "point-000.parquet")
    over = pd.read_parquet(out / "over-posterior" / "points" / "point-000.parquet")
    # the same replicates, different parameters: estimates differ
    assert len(median) == len(over)
    assert not median["estimate"].equals(over["estimate"])
