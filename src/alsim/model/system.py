"""The whole mechanistic model: state layout, dose schedules, the right-hand side, the reference
solver.

The PD state of one patient, in `pd_state_names` order: SOD1 mRNA, SOD1 protein, NfL, the transit
chain E_1..E_n of the drug's effect on function and its integral Z (the effective disease time,
`alsim.model.progression`). NfL depends on the functional course (disease activity), so the chain
is integrated for every design. `_derivatives` writes the equations once, for a batch of patients
with numpy; `solve_reference` integrates them with the PK, one patient at a time, by LSODA: it is
the check of the production solver `alsim.model.compiled.solve` (which transcribes the same
equations into compiled kernels) and the baseline of the benchmarks.
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
    pk_derivatives,
    pk_rates,
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
