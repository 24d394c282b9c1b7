"""Dosing records in NONMEM vocabulary and the event dataset."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from alsim.design import Regimen, load_template
from alsim.design.events import dose_events, expand_dose_events
from alsim.io.nonmem import build_nonmem
from alsim.simulate import simulate_trial


@given(
    loading=st.sets(st.integers(1, 100), min_size=1, max_size=5),
    interval=st.integers(1, 60),
    n_maintenance=st.integers(0, 30),
    dose=st.floats(0, 500, allow_nan=False),
)
def test_events_expand_back_to_the_regimen_dose_days(
    loading: set[int], interval: int, n_maintenance: int, dose: float
) -> None:
    regimen = Regimen(
        loading_days=tuple(sorted(loading)), interval_days=interval, n_maintenance=n_maintenance
    )
    expanded = expand_dose_events(dose_events(regimen, dose))
    assert [day for day, _ in expanded] == list(regimen.dose_days)
    assert all(amount == dose for _, amount in expanded)


def test_phase12_regimen_is_three_loading_records_and_one_ii_addl_record() -> None:
    events = dose_events(load_template("phase12").regimen, 100.0)
    assert [(e.day, e.ii_days, e.addl) for e in events] == [
        (1, 0, 0),
        (15, 0, 0),
        (29, 0, 0),
        (57, 28, 1),
    ]


def test_nonmem_dataset_doses_and_observations_match_the_simulation() -> None:
    design = load_template("phase12").model_copy(update={"dropout_per_year": 2.0})
    sim = simulate_trial(design, n_replicates=2, seed=4)
    data = build_nonmem(sim)
    doses = data[data["EVID"] == 1]
    obs = data[data["EVID"] == 0]
    assert (obs["MDV"] == 0).all() and (doses["MDV"] == 1).all()
    assert len(obs) == sum(int((~np.isnan(v)).sum()) for v in sim.observed.values())
    n_doses = (doses["ADDL"] + 1).groupby([doses["REPLICATE"], doses["ID"]]).sum()
    dose_days = np.array(design.regimen.dose_days)
    for (rep, pid), count in n_doses.items():
        assert count == int((dose_days < sim.dropout_day[rep, pid - 1]).sum())
    placebo_ids = np.flatnonzero(sim.arm_index == 0) + 1
    assert (doses[doses["ID"].isin(placebo_ids)]["AMT"] == 0).all()
    first = data[(data["REPLICATE"] == 0) & (data["ID"] == 1)]
    assert list(first["TIME"]) == sorted(first["TIME"])
