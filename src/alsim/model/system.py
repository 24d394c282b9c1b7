"""The whole mechanistic model: state layout, right-hand side, and its two solvers.

`solve` is the production solver: vectorised over a batch of patients, PK propagated exactly,
the PD states by classical Runge-Kutta 4 on a grid refined in tiers after each dose. The PD state
is one array (state, patient), rows in `PD_STATE_NAMES` order: SOD1 mRNA, SOD1 protein, NfL, the
transit chain E_1..E_n of the drug's effect on function and its integral Z (the effective disease
time, `alsim.model.progression`). NfL depends on the functional course (disease activity), so the
chain is integrated for every design. `_derivatives` is the one right-hand side, used by both
solvers. `solve_reference` integrates the full ODE one patient at a time with LSODA; it exists to
check `solve` and to serve as the benchmark baseline.
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

from alsim.errors import AlsimError
from alsim.model.pk import (
    PkRates,
    PkState,
    PkStep,
    apply_pk_step,
    pk_derivatives,
    pk_rates,
    pk_step,
)
from alsim.model.progression import log_stage
from alsim.model.sod1 import csf_sod1_ng_ml, knockdown

FloatArray = NDArray[np.float64]
IndividualParameters = Mapping[str, FloatArray]

STATE_NAMES = ("csf_mg", "tissue_mg", "plasma_mg", "eliminated_mg", "mrna", "sod1_protein", "nfl")
PROGRESSION_STATE_NAMES = ("effect", "effect_time_days")
# Per-patient values of the disease course that the solver needs besides the parameter table:
# the latent score at Day 1 (u0) and the untreated latent speed (v0, per day).
COURSE_PARAMETERS = ("latent_baseline", "latent_speed_per_day")
_PD_PARAMETERS = (
    "t_half_mrna_days",
    "t_half_sod1_days",
    "t_half_nfl_days",
    "s_max",
    "ec50_tissue_mg",
    "hill",
    "gamma_injury",
    "function_potency",
    "mtt_effect_days",
    "n_transit_effect",
    "recovery_capacity",
    "nfl_activity_exponent",
    *COURSE_PARAMETERS,
)

DEFAULT_MAX_STEP_DAYS = 0.2
# (days since the last dose, step) tiers: the drug reaches tissue within hours and the Hill
# knock-down then moves fastest, so steps are short right after a dose and lengthen as it settles.
# Chosen so every state stays within 1e-6 relative of LSODA (tests/model/test_system.py).
DEFAULT_STEP_TIERS: tuple[tuple[float, float], ...] = (
    (0.25, 1.0 / 256.0),
    (1.0, 1.0 / 64.0),
    (4.0, 1.0 / 24.0),
)


@dataclass(frozen=True, slots=True)
class DoseSchedule:
    """Intrathecal boluses at times shared by a batch; amounts per patient (0 mg = sham/missed).

    `t_days` is time since the first dose (study Day 1 is t = 0), shape (dose,);
    `amount_mg` has shape (patient, dose).
    """

    t_days: FloatArray
    amount_mg: FloatArray

    def __post_init__(self) -> None:
        if self.t_days.ndim != 1 or self.amount_mg.ndim != 2:
            raise AlsimError("DoseSchedule: t_days must be 1-D and amount_mg 2-D (patient, dose)")
        if self.amount_mg.shape[1] != self.t_days.shape[0]:
            raise AlsimError("DoseSchedule: amount_mg has one column per dose time")
        if np.any(np.diff(self.t_days) <= 0) or np.any(self.t_days < 0):
            raise AlsimError("DoseSchedule: t_days must be >= 0 and strictly increasing")
        if np.any(self.amount_mg < 0):
            raise AlsimError("DoseSchedule: amount_mg must be >= 0")


@dataclass(frozen=True, slots=True)
class Trajectories:
    """Model states at the output times, each shaped (patient, time)."""

    t_days: FloatArray
    csf_mg: FloatArray
    tissue_mg: FloatArray
    plasma_mg: FloatArray
    mrna: FloatArray
    sod1_protein: FloatArray
    nfl: FloatArray
    effect: FloatArray = field(default_factory=lambda: np.empty((0, 0)))
    effect_time_days: FloatArray = field(default_factory=lambda: np.empty((0, 0)))


@dataclass(frozen=True, slots=True)
class _PdRates:
    k_mrna: FloatArray
    k_sod1: FloatArray
    k_nfl: FloatArray
    s_max: FloatArray
    ec50: FloatArray
    hill: FloatArray | float
    gamma: FloatArray | float
    potency: FloatArray | float
    k_transit: FloatArray | float
    n_transit: int
    recovery: FloatArray
    nfl_exponent: FloatArray | float
    u_full_recovery: FloatArray
    speed: FloatArray
    log_stage0: FloatArray

    @property
    def n_states(self) -> int:
        """mRNA, protein, NfL, the transit chain and Z."""
        return 4 + self.n_transit


def pd_state_names(n_transit: int) -> tuple[str, ...]:
    """Rows of the PD state array for a chain of `n_transit` compartments."""
    chain = tuple(f"effect_{j + 1}" for j in range(n_transit))
    return ("mrna", "sod1_protein", "nfl", *chain, "effect_time_days")


def _shared_if_uniform(values: FloatArray) -> FloatArray | float:
    """A scalar where every patient has the same value: a scalar power is much cheaper."""
    flat = np.asarray(values, dtype=np.float64)
    return float(flat.flat[0]) if flat.size and np.all(flat == flat.flat[0]) else flat


def _n_transit(values: FloatArray) -> int:
    """The chain length, shared by all patients; a non-integer value (a draw over its range)
    is rounded to the nearest integer."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    if not flat.size or np.any(flat != flat[0]) or round(float(flat[0])) < 1:
        raise AlsimError(
            "n_transit_effect must be one value >= 1 shared by all patients, "
            f"got {np.unique(flat)[:5].tolist()}"
        )
    return round(float(flat[0]))


def pd_rates_table(individual: IndividualParameters) -> _PdRates:
    """The PD rates and constants of a batch of patients (shared with the compiled solver)."""
    return _pd_rates(individual)


def _pd_rates(individual: IndividualParameters) -> _PdRates:
    missing = [name for name in _PD_PARAMETERS if name not in individual]
    if missing:
        raise AlsimError(
            f"individual parameters lack {', '.join(missing)}: draw patients with "
            "alsim.population.sample_population (the course adds latent_baseline and "
            "latent_speed_per_day to the parameter table's values)"
        )
    ln2 = np.log(2.0)
    n_transit = _n_transit(individual["n_transit_effect"])
    u0 = np.asarray(individual["latent_baseline"], dtype=np.float64)
    return _PdRates(
        k_mrna=ln2 / individual["t_half_mrna_days"],
        k_sod1=ln2 / individual["t_half_sod1_days"],
        k_nfl=ln2 / individual["t_half_nfl_days"],
        s_max=individual["s_max"],
        ec50=individual["ec50_tissue_mg"],
        hill=_shared_if_uniform(individual["hill"]),
        gamma=_shared_if_uniform(individual["gamma_injury"]),
        potency=_shared_if_uniform(
            individual["function_potency"] * individual["nfl_activity_exponent"]
        ),
        k_transit=_shared_if_uniform(n_transit / individual["mtt_effect_days"]),
        n_transit=n_transit,
        recovery=individual["recovery_capacity"],
        nfl_exponent=_shared_if_uniform(individual["nfl_activity_exponent"]),
        u_full_recovery=u0 + individual["recovery_capacity"],
        speed=individual["latent_speed_per_day"],
        log_stage0=log_stage(u0),
    )


def _mrna_decay(tissue_mg: FloatArray, r: _PdRates) -> FloatArray:
    """1 + S(A): the relative decay rate of SOD1 mRNA with tissue drug A."""
    out: FloatArray = knockdown(tissue_mg, r.s_max, r.ec50, r.hill)
    out += 1.0
    return out


def _derivatives(mrna_decay: FloatArray, y: FloatArray, r: _PdRates, out: FloatArray) -> None:
    """Write d/dt of the PD state `y` (state, patient) into `out`, given the relative mRNA decay
    1 + S(A) (`_mrna_decay` of the tissue amount). In equations (SCIENCE.md s.2,
    `alsim.model.sod1`, `alsim.model.nfl`, `alsim.model.progression`):

        dM/dt   = k_M (1 - M (1 + S))
        dP/dt   = k_P (M - P)
        R       = P^gamma                        relative toxic injury
        u       = u0 - v0 Z + rho (1 - E_n)      latent functional score
        dN/dt   = k_N ((s(u)/s(u0) R)^beta - N)  NfL follows disease activity s(F) v0 R
        dE_1/dt = k_tr ((R^beta)^kappa - E_1),  dE_j/dt = k_tr (E_{j-1} - E_j)
        dZ/dt   = E_n

    Written with ufunc `out=` arguments: it is the solver's inner loop."""
    m, p, n, effect, z = y[0], y[1], y[2], y[-2], y[-1]
    np.multiply(m, mrna_decay, out=out[0])
    out[0] *= -r.k_mrna
    out[0] += r.k_mrna
    np.subtract(m, p, out=out[1])
    out[1] *= r.k_sod1
    log_injury = np.log(p)
    log_injury *= r.gamma
    u = r.u_full_recovery - r.speed * z
    u -= r.recovery * effect
    activity = log_stage(u)
    activity -= r.log_stage0
    activity += log_injury
    activity *= r.nfl_exponent
    np.exp(activity, out=activity)
    np.subtract(activity, n, out=out[2])
    out[2] *= r.k_nfl
    drive = r.potency * log_injury
    np.exp(drive, out=drive)
    np.subtract(drive, y[3], out=out[3])
    np.subtract(y[3:-2], y[4:-1], out=out[4:-1])
    out[3:-1] *= r.k_transit
    out[-1] = effect


def _initial_state(n_patients: int, n_transit: int) -> FloatArray:
    """Every PD state at its no-drug baseline: 1, except Z = 0."""
    y = np.ones((4 + n_transit, n_patients))
    y[-1] = 0.0
    return y


def _time_grid(
    doses_t_days: FloatArray,
    t_end_days: float,
    max_step_days: float,
    step_tiers: tuple[tuple[float, float], ...],
    t_out_days: FloatArray,
) -> FloatArray:
    """Step boundaries: every dose and output time, short steps after doses (`step_tiers`),
    else `max_step_days`."""
    knots = {0.0, t_end_days, *map(float, t_out_days), *map(float, doses_t_days)}
    for t_dose in doses_t_days:
        for window, _ in step_tiers:
            knots.add(min(float(t_dose) + window, t_end_days))
    edges = np.array(sorted(k for k in knots if 0.0 <= k <= t_end_days))
    pieces = [edges[:1]]
    for start, stop in itertools.pairwise(edges):
        since_dose = start - doses_t_days[doses_t_days <= start + 1e-12]
        step = max_step_days
        if since_dose.size:
            step = next(
                (h for window, h in step_tiers if since_dose.min() < window - 1e-12),
                max_step_days,
            )
        n_steps = max(1, int(np.ceil((stop - start) / step - 1e-9)))
        pieces.append(np.linspace(start, stop, n_steps + 1)[1:])
    return np.concatenate(pieces)


def solve(
    individual: IndividualParameters,
    doses: DoseSchedule,
    t_out_days: FloatArray,
    *,
    max_step_days: float = DEFAULT_MAX_STEP_DAYS,
    step_tiers: tuple[tuple[float, float], ...] = DEFAULT_STEP_TIERS,
) -> Trajectories:
    """Integrate a batch of patients from baseline (t = 0, first dose) to the last output time.

    Every state starts at its no-drug baseline (M = P = N = E_j = 1, Z = 0, no drug on board).
    `individual` holds the parameter table's values and the course's `COURSE_PARAMETERS`, each
    shaped (patient,).
    Output at `t_out_days` is taken after any dose given at that same time's pre-dose state:
    a value at a dose time is the trough (pre-dose) value, as sampled in the trials.
    """
    t_out_days = np.asarray(t_out_days, dtype=np.float64)
    if t_out_days.ndim != 1 or np.any(np.diff(t_out_days) < 0) or np.any(t_out_days < 0):
        raise AlsimError("t_out_days must be a non-decreasing 1-D array of times >= 0")
    n_patients = doses.amount_mg.shape[0]
    pk = pk_rates(individual)
    pd = _pd_rates(individual)
    t_end = float(t_out_days[-1]) if t_out_days.size else 0.0
    grid = _time_grid(doses.t_days, t_end, max_step_days, step_tiers, t_out_days)

    zeros = np.zeros(n_patients)
    state = PkState(csf_mg=zeros.copy(), tissue_mg=zeros.copy(), plasma_mg=zeros.copy())
    y = _initial_state(n_patients, pd.n_transit)
    stepper = _Rk4(y.shape, _mrna_decay(state.tissue_mg, pd))

    out = {
        name: np.empty((n_patients, t_out_days.size))
        for name in ("csf_mg", "tissue_mg", "plasma_mg")
    }
    pd_out = np.empty((y.shape[0], n_patients, t_out_days.size))
    out_index = 0
    dose_index = 0
    n_doses = doses.t_days.size
    steps: dict[float, tuple[PkStep, PkStep]] = {}

    def record(t_now: float) -> None:
        nonlocal out_index
        while out_index < t_out_days.size and t_out_days[out_index] <= t_now + 1e-12:
            out["csf_mg"][:, out_index] = state.csf_mg
            out["tissue_mg"][:, out_index] = state.tissue_mg
            out["plasma_mg"][:, out_index] = state.plasma_mg
            pd_out[:, :, out_index] = y
            out_index += 1

    for i in range(grid.size):
        t = float(grid[i])
        record(t)
        while dose_index < n_doses and doses.t_days[dose_index] <= t + 1e-12:
            state = PkState(
                csf_mg=state.csf_mg + doses.amount_mg[:, dose_index],
                tissue_mg=state.tissue_mg,
                plasma_mg=state.plasma_mg,
            )
            dose_index += 1
        if i + 1 == grid.size:
            break
        h = float(grid[i + 1]) - t
        key = round(h, 12)
        if key not in steps:
            steps[key] = (pk_step(pk, h / 2.0), pk_step(pk, h))
        half = steps[key][0]  # only the tissue amount is needed mid-step
        tissue_mid = state.tissue_mg * half.tissue_decay + half.csf_to_tissue * state.csf_mg
        end = apply_pk_step(state, steps[key][1])
        y = stepper.step(y, h, tissue_mid, end.tissue_mg, pd)
        state = end
    record(float(grid[-1]))

    return Trajectories(
        t_days=t_out_days,
        csf_mg=out["csf_mg"],
        tissue_mg=out["tissue_mg"],
        plasma_mg=out["plasma_mg"],
        mrna=pd_out[0],
        sod1_protein=pd_out[1],
        nfl=pd_out[2],
        effect=pd_out[-2],
        effect_time_days=pd_out[-1],
    )


class _Rk4:
    """Classical Runge-Kutta 4 on the stacked PD state, with its work arrays allocated once.

    The knock-down S(A) needs only the tissue drug at the middle and end of each step: the end's
    is the next step's start (a dose enters CSF, not tissue), so it is kept."""

    def __init__(self, shape: tuple[int, ...], decay_at_start: FloatArray) -> None:
        self.k = [np.empty(shape) for _ in range(4)]
        self.trial = np.empty(shape)
        self.decay = decay_at_start

    def step(
        self,
        y: FloatArray,
        h: float,
        tissue_mid_mg: FloatArray,
        tissue_end_mg: FloatArray,
        rates: _PdRates,
    ) -> FloatArray:
        """y one step of length `h` later."""
        k1, k2, k3, k4 = self.k
        trial = self.trial
        decay_mid = _mrna_decay(tissue_mid_mg, rates)
        decay_end = _mrna_decay(tissue_end_mg, rates)
        _derivatives(self.decay, y, rates, k1)
        np.multiply(k1, h / 2.0, out=trial)
        trial += y
        _derivatives(decay_mid, trial, rates, k2)
        np.multiply(k2, h / 2.0, out=trial)
        trial += y
        _derivatives(decay_mid, trial, rates, k3)
        np.multiply(k3, h, out=trial)
        trial += y
        _derivatives(decay_end, trial, rates, k4)
        self.decay = decay_end
        k2 += k3
        k2 *= 2.0
        k2 += k1
        k2 += k4
        k2 *= h / 6.0
        out: FloatArray = y + k2
        return out


def _full_rhs(_t: float, y: FloatArray, pk: PkRates, pd: _PdRates) -> FloatArray:
    one = np.ones(1)
    d_pk = pk_derivatives(y[0] * one, y[1] * one, y[2] * one, pk)
    d_pd = np.empty((pd.n_states, 1))
    _derivatives(_mrna_decay(y[1] * one, pd), y[4:, None], pd, d_pd)
    return np.concatenate([*d_pk, d_pd[:, 0]])


def solve_reference(
    individual: Mapping[str, float],
    dose_t_days: FloatArray,
    dose_mg: FloatArray,
    t_out_days: FloatArray,
    *,
    rtol: float = 1e-11,
    atol: float = 1e-13,
) -> dict[str, FloatArray]:
    """One patient, all states, by `scipy.integrate.solve_ivp` (LSODA) between doses.

    Returns each state of `STATE_NAMES` and `PROGRESSION_STATE_NAMES` at `t_out_days` (pre-dose
    values at dose times).
    """
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) for k, v in individual.items()}
    pk, pd = pk_rates(arrays), _pd_rates(arrays)
    t_out_days = np.asarray(t_out_days, dtype=np.float64)
    dose_at = dict(zip(map(float, dose_t_days), map(float, dose_mg), strict=True))
    breaks = sorted({0.0, *dose_at, float(t_out_days.max())})
    names = STATE_NAMES[:4] + pd_state_names(pd.n_transit)
    out = np.empty((len(names), t_out_days.size))
    y = np.concatenate([np.zeros(4), _initial_state(1, pd.n_transit)[:, 0]])
    bolus = np.zeros_like(y)
    for start, stop in itertools.pairwise(breaks):
        out[:, t_out_days == start] = y[:, None]
        bolus[0] = dose_at.get(start, 0.0)
        y = y + bolus
        inside = (t_out_days > start) & (t_out_days < stop)
        t_eval = np.append(t_out_days[inside], stop)
        sol = solve_ivp(
            _full_rhs,
            (start, stop),
            y,
            method="LSODA",
            t_eval=t_eval,
            rtol=rtol,
            atol=atol,
            args=(pk, pd),
        )
        if not sol.success:
            raise AlsimError(f"reference solver failed: {sol.message}")
        out[:, inside] = sol.y[:, :-1]
        y = sol.y[:, -1]
    out[:, t_out_days == breaks[-1]] = y[:, None]
    states = dict(zip(names, out, strict=True))
    states["effect"] = states[f"effect_{pd.n_transit}"]
    return states


def measured_csf_sod1_ng_ml(
    trajectories: Trajectories, individual: IndividualParameters
) -> FloatArray:
    """True (noise-free) CSF SOD1 concentration, (patient, time)."""
    return csf_sod1_ng_ml(
        trajectories.sod1_protein,
        individual["f_cns"][:, None],
        individual["csf_sod1_base_ng_ml"][:, None],
    )
