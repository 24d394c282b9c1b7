"""`alsim analyze` end to end on ADaM-like files built from the committed reference trial."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from alsim.cli.main import app

REFERENCE = Path(__file__).parents[1] / "reference"
runner = CliRunner()


def _expected(name: str) -> dict[str, float]:
    frame = pd.read_csv(REFERENCE / f"expected_{name}.csv")
    return dict(zip(frame["name"], frame["value"].astype(float), strict=True))


def _adam(n_replicates: int = 1) -> dict[str, pd.DataFrame]:
    """ADSL/BDS/ADTTE for the reference trial (tests/reference/make_datasets.py), repeated."""
    p = pd.read_csv(REFERENCE / "trial_patients.csv")
    long = pd.read_csv(REFERENCE / "trial_long.csv")
    usubjid = p["id"].map(lambda i: f"TEST-{i:03d}")
    arm = np.where(p["trt"] == 1, "TOFERSEN 100 MG", "PLACEBO")
    adsl = pd.DataFrame(
        {
            "STUDYID": "TEST",
            "USUBJID": usubjid,
            "TRT01P": arm,
            "TRT02P": arm,
            "STRATUM": p["stratum"],
            "AGE": p["age"],
            "SEX": np.where(p["id"] % 2 == 0, "F", "M"),
        }
    )
    weeks = long["visit"].str.replace("WEEK ", "").astype(int)
    alsfrs = pd.DataFrame(
        {
            "USUBJID": long["id"].map(lambda i: f"TEST-{i:03d}"),
            "PARAMCD": "ALSFRSR",
            "AVISIT": long["visit"],
            "ADY": weeks * 7 + 1,
            "AVAL": long["base"] + long["chg"],
            "BASE": long["base"],
            "CHG": long["chg"],
        }
    )
    nfl = p[p["nfl28"].notna()]
    plnfl = pd.DataFrame(
        {
            "USUBJID": nfl["id"].map(lambda i: f"TEST-{i:03d}"),
            "PARAMCD": "PLNFL",
            "AVISIT": "WEEK 28",
            "ADY": 197,
            "AVAL": nfl["nfl28"],
            "BASE": nfl["nfl0"],
            "CHG": nfl["nfl28"] - nfl["nfl0"],
        }
    )
    bds = pd.concat([alsfrs, plnfl], ignore_index=True)
    adtte = pd.DataFrame(
        {"USUBJID": usubjid, "PARAMCD": "DTHPV", "AVAL": p["time"], "CNSR": 1 - p["event"]}
    )
    out = {}
    for name, frame in (("adsl", adsl), ("bds", bds), ("adtte", adtte)):
        reps = [frame.assign(REPLICATE=r + 1) for r in range(n_replicates)]
        out[name] = pd.concat(reps, ignore_index=True)
    return out


def _write(tmp_path: Path, tables: dict[str, pd.DataFrame], ext: str = "csv") -> list[str]:
    args = []
    for name, frame in tables.items():
        path = tmp_path / f"{name}.{ext}"
        if ext == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        args += [f"--{name}", str(path)]
    return args


def _run_json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, ["analyze", *args, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_analyze_ancova_matches_R_lm(tmp_path: Path, ext: str) -> None:  # noqa: N802
    """CLI ANCOVA at WEEK 28; expected values from tests/reference/ancova_gmr.R (lm)."""
    ref = _expected("ancova_gmr")
    files = _write(tmp_path, _adam(), ext)
    doc = _run_json(["--method", "ancova", *files, "--visit", "WEEK 28"])
    assert doc["estimate"] == pytest.approx(ref["ancova_estimate"], rel=1e-6)
    assert doc["std_error"] == pytest.approx(ref["ancova_std_error"], rel=1e-6)
    assert doc["p_value"] == pytest.approx(ref["ancova_p_value"], rel=1e-6)
    assert doc["df"] == ref["ancova_df"]
    assert doc["n"] == 71
    doc = _run_json(
        ["--method", "ancova", *files, "--covariates", "BASE,AGE", "--strata", "STRATUM"]
    )
    assert doc["estimate"] == pytest.approx(ref["ancova_cov_estimate"], rel=1e-6)
    assert doc["std_error"] == pytest.approx(ref["ancova_cov_std_error"], rel=1e-6)


def test_analyze_gmr_matches_R_lm(tmp_path: Path) -> None:  # noqa: N802
    """CLI GMR on PLNFL; expected values from tests/reference/ancova_gmr.R (lm, log scale)."""
    ref = _expected("ancova_gmr")
    files = _write(tmp_path, _adam())
    doc = _run_json(["--method", "gmr", *files, "--paramcd", "PLNFL"])
    assert doc["estimate"] == pytest.approx(np.exp(ref["gmr_estimate"]), rel=1e-6)
    assert doc["difference_pct"] == pytest.approx(100 * (1 - np.exp(ref["gmr_estimate"])), rel=1e-6)


@pytest.mark.parametrize(
    ("method", "key", "ref_name", "field"),
    [
        ("cox", "cox_log_hr", "survival", "log_hr"),
        ("logrank", "logrank_strat_chisq", "survival", "chisq"),
        ("mmrm", "mmrm_estimate", "mmrm", "estimate"),
    ],
)
def test_analyze_survival_and_mmrm_match_R(  # noqa: N802
    tmp_path: Path, method: str, key: str, ref_name: str, field: str
) -> None:
    """Cox and stratified log-rank (tests/reference/survival.R), MMRM (tests/reference/mmrm.R)."""
    ref = _expected(ref_name)
    files = _write(tmp_path, _adam())
    extra = ["--strata", "STRATUM"] if method == "logrank" else []
    doc = _run_json(["--method", method, *files, *extra])
    assert doc[field] == pytest.approx(ref[key], rel=1e-4)
    if method == "mmrm":
        assert "Satterthwaite" in str(doc["method"])
        assert isinstance(doc["df"], float)


def test_analyze_many_replicates_batched_and_selectable(tmp_path: Path) -> None:
    """Three identical replicates: per-replicate arrays, a summary, and --replicate selects one."""
    files = _write(tmp_path, _adam(3))
    doc = _run_json(["--method", "joint-rank", *files, "--strata", "STRATUM"])
    assert doc["n_replicates"] == 3
    estimates = doc["estimate"]
    assert isinstance(estimates, list)
    assert len(set(estimates)) == 1
    assert "summary" in doc
    one = _run_json(["--method", "joint-rank", *files, "--strata", "STRATUM", "--replicate", "2"])
    assert one["estimate"] == estimates[0]
    assert one["replicate"] == 2
    table = runner.invoke(app, ["analyze", "--method", "win-ratio", *files])
    assert table.exit_code == 0
    assert "summary over replicates" in table.stdout


def test_analyze_joint_rank_without_adtte_says_so(tmp_path: Path) -> None:
    tables = _adam()
    files = _write(tmp_path, {"adsl": tables["adsl"], "bds": tables["bds"]})
    doc = _run_json(["--method", "joint-rank", *files])
    assert "continuous endpoint only" in str(doc["note"])
    assert "function endpoint only" in str(doc["method"])


def test_analyze_with_imputation_is_seeded(tmp_path: Path) -> None:
    files = _write(tmp_path, _adam())
    args = ["--method", "ancova", *files, "--imputations", "5", "--seed", "7"]
    a, b = _run_json(args), _run_json(args)
    assert a["estimate"] == b["estimate"]
    assert a["n"] == 90
    assert "Barnard-Rubin" in str(a["method"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--treated", "TOFERSEN 60 MG"], "'TOFERSEN 60 MG' not found in ADSL column 'TRT01P'"),
        (["--covariates", "WEIGHT"], "covariate column 'WEIGHT' not found"),
        (["--arm-var", "ARM"], "ADSL is missing column 'ARM'"),
        (["--visit", "WEEK 99"], "visit 'WEEK 99' not found"),
        (["--paramcd", "NOPE"], "PARAMCD 'NOPE' not found in BDS"),
    ],
)
def test_analyze_user_errors_are_one_line(tmp_path: Path, extra: list[str], message: str) -> None:
    files = _write(tmp_path, _adam())
    result = runner.invoke(app, ["analyze", "--method", "ancova", *files, *extra])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_analyze_too_few_patients(tmp_path: Path) -> None:
    tables = _adam()
    adsl = tables["adsl"]
    keep = (adsl["TRT01P"] == "TOFERSEN 100 MG") | (
        adsl.index == adsl.index[adsl["TRT01P"] == "PLACEBO"][0]
    )
    tables["adsl"] = adsl[keep]
    files = _write(tmp_path, tables)
    result = runner.invoke(app, ["analyze", "--method", "ancova", *files])
    assert result.exit_code == 2
    assert "too few patients" in result.stderr


def test_analyze_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["analyze", "--method", "cox", "--adsl", str(tmp_path / "nope.csv")]
    )
    assert result.exit_code == 2
    assert "file not found" in result.stderr
