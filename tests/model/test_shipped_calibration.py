"""The shipped calibration is the source of every fitted value, and no published number is typed
into the parameter module."""

import ast
import inspect
import math

import numpy as np
import pytest

from alsim.calibrate.joint import model_fingerprint
from alsim.calibrate.targets import calibration_groups
from alsim.design.templates import load_template
from alsim.evidence.compare import Target, target_values
from alsim.evidence.records import evidence, load_evidence
from alsim.evidence.roles import _cited_ids
from alsim.model import parameters as parameter_module
from alsim.model.parameters import DEFAULT_PARAMETERS, TABLE, shipped_calibration
from alsim.model.uncertainty import shipped_posterior
from alsim.simulate.trial import simulate_trial


def test_every_fitted_value_is_the_shipped_posterior_median() -> None:
    summary = shipped_calibration()
    assert summary is not None, "no shipped calibration in alsim/model/data/calibration"
    assert set(summary["parameters"]) == {p.name for p in TABLE.free}
    for p in TABLE.free:
        fitted = DEFAULT_PARAMETERS[p.parameter.name]
        entry = summary["parameters"][p.name]
        if p.quantity == "value":
            value, posterior = fitted.value, fitted.posterior
        else:
            value, posterior = fitted.omega, fitted.omega_posterior
        assert value == entry["median"], p.name
        assert posterior is not None and posterior.low == entry["low"], p.name
        assert posterior.high == entry["high"] and posterior.targets == tuple(entry["targets"])
    draws = shipped_posterior()
    for j, name in enumerate(draws.names):
        assert float(np.median(draws.values[:, j])) == pytest.approx(
            summary["parameters"][name]["median"], rel=1e-5
        )


def test_shipped_calibration_was_fitted_to_this_model_and_evidence() -> None:
    summary = shipped_calibration()
    assert summary is not None
    assert summary["model_fingerprint"] == model_fingerprint(TABLE), (
        "the parameter table changed since the shipped calibration: regenerate it with the "
        "command in README.md"
    )
    groups = calibration_groups()
    assert set(summary["fitted_groups"]) <= set(groups)
    for check in summary["targets"]:
        record = evidence(check["target"])
        ci = [record.ci_low, record.ci_high] if record.has_ci else None
        assert (check["published"], check["published_ci"]) == (record.numeric_value, ci), (
            f"evidence {record.id} changed since the shipped calibration: regenerate it"
        )
    fitted = {t.id for g in summary["fitted_groups"] for t in groups[g].targets if t.in_likelihood}
    assert fitted <= {c["target"] for c in summary["targets"]}


def _significant_digits(x: float) -> int:
    return len(f"{abs(x):.12g}".split("e")[0].replace(".", "").strip("0"))


def _evidence_numbers(ids: set[str] | None = None) -> set[float]:
    out = set()
    for record in load_evidence().values():
        if ids is not None and record.id not in ids:
            continue
        for v in (record.value, record.ci_low, record.ci_high):
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.add(float(v))
    return out


def test_no_published_number_is_typed_into_the_parameter_module() -> None:
    """A numeric literal in parameters.py may not equal a value of an evidence record its
    parameter cites, nor (with 3 or more significant digits) any published value at all."""
    tree = ast.parse(inspect.getsource(parameter_module))
    every = _evidence_numbers()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            x = float(node.value)
            if not isinstance(node.value, bool) and x in every and _significant_digits(x) >= 3:
                found.append(f"line {node.lineno}: {node.value!r}")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Parameter":
            name = next(
                k.value.value  # type: ignore[attr-defined]
                for k in node.keywords
                if k.arg == "name"
            )
            cited = _evidence_numbers(_cited_ids(TABLE[name].source))
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Constant)
                    and isinstance(inner.value, int | float)
                    and not isinstance(inner.value, bool)
                    and float(inner.value) in cited
                ):
                    found.append(f"line {inner.lineno}: {inner.value!r} ({name})")
    assert not found, "published numbers typed into parameters.py: " + "; ".join(found)


def test_uncertainty_draw_does_not_depend_on_chunking() -> None:
    design = load_template("phase12")
    draws = shipped_posterior()
    whole = simulate_trial(design, n_replicates=6, seed=4, uncertainty=draws)
    part = simulate_trial(design, n_replicates=2, seed=4, first_replicate=4, uncertainty=draws)
    assert list(whole.draw_index[4:]) == list(part.draw_index)
    np.testing.assert_array_equal(whole.observed["CSFSOD1"][4:], part.observed["CSFSOD1"])
    assert len(set(whole.draw_index)) > 1
    gamma = whole.parameters["gamma_injury"][:, 0]
    assert np.unique(gamma).size > 1  # every replicate its own typical value


def test_uncertainty_widens_intervals() -> None:
    # a prediction no published number pins down (Phase 1/2 plasma NfL rests on the weakly
    # identified NfL exponents): the fitted CSF SOD1 differences are held by the fit, so there
    # the parameters add little to the trial's own sampling error
    design = load_template("phase12")
    target = Target(
        quantity="geo_mean_pct_change", paramcd="PLNFL", visit="DAY 85", arm="TOFERSEN 100 MG"
    )
    fixed = simulate_trial(design, n_replicates=300, seed=8)
    uncertain = simulate_trial(design, n_replicates=300, seed=8, uncertainty=shipped_posterior())

    def width(sim: object) -> float:
        values = target_values(sim, [target])[0]  # type: ignore[arg-type]
        low, high = np.quantile(values, [0.025, 0.975])
        return float(high - low)

    assert width(uncertain) > 1.1 * width(fixed)
    assert math.isfinite(width(fixed))


def test_docs_parameter_page_shows_prior_posterior_and_targets() -> None:
    from alsim.docs import parameter_table

    summary = shipped_calibration()
    assert summary is not None
    lines = parameter_table().splitlines()
    assert "| Prior | Posterior median [95% CrI] | Fitted to |" in lines[0]
    for p in TABLE.free:
        if p.quantity != "value":
            continue
        entry = summary["parameters"][p.name]
        row = next(line for line in lines if line.startswith(f"| `{p.name}` |"))
        posterior = f"{entry['median']:.4g} [{entry['low']:.4g}, {entry['high']:.4g}]"
        assert p.prior.describe() in row and posterior in row, p.name
        assert all(t in row for t in entry["targets"]), p.name
