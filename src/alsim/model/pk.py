"""Intrathecal PK: a bolus into CSF leaves for CNS tissue (the biophase) or plasma.

A reduced, linear, catenary version of the nusinersen population-PK template (Luu 2017): CSF
empties within hours (uptake to tissue plus outflow to plasma), tissue is cleared by nucleases over
weeks, plasma within hours. Being linear and triangular, it is propagated exactly between doses.
Time is in days; amounts in mg.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
HOURS_PER_DAY = 24.0


@dataclass(frozen=True, slots=True)
class PkRates:
    """First-order rate constants (1/d) and the tissue fraction of what leaves CSF."""

    k_csf_per_day: FloatArray
    f_tissue: FloatArray
    k_tissue_per_day: FloatArray
    k_plasma_per_day: FloatArray


@dataclass(frozen=True, slots=True)
class PkState:
    """Drug amounts (mg) in each compartment, one entry per patient."""

    csf_mg: FloatArray
    tissue_mg: FloatArray
    plasma_mg: FloatArray


def pk_rates(individual: Mapping[str, FloatArray]) -> PkRates:
    """Rate constants from the individual parameter arrays (clearances in L/h, volumes in L)."""
    cl_out = individual["cl_csf_plasma_l_h"] + individual["q_csf_tissue_l_h"]
    return PkRates(
        k_csf_per_day=cl_out / individual["v_csf_l"] * HOURS_PER_DAY,
        f_tissue=individual["q_csf_tissue_l_h"] / cl_out,
        k_tissue_per_day=np.log(2.0) / individual["t_half_tissue_days"],
        k_plasma_per_day=individual["cl_plasma_l_h"] / individual["v_plasma_l"] * HOURS_PER_DAY,
    )


def _transfer(k_from: FloatArray, k_to: FloatArray, dt_days: float) -> FloatArray:
    """(exp(-k_from dt) - exp(-k_to dt)) / (k_to - k_from), stable when the rates coincide."""
    x = (k_to - k_from) * dt_days
    safe_x = np.where(np.abs(x) < 1e-12, 1.0, x)
    phi = np.where(np.abs(x) < 1e-12, 1.0 - x / 2.0, -np.expm1(-safe_x) / safe_x)
    return np.exp(-k_from * dt_days) * dt_days * phi


@dataclass(frozen=True, slots=True)
class PkStep:
    """The exact PK propagator over one step length, per patient: each new amount is the old one
    times its decay factor, plus the share of the step-start CSF amount that arrived."""

    csf_decay: FloatArray
    tissue_decay: FloatArray
    plasma_decay: FloatArray
    csf_to_tissue: FloatArray
    csf_to_plasma: FloatArray


def pk_step(rates: PkRates, dt_days: float) -> PkStep:
    """Coefficients of the exact solution over `dt_days` with no dose in between."""
    k_c, k_t, k_p = rates.k_csf_per_day, rates.k_tissue_per_day, rates.k_plasma_per_day
    return PkStep(
        csf_decay=np.exp(-k_c * dt_days),
        tissue_decay=np.exp(-k_t * dt_days),
        plasma_decay=np.exp(-k_p * dt_days),
        csf_to_tissue=rates.f_tissue * k_c * _transfer(k_c, k_t, dt_days),
        csf_to_plasma=(1.0 - rates.f_tissue) * k_c * _transfer(k_c, k_p, dt_days),
    )


def apply_pk_step(state: PkState, step: PkStep) -> PkState:
    """The state one step later."""
    return PkState(
        csf_mg=state.csf_mg * step.csf_decay,
        tissue_mg=state.tissue_mg * step.tissue_decay + step.csf_to_tissue * state.csf_mg,
        plasma_mg=state.plasma_mg * step.plasma_decay + step.csf_to_plasma * state.csf_mg,
    )


def propagate_pk(state: PkState, rates: PkRates, dt_days: float) -> PkState:
    """Exact solution of the PK equations over `dt_days` with no dose in between."""
    return apply_pk_step(state, pk_step(rates, dt_days))


def pk_derivatives(
    csf_mg: FloatArray, tissue_mg: FloatArray, plasma_mg: FloatArray, rates: PkRates
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """d/dt of CSF, tissue, plasma and eliminated amounts (mg/d); they sum to zero."""
    out_csf = rates.k_csf_per_day * csf_mg
    tissue_loss = rates.k_tissue_per_day * tissue_mg
    plasma_loss = rates.k_plasma_per_day * plasma_mg
    return (
        -out_csf,
        rates.f_tissue * out_csf - tissue_loss,
        (1.0 - rates.f_tissue) * out_csf - plasma_loss,
        tissue_loss + plasma_loss,
    )
