"""The parts of the clinical calibration that are not in the joint fit, fitted by hand.

`alsim calibrate` fits the natural history, the in-study slope factor, NfL's activity exponent,
the injury exponent and the drug effect on function jointly. Three steps need numbers that are not
calibration targets (no CI, not SOD1-specific, or not in the evidence file), and stay here, run
at the shipped posterior median with common random numbers (one seed):

1. `onset_age_years` (mean and SD): the age at entry of VALOR entrants equals VALOR's (evidence
   valor_age_tof, valor_age_pbo, pooled over the arms; the SDs are in the records' notes);
2. the in-study slope law and the spread of NfL, in non-A4V entrants of an unstratified trial with
   VALOR's eligibility: `in_study_slope_elasticity`, the spread of `in_study_slope_factor` and of
   `plasma_nfl_level_pg_ml` so that log baseline NfL correlates with the log pre-study slope as
   in VITALITY (evidence nfl_slope_vitality) and with the log in-study slope as in Witzel 2021
   (evidence nfl_slope_witzel), and the linear regression coefficient of the in-study on the
   pre-study slope is Kimura's 0.2 points/month per point/month (SCIENCE.md s.3) on its own
   (linear) scale;
3. `plasma_nfl_level_pg_ml`: the median baseline NfL of VALOR entrants at the geometric mean of
   the serum NfL medians of slow and fast progressors (SCIENCE.md s.3; not in the evidence file).

Run ``python -m alsim.calibrate.valor``; it prints the values for the parameter table. A change
of these values changes the model fingerprint: regenerate the joint calibration after it.
"""

import re

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from alsim.calibrate.natural_history import from_log, log_range
from alsim.design.templates import load_template
from alsim.evidence.records import EvidenceRecord, evidence
from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet
from alsim.population.progression import Eligibility
from alsim.population.sampling import Population, PopulationSpec, sample_population
from alsim.simulate.progression import sample_design_population

FloatArray = NDArray[np.float64]
N_ENTRANTS = 20_000
SEED = 11
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


FITTED = ("onset_age_years", *SLOPE_STRUCTURE)


def calibrate(parameters: ParameterSet = DEFAULT_PARAMETERS) -> ParameterSet:
    """The three steps; prints each value as it is fitted."""
    parameters = fit_onset_age(parameters)
    parameters = fit_slope_structure(parameters)
    parameters = fit_nfl_level(parameters)
    report(parameters)
    return parameters


def report(parameters: ParameterSet) -> None:
    for name in FITTED:
        spec = parameters[name]
        omega = f" (omega {spec.omega:.4g})" if spec.omega else ""
        print(f"  {name} = {spec.value:.4g}{omega}", flush=True)


def main() -> None:
    fitted = calibrate()
    print(
        "check: r(NfL, pre), r(NfL, in), linear coefficient",
        slope_structure_statistics(fitted).round(3),
    )


if __name__ == "__main__":
    main()
