"""The prodromal NfL model: the closed form agrees with the integrator, flat far from onset."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alsim.model.presymptomatic import (
    integrate_nfl,
    nfl_target,
    prodromal_fraction,
    untreated_nfl,
)


@given(
    onset=st.floats(200.0, 1500.0),
    scale=st.floats(60.0, 900.0),
    base=st.floats(3.0, 30.0),
    onset_level=st.floats(40.0, 300.0),
    half_life=st.floats(3.0, 30.0),
)
def test_closed_form_matches_the_integrator(
    onset: float, scale: float, base: float, onset_level: float, half_life: float
) -> None:
    """Untreated (R = 1, Z = t), integrating dN/dt = k (N* - N) from the closed form's start gives
    the closed form: before, through and after onset."""
    t = np.linspace(0.0, onset + 200.0, 4001)
    k = np.array([np.log(2.0) / half_life])
    args = (np.array([onset]), np.array([scale]), np.array([base]), np.array([onset_level]), k)
    exact = untreated_nfl(t[None, :], *(a[:, None] for a in args))
    target = nfl_target(
        np.array([[base]]),
        np.array([[onset_level]]),
        prodromal_fraction(onset - t[None, :], np.array([[scale]])),
        np.ones((1, t.size)),
    )
    integrated = integrate_nfl(t, target, exact[:, 0], k)
    np.testing.assert_allclose(integrated, exact, rtol=2e-4)


def test_nfl_is_flat_far_from_onset_and_joins_the_symptomatic_level() -> None:
    t = np.array([0.0, 365.0, 3650.0, 3650.0 + 365.0])
    nfl = untreated_nfl(t, 3650.0, 280.0, 10.0, 96.4, np.log(2.0) / 10.0)
    assert nfl[0] == pytest.approx(10.0, abs=1e-3)
    assert nfl[1] == pytest.approx(10.0, abs=1e-3)
    assert nfl[2] < 96.4
    assert nfl[3] == pytest.approx(96.4, rel=1e-6)
    never = untreated_nfl(t, np.inf, 280.0, 10.0, 96.4, np.log(2.0) / 10.0)
    np.testing.assert_array_equal(never, 10.0)


def test_less_injury_lowers_the_nfl_target() -> None:
    rho = prodromal_fraction(np.array([100.0]), np.array([280.0]))
    full = nfl_target(np.array([10.0]), np.array([96.4]), rho, np.array([1.0]))
    lowered = nfl_target(np.array([10.0]), np.array([96.4]), rho, np.array([0.5]))
    assert 10.0 < lowered[0] < full[0]
