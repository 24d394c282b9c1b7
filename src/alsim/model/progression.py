"""Disease progression: function, breathing, strength and survival on latent logistic courses.

Function follows the D50 model (Gordon 2010; SCIENCE.md s.3): on the logit scale
``u = log(F / (48 - F))`` an untreated patient falls at a constant speed ``v0`` (per day), so
``F`` keeps floor (0) and ceiling (48) for free and its slope at score ``F`` is ``-s(F) v0`` with
``s(F) = F (48 - F) / 48`` (ALSFRS-R points per logit unit).

Tofersen acts through the mechanism. The relative toxic injury ``R = P^gamma`` (SOD1 protein P)
lowers NfL by ``R^beta`` (`alsim.model.nfl`) and drives function through the patient's own
potency kappa on that same relative drive, ``Q = (R^beta)^kappa`` (kappa = 1: function slows as
much as NfL falls), and a chain of ``n`` transit compartments (delayed onset, Savic et al. 2007):
``dE_1/dt = k_tr (Q - E_1)``, ``dE_j/dt = k_tr (E_{j-1} - E_j)``, ``k_tr = n / MTT``, all 1 without
drug. ``Z = integral of E_n`` is the effective disease time (equal to ``t`` without drug) and

    u(t) = u0 - v0 Z(t) + rho (1 - E_n(t))

adds a reversible part: a patient with recovery capacity ``rho`` regains up to ``rho`` logit units
while the drug keeps injury down, and loses the gain if it stops. E and Z are integrated with the
other PD states by `alsim.model.compiled.solve` (`alsim.model.system._derivatives` holds the
equations).

Breathing and strength have courses of their own on logistics driven by the same effective
disease time: ``SVC = full x expit(w)``, ``w = w0 - lambda v0 Z`` (lambda the patient's respiratory
pace), and ``HHD = full x expit(h)``, ``h = h0 - mu v0 Z``. The hazard of death or permanent
ventilation is linked to the respiratory state and age (a joint longitudinal-survival model,
Rizopoulos 2012): ``log h = log h_ref + alpha (50 - SVC)/10 + b_age (age at onset - 50)/10 +
log frailty``.
"""

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

FloatArray = NDArray[np.float64]

ALSFRSR_MAX = 48.0
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
# Centring constants of the hazard (not parameters): h_ref is the hazard at this SVC and age.
SVC_REF_PCT = 50.0
AGE_REF_YEARS = 50.0
# A log hazard (per day) above this means death within seconds; capping it keeps exp finite.
MAX_LOG_HAZARD = 50.0
_SCORE_EPS = 1e-9
# Gauss-Legendre nodes for hazard integrals along an untreated (linear-in-time) course.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(32)


def latent_from_score(score: FloatArray) -> FloatArray:
    """The logit position ``u = log(F / (48 - F))`` of a score strictly inside (0, 48)."""
    f = np.clip(score, _SCORE_EPS, ALSFRSR_MAX - _SCORE_EPS)
    out: FloatArray = np.log(f) - np.log(ALSFRSR_MAX - f)
    return out


def score_from_latent(u: FloatArray) -> FloatArray:
    """The score ``F = 48 / (1 + exp(-u))``, always within [0, 48]."""
    out: FloatArray = ALSFRSR_MAX * expit(u)
    return out


def log_stage(u: FloatArray) -> FloatArray:
    """``log(s(F)/48) = log expit(u) + log expit(-u) = u - 2 log(1 + exp(u))``: how fast the
    score moves per latent unit at stage u (largest at F = 24). Exact for u up to about 700,
    i.e. any score below 48 - 1e-300 (the latent score never exceeds u0 + rho); four array
    operations, as it sits in the solver's inner loop."""
    out: FloatArray = u - 2.0 * np.log1p(np.exp(u))
    return out


def points_per_latent_unit(score: FloatArray) -> FloatArray:
    """``s(F) = F (48 - F) / 48``: ALSFRS-R points per logit unit at score F."""
    f = np.clip(score, _SCORE_EPS, ALSFRSR_MAX - _SCORE_EPS)
    out: FloatArray = f * (ALSFRSR_MAX - f) / ALSFRSR_MAX
    return out


def latent_course(
    u0: FloatArray,
    speed_per_day: FloatArray,
    effect_time_days: FloatArray,
    effect: FloatArray,
    recovery: FloatArray,
) -> FloatArray:
    """``u = u0 - v0 Z + rho (1 - E_n)``, all arrays broadcast together."""
    out: FloatArray = u0 - speed_per_day * effect_time_days + recovery * (1.0 - effect)
    return out


def logistic_measure(full: FloatArray, latent: FloatArray) -> FloatArray:
    """A measure on its own logistic course (SVC, HHD megascore): ``full x expit(latent)``."""
    out: FloatArray = full * expit(latent)
    return out


def log_hazard_per_day(
    svc_pct: FloatArray, log_offset_per_day: FloatArray, svc_coefficient: FloatArray
) -> FloatArray:
    """``log h = offset + alpha (50 - SVC)/10`` per day, capped at `MAX_LOG_HAZARD`; the offset
    holds the reference hazard, age and frailty (`hazard_log_offset`)."""
    out: FloatArray = np.minimum(
        log_offset_per_day + svc_coefficient * (SVC_REF_PCT - svc_pct) / 10.0, MAX_LOG_HAZARD
    )
    return out


def hazard_log_offset(
    hazard_ref_per_year: FloatArray,
    age_coefficient: FloatArray,
    onset_age_years: FloatArray,
    frailty: FloatArray,
) -> FloatArray:
    """The part of the log hazard (per day) that does not change over the course."""
    out: FloatArray = (
        np.log(hazard_ref_per_year / DAYS_PER_YEAR)
        + age_coefficient * (onset_age_years - AGE_REF_YEARS) / 10.0
        + np.log(frailty)
    )
    return out


def untreated_hazard_integral(
    w_from: FloatArray,
    w_to: FloatArray,
    svc_full_pct: FloatArray,
    log_offset_per_day: FloatArray,
    svc_coefficient: FloatArray,
) -> FloatArray:
    """``integral of h(w) dw`` from `w_to` up to `w_from` (SVC logits, w_from >= w_to): divided
    by the respiratory speed (logits per day) it is the cumulative hazard of an untreated stretch
    of course, where w falls linearly in time. 32-point Gauss-Legendre, per patient."""
    half = 0.5 * (w_from - w_to)
    w = 0.5 * (w_from + w_to)[:, None] + half[:, None] * _GL_NODES[None, :]
    svc = logistic_measure(svc_full_pct[:, None], w)
    h = np.exp(log_hazard_per_day(svc, log_offset_per_day[:, None], svc_coefficient[:, None]))
    out: FloatArray = half * (h @ _GL_WEIGHTS)
    return out


def untreated_event_days(
    w_start: FloatArray,
    speed_per_day: FloatArray,
    threshold: FloatArray,
    svc_full_pct: FloatArray,
    log_offset_per_day: FloatArray,
    svc_coefficient: FloatArray,
    *,
    w_floor: float = -12.0,
    n_grid: int = 160,
    chunk: int = 4096,
) -> FloatArray:
    """Days until the cumulative hazard of an untreated course reaches `threshold`, the SVC
    logit falling from `w_start` at `speed_per_day`. Exact for a log hazard linear between the
    `n_grid` points down to `w_floor` (SVC < 0.001% of its ceiling); past it the hazard is held
    at its floor value. Patients are taken `chunk` at a time to bound memory."""
    out = np.empty(w_start.shape[0])
    steps = np.linspace(0.0, 1.0, n_grid)[None, :]
    for start in range(0, out.size, chunk):
        sl = slice(start, start + chunk)
        w0 = w_start[sl, None]
        w = w0 - np.maximum(w0 - w_floor, 0.0) * steps
        t = (w0 - w) / speed_per_day[sl, None]
        svc = logistic_measure(svc_full_pct[sl, None], w)
        log_h = log_hazard_per_day(svc, log_offset_per_day[sl, None], svc_coefficient[sl, None])
        cum = cumulative_hazard(t, log_h)
        reached = event_time_days(t, cum, threshold[sl])
        remaining = np.maximum(threshold[sl] - cum[:, -1], 0.0)
        after_floor = t[:, -1] + remaining / np.exp(log_h[:, -1])
        out[sl] = np.where(np.isfinite(reached), reached, after_floor)
    return out


def cumulative_hazard(t_days: FloatArray, log_hazard: FloatArray) -> FloatArray:
    """Integral of the hazard from the first time, exact where the log hazard is piecewise linear.

    `log_hazard` is (patient, time) on the grid `t_days` (shared (time,) or per patient (patient,
    time)); between grid points the integral of ``exp(a + b t)`` is ``dt`` times the logarithmic
    mean of the end values, ``exp(max) (1 - exp(-|b - a|)) / |b - a|``, which never overflows for
    a capped log hazard.
    """
    dt = np.diff(t_days, axis=-1)
    a, b = log_hazard[:, :-1], log_hazard[:, 1:]
    gap = np.abs(b - a)
    small = gap < 1e-8
    safe = np.where(small, 1.0, gap)
    shrink = np.where(small, 1.0 - gap / 2.0, -np.expm1(-safe) / safe)
    steps = dt * np.exp(np.maximum(a, b)) * shrink
    out: FloatArray = np.concatenate([np.zeros((log_hazard.shape[0], 1)), steps], axis=1).cumsum(
        axis=1
    )
    return out


def event_time_days(
    t_days: FloatArray, cum_hazard: FloatArray, threshold: FloatArray
) -> FloatArray:
    """First time the cumulative hazard reaches `threshold` (an Exp(1) draw), else +inf.

    Linear interpolation in the cumulative hazard between grid points; `t_days` is shared (time,)
    or per patient (patient, time).
    """
    reached = cum_hazard >= threshold[:, None]
    any_reached = reached.any(axis=1)
    k = np.argmax(reached, axis=1)
    k_prev = np.maximum(k - 1, 0)
    rows = np.arange(cum_hazard.shape[0])
    h1, h0 = cum_hazard[rows, k], cum_hazard[rows, k_prev]
    times = np.broadcast_to(t_days, cum_hazard.shape)
    t1, t0 = times[rows, k], times[rows, k_prev]
    span = np.where(h1 > h0, h1 - h0, 1.0)
    t = t0 + (t1 - t0) * np.clip((threshold - h0) / span, 0.0, 1.0)
    out: FloatArray = np.where(any_reached, t, np.inf)
    return out


def observe_alsfrsr(true_score: FloatArray, z: FloatArray, sigma: FloatArray) -> FloatArray:
    """Observed ALSFRS-R total: true score plus rater noise, rounded to an integer in 0..48."""
    out: FloatArray = np.clip(np.rint(true_score + sigma * z), 0.0, ALSFRSR_MAX)
    return out
