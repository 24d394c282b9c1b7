"""Plausibility of five-year courses, untreated and on tofersen, per stratum and variant class.

Bands, with their sources: NfL "relatively stable over time" in ALS (evidence
prefals_nfl_stable_in_als); ALSFRS-R on 0-48, slowing near the floor (the D50 logistic, SCIENCE.md
s.3); death or permanent ventilation while breathing is low but not zero; median survival from
onset near Bali 2017's by variant class (evidence nh_median_surv_*; the fit is a compromise,
see `alsim.calibrate.natural_history`).
"""

import numpy as np
import pytest

from alsim.calibrate.natural_history import median_survival
from alsim.evidence import evidence
from alsim.model import DEFAULT_PARAMETERS
from alsim.simulate import TrialSimulation

DAYS_PER_YEAR = 365.25
GROUPS = ("faster", "slower", "A4V", "NON-A4V")


def _groups(sim: TrialSimulation) -> dict[str, np.ndarray]:
    faster = np.broadcast_to(sim.group_index == 0, sim.a4v.shape)
    return {"faster": faster, "slower": ~faster, "A4V": sim.a4v, "NON-A4V": ~sim.a4v}


def _k(sim: TrialSimulation, years: float) -> int:
    return int(np.argmin(np.abs(sim.visit_days - (1.0 + years * DAYS_PER_YEAR))))


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("years", [1.0, 3.0, 5.0])
def test_untreated_nfl_is_relatively_stable(
    untreated_5y: TrialSimulation, group: str, years: float
) -> None:
    """While the score is in the scale's working range (ALSFRS-R 10 to 44) NfL stays within a
    factor of about 1.6 of baseline; it falls only near the floor, as motor units run out."""
    k = _k(untreated_5y, years)
    nfl = untreated_5y.true_values["PLNFL"]
    score = untreated_5y.true_values["ALSFRSR"][:, :, k]
    pick = _groups(untreated_5y)[group] & (untreated_5y.event_day > untreated_5y.visit_days[k])
    working = pick & (score > 10.0) & (score < 44.0)
    if working.sum() < 10:
        pytest.skip(f"fewer than 10 {group} patients alive in range at {years} years")
    ratio = (nfl[:, :, k] / nfl[:, :, 0])[working]
    assert 0.6 < np.exp(np.mean(np.log(ratio))) < 1.6
    near_floor = pick & (score < 4.0)
    if near_floor.sum() >= 10:
        assert np.median((nfl[:, :, k] / nfl[:, :, 0])[near_floor]) < np.median(ratio)


@pytest.mark.parametrize("group", GROUPS)
def test_treated_nfl_stays_down(
    untreated_5y: TrialSimulation, treated_5y: TrialSimulation, group: str
) -> None:
    """On continuous tofersen NfL stays well below baseline at 1, 3 and 5 years, and at 1 year
    below the same patients' untreated NfL (same seed, same patients)."""
    nfl = treated_5y.true_values["PLNFL"]
    for years in (1.0, 3.0, 5.0):
        k = _k(treated_5y, years)
        pick = _groups(treated_5y)[group] & (treated_5y.event_day > treated_5y.visit_days[k])
        if pick.sum() < 10:
            continue
        assert np.median((nfl[:, :, k] / nfl[:, :, 0])[pick]) < 0.75
    k = _k(treated_5y, 1.0)
    pick = _groups(treated_5y)[group] & (untreated_5y.event_day > untreated_5y.visit_days[k])
    off = untreated_5y.true_values["PLNFL"][:, :, k][pick]
    assert np.median(nfl[:, :, k][pick] / off) < 0.75


def test_alsfrsr_stays_on_its_scale_and_slows_near_the_floor(
    untreated_5y: TrialSimulation,
) -> None:
    score = untreated_5y.true_values["ALSFRSR"]
    assert score.min() >= 0.0 and score.max() <= 48.0
    assert np.all(np.diff(score, axis=2) <= 1e-9)
    step = -np.diff(score, axis=2)
    low, mid = score[:, :, :-1] < 4.0, (score[:, :, :-1] > 20.0) & (score[:, :, :-1] < 28.0)
    assert low.any() and mid.any()
    assert np.mean(step[low]) < 0.5 * np.mean(step[mid])


def test_treated_patients_decline_more_slowly(
    untreated_5y: TrialSimulation, treated_5y: TrialSimulation
) -> None:
    k = _k(treated_5y, 2.0)
    off = untreated_5y.true_values["ALSFRSR"]
    on = treated_5y.true_values["ALSFRSR"]
    loss_off = (off[:, :, 0] - off[:, :, k]).ravel()
    loss_on = (on[:, :, 0] - on[:, :, k]).ravel()
    assert np.median(loss_on) < 0.8 * np.median(loss_off)
    assert on.min() >= 0.0 and on.max() <= 48.0


@pytest.mark.parametrize("sim_name", ["untreated_5y", "treated_5y"])
def test_death_comes_while_breathing_is_low_but_not_zero(
    sim_name: str, request: pytest.FixtureRequest
) -> None:
    sim: TrialSimulation = request.getfixturevalue(sim_name)
    svc = sim.true_values["SVCPP"]
    died = np.isfinite(sim.event_day)
    before = sim.visit_days[None, None, :] < sim.event_day[:, :, None]
    last = np.maximum(before.sum(axis=2) - 1, 0)
    at_death = np.take_along_axis(svc, last[:, :, None], axis=2)[:, :, 0][died]
    assert np.median(at_death) < 50.0
    assert np.quantile(at_death, 0.1) > 2.0
    months_at_zero = ((svc <= 1.0) & before).sum(axis=2)
    assert np.mean(months_at_zero >= 3) < 0.02


@pytest.fixture(scope="module")
def survival() -> dict[str, float]:
    return median_survival(DEFAULT_PARAMETERS)


@pytest.mark.parametrize(
    ("arm", "record", "tolerance"),
    [("A4V", "nh_median_surv_a4v", 0.3), ("NON-A4V", "nh_median_surv_nona4v", 0.3)],
)
def test_survival_medians_by_variant_are_near_bali(
    survival: dict[str, float], arm: str, record: str, tolerance: float
) -> None:
    assert survival[arm] == pytest.approx(evidence(record).numeric_value, rel=tolerance)
    assert survival["A4V"] < survival["NON-A4V"] / 3
