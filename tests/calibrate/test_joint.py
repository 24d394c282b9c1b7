"""The joint calibration: priors, target groups, emulator, sampler diagnostics, the `alsim
calibrate` command (quick settings) and its outputs."""

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import WhiteKernel
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from alsim.calibrate.emulator import fit_emulator
from alsim.calibrate.joint import CalibrationSettings, emulate, free_space, split_rhat
from alsim.calibrate.sbc import load_design, simulation_based_calibration
from alsim.calibrate.targets import (
    calibration_groups,
    cross_validation_groups,
    from_scale,
    select_groups,
    to_scale,
)
from alsim.cli.main import app
from alsim.errors import AlsimError
from alsim.evidence.records import evidence
from alsim.model.parameters import TABLE, Parameter, Prior

runner = CliRunner()
QUICK = ["calibrate", "--quick", "--seed", "3", "--leave-out", "valor_nfl_faster"]


def test_default_prior_puts_95_percent_in_the_sensitivity_range() -> None:
    p = Parameter(
        name="x",
        value=math.nan,
        unit="d",
        description="",
        source="",
        assumption=True,
        sensitivity=(10.0, 40.0),
        fitted_to=("valor_nfl",),
    )
    prior = p.prior_distribution
    assert prior is not None and prior.kind == "lognormal"
    mass = norm.cdf(math.log(40.0), prior.mean, prior.sd) - norm.cdf(
        math.log(10.0), prior.mean, prior.sd
    )
    assert mass == pytest.approx(0.95, abs=1e-9)
    assert prior.from_unconstrained(prior.mean) == pytest.approx(20.0)


def test_logit_normal_prior_for_a_fraction() -> None:
    prior = Prior(kind="logitnormal", low=0.2, high=0.9)
    for x in (0.2, 0.5, 0.9):
        assert prior.from_unconstrained(prior.to_unconstrained(x)) == pytest.approx(x)


def test_a_fitted_parameter_without_prior_is_refused() -> None:
    with pytest.raises(AlsimError, match="no prior"):
        Parameter(
            name="x",
            value=1.0,
            unit="1",
            description="",
            source="",
            assumption=True,
            fitted_to=("valor_nfl",),
        )


def test_every_free_parameter_names_known_groups() -> None:
    groups = calibration_groups()
    assert TABLE.free
    for p in TABLE.free:
        assert p.fitted_to and all(g in groups for g in p.fitted_to), p.name
        typed = p.parameter.value if p.quantity == "value" else p.parameter.omega
        assert math.isnan(typed), f"{p.name}: a fitted value must not be typed in the table"
    for name in cross_validation_groups():
        assert name in groups


def test_group_standard_errors_come_from_the_published_ci() -> None:
    targets = {t.id: t for g in calibration_groups().values() for t in g.targets}
    ratio = targets["valor_plasma_nfl_ratio_itt"]
    record = evidence("valor_plasma_nfl_ratio_itt")
    assert record.ci_low is not None and record.ci_high is not None
    expected = (math.log(record.ci_high) - math.log(record.ci_low)) / (2 * 1.959963984540054)
    assert ratio.published_se == pytest.approx(expected)
    assert targets["valor_plasma_nfl_gmr_itt_placebo"].published_se is None
    # a % reduction is 100 (1 - ratio): the same number on the same scale
    diff = targets["valor_plasma_nfl_itt_diff"]
    assert diff.observed == pytest.approx(float(to_scale(0.4, "log")))
    assert float(from_scale(diff.observed, diff.scale)) == pytest.approx(diff.published)


def test_select_groups_rejects_unknown_names() -> None:
    with pytest.raises(AlsimError, match="unknown target group 'nope'"):
        select_groups(("nope",), ())
    fitted, left = select_groups(None, ("phase12_csf_sod1",))
    assert "phase12_csf_sod1" not in fitted and left == ("phase12_csf_sod1",)


def test_closed_form_leave_one_out_matches_a_refit() -> None:
    rng = np.random.default_rng(3)
    u = rng.uniform(-2, 2, (25, 2))
    y = np.sin(u[:, 0]) + 0.5 * u[:, 1] + 0.01 * rng.standard_normal(25)
    emulator = fit_emulator(u, {"y": y}, seed=1, restarts=0)
    loo = emulator.leave_one_out("y")
    model = emulator.models[0]
    for i in (0, 7, 19):
        keep = np.arange(25) != i
        refit = GaussianProcessRegressor(kernel=model.kernel_, optimizer=None, normalize_y=False)
        mean_y, std_y = y.mean(), y.std()  # the fitted model's normalisation
        refit.fit(u[keep], (y[keep] - mean_y) / std_y)
        predicted, sd = refit.predict(u[i : i + 1], return_std=True)
        assert y[i] - (predicted[0] * std_y + mean_y) == pytest.approx(loo.residual[i], rel=1e-5)
        assert np.hypot(sd[0], 0) * std_y == pytest.approx(loo.sd[i], rel=1e-5)


def test_calibrated_variance_matches_the_leave_one_out_error() -> None:
    # a GP whose white noise is held too small for the data: its own variance understates the
    # leave-one-out error, and the calibrated emulator's variance makes up the measured ratio
    rng = np.random.default_rng(5)
    u = rng.uniform(-2, 2, (40, 2))
    y = np.sin(2 * u[:, 0]) + 0.3 * rng.standard_normal(40)
    raw = fit_emulator(u, {"y": y, "smooth": np.cos(u[:, 1])}, seed=1, restarts=0)
    fixed = GaussianProcessRegressor(
        kernel=raw.models[0].kernel_.k1 + WhiteKernel(1e-4, "fixed"),
        optimizer=None,
        normalize_y=True,
    ).fit(u, y)
    raw = replace(raw, models=(fixed, raw.models[1]))
    ratio = float(np.mean(raw.leave_one_out("y").standardized ** 2))
    assert ratio > 1.5
    calibrated = raw.calibrated()
    assert calibrated.variance_scale[0] == pytest.approx(ratio)
    assert calibrated.variance_scale[1] >= 1.0  # never narrowed
    at = rng.uniform(-2, 2, (5, 2))
    mean_raw, var_raw = raw.predict(at, ("y",))
    mean_cal, var_cal = calibrated.predict(at, ("y",))
    np.testing.assert_array_equal(mean_cal, mean_raw)
    np.testing.assert_allclose(var_cal, var_raw * ratio, rtol=1e-12)


def test_split_rhat_is_one_for_mixed_chains_and_large_for_stuck_ones() -> None:
    rng = np.random.default_rng(1)
    mixed = rng.standard_normal((2000, 8, 1))
    assert split_rhat(mixed)[0] == pytest.approx(1.0, abs=0.01)
    stuck = mixed + np.arange(8)[None, :, None]
    assert split_rhat(stuck)[0] > 2


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calibration") / "run"
    result = runner.invoke(app, [*QUICK, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_calibrate_writes_draws_summary_design_and_report(quick_run: Path) -> None:
    names = [p.name for p in TABLE.free]
    draws = pq.read_table(quick_run / "posterior.parquet").to_pandas()
    assert list(draws.columns[1 : 1 + len(names)]) == names
    assert draws["evidence_fingerprint"].nunique() == 1
    assert draws["model_fingerprint"].nunique() == 1
    summary = json.loads((quick_run / "summary.json").read_text())
    assert summary["command"] == "alsim calibrate --leave-out valor_nfl_faster --quick --seed 3"
    assert summary["left_out"] == ["valor_nfl_faster"]
    for name in names:
        p = summary["parameters"][name]
        assert p["low"] <= p["median"] <= p["high"]
        assert math.isclose(p["median"], float(np.median(draws[name])), rel_tol=1e-5)
    # roles: the left-out group's numbers were not used, the fitted ones were
    assert "valor_plasma_nfl_gmr_faster_placebo" not in summary["roles"]
    assert summary["roles"]["valor_plasma_nfl_ratio_itt"] == [
        "gamma_injury",
        "nfl_activity_exponent",
    ]
    folds = {f["left_out"]: f for f in summary["cross_validation"]}
    assert set(folds) == {"valor_nfl_faster", "phase12_csf_sod1", "natural_history"}
    assert len(folds["phase12_csf_sod1"]["targets"]) == 5
    assert 0.0 <= folds["phase12_csf_sod1"]["coverage_95"] <= 1.0
    assert set(summary["sobol"]) == {
        "valor_alsfrsr_fast_diff",
        "valor_plasma_nfl_ratio_itt",
        "ole_week52_alsfrsr_diff",
    }
    report = (quick_run / "report.html").read_text()
    for heading in ("Cross-validation", "Sobol", "Diagnostics", "Pairs plot"):
        assert heading in report
    assert (quick_run / "design.parquet").exists()


def test_calibrate_bad_group_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibrate", "--quick", "--targets", "x", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown target group 'x'" in result.output
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_calibrate_is_byte_for_byte_reproducible(quick_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    result = runner.invoke(app, [*QUICK, "--workers", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("posterior.parquet", "summary.json", "design.parquet"):
        assert (out / name).read_bytes() == (quick_run / name).read_bytes(), name


def test_sbc_cases_do_not_depend_on_the_number_of_workers(quick_run: Path) -> None:
    settings = CalibrationSettings.quick(seed=3)
    design = load_design(quick_run / "design.parquet")
    with threadpool_limits(1):
        emulator = emulate(design, settings)
    groups = tuple(json.loads((quick_run / "summary.json").read_text())["fitted_groups"])
    runs = [
        simulation_based_calibration(
            emulator, design, free_space(), settings, groups, n_cases=3, seed=5, workers=w
        )
        for w in (1, 2)
    ]
    assert runs[0].truth.shape == (3, len(free_space().names))
    np.testing.assert_array_equal(runs[0].truth, runs[1].truth)
    np.testing.assert_array_equal(runs[0].covered, runs[1].covered)
    np.testing.assert_array_equal(runs[0].joint, runs[1].joint)
