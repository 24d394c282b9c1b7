"""Campaigns: grids, determinism across workers and chunk sizes, resuming, type I error, errors."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import alsim.campaign.run as campaign_run
from alsim.campaign import (
    Campaign,
    CampaignError,
    default_plan,
    design_grid,
    parse_vary,
    run_campaign,
    scale_patients,
    set_duration,
    without_drug,
)
from alsim.cli.main import app
from alsim.design import load_template, template_path

PHASE12 = load_template("phase12")
PHASE12_FILE = str(template_path("phase12"))
runner = CliRunner()


def tiny_campaign(**changes: object) -> Campaign:
    settings: dict[str, object] = {
        "points": design_grid(PHASE12, parse_vary(["n_total=24", "effect=drug,none"])),
        "plan": default_plan(PHASE12),
        "n_replicates": 6,
        "seed": 3,
        "chunk_replicates": 3,
        "truth_patients": 200,
    }
    settings.update(changes)
    return Campaign(**settings)  # type: ignore[arg-type]


def read_outputs(out: Path) -> dict[str, pd.DataFrame]:
    names = ["summary.parquet", *sorted(p.name for p in (out / "points").iterdir())]
    frames = {"summary": pd.read_parquet(out / "summary.parquet")}
    frames.update({name: pd.read_parquet(out / "points" / name) for name in names[1:]})
    return frames


def assert_same_outputs(a: Path, b: Path) -> None:
    left, right = read_outputs(a), read_outputs(b)
    assert left.keys() == right.keys()
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_exact=True)


def test_scale_patients_keeps_groups_and_ratio() -> None:
    design = scale_patients(PHASE12, 100)
    assert design.n_patients == 100
    for group in design.randomization.groups:
        counts = sorted(group.n_per_arm.values())
        assert counts[0] * 3 == pytest.approx(counts[1], abs=2)


def test_duration_and_null_designs() -> None:
    short = set_duration(PHASE12, 8)
    assert [v.day for v in short.visits] == [1, 15, 29, 57]
    assert short.primary_visit == "DAY 57"
    assert max(short.regimen.dose_days) < 57
    longer = set_duration(PHASE12, 24)
    assert longer.visits[-1].day == 169
    assert max(longer.regimen.dose_days) == 141
    null = without_drug(PHASE12)
    assert all(arm.dose_mg == 0 for arm in null.arms)
    assert null.visits == PHASE12.visits and null.regimen == PHASE12.regimen


def test_duration_cuts_or_drops_an_open_label_extension() -> None:
    from alsim.design import STUDY_TEMPLATES

    if "ole" not in STUDY_TEMPLATES:
        pytest.skip("no VALOR + extension template")
    ole = load_template("ole")
    year = set_duration(ole, 52)
    assert year.extension is not None
    assert year.visits[-1].day == 365 and year.primary_visit == year.visits[-1].name
    assert max(year.extension.regimen.dose_days) < 365
    assert year.regimen == ole.regimen
    assert set_duration(ole, 20).extension is None


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("n_totl=10", "unknown key 'n_totl'; allowed keys: n_total, duration_weeks, effect"),
        ("effect=half", "value 'half' is not allowed; allowed values: drug, none"),
        ("n_total=ten", "--vary n_total: value 'ten' must be an integer in 2..100000"),
        ("duration_weeks", "must look like key=v1,v2"),
    ],
)
def test_bad_vary_names_key_and_allowed_values(option: str, message: str) -> None:
    with pytest.raises(CampaignError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_vary([option])


def test_too_small_n_total_says_why() -> None:
    with pytest.raises(CampaignError, match="too small"):
        design_grid(PHASE12, parse_vary(["n_total=4"]))


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    cases = [
        (["--vary", "dose=1,2"], "unknown key 'dose'"),
        (["--workers", "0"], "--workers must be 1..256, got 0"),
        (["--scheduler", "localhost"], "--scheduler must be a Dask scheduler address"),
    ]
    for extra, message in cases:
        result = runner.invoke(
            app, ["power", PHASE12_FILE, "-r", "2", "--out", str(tmp_path / "x"), *extra]
        )
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert not (tmp_path / "x").exists()


def test_fingerprint_mismatch_refuses_to_mix(tmp_path: Path) -> None:
    run_campaign(tiny_campaign(), tmp_path)
    with pytest.raises(CampaignError, match=r"holds a different campaign \(differs in: seed\)"):
        run_campaign(tiny_campaign(seed=4), tmp_path)
    with pytest.raises(CampaignError, match="differs in: n_replicates"):
        run_campaign(tiny_campaign(n_replicates=9), tmp_path)


def test_identical_results_for_one_or_two_workers_and_two_chunk_sizes(tmp_path: Path) -> None:
    run_campaign(tiny_campaign(), tmp_path / "one")
    run_campaign(tiny_campaign(chunk_replicates=2), tmp_path / "two", workers=2)
    assert_same_outputs(tmp_path / "one", tmp_path / "two")


def test_local_cluster_shuts_down_in_the_background_after_the_last_result(
    tmp_path: Path,
) -> None:
    import multiprocessing
    import threading

    run_campaign(tiny_campaign(), tmp_path, workers=2)
    assert (tmp_path / "summary.csv").exists()
    closing = [t for t in threading.enumerate() if t.name == "alsim-cluster-close"]
    for thread in closing:
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert not multiprocessing.active_children()  # the worker processes have exited


def test_local_workers_keep_glibc_adaptive_allocation_and_one_thread() -> None:
    # Dask's MALLOC_TRIM_THRESHOLD_ turns off glibc's adaptive mmap threshold: every large
    # array faulted its pages in again (a quarter of a worker's time in the kernel)
    environ = campaign_run._worker_environ()
    assert "MALLOC_TRIM_THRESHOLD_" not in environ
    assert {environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")} == {1}


def test_scheduler_address_runs_the_same_chunks(tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    run_campaign(tiny_campaign(), tmp_path / "local")
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
        run_campaign(tiny_campaign(), tmp_path / "remote", scheduler=cluster.scheduler_address)
    assert_same_outputs(tmp_path / "local", tmp_path / "remote")


def test_unreachable_scheduler_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_run, "SCHEDULER_TIMEOUT", "1s")
    with pytest.raises(
        CampaignError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        run_campaign(tiny_campaign(), tmp_path, scheduler="tcp://127.0.0.1:9")


def test_interrupted_run_resumes_to_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_campaign(tiny_campaign(chunk_replicates=2), tmp_path / "whole")
    original = campaign_run.simulate_chunk
    calls = []

    def failing(*args: object) -> pd.DataFrame:
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(args)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(campaign_run, "simulate_chunk", failing)
    with pytest.raises(KeyboardInterrupt):
        run_campaign(tiny_campaign(chunk_replicates=2), tmp_path / "resumed")
    done = list((tmp_path / "resumed" / "chunks").rglob("*.parquet"))
    assert len(done) == 2
    assert not list((tmp_path / "resumed").rglob("*.partial"))
    monkeypatch.setattr(campaign_run, "simulate_chunk", original)
    resumed_from = []
    run_campaign(
        tiny_campaign(chunk_replicates=2),
        tmp_path / "resumed",
        on_start=lambda total, already: resumed_from.append((total, already)),
    )
    assert resumed_from == [(12, 4)]
    assert_same_outputs(tmp_path / "whole", tmp_path / "resumed")


def test_killed_process_resumes_to_identical_results(tmp_path: Path) -> None:
    """kill -9 of `alsim power` after its first chunk file appears, then the same command."""
    args = [
        str(Path(sys.executable).parent / "alsim"), "power", PHASE12_FILE, "-r", "16", "--chunk",
        "2", "--vary", "n_total=24", "--seed", "5", "--truth-patients", "200",
    ]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200"}
    whole = subprocess.run([*args, "--out", str(tmp_path / "whole")], env=env, check=True)
    assert whole.returncode == 0
    for name in ("summary.csv", "summary.parquet", "report.html", "campaign.json"):
        assert (tmp_path / "whole" / name).is_file()
    target = tmp_path / "killed"
    process = subprocess.Popen([*args, "--out", str(target)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(target.glob("chunks/*/*.parquet")):
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (target / "summary.parquet").exists(), "finished before it could be killed"
    subprocess.run([*args, "--out", str(target)], env=env, check=True)
    assert_same_outputs(tmp_path / "whole", target)


def type_one_error(tmp_path: Path, n_replicates: int) -> pd.Series:
    campaign = Campaign(
        points=design_grid(PHASE12, parse_vary(["effect=none"])),
        plan=default_plan(PHASE12),
        n_replicates=n_replicates,
        seed=11,
        chunk_replicates=250,
    )
    summary = run_campaign(campaign, tmp_path).summary
    return summary[summary["primary"]].iloc[0]


def check_type_one_error(row: pd.Series) -> None:
    # 5% within 3 Monte Carlo SEs of the nominal rate: a false failure about 3 times in 1000
    n = row["n_replicates"] - row["n_failed"]
    band = 3.0 * np.sqrt(0.05 * 0.95 / n)
    assert row["analysis"] == "gmr_csf_sod1"
    assert abs(row["rejection_rate"] - 0.05) <= band, row.to_dict()
    assert abs(row["coverage"] - 0.95) <= band, row.to_dict()


def test_type_one_error_of_phase12_primary_gmr_is_five_percent(tmp_path: Path) -> None:
    check_type_one_error(type_one_error(tmp_path, 1000))


@pytest.mark.slow
def test_type_one_error_of_phase12_primary_gmr_is_five_percent_10000(tmp_path: Path) -> None:
    check_type_one_error(type_one_error(tmp_path, 10_000))


def test_valor_plan_results_do_not_depend_on_the_batch() -> None:
    """Every analysis of the VALOR plan (joint rank + MI, ANCOVA + MI, GMR, Cox) gives replicate 3
    the same bits alone as in a batch of 4: chunk size never changes a result."""
    from alsim.design import STUDY_TEMPLATES
    from alsim.simulate import simulate_trial

    if "valor" not in STUDY_TEMPLATES:
        pytest.skip("no VALOR template")
    from alsim.campaign import run_plan

    design = load_template("valor")
    plan = default_plan(design, n_imputations=3)
    batch = run_plan(simulate_trial(design, n_replicates=4, seed=2), plan)
    alone = run_plan(simulate_trial(design, n_replicates=1, seed=2, first_replicate=3), plan)
    same = batch[batch["replicate"] == 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(same, alone, check_exact=True)
    assert len(alone) == len(plan)


@pytest.mark.slow
def test_type_one_error_of_valor_primary_joint_rank_is_five_percent(tmp_path: Path) -> None:
    """VALOR's primary analysis (joint rank test with multiple imputation, FASTER stratum) at the
    null: 5% within 3 Monte Carlo SEs over 1,000 replicates (about 2.5 min on 2 workers)."""
    design = load_template("valor")
    campaign = Campaign(
        points=design_grid(design, parse_vary(["effect=none"])),
        plan=default_plan(design),
        n_replicates=1000,
        seed=11,
        chunk_replicates=100,
    )
    summary = run_campaign(campaign, tmp_path, workers=2).summary
    row = summary[summary["primary"]].iloc[0]
    assert row["analysis"] == "joint_rank_alsfrsr_faster"
    n = row["n_replicates"] - row["n_failed"]
    assert n >= 990
    assert abs(row["rejection_rate"] - 0.05) <= 3.0 * np.sqrt(0.05 * 0.95 / n), row.to_dict()


def test_true_value_is_that_of_each_analysis_estimand() -> None:
    """A hypothetical strategy for discontinuation ("had treatment continued") is evaluated on a
    run in which nobody stops treatment: the same patients, every dose given. The run as
    simulated, where withdrawn patients' biomarkers recover off drug, gives another value (the
    treatment-policy one): comparing an observed-case GMR's CI with it was why coverage fell to
    0.70-0.76 in a 52-week design."""
    from alsim.campaign import run_plan, true_effects
    from alsim.campaign.run import TRUTH_REPLICATE
    from alsim.simulate import simulate_trial

    point = design_grid(PHASE12, parse_vary(["effect=drug"]))[0]
    plan = default_plan(PHASE12)
    truths = true_effects(point, plan, 3, 300)
    design = scale_patients(PHASE12, 300)
    continued = simulate_trial(
        design, n_replicates=1, seed=3, first_replicate=TRUTH_REPLICATE, discontinuation=False
    )
    expected = run_plan(continued, plan, noise_free=True)
    np.testing.assert_array_equal(truths["true_value"], expected["estimate"])
    as_run = simulate_trial(design, n_replicates=1, seed=3, first_replicate=TRUTH_REPLICATE)
    assert np.isinf(continued.dropout_day).all() and not np.isinf(as_run.dropout_day).all()
    off_drug = run_plan(as_run, plan, noise_free=True)
    assert not np.array_equal(off_drug["estimate"], expected["estimate"])


def test_ratio_analyses_report_their_standard_error_on_the_log_scale(tmp_path: Path) -> None:
    result = run_campaign(tiny_campaign(), tmp_path)
    gmr = result.results[result.results["analysis"] == "gmr_csf_sod1"]
    assert gmr["std_error"].isna().all() and gmr["std_error_log"].notna().all()
    assert np.all(gmr["ci_low"] < gmr["estimate"]) and np.all(gmr["estimate"] < gmr["ci_high"])
    assert "failure" in result.summary.columns
