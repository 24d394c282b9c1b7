"""A compiled solver for the whole model: exact PK, exponential Runge-Kutta for the PD block.

`solve_compiled` integrates the same equations as `alsim.model.system.solve` and returns the same
`Trajectories`, patient by patient in one Numba-compiled loop:

- PK (CSF, tissue, plasma) is linear and propagated exactly, as in `alsim.model.pk`.
- The PD block is written once, in `pd_rhs`, as each state's derivative and its first-order loss
  rate: ``dy/dt = f(t, y)`` with ``f = -rate * y + (the rest)``. Every PD state of the model is
  of this kind (mRNA decays at ``k_M (1 + S(t))``, protein at ``k_P``, NfL at ``k_N``, each
  compartment of the transit chain at ``k_tr``; their integral Z at 0), so the loss part is
  integrated exactly and only the rest by the five-stage exponential Runge-Kutta scheme of stiff
  order four of Hochbruck and Ostermann (SIAM J Numer Anal 2005, eq. 5.19), with the rates frozen
  at the start of each step. The equations are those of `alsim.model.system._derivatives`.
- Steps: every dose, output time and the end are step boundaries; after each dose the step starts
  at `FIRST_STEP_DAYS` (the drug reaches tissue within hours) and grows by `STEP_GROWTH` per step
  up to `MAX_STEP_DAYS`. The grid is the same for every patient of a call, so the patient count
  changes nothing but the work.

Changing the model's PD equations means changing `pd_rhs`, the state layout
(`alsim.model.system.pd_state_names`), the initial values (`pd_initial`) and the per-patient
constants `pd_constants` reads: the integrator takes any number of states.
"""

import math
from collections.abc import Callable, Mapping

import numba
import numpy as np
from numpy.typing import NDArray

from alsim.errors import AlsimError
from alsim.model.pk import pk_rates
from alsim.model.system import DoseSchedule, Trajectories, pd_rates_table, pd_state_names

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PK_STATE_NAMES = ("csf_mg", "tissue_mg", "plasma_mg")

# Chosen so every state of sampled patients at 0-300 mg stays within 3e-7 relative of LSODA,
# in the first hours after each dose too (tests/model/test_compiled.py)
FIRST_STEP_DAYS = 1.0 / 384.0
STEP_GROWTH = 0.125
MAX_STEP_DAYS = 0.75

# per-patient PD constants, columns of the `theta` matrix `pd_constants` builds
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
) = range(15)


def pd_constants(individual: Mapping[str, FloatArray]) -> FloatArray:
    """The per-patient constants `pd_rhs` reads, shaped (patient, constant): the rates of
    `alsim.model.system` (one source for both solvers)."""
    r = pd_rates_table(individual)
    n = np.asarray(individual["t_half_mrna_days"]).shape[0]
    columns = [
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
    ]
    return np.ascontiguousarray(
        np.stack([np.broadcast_to(np.asarray(c, np.float64), (n,)) for c in columns], axis=1)
    )


def pd_initial(n_transit: int) -> FloatArray:
    """Every PD state at its no-drug baseline: 1, except Z = 0."""
    y = np.ones(4 + n_transit)
    y[-1] = 0.0
    return y


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp", "reassoc"})
def _power(x: float, exponent: float) -> float:
    """x ** exponent, by multiplication for the small integer exponents models use."""
    if exponent == 3.0:
        return x * x * x
    if exponent == 2.0:
        return x * x
    if exponent == 1.0:
        return x
    if x <= 0.0:
        return 0.0
    return math.exp(exponent * math.log(x))


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp", "reassoc"})
def pd_rhs(
    t_days: float, tissue_mg: float, y: FloatArray, theta: FloatArray, dydt: FloatArray,
    rate: FloatArray,
) -> None:  # fmt: skip
    """d/dt of the PD states (`pd_state_names`) into `dydt`, each state's loss rate into `rate`.

    Knock-down S = S_max A^h / (EC50^h + A^h) of tissue drug A speeds mRNA decay; protein follows
    mRNA; relative injury R = P^gamma and the stage of the functional course set NfL; the relative
    NfL drive R^beta to the patient's potency drives the transit chain; Z integrates its last
    compartment (`alsim.model.system._derivatives`).
    """
    ratio = max(tissue_mg, 0.0) / theta[EC50]
    powered = _power(ratio, theta[HILL])
    knockdown = theta[S_MAX] * powered / (1.0 + powered)
    n_transit = int(theta[N_TRANSIT])
    effect = y[2 + n_transit]
    log_injury = theta[GAMMA] * math.log(max(y[1], 1e-300))
    u = theta[U_FULL_RECOVERY] - theta[SPEED] * y[3 + n_transit] - theta[RECOVERY] * effect
    a = abs(u)
    log_stage = -a - 2.0 * math.log1p(math.exp(-a))
    target = math.exp(theta[NFL_EXPONENT] * (log_stage - theta[LOG_STAGE0] + log_injury))
    rate[0] = theta[K_MRNA] * (1.0 + knockdown)
    dydt[0] = theta[K_MRNA] - rate[0] * y[0]
    rate[1] = theta[K_SOD1]
    dydt[1] = theta[K_SOD1] * (y[0] - y[1])
    rate[2] = theta[K_NFL]
    dydt[2] = theta[K_NFL] * (target - y[2])
    k_tr = theta[K_TRANSIT]
    rate[3] = k_tr
    dydt[3] = k_tr * (math.exp(theta[POTENCY] * log_injury) - y[3])
    for j in range(4, 3 + n_transit):
        rate[j] = k_tr
        dydt[j] = k_tr * (y[j - 1] - y[j])
    rate[3 + n_transit] = 0.0
    dydt[3 + n_transit] = effect


def step_grid(
    dose_t_days: FloatArray,
    t_out_days: FloatArray,
    *,
    first_step_days: float = FIRST_STEP_DAYS,
    growth: float = STEP_GROWTH,
    max_step_days: float = MAX_STEP_DAYS,
) -> tuple[FloatArray, IntArray, IntArray]:
    """Step boundaries from 0 to the last output time, and the boundary index of each dose and of
    each output time. Doses after the last output time are dropped.

    A step starting `tau` days after the last dose wants ``first_step_days + growth * tau`` days,
    at most `max_step_days`; a step that would overshoot a dose or output time stops there, and
    one that would leave less than a wanted step before it is halved instead.
    """
    t_end = float(t_out_days[-1]) if t_out_days.size else 0.0
    knots = np.union1d(np.union1d([0.0, t_end], t_out_days), dose_t_days[dose_t_days <= t_end])
    doses = dose_t_days[dose_t_days <= t_end]
    edges = [0.0]
    last_dose = -np.inf
    d = 0
    for stop in knots[1:]:
        t = edges[-1]
        while t < stop:
            while d < doses.size and doses[d] <= t + 1e-12:
                last_dose = doses[d]
                d += 1
            wanted = min(max_step_days, first_step_days + growth * (t - last_dose))
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
    index = np.searchsorted(grid, knots)
    dose_index = index[np.searchsorted(knots, doses)]
    out_index = index[np.searchsorted(knots, t_out_days)]
    return grid, dose_index.astype(np.int64), out_index.astype(np.int64)


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp", "reassoc"})
def _phi(z: float, e: float) -> tuple[float, float, float]:
    """phi_1, phi_2, phi_3 of z given e = exp(z): phi_k(z) = sum_j z^j / (j + k)!."""
    if abs(z) < 0.25:
        p3 = 1.0 / 6.0 + z * (
            1.0 / 24.0
            + z
            * (
                1.0 / 120.0
                + z
                * (
                    1.0 / 720.0
                    + z
                    * (1.0 / 5040.0 + z * (1.0 / 40320.0 + z * (1.0 / 362880.0 + z / 3628800.0)))
                )
            )
        )
        p2 = 0.5 + z * p3
        p1 = 1.0 + z * p2
        return p1, p2, p3
    p1 = (e - 1.0) / z
    p2 = (p1 - 1.0) / z
    p3 = (p2 - 0.5) / z
    return p1, p2, p3


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp", "reassoc"})
def _transfer(k_from: float, k_to: float, e_from: float, dt: float) -> float:
    """(exp(-k_from dt) - exp(-k_to dt)) / (k_to - k_from), given e_from = exp(-k_from dt)."""
    x = (k_to - k_from) * dt
    if abs(x) < 1e-8:
        return e_from * dt * (1.0 - x / 2.0)
    return e_from * dt * (-math.expm1(-x) / x)


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp", "reassoc"})
def _integrate(
    rhs: Callable[[float, float, FloatArray, FloatArray, FloatArray, FloatArray], None],
    grid: FloatArray,
    step_kind: IntArray,
    dose_index: IntArray,
    dose_mg: FloatArray,
    out_index: IntArray,
    k_csf: FloatArray,
    f_tissue: FloatArray,
    k_tissue: FloatArray,
    k_plasma: FloatArray,
    theta: FloatArray,
    y0: FloatArray,
    out: FloatArray,
) -> None:
    """Every patient from t = 0 over `grid`: doses into CSF at the grid points `dose_index`,
    CSF, tissue, plasma and the `rhs` states written to `out[:, patient, output]` at the grid
    points `out_index` (before any dose given there).

    Steps of the same length share `step_kind` (0, 1, ...): a patient's PK propagators and the
    weights of states whose rate has not changed are computed once per kind, not per step."""
    n_patients = dose_mg.shape[0]
    n_states = y0.shape[0]
    n_steps = grid.shape[0] - 1
    n_doses = dose_index.shape[0]
    n_out = out_index.shape[0]
    n_kinds = step_kind.max() + 1 if n_steps else 1
    work = np.empty((12, n_states))
    y, y2, y3, y4, y5 = work[0], work[1], work[2], work[3], work[4]
    n1, n2, n3, n4, n5 = work[5], work[6], work[7], work[8], work[9]
    lam, stage_rate = work[10], work[11]
    # per step kind and state: the rate its weights were computed for, the step, exp(-rate h/2),
    # exp(-rate h) and the scheme's weights (times h), see `_weights`
    weights = np.empty((n_kinds, n_states, 2 + N_WEIGHTS))
    # per step kind: tissue and plasma propagators, NaN until first needed
    pk = np.empty((n_kinds, 7))
    for i in range(n_patients):
        th = theta[i]
        kc, ft, kt, kp = k_csf[i], f_tissue[i], k_tissue[i], k_plasma[i]
        csf = 0.0
        tissue = 0.0
        plasma = 0.0
        for s in range(n_states):
            y[s] = y0[s]
        weights[:, :, 0] = np.nan
        pk[:, 0] = np.nan
        d = 0
        o = 0
        for k in range(n_steps + 1):
            t = grid[k]
            while o < n_out and out_index[o] == k:
                out[0, i, o] = csf
                out[1, i, o] = tissue
                out[2, i, o] = plasma
                for s in range(n_states):
                    out[3 + s, i, o] = y[s]
                o += 1
            while d < n_doses and dose_index[d] == k:
                csf += dose_mg[i, d]
                d += 1
            if k == n_steps:
                break
            h = grid[k + 1] - t
            half = 0.5 * h
            kind = step_kind[k]
            if np.isnan(pk[kind, 0]):  # exact PK propagators over half and whole step
                ec2 = math.exp(-kc * half)
                ec = ec2 * ec2
                et2 = math.exp(-kt * half)
                pk[kind, 0] = ec
                pk[kind, 1] = et2
                pk[kind, 2] = et2 * et2
                pk[kind, 3] = ft * kc * _transfer(kc, kt, ec2, half)
                pk[kind, 4] = ft * kc * _transfer(kc, kt, ec, h)
                pk[kind, 5] = math.exp(-kp * h)
                pk[kind, 6] = (1.0 - ft) * kc * _transfer(kc, kp, ec, h)
            tissue_mid = tissue * pk[kind, 1] + pk[kind, 3] * csf
            tissue_end = tissue * pk[kind, 2] + pk[kind, 4] * csf
            plasma = plasma * pk[kind, 5] + pk[kind, 6] * csf
            coef = weights[kind]
            # Hochbruck-Ostermann exponential RK (stiff order 4); loss rates frozen at the start
            rhs(t, tissue, y, th, n1, lam)
            for s in range(n_states):
                if lam[s] != coef[s, 0]:
                    _weights(lam[s], h, coef[s])
                n1[s] += lam[s] * y[s]
                y2[s] = coef[s, 2] * y[s] + coef[s, 4] * n1[s]
            rhs(t + half, tissue_mid, y2, th, n2, stage_rate)
            for s in range(n_states):
                n2[s] += lam[s] * y2[s]
                y3[s] = coef[s, 2] * y[s] + coef[s, 5] * n1[s] + coef[s, 6] * n2[s]
            rhs(t + half, tissue_mid, y3, th, n3, stage_rate)
            for s in range(n_states):
                n3[s] += lam[s] * y3[s]
                y4[s] = coef[s, 3] * y[s] + coef[s, 7] * n1[s] + coef[s, 8] * (n2[s] + n3[s])
            rhs(t + h, tissue_end, y4, th, n4, stage_rate)
            for s in range(n_states):
                n4[s] += lam[s] * y4[s]
                y5[s] = (
                    coef[s, 2] * y[s]
                    + coef[s, 9] * n1[s]
                    + coef[s, 10] * (n2[s] + n3[s])
                    + coef[s, 11] * n4[s]
                )
            rhs(t + half, tissue_mid, y5, th, n5, stage_rate)
            for s in range(n_states):
                n5[s] += lam[s] * y5[s]
                y[s] = (
                    coef[s, 3] * y[s]
                    + coef[s, 12] * n1[s]
                    + coef[s, 13] * n4[s]
                    + coef[s, 14] * n5[s]
                )
            csf *= pk[kind, 0]
            tissue = tissue_end


N_WEIGHTS = 13


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp", "reassoc"})
def _weights(rate: float, h: float, c: FloatArray) -> None:
    """Coefficients of one Hochbruck-Ostermann step of length h for a state lost at `rate`:
    c = [rate, h, exp(-rate h/2), exp(-rate h), then the stage and final weights times h]."""
    z = -rate * h
    e2 = math.exp(0.5 * z)
    e1 = e2 * e2
    p1h, p2h, p3h = _phi(0.5 * z, e2)
    p1, p2, p3 = _phi(z, e1)
    a52 = 0.5 * p2h - p3 + 0.25 * p2 - 0.5 * p3h
    a54 = 0.25 * p2h - a52
    c[0] = rate
    c[1] = h
    c[2] = e2
    c[3] = e1
    c[4] = h * 0.5 * p1h  # stage 2
    c[5] = h * (0.5 * p1h - p2h)  # stage 3
    c[6] = h * p2h
    c[7] = h * (p1 - 2.0 * p2)  # stage 4
    c[8] = h * p2
    c[9] = h * (0.5 * p1h - 2.0 * a52 - a54)  # stage 5
    c[10] = h * a52
    c[11] = h * a54
    c[12] = h * (p1 - 3.0 * p2 + 4.0 * p3)  # the step
    c[13] = h * (4.0 * p3 - p2)
    c[14] = h * (4.0 * p2 - 8.0 * p3)


def solve_compiled(
    individual: Mapping[str, FloatArray],
    doses: DoseSchedule,
    t_out_days: FloatArray,
    **step_options: float,
) -> Trajectories:
    """The model's states at `t_out_days` for a batch of patients (see `alsim.model.system.solve`
    for the conventions: t = 0 is the first dose; a value at a dose time is pre-dose)."""
    t_out_days = np.asarray(t_out_days, dtype=np.float64)
    if t_out_days.ndim != 1 or np.any(np.diff(t_out_days) < 0) or np.any(t_out_days < 0):
        raise AlsimError("t_out_days must be a non-decreasing 1-D array of times >= 0")
    grid, dose_index, out_index = step_grid(doses.t_days, t_out_days, **step_options)
    _, step_kind = np.unique(np.round(np.diff(grid), 12), return_inverse=True)
    n_patients = doses.amount_mg.shape[0]
    pk = pk_rates(individual)
    theta = pd_constants(individual)
    n_transit = round(float(theta[0, N_TRANSIT])) if n_patients else 1
    n_states = len(PK_STATE_NAMES) + len(pd_state_names(n_transit))
    out = np.empty((n_states, n_patients, t_out_days.size))

    def per_patient(values: FloatArray) -> FloatArray:
        return np.ascontiguousarray(np.broadcast_to(np.asarray(values, np.float64), (n_patients,)))

    _integrate(
        pd_rhs,
        grid,
        step_kind.astype(np.int64),
        dose_index,
        np.ascontiguousarray(doses.amount_mg[:, : dose_index.size], dtype=np.float64),
        out_index,
        per_patient(pk.k_csf_per_day),
        per_patient(pk.f_tissue),
        per_patient(pk.k_tissue_per_day),
        per_patient(pk.k_plasma_per_day),
        theta,
        pd_initial(n_transit),
        out,
    )
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
