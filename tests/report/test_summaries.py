"""Per-arm summaries over replicates: the numpy path (TrialSimulation) against the pandas path
(ADaM BDS rows), and both against hand-computed values on small synthetic frames."""

import numpy as np
import pandas as pd
import pytest

from alsim.design import load_template
from alsim.io import build_bds
from alsim.report.summaries import (
    bds_trajectory_summary,
    km_summary,
    trajectory_summary,
    tte_frame,
)
from alsim.simulate import simulate_trial


def test_simulation_summary_matches_summary_of_its_adlb() -> None:
    sim = simulate_trial(load_template("phase12"), n_replicates=7, seed=3)
    keys = ["PARAMCD", "ARM", "AVISITN"]
    direct = trajectory_summary(sim).sort_values(keys, ignore_index=True)
    via_adam = bds_trajectory_summary(build_bds(sim)).sort_values(keys, ignore_index=True)
    assert direct[keys].equals(via_adam[keys])
    for column in ("MEDIAN", "LOW", "HIGH"):
        np.testing.assert_allclose(direct[column], via_adam[column], rtol=1e-10, atol=1e-10)
    assert (direct.loc[direct["AVISITN"] == 0, "MEDIAN"] == 0).all()


def _adqs() -> pd.DataFrame:
    """Two replicates x two arms x one patient each, ALSFRS-R at baseline and week 4."""
    rows = []
    for replicate, drop in ((0, 2.0), (1, 4.0)):
        for arm, extra in (("PLACEBO", 0.0), ("TOFERSEN 100 MG", -1.0)):
            for visit, day, value in (("BASELINE", 1, 40.0), ("WEEK 4", 29, 40.0 - drop - extra)):
                rows.append(
                    dict(
                        REPLICATE=replicate,
                        TRT01P=arm,
                        PARAMCD="ALSFRSR",
                        AVISIT=visit,
                        AVISITN=0 if day == 1 else 1,
                        ADY=day,
                        AVAL=value,
                        BASE=40.0,
                    )
                )
    return pd.DataFrame(rows)


def test_bds_summary_of_a_clinical_score_is_the_mean_change() -> None:
    out = bds_trajectory_summary(_adqs())
    week4 = out[out["AVISIT"] == "WEEK 4"].set_index("ARM")
    # placebo changes -2 and -4: median -3, 2.5% and 97.5% by linear interpolation
    assert week4.loc["PLACEBO", "MEDIAN"] == pytest.approx(-3.0)
    assert week4.loc["PLACEBO", "LOW"] == pytest.approx(-4.0 + 0.025 * 2)
    assert week4.loc["TOFERSEN 100 MG", "MEDIAN"] == pytest.approx(-2.0)
    assert set(out["STAT"]) == {"mean_change"}
    assert list(out["ARM"].unique()) == ["PLACEBO", "TOFERSEN 100 MG"]


def test_km_summary_matches_hand_computed_steps() -> None:
    # one replicate, 4 patients: events at 10 and 30, censored at 20 and 40
    tte = pd.DataFrame(
        {
            "TRT01P": ["A"] * 4,
            "PARAMCD": "DTHPV",
            "AVAL": [10.0, 20.0, 30.0, 40.0],
            "CNSR": [0, 1, 0, 1],
        }
    )
    km = km_summary(tte, n_grid=41)
    at = km.set_index("DAY")["MEDIAN"]
    assert at[0.0] == 1.0
    assert at[10.0] == pytest.approx(0.75)
    assert at[29.0] == pytest.approx(0.75)
    assert at[30.0] == pytest.approx(0.75 * 0.5)


def test_tte_frame_is_empty_without_events_and_km_of_empty_is_empty() -> None:
    sim = simulate_trial(load_template("phase12"), n_replicates=1, seed=1)
    assert tte_frame(sim).empty
    assert km_summary(tte_frame(sim)).empty
