"""The model's solver: exact PK, exponential Runge-Kutta for the rest, compiled, patients in lanes.

The model is a one-way cascade: the PK (CSF, tissue, plasma) drives the *drug block*, SOD1 mRNA
(which decays faster as tissue drug knocks it down) and protein (which follows mRNA); protein
alone drives the *course block*, NfL, the transit chain E_1..E_n of the drug's effect on function
and its integral Z, the effective disease time (`alsim.model.progression`). Nothing flows back.
`solve` integrates each level on a time grid of its own:

- PK is linear and propagated exactly (`alsim.model.pk`).
- The drug block (`drug_rhs`) on a fine grid: tissue takes the drug up from CSF within hours and
  the steep Hill knock-down switches on within an hour or two, so steps start at
  `DRUG_STEPS.first_days` after each dose and grow by `DRUG_STEPS.growth` of the time since it, up
  to `DRUG_STEPS.max_days`. These steps are cheap: two states, one exponential each.
- The course block (`course_rhs`) on a coarse grid (`COURSE_STEPS`, steps up to a week): its
  fastest rate is NfL turnover (a ten-day half-life), and protein, its only input, is smooth. Each
  coarse step takes log protein at its start, middle and end from the fine pass (the fine grid
  has those points).

Both blocks use the five-stage exponential Runge-Kutta scheme of stiff order four of Hochbruck
and Ostermann (SIAM J Numer Anal 2005, eq. 5.19): every state is written as its derivative and
its first-order loss rate (``dy/dt = -rate * y + rest``; mRNA decays at ``k_M (1 + S(A))``,
protein at ``k_P``, NfL at ``k_N``, each chain compartment at ``k_tr``, Z at 0), the loss, frozen
at the step's start, is integrated exactly and the rest by the scheme. The equations are those of
`alsim.model.system._derivatives`, which `solve_reference` integrates with LSODA.

Patients are integrated side by side along the innermost array axis, which the compiler
vectorises: `WIDE_LANES` at a time, or `LANES` where that pads a small batch less (`lanes_for`);
a batch is padded to whole lanes with copies of its last patient. Every lane runs
the same instructions and both grids depend on the dose and output times alone, so a patient's
numbers do not depend on the batch (chunk) it is solved in.

Changing the model's PD equations means changing `drug_rhs` or `course_rhs`, the state layout
(`alsim.model.system.pd_state_names`) and the per-patient constants `pd_constants` reads; a new
state that feeds back on the drug block would join that block.
"""

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from alsim.errors import AlsimError
from alsim.model.pk import pk_rates
from alsim.model.system import DoseSchedule, Trajectories, pd_rates_table, pd_state_names

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PK_STATE_NAMES = ("csf_mg", "tissue_mg", "plasma_mg")
DRUG_STATES = 2  # mRNA, protein: rows 0 and 1 of `pd_state_names`
# patients integrated side by side, passed to the kernel as a run-time value: the compiler does not
# vectorise a loop of known short length, and its vector loops take up to 32 (8 float64 x 4)
LANES = 32
# twice that runs each vector loop twice per lane block: 13-18% less time per patient on the
# development machine (5,400 and 108 patients), but a batch is padded to a multiple of it
WIDE_LANES = 64
WIDE_LANES_COST = 0.85  # time per padded patient at WIDE_LANES relative to LANES (measured)
_FASTMATH = {"contract", "arcp", "reassoc"}
# compiled once and kept beside the source (cache=True): later processes load the kernels
_jit = numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
_jit_inline = numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")


@dataclass(frozen=True, slots=True)
class StepRule:
    """Step lengths of one grid: a step starting `tau` days after the last dose is
    ``first_days + growth * tau`` days long, at most `max_days`."""

    first_days: float
    growth: float
    max_days: float

    def __post_init__(self) -> None:
        if not (0.0 < self.first_days <= self.max_days and self.growth >= 0.0):
            raise AlsimError(
                f"StepRule needs 0 < first_days <= max_days and growth >= 0, got {self}"
            )


# Chosen so every state of sampled patients at 0-300 mg (the shortest NfL and protein half-lives
# of 400 included) stays within 5e-7 relative of LSODA over three years of VALOR + extension
# dosing, in the first hours after each dose too (tests/model/test_compiled.py): the drug block's
# error is set by the first steps after a dose, the course block's by how fast its steps grow and
# (after the last dose, as the drug wears off) by their cap.
DRUG_STEPS = StepRule(first_days=1.0 / 384.0, growth=0.125, max_days=0.75)
COURSE_STEPS = StepRule(first_days=0.5, growth=0.1, max_days=3.5)

# per-patient constants, rows of the `theta` matrix `pd_constants` builds
(
    K_MRNA,
    K_SOD1,
    K_NFL,
    S_MAX,
    EC50,
    HILL,
    GAMMA,
    POTENCY,
    K_TRANSIT,
    N_TRANSIT,
    RECOVERY,
    NFL_EXPONENT,
    U_FULL_RECOVERY,
    SPEED,
    LOG_STAGE0,
    K_CSF,
    F_TISSUE,
    K_TISSUE,
    K_PLASMA,
    INV_EC50,
) = range(20)
N_CONSTANTS = 20


def pd_constants(individual: Mapping[str, FloatArray]) -> FloatArray:
    """The per-patient constants the kernels read, shaped (constant, patient): the PD rates of
    `alsim.model.system` and the PK rates of `alsim.model.pk` (one source for both solvers)."""
    r = pd_rates_table(individual)
    pk = pk_rates(individual)
    n = np.asarray(individual["t_half_mrna_days"]).shape[0]
    rows = [
        r.k_mrna,
        r.k_sod1,
        r.k_nfl,
        r.s_max,
        r.ec50,
        r.hill,
        r.gamma,
        r.potency,
        r.k_transit,
        float(r.n_transit),
        r.recovery,
        r.nfl_exponent,
        r.u_full_recovery,
        r.speed,
        r.log_stage0,
        pk.k_csf_per_day,
        pk.f_tissue,
        pk.k_tissue_per_day,
        pk.k_plasma_per_day,
        1.0 / r.ec50,
    ]
    return np.ascontiguousarray(
        np.stack([np.broadcast_to(np.asarray(v, np.float64), (n,)) for v in rows])
    )


@_jit
def _power(x: float, exponent: float) -> float:
    """x ** exponent for x >= 0."""
    if x <= 0.0:
        return 0.0
    return math.exp(exponent * math.log(x))


@_jit_inline
def _knockdown(tissue_mg: FloatArray, at: int, th: FloatArray, out: FloatArray, into: int) -> None:
    """Knock-down ``S = S_max A^h / (EC50^h + A^h)`` of tissue drug A (row `at` of `tissue_mg`)
    into row `into` of `out`, every lane: by multiplication, vectorised, for the table's h = 3;
    by `_power` for any other h."""
    lanes = out.shape[1]
    other = False
    for lane in range(lanes):
        ratio = max(tissue_mg[at, lane], 0.0) * th[INV_EC50, lane]
        powered = ratio * ratio * ratio
        out[into, lane] = th[S_MAX, lane] * powered / (1.0 + powered)
        other |= th[HILL, lane] != 3.0
    if other:
        for lane in range(lanes):
            if th[HILL, lane] != 3.0:
                ratio = max(tissue_mg[at, lane], 0.0) * th[INV_EC50, lane]
                powered = _power(ratio, th[HILL, lane])
                out[into, lane] = th[S_MAX, lane] * powered / (1.0 + powered)


@_jit_inline
def course_drive(y: FloatArray, th: FloatArray, drive: FloatArray, slot: int) -> None:
    """What the course block needs of protein P (row 1 of the drug block `y`), every lane, into
    ``drive[slot]``: ``[0] = beta (gamma log P - log s(u0))``, the log NfL target less its stage
    term, and ``[1] = R^(beta kappa)``, the chain's drive (``R = P^gamma``)."""
    for lane in range(drive.shape[2]):
        log_injury = th[GAMMA, lane] * math.log(max(y[1, lane], 1e-300))
        drive[slot, 0, lane] = th[NFL_EXPONENT, lane] * (log_injury - th[LOG_STAGE0, lane])
        drive[slot, 1, lane] = math.exp(th[POTENCY, lane] * log_injury)


@_jit_inline
def course_rhs(
    drive: FloatArray, slot: int, w: FloatArray, at: int, into: int, rate_into: int,
    th: FloatArray,
) -> None:  # fmt: skip
    """d/dt of the course block (NfL, E_1..E_n, Z) at ``y = w[at]`` into ``w[into]`` and each
    state's loss rate into ``w[rate_into]``, every lane, given protein's `course_drive` in
    ``drive[slot]``.

    Latent score ``u = u0 - v0 Z + rho (1 - E_n)``; NfL follows disease activity,
    ``dN/dt = k_N ((s(u)/s(u0) R)^beta - N)`` with ``log s(u) = -|u| - 2 log(1 + exp(-|u|))``
    (`alsim.model.progression.log_stage`); the chain is driven by ``(R^beta)^kappa`` and Z
    integrates its last compartment. The stage term is evaluated by `_exp_bounded` and
    `_log1p_unit` so that the lanes vectorise.
    """
    n_transit = w.shape[1] - 2
    lanes = w.shape[2]
    far = False
    for lane in range(lanes):
        effect = w[at, n_transit, lane]
        u = (
            th[U_FULL_RECOVERY, lane]
            - th[SPEED, lane] * w[at, n_transit + 1, lane]
            - th[RECOVERY, lane] * effect
        )
        a = abs(u)
        # exp(-a) below exp(-40) changes log(1 + exp(-a)) by less than 1e-17
        log_stage = -a - 2.0 * _log1p_unit(_exp_bounded(-min(a, EXP_BOUND)))
        x = th[NFL_EXPONENT, lane] * log_stage + drive[slot, 0, lane]
        far |= abs(x) > EXP_BOUND
        w[rate_into, 0, lane] = th[K_NFL, lane]
        w[into, 0, lane] = th[K_NFL, lane] * (_exp_bounded(x) - w[at, 0, lane])
        k_tr = th[K_TRANSIT, lane]
        w[rate_into, 1, lane] = k_tr
        w[into, 1, lane] = k_tr * (drive[slot, 1, lane] - w[at, 1, lane])
        w[rate_into, n_transit + 1, lane] = 0.0
        w[into, n_transit + 1, lane] = effect
    if far:  # an NfL target beyond exp(+-40) (never in sampled patients): the library exp
        for lane in range(lanes):
            effect = w[at, n_transit, lane]
            u = (
                th[U_FULL_RECOVERY, lane]
                - th[SPEED, lane] * w[at, n_transit + 1, lane]
                - th[RECOVERY, lane] * effect
            )
            a = abs(u)
            log_stage = -a - 2.0 * math.log1p(math.exp(-a))
            x = th[NFL_EXPONENT, lane] * log_stage + drive[slot, 0, lane]
            if abs(x) > EXP_BOUND:
                w[into, 0, lane] = th[K_NFL, lane] * (math.exp(x) - w[at, 0, lane])
    for j in range(2, n_transit + 1):
        for lane in range(lanes):
            w[rate_into, j, lane] = th[K_TRANSIT, lane]
            w[into, j, lane] = th[K_TRANSIT, lane] * (w[at, j - 1, lane] - w[at, j, lane])


def course_initial(n_transit: int) -> FloatArray:
    """The course block at its no-drug baseline: NfL and the chain 1, Z = 0."""
    y = np.ones(2 + n_transit)
    y[-1] = 0.0
    return y


def step_grid(
    dose_t_days: FloatArray, knots_days: FloatArray, rule: StepRule
) -> tuple[FloatArray, IntArray, IntArray]:
    """Step boundaries from 0 to the last knot, and the boundary index of each dose and of
    each knot. Doses after the last knot are dropped.

    A step starting `tau` days after the last dose wants ``rule.first_days + rule.growth * tau``
    days, at most `rule.max_days`; a step that would overshoot a dose or knot stops there, and one
    that would leave less than a wanted step before it is halved instead.
    """
    knots_days = np.asarray(knots_days, dtype=np.float64)
    t_end = float(knots_days.max()) if knots_days.size else 0.0
    doses = dose_t_days[dose_t_days <= t_end]
    stops = np.union1d(np.union1d([0.0, t_end], knots_days), doses)
    edges = [0.0]
    last_dose = -np.inf
    d = 0
    for stop in stops[1:]:
        t = edges[-1]
        while t < stop:
            while d < doses.size and doses[d] <= t + 1e-12:
                last_dose = doses[d]
                d += 1
            wanted = min(rule.max_days, rule.first_days + rule.growth * (t - last_dose))
            left = stop - t
            if left <= wanted * (1.0 + 1e-9):
                h = left
            elif left < 2.0 * wanted:
                h = left / 2.0
            else:
                h = wanted
            t = stop if h == left else t + h
            edges.append(t)
    grid = np.array(edges)
    index = np.searchsorted(grid, stops)
    dose_index = index[np.searchsorted(stops, doses)]
    knot_index = index[np.searchsorted(stops, knots_days)]
    return grid, dose_index.astype(np.int64), knot_index.astype(np.int64)


@_jit_inline
def _exp_near_zero(x: float) -> float:
    """exp(x) for |x| <= `EXP_POLY_LIMIT` within 2e-15 relative: Taylor on x/8, squared three
    times. Unlike a call of `math.exp` it vectorises; larger |x| go to `math.exp`."""
    r = 0.125 * x
    p = 1.0 + r * (
        1.0
        + r
        * (
            1.0 / 2.0
            + r
            * (
                1.0 / 6.0
                + r
                * (
                    1.0 / 24.0
                    + r
                    * (
                        1.0 / 120.0
                        + r
                        * (
                            1.0 / 720.0
                            + r
                            * (
                                1.0 / 5040.0
                                + r
                                * (
                                    1.0 / 40320.0
                                    + r
                                    * (
                                        1.0 / 362880.0
                                        + r
                                        * (
                                            1.0 / 3628800.0
                                            + r * (1.0 / 39916800.0 + r / 479001600.0)
                                        )
                                    )
                                )
                            )
                        )
                    )
                )
            )
        )
    )
    p *= p
    p *= p
    return p * p


EXP_POLY_LIMIT = 2.0
EXP_BOUND = 40.0


@_jit_inline
def _exp_bounded(x: float) -> float:
    """exp(x) for |x| <= `EXP_BOUND` within 3e-14 relative: `_exp_near_zero` of x/32, squared
    five times (vectorises, unlike a call of `math.exp`)."""
    p = _exp_near_zero(x * (1.0 / 32.0))
    p *= p
    p *= p
    p *= p
    p *= p
    return p * p


@_jit_inline
def _log1p_unit(w: float) -> float:
    """log(1 + w) for 0 <= w <= 1 within 2e-16: 2 atanh(s), s = w / (2 + w) <= 1/3, by its
    series to s^35 (vectorises, unlike a call of `math.log1p`)."""
    s = w / (2.0 + w)
    q = s * s
    series = 1.0 / 35.0
    for k in range(16, -1, -1):
        series = 1.0 / (2 * k + 1) + q * series
    return 2.0 * s * series


@_jit_inline
def _phi(z: float, e: float) -> tuple[float, float, float]:
    """phi_1, phi_2, phi_3 of z given e = exp(z): phi_k(z) = sum_j z^j / (j + k)!. Both forms are
    computed and one chosen (branch-free, so it vectorises)."""
    q3 = 1.0 / 6.0 + z * (
        1.0 / 24.0
        + z
        * (
            1.0 / 120.0
            + z
            * (
                1.0 / 720.0
                + z * (1.0 / 5040.0 + z * (1.0 / 40320.0 + z * (1.0 / 362880.0 + z / 3628800.0)))
            )
        )
    )
    q2 = 0.5 + z * q3
    q1 = 1.0 + z * q2
    small = abs(z) < 0.25
    inv = 1.0 / (1.0 if small else z)
    p1 = (e - 1.0) * inv
    p2 = (p1 - 1.0) * inv
    p3 = (p2 - 0.5) * inv
    return (q1 if small else p1), (q2 if small else p2), (q3 if small else p3)


@_jit_inline
def _half_decay(rate: FloatArray, at: int, h: float, out: FloatArray, into: int) -> None:
    """exp(-rate h / 2) of row `at` of `rate` into row `into` of `out`, every lane (vectorised
    where |rate h / 2| is small)."""
    lanes = out.shape[1]
    far = False
    for lane in range(lanes):
        x = -0.5 * rate[at, lane] * h
        far |= abs(x) > EXP_POLY_LIMIT
        out[into, lane] = _exp_near_zero(x)
    if far:
        for lane in range(lanes):
            x = -0.5 * rate[at, lane] * h
            if abs(x) > EXP_POLY_LIMIT:
                out[into, lane] = math.exp(x)


N_WEIGHTS = 15


@_jit
def _weights(rate: FloatArray, at: int, h: float, c: FloatArray) -> None:
    """Coefficients of one Hochbruck-Ostermann step of length h for a state lost at ``rate[at]``,
    every lane: c = [rate, h, exp(-rate h/2), exp(-rate h), then the stage and final weights
    times h] along the first axis."""
    _half_decay(rate, at, h, c, 2)
    for lane in range(c.shape[1]):
        z = -rate[at, lane] * h
        e2 = c[2, lane]
        e1 = e2 * e2
        p1h, p2h, p3h = _phi(0.5 * z, e2)
        p1, p2, p3 = _phi(z, e1)
        a52 = 0.5 * p2h - p3 + 0.25 * p2 - 0.5 * p3h
        a54 = 0.25 * p2h - a52
        c[0, lane] = rate[at, lane]
        c[1, lane] = h
        c[3, lane] = e1
        c[4, lane] = h * 0.5 * p1h  # stage 2
        c[5, lane] = h * (0.5 * p1h - p2h)  # stage 3
        c[6, lane] = h * p2h
        c[7, lane] = h * (p1 - 2.0 * p2)  # stage 4
        c[8, lane] = h * p2
        c[9, lane] = h * (0.5 * p1h - 2.0 * a52 - a54)  # stage 5
        c[10, lane] = h * a52
        c[11, lane] = h * a54
        c[12, lane] = h * (p1 - 3.0 * p2 + 4.0 * p3)  # the step
        c[13, lane] = h * (4.0 * p3 - p2)
        c[14, lane] = h * (4.0 * p2 - 8.0 * p3)


@_jit_inline
def _drug_step(
    y: FloatArray, h: float, knockdown: FloatArray, th: FloatArray, protein: FloatArray,
    kind: int, mrna: FloatArray,
) -> None:  # fmt: skip
    """One Hochbruck-Ostermann step of the drug block for every lane, in place: y = (mRNA,
    protein) by lane, ``dM/dt = k_M (1 - M (1 + S))``, ``dP/dt = k_P (M - P)``.

    `knockdown` holds S at the step's start, middle and end (3, lane); ``protein[kind]`` the
    weights of protein's constant loss rate for this step length (weight, lane); `mrna` scratch
    for mRNA's, whose loss rate ``k_M (1 + S)`` (frozen at the start) changes every step.
    Written out for two states, branch-free, so that the lanes vectorise."""
    lanes = y.shape[1]
    for lane in range(lanes):
        mrna[0, lane] = th[K_MRNA, lane] * (1.0 + knockdown[0, lane])
    _half_decay(mrna, 0, h, mrna, 1)
    for lane in range(lanes):
        k_m = th[K_MRNA, lane]
        k_p = th[K_SOD1, lane]
        rate = mrna[0, lane]
        d_mid = k_m * (knockdown[1, lane] - knockdown[0, lane])
        d_end = k_m * (knockdown[2, lane] - knockdown[0, lane])
        z = -rate * h
        e2 = mrna[1, lane]
        e1 = e2 * e2
        p1h, p2h, p3h = _phi(0.5 * z, e2)
        p1, p2, p3 = _phi(z, e1)
        a52 = 0.5 * p2h - p3 + 0.25 * p2 - 0.5 * p3h
        a54 = 0.25 * p2h - a52
        m = y[0, lane]
        p = y[1, lane]
        # stage values n = derivative + rate * state: mRNA k_M - (k_M (1 + S(t)) - rate) M,
        # protein k_P M; protein's own stage values feed nothing (no right-hand side reads them)
        n1m = k_m
        n1p = k_p * m
        m2 = e2 * m + h * 0.5 * p1h * n1m
        n2m = k_m - d_mid * m2
        m3 = e2 * m + h * ((0.5 * p1h - p2h) * n1m + p2h * n2m)
        n3m = k_m - d_mid * m3
        m4 = e1 * m + h * ((p1 - 2.0 * p2) * n1m + p2 * (n2m + n3m))
        n4m = k_m - d_end * m4
        n4p = k_p * m4
        m5 = e2 * m + h * ((0.5 * p1h - 2.0 * a52 - a54) * n1m + a52 * (n2m + n3m) + a54 * n4m)
        n5m = k_m - d_mid * m5
        n5p = k_p * m5
        y[0, lane] = e1 * m + h * (
            (p1 - 3.0 * p2 + 4.0 * p3) * n1m + (4.0 * p3 - p2) * n4m + (4.0 * p2 - 8.0 * p3) * n5m
        )
        y[1, lane] = (
            protein[kind, 3, lane] * p
            + protein[kind, 12, lane] * n1p
            + protein[kind, 13, lane] * n4p
            + protein[kind, 14, lane] * n5p
        )


# slots of the course block's work array (slot, state, lane): the five stage derivatives, the
# four stage values, the loss rates at the step's start and at a stage, the state itself
N1, N2, N3, N4, N5, Y2, Y3, Y4, Y5, LOSS, STAGE_LOSS, STATE = range(12)
COURSE_SLOTS = 12


@_jit_inline
def _course_step(
    w: FloatArray, h: float, drive: FloatArray, step: int, th: FloatArray, coef: FloatArray,
    kind: int,
) -> None:  # fmt: skip
    """One Hochbruck-Ostermann step of the course block (`course_rhs`) for every lane, in place:
    the state is ``w[STATE]`` (state, lane), the rest of `w` scratch; protein's `course_drive`
    at the step's start, middle and end is ``drive[2 step]``, ``drive[2 step + 1]`` and
    ``drive[2 step + 2]``; ``coef[kind]`` (state, weight, lane) the weights, recomputed for a
    state whose loss rate differs from the one they were computed for.

    Rows are read by index rather than through array views: each view of a compiled array
    costs two atomic reference-count updates, once a fifth of the solver's time."""
    n_states, lanes = w.shape[1], w.shape[2]
    start, middle, end = 2 * step, 2 * step + 1, 2 * step + 2
    course_rhs(drive, start, w, STATE, N1, LOSS, th)
    for s in range(n_states):
        stale = False
        for lane in range(lanes):
            stale |= w[LOSS, s, lane] != coef[kind, s, 0, lane]
        if stale:
            _weights(w[LOSS], s, h, coef[kind, s])
    for s in range(n_states):
        for lane in range(lanes):
            w[N1, s, lane] += w[LOSS, s, lane] * w[STATE, s, lane]
            w[Y2, s, lane] = (
                coef[kind, s, 2, lane] * w[STATE, s, lane] + coef[kind, s, 4, lane] * w[N1, s, lane]
            )
    course_rhs(drive, middle, w, Y2, N2, STAGE_LOSS, th)
    for s in range(n_states):
        for lane in range(lanes):
            w[N2, s, lane] += w[LOSS, s, lane] * w[Y2, s, lane]
            w[Y3, s, lane] = (
                coef[kind, s, 2, lane] * w[STATE, s, lane]
                + coef[kind, s, 5, lane] * w[N1, s, lane]
                + coef[kind, s, 6, lane] * w[N2, s, lane]
            )
    course_rhs(drive, middle, w, Y3, N3, STAGE_LOSS, th)
    for s in range(n_states):
        for lane in range(lanes):
            w[N3, s, lane] += w[LOSS, s, lane] * w[Y3, s, lane]
            w[Y4, s, lane] = (
                coef[kind, s, 3, lane] * w[STATE, s, lane]
                + coef[kind, s, 7, lane] * w[N1, s, lane]
                + coef[kind, s, 8, lane] * (w[N2, s, lane] + w[N3, s, lane])
            )
    course_rhs(drive, end, w, Y4, N4, STAGE_LOSS, th)
    for s in range(n_states):
        for lane in range(lanes):
            w[N4, s, lane] += w[LOSS, s, lane] * w[Y4, s, lane]
            w[Y5, s, lane] = (
                coef[kind, s, 2, lane] * w[STATE, s, lane]
                + coef[kind, s, 9, lane] * w[N1, s, lane]
                + coef[kind, s, 10, lane] * (w[N2, s, lane] + w[N3, s, lane])
                + coef[kind, s, 11, lane] * w[N4, s, lane]
            )
    course_rhs(drive, middle, w, Y5, N5, STAGE_LOSS, th)
    for s in range(n_states):
        for lane in range(lanes):
            w[N5, s, lane] += w[LOSS, s, lane] * w[Y5, s, lane]
            w[STATE, s, lane] = (
                coef[kind, s, 3, lane] * w[STATE, s, lane]
                + coef[kind, s, 12, lane] * w[N1, s, lane]
                + coef[kind, s, 13, lane] * w[N4, s, lane]
                + coef[kind, s, 14, lane] * w[N5, s, lane]
            )


@_jit
def _transfer(k_from: float, k_to: float, e_from: float, dt: float) -> float:
    """(exp(-k_from dt) - exp(-k_to dt)) / (k_to - k_from), given e_from = exp(-k_from dt)."""
    x = (k_to - k_from) * dt
    if abs(x) < 1e-8:
        return e_from * dt * (1.0 - x / 2.0)
    return e_from * dt * (-math.expm1(-x) / x)


@_jit
def _pk_propagators(th: FloatArray, h: float, out: FloatArray) -> None:
    """Exact PK over half and whole step h, every lane: CSF decay over h, tissue decay over h/2
    and h, CSF-to-tissue over h/2 and h, plasma decay and CSF-to-plasma over h."""
    for lane in range(out.shape[1]):
        kc, ft = th[K_CSF, lane], th[F_TISSUE, lane]
        kt, kp = th[K_TISSUE, lane], th[K_PLASMA, lane]
        half = 0.5 * h
        ec2 = math.exp(-kc * half)
        ec = ec2 * ec2
        et2 = math.exp(-kt * half)
        out[0, lane] = ec
        out[1, lane] = et2
        out[2, lane] = et2 * et2
        out[3, lane] = ft * kc * _transfer(kc, kt, ec2, half)
        out[4, lane] = ft * kc * _transfer(kc, kt, ec, h)
        out[5, lane] = math.exp(-kp * h)
        out[6, lane] = (1.0 - ft) * kc * _transfer(kc, kp, ec, h)


@_jit
def _integrate(
    lanes: int, grid: FloatArray, kind: IntArray, dose_index: IntArray, dose_mg: FloatArray,
    out_index: IntArray, sample_slot: IntArray, course_grid: FloatArray, course_kind: IntArray,
    course_out_index: IntArray, theta: FloatArray, course_y0: FloatArray, out: FloatArray,
) -> None:  # fmt: skip
    """Every patient from t = 0, `lanes` at a time: doses into CSF at the fine grid points
    `dose_index`; PK and the drug block over the fine `grid`, protein's `course_drive` kept at
    the points `sample_slot` names (slot 2c for coarse point c, 2c + 1 for the middle of coarse
    step c, -1 none); then the course block over `course_grid`. States are written to
    `out[state, patient, output]` at the fine points `out_index` and the coarse points
    `course_out_index` (before any dose given there).

    Steps of the same length share `kind`: the PK propagators and the weights of states whose
    loss rate has not changed are computed once per kind and lane block, not per step."""
    n_patients = dose_mg.shape[0]
    n_steps = grid.shape[0] - 1
    n_course = course_grid.shape[0] - 1
    n_doses = dose_index.shape[0]
    n_out = out_index.shape[0]
    n_course_states = course_y0.shape[0]
    n_kinds = kind.max() + 1 if n_steps else 1
    n_course_kinds = course_kind.max() + 1 if n_course else 1
    th = np.empty((theta.shape[0], lanes))
    doses = np.empty((n_doses, lanes))
    pk = np.empty((n_kinds, 7, lanes))
    pk_ready = np.zeros(n_kinds, dtype=np.bool_)
    protein_coef = np.empty((n_kinds, N_WEIGHTS, lanes))
    course_coef = np.empty((n_course_kinds, n_course_states, N_WEIGHTS, lanes))
    course_work = np.empty((COURSE_SLOTS, n_course_states, lanes))
    drive = np.empty((2 * n_course + 1, 2, lanes))  # `course_drive` at the coarse samples
    y = np.empty((DRUG_STATES, lanes))
    pk_state = np.empty((3, lanes))  # CSF, tissue, plasma
    csf, tissue, plasma = pk_state[0], pk_state[1], pk_state[2]
    tissue_at = np.empty((3, lanes))  # tissue drug at the step's start, middle and end
    knockdown = np.empty((3, lanes))
    mrna = np.empty((2, lanes))
    patient = np.empty(lanes, dtype=np.int64)
    for first in range(0, n_patients, lanes):
        n_real = min(lanes, n_patients - first)
        for lane in range(lanes):
            patient[lane] = first + min(lane, n_real - 1)  # padding repeats the last patient
            th[:, lane] = theta[:, patient[lane]]
            doses[:, lane] = dose_mg[patient[lane], :]
        pk_state[:] = 0.0
        y[:] = 1.0
        for s in range(n_course_states):
            for lane in range(lanes):
                course_work[STATE, s, lane] = course_y0[s]
        pk_ready[:] = False
        protein_coef[:, 0, :] = np.nan
        course_coef[:, :, 0, :] = np.nan
        _knockdown(pk_state, 1, th, knockdown, 2)
        d = 0
        o = 0
        for k in range(n_steps + 1):
            slot = sample_slot[k]
            if slot >= 0:
                course_drive(y, th, drive, slot)
            while o < n_out and out_index[o] == k:
                for lane in range(n_real):
                    p = patient[lane]
                    out[0, p, o] = csf[lane]
                    out[1, p, o] = tissue[lane]
                    out[2, p, o] = plasma[lane]
                    out[3, p, o] = y[0, lane]
                    out[4, p, o] = y[1, lane]
                o += 1
            while d < n_doses and dose_index[d] == k:
                for lane in range(lanes):
                    csf[lane] += doses[d, lane]
                d += 1
            if k == n_steps:
                break
            h = grid[k + 1] - grid[k]
            kd = kind[k]
            if not pk_ready[kd]:
                _pk_propagators(th, h, pk[kd])
                for lane in range(lanes):
                    mrna[0, lane] = th[K_SOD1, lane]
                _weights(mrna, 0, h, protein_coef[kd])
                pk_ready[kd] = True
            for lane in range(lanes):
                tissue_at[1, lane] = tissue[lane] * pk[kd, 1, lane] + pk[kd, 3, lane] * csf[lane]
                tissue_at[2, lane] = tissue[lane] * pk[kd, 2, lane] + pk[kd, 4, lane] * csf[lane]
                plasma[lane] = plasma[lane] * pk[kd, 5, lane] + pk[kd, 6, lane] * csf[lane]
                knockdown[0, lane] = knockdown[2, lane]  # drug enters CSF, not tissue
            _knockdown(tissue_at, 1, th, knockdown, 1)
            _knockdown(tissue_at, 2, th, knockdown, 2)
            _drug_step(y, h, knockdown, th, protein_coef, kd, mrna)
            for lane in range(lanes):
                csf[lane] *= pk[kd, 0, lane]
                tissue[lane] = tissue_at[2, lane]
        o = 0
        for c in range(n_course + 1):
            while o < n_out and course_out_index[o] == c:
                for lane in range(n_real):
                    for s in range(n_course_states):
                        out[5 + s, patient[lane], o] = course_work[STATE, s, lane]
                o += 1
            if c == n_course:
                break
            _course_step(
                course_work,
                course_grid[c + 1] - course_grid[c],
                drive,
                c,
                th,
                course_coef,
                course_kind[c],
            )


def _step_kinds(grid: FloatArray) -> IntArray:
    """Index of each step's length among the distinct lengths."""
    if grid.size < 2:
        return np.zeros(0, dtype=np.int64)
    _, kinds = np.unique(np.round(np.diff(grid), 12), return_inverse=True)
    return kinds.astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Grids:
    """Both step grids of one schedule and output times, and the indices the kernel reads."""

    grid: FloatArray
    kind: IntArray
    dose_index: IntArray
    out_index: IntArray
    sample_slot: IntArray
    course_grid: FloatArray
    course_kind: IntArray
    course_out_index: IntArray


@functools.lru_cache(maxsize=32)
def _grids(
    dose_t_bytes: bytes, t_out_bytes: bytes, drug_steps: StepRule, course_steps: StepRule
) -> _Grids:
    """The grids of dose times and output times (given as float64 bytes, to be hashable): built
    once per schedule, a Python loop over every step, and reused by every chunk solved on it."""
    dose_t_days = np.frombuffer(dose_t_bytes, dtype=np.float64)
    t_out_days = np.frombuffer(t_out_bytes, dtype=np.float64)
    course_grid, _, course_out_index = step_grid(dose_t_days, t_out_days, course_steps)
    middles = 0.5 * (course_grid[1:] + course_grid[:-1])
    samples = np.empty(2 * course_grid.size - 1)
    samples[0::2] = course_grid
    samples[1::2] = middles
    grid, dose_index, sample_index = step_grid(dose_t_days, samples, drug_steps)
    sample_slot = np.full(grid.size, -1, dtype=np.int64)
    sample_slot[sample_index] = np.arange(samples.size)
    grids = _Grids(
        grid=grid,
        kind=_step_kinds(grid),
        dose_index=dose_index,
        out_index=np.searchsorted(grid, t_out_days).astype(np.int64),
        sample_slot=sample_slot,
        course_grid=course_grid,
        course_kind=_step_kinds(course_grid),
        course_out_index=course_out_index,
    )
    for array in (getattr(grids, name) for name in _Grids.__slots__):
        array.flags.writeable = False  # shared by later calls
    return grids


def lanes_for(n_patients: int) -> int:
    """Patients side by side for a batch of `n_patients`: `WIDE_LANES` unless padding the batch
    to a multiple of it costs more than it saves (a batch of 32 or fewer, say). A patient's
    numbers are the same in any number of lanes."""
    wide = -(-n_patients // WIDE_LANES) * WIDE_LANES
    narrow = -(-n_patients // LANES) * LANES
    return WIDE_LANES if WIDE_LANES_COST * wide <= narrow else LANES


def solve(
    individual: Mapping[str, FloatArray],
    doses: DoseSchedule,
    t_out_days: FloatArray,
    *,
    drug_steps: StepRule = DRUG_STEPS,
    course_steps: StepRule = COURSE_STEPS,
) -> Trajectories:
    """Integrate a batch of patients from baseline (t = 0, first dose) to the last output time.

    Every state starts at its no-drug baseline (M = P = N = E_j = 1, Z = 0, no drug on board).
    `individual` holds the parameter table's values and the course's
    `alsim.model.system.COURSE_PARAMETERS`, each shaped (patient,). Output at `t_out_days` is
    taken before any dose given at that same time: a value at a dose time is the trough
    (pre-dose) value, as sampled in the trials.
    """
    t_out_days = np.asarray(t_out_days, dtype=np.float64)
    if t_out_days.ndim != 1 or np.any(np.diff(t_out_days) < 0) or np.any(t_out_days < 0):
        raise AlsimError("t_out_days must be a non-decreasing 1-D array of times >= 0")
    grids = _grids(
        np.asarray(doses.t_days, dtype=np.float64).tobytes(),
        t_out_days.tobytes(),
        drug_steps,
        course_steps,
    )
    n_patients = doses.amount_mg.shape[0]
    theta = pd_constants(individual)
    n_transit = round(float(theta[N_TRANSIT, 0])) if n_patients else 1
    course_y0 = course_initial(n_transit)
    out = np.empty(
        (len(PK_STATE_NAMES) + DRUG_STATES + course_y0.size, n_patients, t_out_days.size)
    )
    _integrate(
        lanes_for(n_patients),
        grids.grid,
        grids.kind,
        grids.dose_index,
        np.ascontiguousarray(doses.amount_mg[:, : grids.dose_index.size], dtype=np.float64),
        grids.out_index,
        grids.sample_slot,
        grids.course_grid,
        grids.course_kind,
        grids.course_out_index,
        theta,
        course_y0,
        out,
    )
    names = PK_STATE_NAMES + pd_state_names(n_transit)
    assert len(names) == out.shape[0]
    return Trajectories(
        t_days=t_out_days,
        csf_mg=out[0],
        tissue_mg=out[1],
        plasma_mg=out[2],
        mrna=out[3],
        sod1_protein=out[4],
        nfl=out[5],
        effect=out[-2],
        effect_time_days=out[-1],
    )
