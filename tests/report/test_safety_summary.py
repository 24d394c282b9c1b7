"""The report's adverse-event summaries agree with the safety analysis on the same simulation."""

import numpy as np
import pytest

from alsim.analysis.safety import risk_difference
from alsim.design import load_template
from alsim.io.adae import build_adae
from alsim.io.adam import build_adsl
from alsim.report.summaries import ae_incidence_summary, first_event_frame
from alsim.simulate import simulate_trial

SIM = simulate_trial(load_template("valor"), n_replicates=8, seed=6)


def test_incidence_from_adam_tables_equals_the_batched_risk_difference() -> None:
    events = SIM.adverse_events
    assert events is not None
    summary = ae_incidence_summary(build_adae(SIM), build_adsl(SIM))
    hit = events.patients_with_event()
    treated, control = SIM.arm_index == 1, SIM.arm_index == 0
    for k, term in enumerate(events.terms):
        result = risk_difference(hit[k], treated, control)
        rows = summary[summary["AEDECOD"] == term.decod].set_index("ARM")
        if rows.empty:
            assert not hit[k].any()
            continue
        assert rows.loc["TOFERSEN 100 MG", "MEDIAN"] == pytest.approx(
            np.median(result.incidence_treated), rel=1e-12
        )
        assert rows.loc["PLACEBO", "MEDIAN"] == pytest.approx(
            np.median(result.incidence_control), rel=1e-12
        )


def test_first_events_are_the_earliest_onset_or_censored_at_end_of_study() -> None:
    adae, adsl = build_adae(SIM), build_adsl(SIM)
    frame = first_event_frame(adae, adsl)
    serious = frame[frame["PARAMCD"] == "AESER"]
    assert len(serious) == SIM.n_replicates * SIM.n_patients
    events = serious[serious["CNSR"] == 0]
    expected = adae[adae["AESER"] == "Y"].groupby(["REPLICATE", "USUBJID"])["ASTDY"].min()
    assert len(events) == len(expected)
    assert sorted(events["AVAL"]) == sorted(expected.astype(float))
