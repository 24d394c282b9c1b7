"""The presymptomatic phase: a prodromal rise of injury that ends in phenoconversion.

Each carrier has a latent onset time ``tau`` (days of disease time from Part A entry to
phenoconversion without drug). The disease advances on the same clock as the symptomatic course:
the effective disease time ``Z(t)`` of `alsim.model.system` (``Z = t`` without drug; tofersen slows
it through SOD1 lowering and the lagged effect on progression, never reverses it). With ``s`` the
disease time left, ``s(t) = tau - Z(t)``:

- prodromal activity, relative to the activity at onset: ``rho = exp(-s / lambda)`` before onset
  and 1 after (``lambda``: the variant class's prodromal e-folding time);
- plasma NfL target ``N* = N0 + (N_on - N0) rho R(t)``, with ``N0`` the carrier's flat
  presymptomatic level, ``N_on`` the symptomatic level the carrier joins at onset and
  ``R = P^gamma`` the injury relative to no drug (the same relative injury that drives NfL in
  symptomatic patients), and ``dN/dt = k_N (N* - N)``;
- **phenoconversion** (clinically manifest ALS) is the day ``Z`` reaches ``tau``: the model's
  symptom onset, where the symptomatic course starts (months since onset = 0). Trials see it at
  their next clinical assessment.

Untreated, ``Z = t`` and the NfL course has a closed form (`untreated_nfl`): flat at ``N0`` far
from onset (evidence prefals_nfl_stable_in_als), rising over the last months before onset
(evidence nh_prefals_nfl_lead), and settling at ``N_on`` after it.
"""

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def prodromal_fraction(remaining_days: FloatArray, scale_days: FloatArray) -> FloatArray:
    """``rho = exp(-s / lambda)`` for disease time left ``s > 0``; 1 at and after onset."""
    out: FloatArray = np.exp(-np.maximum(remaining_days, 0.0) / scale_days)
    return out


def nfl_target(
    nfl_base: FloatArray, nfl_onset: FloatArray, rho: FloatArray, relative_injury: FloatArray
) -> FloatArray:
    """``N* = N0 + (N_on - N0) rho R``: the level plasma NfL relaxes to."""
    out: FloatArray = nfl_base + (nfl_onset - nfl_base) * rho * relative_injury
    return out


def untreated_nfl(
    t_days: FloatArray,
    onset_days: FloatArray,
    scale_days: FloatArray,
    nfl_base: FloatArray,
    nfl_onset: FloatArray,
    k_nfl_per_day: FloatArray,
) -> FloatArray:
    """Plasma NfL without drug at `t_days` (broadcast against the per-carrier arrays).

    Before onset the target rises exponentially and NfL follows it on its quasi-steady path,
    ``N = N0 + (N_on - N0) c exp((t - tau)/lambda)`` with ``c = k lambda / (k lambda + 1)``;
    after onset it relaxes from there to ``N_on`` at rate ``k_N``. A carrier who never converts
    (``tau = inf``) stays at ``N0``.
    """
    lag = k_nfl_per_day * scale_days / (k_nfl_per_day * scale_days + 1.0)
    before = np.minimum(t_days - onset_days, 0.0)
    after = np.maximum(t_days - onset_days, 0.0)
    excess = np.where(
        t_days <= onset_days,
        lag * np.exp(before / scale_days),
        1.0 - (1.0 - lag) * np.exp(-k_nfl_per_day * after),
    )
    out: FloatArray = nfl_base + (nfl_onset - nfl_base) * excess
    return out


def integrate_nfl(
    t_days: FloatArray, target: FloatArray, start: FloatArray, k_nfl_per_day: FloatArray
) -> FloatArray:
    """``dN/dt = k_N (N* - N)`` on the grid `t_days`, exactly for a target linear between grid
    points; `target` is (patient, time), `start` the value at ``t_days[0]``."""
    out = np.empty_like(target)
    out[:, 0] = start
    k = k_nfl_per_day
    for j in range(1, t_days.size):
        kh = k * (t_days[j] - t_days[j - 1])
        decay = np.exp(-kh)
        slope_term = (target[:, j] - target[:, j - 1]) * -np.expm1(-kh) / kh
        out[:, j] = target[:, j] + (out[:, j - 1] - target[:, j - 1]) * decay - slope_term
    return out
