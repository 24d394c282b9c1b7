"""Neurofilament light (NfL): set by the current activity of the disease, followed with a lag.

Disease activity is the current rate of motor-unit loss, ``a = s(F) v0 R`` in ALSFRS-R points per
unit time: ``s(F) v0`` is the untreated slope at the patient's stage (`alsim.model.progression`)
and ``R = P^gamma`` the relative toxic injury left by SOD1 lowering. NfL is released in
proportion to a power of it, ``N* = level x a^beta``, and cleared with its turnover half-life,
``dN/dt = k_N (N* - N)``. So an untreated patient's NfL is flat apart from the slow change of
``s(F)`` (rising while F > 24, falling near the floor), faster progressors have higher NfL, and NfL
stays down while the drug keeps activity down.

The solver integrates NfL relative to its baseline value, ``N(0) = 1`` and
``N*/N*(0) = (s(F)/s(F0) x R)^beta`` (`alsim.model.system._derivatives`); the baseline value
itself, ``level x (s(F0) v0)^beta``, comes from the same relation (`baseline_plasma_nfl_pg_ml`).
"""

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def baseline_plasma_nfl_pg_ml(
    activity_per_month: FloatArray, level_pg_ml: FloatArray, exponent: FloatArray
) -> FloatArray:
    """Plasma NfL at an activity (ALSFRS-R points/month) without drug: ``level x a^beta``."""
    out: FloatArray = level_pg_ml * activity_per_month**exponent
    return out
