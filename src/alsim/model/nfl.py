"""Neuronal injury and neurofilament light (NfL): injury from toxic SOD1, NfL follows with a lag.

I(t) = (1 + r/k_N) exp(r t) P^gamma drives dN/dt = k_N (I - N). The factor (1 + r/k_N) puts a
patient without drug exactly on N(t) = exp(r t): baseline is on the disease's drifting equilibrium.
"""

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def injury_from_relative(
    relative_injury: FloatArray,
    t_days: float,
    drift_per_day: FloatArray,
    k_nfl_per_day: FloatArray,
) -> FloatArray:
    """Injury from the drug-driven relative injury P^gamma and the disease drift at `t_days`."""
    on_trend = (1.0 + drift_per_day / k_nfl_per_day) * np.exp(drift_per_day * t_days)
    out: FloatArray = on_trend * relative_injury
    return out


def nfl_rate(n: FloatArray, injury_level: FloatArray, k_nfl_per_day: FloatArray) -> FloatArray:
    """dN/dt = k_N (I - N): NfL release follows injury, cleared with its turnover half-life."""
    return k_nfl_per_day * (injury_level - n)
