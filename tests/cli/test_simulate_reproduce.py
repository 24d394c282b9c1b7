"""The `alsim simulate` and `alsim reproduce` commands end to end."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import template_path

runner = CliRunner()
PHASE12 = str(template_path("phase12"))


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_simulate_writes_contract_files_and_same_seed_gives_identical_files(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        code, out = run(
            "simulate", PHASE12, "--replicates", "3", "--seed", "9", "--out", str(tmp_path / name)
        )
        assert code == 0, out
        outputs.append(tmp_path / name)
    a, b = outputs
    assert (a / "nonmem.csv").read_bytes() == (b / "nonmem.csv").read_bytes()
    for table in ("adsl", "adlb"):
        assert (a / f"{table}.csv").read_bytes() == (b / f"{table}.csv").read_bytes()
        parquet = pd.read_parquet(a / f"{table}.parquet")
        # CSV numbers are the shortest decimals that read back to the same doubles
        csv = pd.read_csv(a / f"{table}.csv", float_precision="round_trip")
        assert list(parquet.columns) == list(csv.columns)
        for column in parquet.columns:
            if pd.api.types.is_numeric_dtype(parquet[column]):
                np.testing.assert_array_equal(parquet[column], csv[column])
            else:
                assert (parquet[column].fillna("") == csv[column].fillna("")).all(), column
    adae = pd.read_parquet(a / "adae.parquet")
    assert list(adae.columns[:11]) == [
        "STUDYID",
        "REPLICATE",
        "USUBJID",
        "TRT01P",
        "AEDECOD",
        "AEBODSYS",
        "ASTDY",
        "AESER",
        "AESEV",
        "AREL",
        "AEACN",
    ]
    assert (adae[adae.TRT01P == "PLACEBO"].AREL == "NOT RELATED").all()
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["seed"] == 9 and manifest["replicates"] == 3
    assert len(manifest["designs"]["233AS101-B"]["sha256"]) == 64
    assert "hill" in manifest["parameters"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("dose_mg: 100", "dose_mg: -100"), "design.arms[4].dose_mg"),
        (("endpoints:", "colour: red\nendpoints:"), "design.colour: unknown key"),
    ],
)
def test_bad_design_exits_2_with_one_line_and_no_output(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(PHASE12).read_text().replace(*edit))
    code, out = run("simulate", str(bad), "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in out
    assert "Traceback" not in out
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_simulate_refuses_to_clobber_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("precious")
    code, out = run("simulate", PHASE12, "--out", str(tmp_path))
    assert code == 2 and "exists and is not empty" in out
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_missing_design_file_and_bad_replicates_are_one_line_errors(tmp_path: Path) -> None:
    code, out = run("simulate", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert code == 2 and "design file not found" in out
    code, out = run("simulate", PHASE12, "--replicates", "0", "--out", str(tmp_path / "o"))
    assert code == 2 and "--replicates must be 1..1000000, got 0" in out
    code, out = run("reproduce", "--study", "phase9", "--out", str(tmp_path / "o"))
    assert code == 2 and "'phase9' is not one of 'all', 'phase12'" in out


def test_reproduce_phase12_meets_published_csf_sod1_cis(tmp_path: Path) -> None:
    """Done-when of the Phase 1/2 issue: the simulated Day-85 CSF SOD1 difference vs placebo
    (median over replicates) lies inside the published 95% CI for all four doses."""
    code, out = run(
        "reproduce", "--study", "phase12", "--replicates", "300", "--out", str(tmp_path / "rep")
    )
    assert code == 0, out
    document = json.loads((tmp_path / "rep" / "comparison.json").read_text())
    rows = {row["target"]: row for row in document["phase12"]["rows"]}
    medians = []
    for dose in (20, 40, 60, 100):
        row = rows[f"p12_csf_sod1_diff_{dose}mg"]
        assert row["inside"], row
        assert row["published_ci_low"] <= row["sim_median"] <= row["published_ci_high"]
        medians.append(row["sim_median"])
    assert medians == sorted(medians, reverse=True)  # monotone: more drug, larger fall
    nfl = [r for r in document["phase12"]["rows"] if r["paramcd"] == "PLNFL"]
    assert {r["arm"] for r in nfl} >= {"PLACEBO", "TOFERSEN 100 MG"}
    assert all(r["published"] is None for r in nfl)
    for name in ("comparison.md", "report.html", "manifest.json"):
        assert (tmp_path / "rep" / name).is_file()
    report = (tmp_path / "rep" / "report.html").read_text()
    assert "ASSUMPTION" in report
    # the shipped calibration's out-of-sample checks and Sobol indices are in the report
    assert "Cross-validation" in report and "Global sensitivity (Sobol indices)" in report
    markdown = (tmp_path / "rep" / "comparison.md").read_text()
    assert "Cross-validation of the shipped calibration: Without phase12_csf_sod1: " in markdown
