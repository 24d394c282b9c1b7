"""ADaM of run-in designs: ADSL trigger and phenoconversion columns, ADLB run-in samples, ADTTE
PHENOCNV; the existing columns stay."""

import numpy as np

from alsim.campaign import scale_patients
from alsim.design import load_template
from alsim.io import build_adsl, build_adtte, build_bds
from alsim.simulate import simulate_trial

SIM = simulate_trial(scale_patients(load_template("atlas"), 8), n_replicates=2, seed=3)


def test_adsl_adds_trigger_and_phenoconversion_columns() -> None:
    adsl = build_adsl(SIM)
    for column in ("STUDYID", "REPLICATE", "USUBJID", "TRT01P", "TRT02P", "AGE", "EOSDY"):
        assert column in adsl
    assert SIM.carriers is not None
    assert np.all(adsl["TRIGADY"] >= 1)
    assert np.all(adsl["AGE"] >= adsl["ENTAGE"])
    found = adsl["PHENOFL"] == "Y"
    assert np.all(adsl.loc[found, "EOSDY"] == adsl.loc[found, "PHENODY"])
    assert set(adsl.loc[found, "TRT02P"]) <= {"TOFERSEN 100 MG OPEN LABEL"}
    assert set(adsl.loc[~found, "TRT02P"]) <= {""}


def test_adlb_holds_the_run_in_before_day_one() -> None:
    adlb = build_bds(SIM)
    run_in = adlb[adlb["APHASE"] == "RUN-IN"]
    assert set(run_in["PARAMCD"]) == {"PLNFL"}
    assert np.all(run_in["ADY"] < 0) and np.all(run_in["AVISITN"] == run_in["ADY"])
    assert run_in["BASE"].isna().all() and run_in["CHG"].isna().all()
    randomised = adlb[adlb["APHASE"] == "RANDOMISED"]
    assert np.all(randomised["ADY"] >= 1)
    assert SIM.carriers is not None
    assert len(run_in) == np.isfinite(SIM.carriers.run_in_day).sum()


def test_adtte_phenocnv_matches_the_simulation() -> None:
    adtte = build_adtte(SIM)
    assert set(adtte["PARAMCD"]) == {"PHENOCNV"}
    assert SIM.carriers is not None
    found = SIM.carriers.event_observed.reshape(-1)
    np.testing.assert_array_equal(adtte["CNSR"].to_numpy() == 0, found)
    np.testing.assert_allclose(
        adtte["AVAL"].to_numpy()[found], SIM.carriers.event_day.reshape(-1)[found] - 1.0
    )
    assert set(adtte.loc[found, "EVNTDESC"]) == {"CLINICALLY MANIFEST ALS"}
