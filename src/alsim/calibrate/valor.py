"""Calibrate the clinical model to VALOR and to the natural history, in one chain.

Each step fits one or a few values to published numbers read from the evidence file, with
common random numbers (one seed, so the objectives are smooth), in this order:

1. natural history (`alsim.calibrate.natural_history`): pre-study slopes, respiratory paces and
   the hazard of death or permanent ventilation, to Bali 2016/2017;
2. `onset_age_years` (mean and SD): the age at entry of VALOR entrants equals VALOR's (evidence
   valor_age_tof, valor_age_pbo, pooled over the arms; the SDs are in the records' notes);
3. the in-study slope law and the spread of NfL, in non-A4V entrants of an unstratified trial with
   VALOR's eligibility: `in_study_slope_elasticity`, the spread of `in_study_slope_factor` and of
   `plasma_nfl_level_pg_ml` so that log baseline NfL correlates with the log pre-study slope as
   in VITALITY (evidence nfl_slope_vitality) and with the log in-study slope as in Witzel 2021
   (evidence nfl_slope_witzel), and the linear regression coefficient of the in-study on the
   pre-study slope is Kimura's 0.2 points/month per point/month (SCIENCE.md s.3) on its own
   (linear) scale;
4. `in_study_slope_factor`: the faster-stratum placebo ALSFRS-R change at week 28 (ANCOVA with
   multiple imputation, the protocol analysis; evidence valor_alsfrsr_fast_pbo);
5. `nfl_activity_exponent` (beta): the ITT placebo plasma NfL GMR at week 28 (evidence
   valor_plasma_nfl_gmr_itt_placebo): an untreated patient's NfL moves only with the stage of the
   course. The faster stratum's placebo GMR (evidence valor_plasma_nfl_gmr_faster_placebo) is
   not fitted: its entrants start lower on the course (they have lost more points by
   screening), where s(F) changes less, so no beta gives it the published rise beside the ITT's
   (a least-squares fit of both misses both); it is reported as a check;
6. `plasma_nfl_level_pg_ml`: the median baseline NfL of VALOR entrants at the geometric mean of
   the serum NfL medians of slow and fast progressors (SCIENCE.md s.3; not in the evidence file);
7. `gamma_injury`: the ITT plasma NfL ratio of adjusted GMRs (evidence valor_plasma_nfl_ratio_itt);
8. `mtt_effect_days`: the faster-stratum tofersen minus placebo ALSFRS-R difference (evidence
   valor_alsfrsr_fast_diff); weakly identified (its CI spans about 9 points): report it with its
   sensitivity range.

The chain runs twice, since the natural history uses the in-study slope law and the VALOR steps
use the natural history. Run ``python -m alsim.calibrate.valor``; it prints the values for the
parameter table.
"""

import re

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq, least_squares

from alsim.calibrate.natural_history import (
    NATURAL_HISTORY_PARAMETERS,
    fit_natural_history,
    from_log,
    log_range,
)
from alsim.design.templates import load_template
from alsim.design.trial import FASTER_STRATUM
from alsim.evidence.protocol import change_ancova, gmr_ancova
from alsim.evidence.records import EvidenceRecord, evidence
from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet
from alsim.population.progression import Eligibility
from alsim.population.sampling import Population, PopulationSpec, sample_population
from alsim.simulate.progression import sample_design_population
from alsim.simulate.trial import TrialSimulation, simulate_trial

FloatArray = NDArray[np.float64]
N_REPLICATES = 150
N_IMPUTATIONS = 5
N_ENTRANTS = 20_000
SEED = 11
ROUNDS = 2
# Kimura: later slope per pre-study slope, points/month per point/month (SCIENCE.md s.3).
KIMURA_COEFFICIENT = 0.2
# Serum NfL medians of slow and fast progressors, pg/mL (SCIENCE.md s.3; not in the evidence file).
SERUM_NFL_SLOW_FAST_PG_ML = (45.8, 96.4)
SLOPE_STRUCTURE = ("in_study_slope_elasticity", "in_study_slope_factor", "plasma_nfl_level_pg_ml")


def _note_sd(record: EvidenceRecord) -> float:
    found = re.search(r"SD\s+([0-9.]+)", record.note)
    if found is None:
        raise ValueError(f"evidence {record.id}: no SD in its note {record.note!r}")
    return float(found.group(1))


def valor_age_target() -> tuple[float, float]:
    """Mean and SD of age at entry over both VALOR arms, pooled from the per-arm records."""
    arms = [(evidence("valor_age_tof"), "valor_n_tof"), (evidence("valor_age_pbo"), "valor_n_pbo")]
    n = np.array([evidence(count).numeric_value for _, count in arms])
    mean = np.array([record.numeric_value for record, _ in arms])
    sd = np.array([_note_sd(record) for record, _ in arms])
    pooled_mean = float(np.sum(n * mean) / n.sum())
    within = np.sum((n - 1) * sd**2) + np.sum(n * (mean - pooled_mean) ** 2)
    return pooled_mean, float(np.sqrt(within / (n.sum() - 1)))


def valor_entrants(parameters: ParameterSet, *, n_replicates: int = 200) -> list[Population]:
    design = load_template("valor")
    return [
        sample_design_population(design, parameters, np.random.default_rng([SEED, r]))
        for r in range(n_replicates)
    ]


def fit_onset_age(parameters: ParameterSet) -> ParameterSet:
    """Shift and scale the onset-age law until VALOR entrants' age matches (two passes)."""
    target_mean, target_sd = valor_age_target()
    for _ in range(2):
        age = np.concatenate([p.age_years for p in valor_entrants(parameters)])
        spec = parameters["onset_age_years"]
        delay_var = max(np.var(age) - spec.omega**2, 0.0)
        parameters = parameters.with_values(
            onset_age_years=spec.value + target_mean - float(np.mean(age))
        ).with_omegas(onset_age_years=float(np.sqrt(max(target_sd**2 - delay_var, 1.0))))
    return parameters


def non_a4v_entrants(parameters: ParameterSet) -> Population:
    """Non-A4V entrants of an unstratified trial with VALOR's eligibility (general-ALS-like)."""
    valor = load_template("valor")
    criteria = valor.eligibility
    assert criteria is not None
    return sample_population(
        PopulationSpec(a4v_fraction=0.0),
        parameters,
        N_ENTRANTS,
        np.random.default_rng(SEED),
        eligibility=Eligibility(min_svc_pct=criteria.min_svc_pct),
    )


def slope_structure_statistics(parameters: ParameterSet) -> FloatArray:
    """(r(log NfL, log pre-study slope), r(log NfL, log in-study slope), linear coefficient of the
    in-study on the pre-study slope) in non-A4V entrants."""
    population = non_a4v_entrants(parameters)
    course = population.course
    nfl = np.log(population.parameters["plasma_nfl_base_pg_ml"])
    pre, inside = course.prestudy_slope_per_month, course.slope_per_month
    cov = np.cov(inside, pre)
    out: FloatArray = np.array(
        [
            np.corrcoef(nfl, np.log(pre))[0, 1],
            np.corrcoef(nfl, np.log(inside))[0, 1],
            cov[0, 1] / cov[1, 1],
        ]
    )
    return out


def fit_slope_structure(parameters: ParameterSet) -> ParameterSet:
    target = np.array(
        [
            evidence("nfl_slope_vitality").numeric_value,
            evidence("nfl_slope_witzel").numeric_value,
            KIMURA_COEFFICIENT,
        ]
    )

    def with_x(x: FloatArray) -> ParameterSet:
        return parameters.with_values(
            in_study_slope_elasticity=from_log(parameters, "in_study_slope_elasticity", x[0])
        ).with_omegas(
            in_study_slope_factor=float(np.exp(x[1])), plasma_nfl_level_pg_ml=float(np.exp(x[2]))
        )

    def residuals(x: FloatArray) -> FloatArray:
        gap: FloatArray = slope_structure_statistics(with_x(x)) - target
        return gap

    x0 = np.log(
        [
            parameters.value("in_study_slope_elasticity"),
            parameters["in_study_slope_factor"].omega,
            parameters["plasma_nfl_level_pg_ml"].omega,
        ]
    )
    low, high = log_range(parameters, "in_study_slope_elasticity")
    bounds = np.array([[low, np.log(0.05), np.log(0.05)], [high, np.log(1.5), np.log(1.5)]])
    fit = least_squares(residuals, np.clip(x0, *bounds), bounds=bounds, diff_step=1e-2, xtol=1e-3)
    return with_x(fit.x)


def simulate_valor(parameters: ParameterSet, *, seed: int = SEED) -> TrialSimulation:
    return simulate_trial(
        load_template("valor"), n_replicates=N_REPLICATES, seed=seed, parameters=parameters
    )


def faster_stratum_change(
    parameters: ParameterSet, *, seed: int = SEED
) -> tuple[float, float, float]:
    """Mean over replicates of the week-28 faster-stratum ALSFRS-R (tofersen, placebo, diff)."""
    sim = simulate_valor(parameters, seed=seed)
    result = change_ancova(
        sim, "ALSFRSR", sim.design.primary_visit, FASTER_STRATUM, n_imputations=N_IMPUTATIONS
    )
    return (
        float(np.nanmean(result.treated)),
        float(np.nanmean(result.control)),
        float(np.nanmean(result.contrast)),
    )


def fit_slope_factor(parameters: ParameterSet) -> ParameterSet:
    target = evidence("valor_alsfrsr_fast_pbo").numeric_value

    def gap(log_factor: float) -> float:
        p = parameters.with_values(
            in_study_slope_factor=from_log(parameters, "in_study_slope_factor", log_factor)
        )
        return faster_stratum_change(p)[1] - target

    x = brentq(gap, *log_range(parameters, "in_study_slope_factor"), xtol=2e-3)
    return parameters.with_values(
        in_study_slope_factor=from_log(parameters, "in_study_slope_factor", x)
    )


def placebo_nfl_gmrs(parameters: ParameterSet) -> FloatArray:
    """Geometric means over replicates of the week-28 placebo plasma NfL GMR: ITT, faster."""
    sim = simulate_valor(parameters)
    out: FloatArray = np.array(
        [
            np.exp(np.nanmean(np.log(gmr_ancova(sim, "PLNFL", "WEEK 28", pop).control)))
            for pop in ("ITT", FASTER_STRATUM)
        ]
    )
    return out


def fit_nfl_exponent(parameters: ParameterSet) -> ParameterSet:
    target = evidence("valor_plasma_nfl_gmr_itt_placebo").numeric_value

    def gap(beta: float) -> float:
        gmr = placebo_nfl_gmrs(parameters.with_values(nfl_activity_exponent=beta))[0]
        return float(np.log(gmr / target))

    low, high = parameters["nfl_activity_exponent"].sensitivity or (0.2, 1.0)
    return parameters.with_values(nfl_activity_exponent=float(brentq(gap, low, high, xtol=2e-3)))


def fit_nfl_level(parameters: ParameterSet) -> ParameterSet:
    """Baseline NfL is proportional to the level: one rescaling, checked once more."""
    target = float(np.sqrt(np.prod(SERUM_NFL_SLOW_FAST_PG_ML)))
    for _ in range(2):
        nfl = np.concatenate(
            [p.parameters["plasma_nfl_base_pg_ml"] for p in valor_entrants(parameters)]
        )
        level = parameters.value("plasma_nfl_level_pg_ml") * target / float(np.median(nfl))
        parameters = parameters.with_values(plasma_nfl_level_pg_ml=level)
    return parameters


def itt_nfl_ratio(parameters: ParameterSet) -> float:
    """Geometric mean over replicates of the week-28 ITT plasma NfL ratio (tofersen/placebo)."""
    ratio = gmr_ancova(simulate_valor(parameters), "PLNFL", "WEEK 28", "ITT").contrast
    return float(np.exp(np.nanmean(np.log(ratio))))


def fit_injury_exponent(parameters: ParameterSet) -> ParameterSet:
    target = evidence("valor_plasma_nfl_ratio_itt").numeric_value

    def gap(gamma: float) -> float:
        return float(np.log(itt_nfl_ratio(parameters.with_values(gamma_injury=gamma)) / target))

    low, high = parameters["gamma_injury"].sensitivity or (0.5, 4.0)
    return parameters.with_values(gamma_injury=float(brentq(gap, low, high, xtol=2e-3)))


def fit_transit_time(parameters: ParameterSet) -> ParameterSet:
    target = evidence("valor_alsfrsr_fast_diff").numeric_value

    def gap(log_mtt: float) -> float:
        p = parameters.with_values(mtt_effect_days=from_log(parameters, "mtt_effect_days", log_mtt))
        return faster_stratum_change(p)[2] - target

    low, high = log_range(parameters, "mtt_effect_days")
    if gap(low) * gap(high) > 0:
        best = low if abs(gap(low)) < abs(gap(high)) else high
        return parameters.with_values(mtt_effect_days=from_log(parameters, "mtt_effect_days", best))
    x = brentq(gap, low, high, xtol=1e-2)
    return parameters.with_values(mtt_effect_days=from_log(parameters, "mtt_effect_days", x))


FITTED = (
    *NATURAL_HISTORY_PARAMETERS,
    "onset_age_years",
    *SLOPE_STRUCTURE,
    "nfl_activity_exponent",
    "gamma_injury",
    "mtt_effect_days",
)


def calibrate(
    parameters: ParameterSet = DEFAULT_PARAMETERS, *, rounds: int = ROUNDS
) -> ParameterSet:
    """The whole chain, `rounds` times; prints each value as it is fitted."""
    for k in range(rounds):
        print(f"round {k + 1}", flush=True)
        parameters = fit_natural_history(parameters, rounds=2)
        parameters = fit_onset_age(parameters)
        parameters = fit_slope_structure(parameters)
        parameters = fit_slope_factor(parameters)
        parameters = fit_nfl_exponent(parameters)
        parameters = fit_slope_structure(parameters)
        parameters = fit_nfl_level(parameters)
        parameters = fit_injury_exponent(parameters)
        parameters = fit_transit_time(parameters)
        report(parameters)
    return parameters


def report(parameters: ParameterSet) -> None:
    for name in FITTED:
        spec = parameters[name]
        omega = f" (omega {spec.omega:.4g})" if spec.omega else ""
        print(f"  {name} = {spec.value:.4g}{omega}", flush=True)


def main() -> None:
    fitted = calibrate()
    tof, pbo, diff = faster_stratum_change(fitted, seed=SEED + 1)
    print(f"check (new seed): tofersen {tof:.2f}, placebo {pbo:.2f}, difference {diff:.2f}")
    print("check: placebo NfL GMR ITT, faster", placebo_nfl_gmrs(fitted).round(3))
    print(
        "check: r(NfL, pre), r(NfL, in), linear coefficient",
        slope_structure_statistics(fitted).round(3),
    )


if __name__ == "__main__":
    main()
