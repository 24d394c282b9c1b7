"""The whole mechanistic model: state layout, right-hand side, and its two solvers.

`solve` is the production solver: vectorised over a batch of patients, PK propagated exactly,
the PD states (mRNA, SOD1 protein, NfL, and the disease-progression effect compartment E with its
integral Z, see `alsim.model.progression`) by classical Runge-Kutta 4 on a grid refined in tiers
after each dose. E and Z feed nothing back, so the other states are the same with or without them.
`solve_reference` integrates the full ODE one patient at a time with LSODA; it exists to check
`solve` and to serve as the benchmark baseline.
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

from alsim.errors import AlsimError
from alsim.model.nfl import injury_from_relative, nfl_rate
from alsim.model.parameters import DEFAULT_PARAMETERS
from alsim.model.pk import (
    PkRates,
    PkState,
    PkStep,
    apply_pk_step,
    pk_derivatives,
    pk_rates,
    pk_step,
)
from alsim.model.progression import effect_rate
from alsim.model.sod1 import csf_sod1_ng_ml, knockdown, mrna_rate, protein_rate

FloatArray = NDArray[np.float64]
IndividualParameters = Mapping[str, FloatArray]

STATE_NAMES = ("csf_mg", "tissue_mg", "plasma_mg", "eliminated_mg", "mrna", "sod1_protein", "nfl")
PROGRESSION_STATE_NAMES = ("effect", "effect_time_days")

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
    drift: FloatArray
    k_effect: FloatArray


def _shared_if_uniform(values: FloatArray) -> FloatArray | float:
    """A scalar where every patient has the same value: a scalar power is much cheaper."""
    flat = np.asarray(values, dtype=np.float64)
    return float(flat.flat[0]) if flat.size and np.all(flat == flat.flat[0]) else flat


def _pd_rates(individual: IndividualParameters) -> _PdRates:
    ln2 = np.log(2.0)
    return _PdRates(
        k_mrna=ln2 / individual["t_half_mrna_days"],
        k_sod1=ln2 / individual["t_half_sod1_days"],
        k_nfl=ln2 / individual["t_half_nfl_days"],
        s_max=individual["s_max"],
        ec50=individual["ec50_tissue_mg"],
        hill=_shared_if_uniform(individual["hill"]),
        gamma=_shared_if_uniform(individual["gamma_injury"]),
        drift=individual["nfl_drift_per_day"],
        k_effect=ln2
        / np.asarray(
            individual.get("t_half_effect_days", DEFAULT_PARAMETERS.value("t_half_effect_days")),
            dtype=np.float64,
        ),
    )


PdState = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


def _derivatives(t_days: float, tissue_mg: FloatArray, y: PdState, r: _PdRates) -> PdState:
    """d/dt of the PD state (mRNA, SOD1 protein, NfL, effect E, effect time Z) given the tissue
    drug amount. Relative injury P^gamma drives both NfL and the effect compartment."""
    m, p, n, e, _z = y
    extra = knockdown(tissue_mg, r.s_max, r.ec50, r.hill)
    relative_injury = np.maximum(p, 0.0) ** r.gamma
    return (
        mrna_rate(m, extra, r.k_mrna),
        protein_rate(m, p, r.k_sod1),
        nfl_rate(n, injury_from_relative(relative_injury, t_days, r.drift, r.k_nfl), r.k_nfl),
        effect_rate(e, relative_injury, r.k_effect),
        e,
    )


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

    Every state starts at its no-drug baseline (M = P = N = 1, no drug on board).
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
    ones = np.ones(n_patients)
    y: PdState = (ones, ones.copy(), ones.copy(), ones.copy(), np.zeros(n_patients))

    out = {
        name: np.empty((n_patients, t_out_days.size))
        for name in (*STATE_NAMES, *PROGRESSION_STATE_NAMES)
    }
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
            out["mrna"][:, out_index] = y[0]
            out["sod1_protein"][:, out_index] = y[1]
            out["nfl"][:, out_index] = y[2]
            out["effect"][:, out_index] = y[3]
            out["effect_time_days"][:, out_index] = y[4]
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
        mid = apply_pk_step(state, steps[key][0])
        end = apply_pk_step(state, steps[key][1])
        k1 = _derivatives(t, state.tissue_mg, y, pd)
        k2 = _derivatives(t + h / 2, mid.tissue_mg, _advance(y, k1, h / 2), pd)
        k3 = _derivatives(t + h / 2, mid.tissue_mg, _advance(y, k2, h / 2), pd)
        k4 = _derivatives(t + h, end.tissue_mg, _advance(y, k3, h), pd)
        y = _advance(y, _rk4_slope(k1, k2, k3, k4), h)
        state = end
    record(float(grid[-1]))

    return Trajectories(
        t_days=t_out_days,
        csf_mg=out["csf_mg"],
        tissue_mg=out["tissue_mg"],
        plasma_mg=out["plasma_mg"],
        mrna=out["mrna"],
        sod1_protein=out["sod1_protein"],
        nfl=out["nfl"],
        effect=out["effect"],
        effect_time_days=out["effect_time_days"],
    )


def _advance(y: PdState, slope: PdState, dt: float) -> PdState:
    return (
        y[0] + dt * slope[0],
        y[1] + dt * slope[1],
        y[2] + dt * slope[2],
        y[3] + dt * slope[3],
        y[4] + dt * slope[4],
    )


def _rk4_slope(k1: PdState, k2: PdState, k3: PdState, k4: PdState) -> PdState:
    def weighted(i: int) -> FloatArray:
        out: FloatArray = (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]) / 6.0
        return out

    return (weighted(0), weighted(1), weighted(2), weighted(3), weighted(4))


def _full_rhs(t: float, y: FloatArray, pk: PkRates, pd: _PdRates) -> FloatArray:
    csf, tissue, plasma, _eliminated, m, p, n, e, _z = y
    one = np.ones(1)
    d_pk = pk_derivatives(csf * one, tissue * one, plasma * one, pk)
    d_pd = _derivatives(t, tissue * one, (m * one, p * one, n * one, e * one, one), pd)
    return np.concatenate([*d_pk, *d_pd])


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
    names = (*STATE_NAMES, *PROGRESSION_STATE_NAMES)
    out = np.empty((len(names), t_out_days.size))
    y = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    for start, stop in itertools.pairwise(breaks):
        out[:, t_out_days == start] = y[:, None]
        y = y + np.array([dose_at.get(start, 0.0), 0, 0, 0, 0, 0, 0, 0, 0])
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
    return dict(zip(names, out, strict=True))


def measured_csf_sod1_ng_ml(
    trajectories: Trajectories, individual: IndividualParameters
) -> FloatArray:
    """True (noise-free) CSF SOD1 concentration, (patient, time)."""
    return csf_sod1_ng_ml(
        trajectories.sod1_protein,
        individual["f_cns"][:, None],
        individual["csf_sod1_base_ng_ml"][:, None],
    )
