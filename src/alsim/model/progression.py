"""Disease progression: ALSFRS-R on a latent logistic course, vital capacity, strength, survival.

The functional score follows the D50 model (Gordon 2010; SCIENCE.md s.3): on the logit scale
``u = log(F / (48 - F))`` a patient without drug falls at a constant speed ``1/dx``, so
``F(t) = 48 / (1 + exp((t - D50)/dx))`` keeps floor (0) and ceiling (48) for free and its slope at
score ``F`` is ``-F (48 - F) / (48 dx)``. A patient entering a trial with score ``F0`` and local
slope ``s0`` has ``dx = F0 (48 - F0) / (48 s0)``.

Tofersen acts through the mechanism only: the speed of the fall follows neuronal injury relative
to the patient's no-drug course, ``I_rel = P^gamma`` (the same injury that drives NfL), through a
lagged effect compartment ``dE/dt = k_E (I_rel - E)`` with ``E = 1`` without drug. Then
``du/dt = -E / dx`` and ``u(t) = u0 - Z(t)/dx`` with ``Z = integral of E`` ("effective disease
time", equal to ``t`` without drug). E and Z are integrated with the other PD states by
`alsim.model.system.solve`. Because E > 0, the score never rises: the drug can slow the course,
never reverse it.

Vital capacity and dynamometry strength are tied to the same latent score; the hazard of death or
permanent ventilation rises with the latent stage: ``h = h_mid ((48 - F)/F)^kappa``.
"""

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ALSFRSR_MAX = 48.0
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
_SCORE_EPS = 1e-9


def latent_from_score(score: FloatArray) -> FloatArray:
    """The logit position ``u = log(F / (48 - F))`` of a score strictly inside (0, 48)."""
    f = np.clip(score, _SCORE_EPS, ALSFRSR_MAX - _SCORE_EPS)
    out: FloatArray = np.log(f) - np.log(ALSFRSR_MAX - f)
    return out


def score_from_latent(u: FloatArray) -> FloatArray:
    """The score ``F = 48 / (1 + exp(-u))``, always within [0, 48]."""
    out: FloatArray = ALSFRSR_MAX * expit(u)
    return out


def logistic_time_scale_days(score: FloatArray, slope_per_day: FloatArray) -> FloatArray:
    """``dx`` (days per logit unit) of the logistic through score F with local slope -s."""
    f = np.clip(score, _SCORE_EPS, ALSFRSR_MAX - _SCORE_EPS)
    out: FloatArray = f * (ALSFRSR_MAX - f) / (ALSFRSR_MAX * slope_per_day)
    return out


def effect_rate(
    effect: FloatArray, relative_injury: FloatArray, k_effect_per_day: FloatArray
) -> FloatArray:
    """dE/dt = k_E (I_rel - E): the rate of functional loss trails relative injury."""
    return k_effect_per_day * (relative_injury - effect)


def latent_course(u0: FloatArray, dx_days: FloatArray, effect_time_days: FloatArray) -> FloatArray:
    """``u(t) = u0 - Z(t)/dx``; `effect_time_days` is Z, shaped like the output (patient, time)."""
    out: FloatArray = u0[:, None] - effect_time_days / dx_days[:, None]
    return out


def svc_pct(score: FloatArray, svc_full_pct: FloatArray, per_point: FloatArray) -> FloatArray:
    """Slow vital capacity (% predicted): full capacity less a share per ALSFRS-R point lost."""
    out: FloatArray = np.maximum(svc_full_pct - per_point * (ALSFRSR_MAX - score), 0.0)
    return out


def hhd_megascore(score: FloatArray, hhd_full: FloatArray, exponent: FloatArray) -> FloatArray:
    """Handheld-dynamometry megascore: full strength scaled by (F/48)^exponent."""
    out: FloatArray = hhd_full * (np.maximum(score, 0.0) / ALSFRSR_MAX) ** exponent
    return out


def log_hazard_per_day(
    u: FloatArray, hazard_mid_per_year: FloatArray, exponent: FloatArray
) -> FloatArray:
    """log of ``h = h_mid ((48 - F)/F)^kappa = h_mid exp(-kappa u)`` per day."""
    out: FloatArray = np.log(hazard_mid_per_year / DAYS_PER_YEAR) - exponent * u
    return out


def cumulative_hazard(t_days: FloatArray, log_hazard: FloatArray) -> FloatArray:
    """Integral of the hazard from ``t_days[0]``, exact where the log hazard is piecewise linear.

    `log_hazard` is (patient, time) on the grid `t_days`; between grid points the integral of
    ``exp(a + b t)`` is ``dt`` times the logarithmic mean of the end values.
    """
    dt = np.diff(t_days)[None, :]
    a, b = log_hazard[:, :-1], log_hazard[:, 1:]
    diff = b - a
    small = np.abs(diff) < 1e-8
    safe = np.where(small, 1.0, diff)
    log_mean = np.where(small, np.exp(a) * (1.0 + diff / 2.0), (np.exp(b) - np.exp(a)) / safe)
    steps = dt * log_mean
    out: FloatArray = np.concatenate([np.zeros((log_hazard.shape[0], 1)), steps], axis=1).cumsum(
        axis=1
    )
    return out


def event_time_days(
    t_days: FloatArray, cum_hazard: FloatArray, threshold: FloatArray
) -> FloatArray:
    """First time the cumulative hazard reaches `threshold` (an Exp(1) draw), else +inf.

    Linear interpolation in the cumulative hazard between grid points.
    """
    reached = cum_hazard >= threshold[:, None]
    any_reached = reached.any(axis=1)
    k = np.argmax(reached, axis=1)
    k_prev = np.maximum(k - 1, 0)
    rows = np.arange(cum_hazard.shape[0])
    h1, h0 = cum_hazard[rows, k], cum_hazard[rows, k_prev]
    t1, t0 = t_days[k], t_days[k_prev]
    span = np.where(h1 > h0, h1 - h0, 1.0)
    t = t0 + (t1 - t0) * np.clip((threshold - h0) / span, 0.0, 1.0)
    out: FloatArray = np.where(any_reached, t, np.inf)
    return out


def observe_alsfrsr(true_score: FloatArray, z: FloatArray, sigma: FloatArray) -> FloatArray:
    """Observed ALSFRS-R total: true score plus rater noise, rounded to an integer in 0..48."""
    out: FloatArray = np.clip(np.rint(true_score + sigma * z), 0.0, ALSFRSR_MAX)
    return out
