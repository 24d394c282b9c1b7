"""Simulating VALOR and its extension: strata by rule, function on its scale, deaths, extension."""

import numpy as np
import pytest

import alsim.simulate.progression as progression
from alsim.design import load_template
from alsim.io import build_adqs, build_adsl, build_adtte
from alsim.simulate import TrialSimulation, simulate_trial

VALOR = load_template("valor")
OLE = load_template("ole")


@pytest.fixture(scope="module")
def valor_sim():  # type: ignore[no-untyped-def]
    return simulate_trial(VALOR, n_replicates=3, seed=21)


@pytest.fixture(scope="module")
def ole_sim():  # type: ignore[no-untyped-def]
    return simulate_trial(OLE, n_replicates=2, seed=21)


def test_patients_are_assigned_to_strata_by_the_faster_rule(valor_sim) -> None:  # type: ignore[no-untyped-def]
    rule = VALOR.faster_rule
    assert rule is not None
    cov = valor_sim.covariates
    faster = cov["a4v"].astype(bool) | (
        cov["prestudy_slope_per_month"] >= rule.prestudy_slope_per_month
    )
    in_faster = valor_sim.group_index == 0
    assert np.all(faster[:, in_faster])
    assert not np.any(faster[:, ~in_faster])
    assert in_faster.sum() == 60


def test_baseline_covariates_arise_by_construction(valor_sim) -> None:  # type: ignore[no-untyped-def]
    cov = valor_sim.covariates
    np.testing.assert_allclose(
        cov["alsfrsr_baseline"],
        48.0 - cov["prestudy_slope_per_month"] * cov["months_since_onset"],
    )
    log_nfl = np.log(cov["plasma_nfl_base_pg_ml"]).ravel()
    log_slope = np.log(cov["slope_per_month"]).ravel()
    assert np.corrcoef(log_nfl, log_slope)[0, 1] > 0.4


def test_alsfrsr_totals_are_integers_from_0_to_48(valor_sim) -> None:  # type: ignore[no-untyped-def]
    obs = valor_sim.observed["ALSFRSR"]
    seen = obs[np.isfinite(obs)]
    assert seen.min() >= 0 and seen.max() <= 48
    np.testing.assert_array_equal(seen, np.round(seen))


def test_nothing_is_observed_after_death_or_withdrawal(ole_sim) -> None:  # type: ignore[no-untyped-def]
    days = ole_sim.visit_days[None, None, :]
    after_event = days >= ole_sim.event_day[:, :, None]
    after_end = days > ole_sim.censor_day[:, :, None]
    for values in ole_sim.observed.values():
        assert np.all(np.isnan(values[after_event | after_end]))
    assert np.isfinite(ole_sim.event_day).any()


def test_extension_entrants_get_tofersen_and_non_entrants_leave(ole_sim) -> None:  # type: ignore[no-untyped-def]
    adsl = build_adsl(ole_sim)
    entered = ole_sim.extension_entered.reshape(-1)
    assert set(adsl.loc[entered, "TRT02P"]) == {"TOFERSEN 100 MG"}
    assert set(adsl.loc[~entered, "TRT02P"]) <= {""}
    start = OLE.extension.start_day  # type: ignore[union-attr]
    assert np.all(ole_sim.censor_day[~ole_sim.extension_entered] <= start)
    assert 0.7 < ole_sim.extension_entered.mean() < 0.97


def test_same_seed_gives_the_same_trial() -> None:
    a = simulate_trial(VALOR, n_replicates=2, seed=4)
    b = simulate_trial(VALOR, n_replicates=2, seed=4)
    for key in a.observed:
        np.testing.assert_array_equal(a.observed[key], b.observed[key])
    np.testing.assert_array_equal(a.event_day, b.event_day)


def test_valor_replicates_do_not_depend_on_chunking() -> None:
    whole = simulate_trial(VALOR, n_replicates=3, seed=5)
    rest = simulate_trial(VALOR, n_replicates=2, seed=5, first_replicate=1)
    np.testing.assert_array_equal(whole.observed["ALSFRSR"][1:], rest.observed["ALSFRSR"])
    np.testing.assert_array_equal(whole.event_day[1:], rest.event_day)


def test_clinical_outcomes_do_not_depend_on_the_hazard_block(
    ole_sim: TrialSimulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progression, "HAZARD_BLOCK_PATIENTS", 7)
    blocked = simulate_trial(OLE, n_replicates=2, seed=21)
    np.testing.assert_array_equal(blocked.event_day, ole_sim.event_day)
    np.testing.assert_array_equal(blocked.censor_day, ole_sim.censor_day)
    for key in ole_sim.true_values:
        np.testing.assert_array_equal(blocked.true_values[key], ole_sim.true_values[key])
        np.testing.assert_array_equal(blocked.observed[key], ole_sim.observed[key])


def test_adam_tables_for_function_and_survival(valor_sim) -> None:  # type: ignore[no-untyped-def]
    adqs = build_adqs(valor_sim)
    assert set(adqs["PARAMCD"]) == {"ALSFRSR", "SVCPP", "HHDMEGA"}
    adtte = build_adtte(valor_sim)
    required = ["STUDYID", "REPLICATE", "USUBJID", "TRT01P", "PARAMCD", "PARAM", "AVAL", "CNSR"]
    assert {*required, "EVNTDESC"} <= set(adtte.columns)
    assert len(adtte) == valor_sim.n_replicates * valor_sim.n_patients
    assert set(adtte["CNSR"]) <= {0, 1}
    assert (adtte["AVAL"] >= 0).all()
    adsl = build_adsl(valor_sim)
    assert set(adsl["STRATUM"]) == {"FASTER", "SLOWER"}
    assert set(adsl["TRT01P"]) == {"PLACEBO", "TOFERSEN 100 MG"}


def test_biomarker_only_designs_draw_no_clinical_outcomes() -> None:
    """The Phase 1/2 design draws its patients like every design but, without clinical
    endpoints, simulates no function, breathing or survival."""
    phase12 = load_template("phase12")
    sim = simulate_trial(phase12, n_replicates=2, seed=8)
    assert not sim.has_events
    assert set(sim.observed) == {"CSFSOD1", "PLNFL", "CSFNFL"}
    assert sim.covariates["alsfrsr_baseline"].shape == (2, phase12.n_patients)
