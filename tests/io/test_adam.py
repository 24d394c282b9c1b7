"""ADaM-like tables: the column contract and the BDS derivations."""

import numpy as np

from alsim.design import load_template
from alsim.io import build_adsl, build_bds
from alsim.simulate import simulate_trial

SIM = simulate_trial(load_template("phase12"), n_replicates=3, seed=2)

ADSL_COLUMNS = [
    "STUDYID",
    "REPLICATE",
    "USUBJID",
    "TRT01P",
    "TRT02P",
    "STRATUM",
    "AGE",
    "SEX",
    "VARIANT",
]
BDS_COLUMNS = [
    "REPLICATE",
    "USUBJID",
    "PARAMCD",
    "AVISIT",
    "ADY",
    "AVAL",
    "BASE",
    "CHG",
    "PCHG",
    "R2BASE",
]


def test_adsl_has_contract_columns_one_row_per_subject_and_parameters() -> None:
    adsl = build_adsl(SIM)
    assert set(ADSL_COLUMNS) <= set(adsl.columns)
    assert len(adsl) == 3 * 50
    assert not adsl.duplicated(["REPLICATE", "USUBJID"]).any()
    assert set(adsl["TRT01P"]) == {
        "PLACEBO",
        "TOFERSEN 20 MG",
        "TOFERSEN 40 MG",
        "TOFERSEN 60 MG",
        "TOFERSEN 100 MG",
    }
    assert (adsl["TRT02P"] == "").all()
    assert {"EC50_TISSUE_MG", "F_CNS", "PLASMA_NFL_BASE_PG_ML"} <= set(adsl.columns)
    per_arm = adsl[adsl["REPLICATE"] == 0]["TRT01P"].value_counts().to_dict()
    assert per_arm["PLACEBO"] == 12 and per_arm["TOFERSEN 100 MG"] == 10


def test_bds_derivations_follow_cdisc_definitions() -> None:
    adlb = build_bds(SIM)
    assert set(BDS_COLUMNS) <= set(adlb.columns)
    assert set(adlb["PARAMCD"]) == {"CSFSOD1", "PLNFL", "CSFNFL"}
    post = adlb[adlb["ABLFL"] != "Y"]
    np.testing.assert_allclose(post["CHG"], post["AVAL"] - post["BASE"])
    np.testing.assert_allclose(post["PCHG"], 100 * (post["AVAL"] - post["BASE"]) / post["BASE"])
    np.testing.assert_allclose(post["R2BASE"], post["AVAL"] / post["BASE"])
    base = adlb[adlb["ABLFL"] == "Y"]
    np.testing.assert_array_equal(base["AVAL"], base["BASE"])
    assert set(base["ADY"]) == {1}
    assert set(adlb["AVISIT"]) == {"BASELINE", "DAY 15", "DAY 29", "DAY 57", "DAY 85"}
    assert adlb["AVAL"].notna().all()


def test_bds_values_are_the_simulated_observations() -> None:
    adlb = build_bds(SIM)
    row = adlb[
        (adlb["REPLICATE"] == 1) & (adlb["PARAMCD"] == "CSFSOD1") & (adlb["AVISIT"] == "DAY 85")
    ].iloc[0]
    patient = int(row["USUBJID"].split("-")[-1]) - 1
    assert row["AVAL"] == SIM.observed["CSFSOD1"][1, patient, 4]
