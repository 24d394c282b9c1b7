"""Calibrate the two VALOR-specific progression values to the published faster-stratum results.

1. `in_study_slope_factor`: the typical in-study ALSFRS-R slope of trial entrants relative to the
   natural-history slope of their variant class, so that the simulated placebo adjusted mean change
   at week 28 in the faster stratum (ANCOVA with multiple imputation, the protocol analysis)
   equals the published one (evidence valor_alsfrsr_fast_pbo). The hazard of death or permanent
   ventilation is fitted first, to natural history (`natural_history.fit_hazard`) with the
   natural-history slopes (factor 1): Bali's cohort is not a trial population.
2. `gamma_injury`: the exponent of injury on SOD1 protein (I = drift P^gamma), so that the
   simulated ITT plasma NfL ratio of adjusted GMRs at week 28 (GMR ANCOVA) equals the published
   one (evidence valor_plasma_nfl_ratio_itt). It sets how much NfL falls for a given SOD1 fall,
   and with it the injury that drives the effect compartment, so it is fitted before:
3. `t_half_effect_days`: the effect-compartment half-life, so that the simulated tofersen minus
   placebo difference equals the published point estimate (evidence valor_alsfrsr_fast_diff). It
   is weakly identified (the published CI spans about 9 points): report it with its sensitivity
   range.

Published numbers are read from the evidence file. Common random numbers (one seed) make the
objectives smooth. Run ``python -m alsim.calibrate.valor``; it prints the values for the
parameter table.
"""

import numpy as np
from scipy.optimize import brentq

from alsim.calibrate.natural_history import fit_hazard
from alsim.design.templates import load_template
from alsim.design.trial import FASTER_STRATUM
from alsim.evidence.protocol import change_ancova, gmr_ancova
from alsim.evidence.records import evidence
from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet
from alsim.simulate.trial import simulate_trial

N_REPLICATES = 300
N_IMPUTATIONS = 5
SEED = 11


def faster_stratum_change(
    parameters: ParameterSet, *, n_replicates: int = N_REPLICATES, seed: int = SEED
) -> tuple[float, float, float]:
    """Mean over replicates of the week-28 faster-stratum ALSFRS-R (tofersen, placebo, diff)."""
    design = load_template("valor")
    sim = simulate_trial(design, n_replicates=n_replicates, seed=seed, parameters=parameters)
    result = change_ancova(
        sim, "ALSFRSR", design.primary_visit, FASTER_STRATUM, n_imputations=N_IMPUTATIONS
    )
    return (
        float(np.nanmean(result.treated)),
        float(np.nanmean(result.control)),
        float(np.nanmean(result.contrast)),
    )


def fit_slope_factor(parameters: ParameterSet) -> float:
    target = evidence("valor_alsfrsr_fast_pbo").numeric_value

    def gap(factor: float) -> float:
        return faster_stratum_change(parameters.with_values(in_study_slope_factor=factor))[1] - (
            target
        )

    return float(brentq(gap, 0.3, 1.5, xtol=2e-3))


def itt_nfl_ratio(
    parameters: ParameterSet, *, n_replicates: int = N_REPLICATES, seed: int = SEED
) -> float:
    """Geometric mean over replicates of the week-28 ITT plasma NfL ratio (tofersen/placebo)."""
    design = load_template("valor")
    sim = simulate_trial(design, n_replicates=n_replicates, seed=seed, parameters=parameters)
    ratio = gmr_ancova(sim, "PLNFL", design.primary_visit, "ITT").contrast
    return float(np.exp(np.nanmean(np.log(ratio))))


def fit_injury_exponent(parameters: ParameterSet) -> float:
    target = evidence("valor_plasma_nfl_ratio_itt").numeric_value

    def gap(gamma: float) -> float:
        return float(np.log(itt_nfl_ratio(parameters.with_values(gamma_injury=gamma)) / target))

    return float(brentq(gap, 0.4, 1.6, xtol=2e-3))


def fit_effect_half_life(parameters: ParameterSet) -> float:
    target = evidence("valor_alsfrsr_fast_diff").numeric_value

    def gap(log_half_life: float) -> float:
        p = parameters.with_values(t_half_effect_days=float(np.exp(log_half_life)))
        return faster_stratum_change(p)[2] - target

    low, high = DEFAULT_PARAMETERS["t_half_effect_days"].sensitivity or (30.0, 365.0)
    return float(np.exp(brentq(gap, np.log(low), np.log(high), xtol=1e-2)))


def main() -> None:
    # natural history (Bali) is the untreated course of all patients, not of trial entrants
    hazard_mid, exponent = fit_hazard(DEFAULT_PARAMETERS.with_values(in_study_slope_factor=1.0))
    parameters = DEFAULT_PARAMETERS.with_values(
        hazard_mid_per_year=hazard_mid, hazard_stage_exponent=exponent
    )
    print(f"hazard_mid_per_year = {hazard_mid:.4g} (exponent {exponent:.4g})")
    factor = fit_slope_factor(parameters)
    parameters = parameters.with_values(in_study_slope_factor=factor)
    print(f"in_study_slope_factor = {factor:.4g}", flush=True)
    gamma = fit_injury_exponent(parameters)
    parameters = parameters.with_values(gamma_injury=gamma)
    print(f"gamma_injury = {gamma:.4g}", flush=True)
    half_life = fit_effect_half_life(parameters)
    parameters = parameters.with_values(t_half_effect_days=half_life)
    print(f"t_half_effect_days = {half_life:.4g}")
    tof, pbo, diff = faster_stratum_change(parameters, seed=SEED + 1)
    print(f"check (new seed): tofersen {tof:.2f}, placebo {pbo:.2f}, difference {diff:.2f}")


if __name__ == "__main__":
    main()
