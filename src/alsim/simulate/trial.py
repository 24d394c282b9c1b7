"""Simulate replicates of a trial: patients, doses, the model, measurement noise and dropout.

Replicate r draws everything from `SeedSequence(seed, spawn_key=(r,))`, so its numbers do not
depend on how many replicates run, in which chunk, or on which worker. Within a run the model is
solved once for all replicates and patients together.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from alsim.design.trial import TrialDesign
from alsim.errors import AlsimError
from alsim.model.adverse_events import AdverseEventTerm
from alsim.model.compiled import solve
from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet
from alsim.model.system import DoseSchedule
from alsim.model.uncertainty import PosteriorDraws
from alsim.population.progression import stack_courses
from alsim.population.sampling import Population
from alsim.simulate.adverse_events import (
    AdverseEvents,
    simulate_adverse_events,
    truncate_follow_up,
)
from alsim.simulate.progression import (
    SOLVE_CHUNK_PATIENTS,
    clinical_outcomes,
    output_grid_days,
    sample_design_population,
)

if TYPE_CHECKING:
    from alsim.simulate.presymptomatic import CarrierRecord

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

MAX_REPLICATES = 1_000_000
DAYS_PER_YEAR = 365.25

RESIDUAL_SD_PARAMETER = {
    "CSFSOD1": "sigma_csf_sod1",
    "PLNFL": "sigma_plasma_nfl",
    "CSFNFL": "sigma_csf_nfl",
}


@dataclass(frozen=True, slots=True)
class TrialSimulation:
    """Replicates of one trial. Patient arrays are (replicate, patient); endpoint arrays are
    (replicate, patient, time) over the design's visits, NaN where a visit was missed (dropout,
    death, or not entering an extension).

    `covariates` holds every design's disease-course covariates (pre-study slope, months since
    onset, baseline ALSFRS-R, in-study slope, baseline NfL, ...). For designs with clinical
    endpoints: `event_day` is the study day of death or permanent ventilation (inf if none within
    follow-up), `censor_day` the last day of follow-up, `extension_entered` who entered the
    open-label extension.
    `adverse_events` holds every replicate's adverse events; `dropout_day` already includes
    withdrawals they caused, so efficacy data stop from the withdrawal day.
    Designs with a monitoring run-in (presymptomatic carriers) add `carriers`: trigger,
    phenoconversion and run-in samples (`alsim.simulate.presymptomatic`).
    """

    design: TrialDesign
    seed: int
    replicate: IntArray
    arm_index: IntArray
    group_index: IntArray
    age_years: FloatArray
    male: BoolArray
    a4v: BoolArray
    parameters: dict[str, FloatArray]
    dropout_day: FloatArray
    visit_days: IntArray
    true_values: dict[str, FloatArray]
    observed: dict[str, FloatArray]
    event_day: FloatArray = field(default_factory=lambda: np.empty((0, 0)))
    censor_day: FloatArray = field(default_factory=lambda: np.empty((0, 0)))
    extension_entered: BoolArray = field(default_factory=lambda: np.empty((0, 0), dtype=bool))
    covariates: dict[str, FloatArray] = field(default_factory=dict)
    adverse_events: AdverseEvents | None = None
    parameter_set: ParameterSet = DEFAULT_PARAMETERS
    carriers: "CarrierRecord | None" = None
    uncertainty: PosteriorDraws | None = None

    def replicate_parameters(self, replicate: int) -> ParameterSet:
        """The parameter table replicate `replicate` was simulated with."""
        if self.uncertainty is None:
            return self.parameter_set
        return self.uncertainty.parameters_for(self.seed, replicate, self.parameter_set)

    @property
    def draw_index(self) -> IntArray:
        """The posterior draw of each replicate (-1 everywhere without uncertainty)."""
        if self.uncertainty is None:
            return np.full(self.n_replicates, -1, dtype=np.int64)
        return np.array(
            [self.uncertainty.draw_index(self.seed, int(r)) for r in self.replicate],
            dtype=np.int64,
        )

    @property
    def has_events(self) -> bool:
        """Whether time to death or permanent ventilation was simulated."""
        return self.event_day.size > 0

    @property
    def n_replicates(self) -> int:
        return int(self.replicate.shape[0])

    @property
    def n_patients(self) -> int:
        return int(self.arm_index.shape[0])

    def visit_position(self, visit: str) -> int:
        """Index along the time axis of the visit named `visit`."""
        names = [v.name for v in self.design.visits]
        if visit not in names:
            raise AlsimError(f"unknown visit {visit!r}; allowed: {', '.join(names)}")
        return names.index(visit)


def replicate_rng(seed: int, replicate: int) -> np.random.Generator:
    """The random stream of one replicate: child `replicate` of the run's seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replicate,)))


def arm_dose_amounts(
    design: TrialDesign, arm_index: IntArray, dose_days: FloatArray, dropout_day: FloatArray
) -> FloatArray:
    """(replicate, patient, dose): each patient's arm dose on every dose day before withdrawal."""
    arm_dose_mg = np.array([arm.dose_mg for arm in design.arms])[arm_index]
    amount: FloatArray = np.where(
        dose_days[None, None, :] < dropout_day[:, :, None], arm_dose_mg[None, :, None], 0.0
    )
    return amount


def with_adverse_events(
    terms: Sequence[AdverseEventTerm],
    dose_days: FloatArray,
    amount_mg: FloatArray,
    dropout_day: FloatArray,
    last_day: float,
    *,
    seed: int,
    replicates: IntArray,
) -> tuple[FloatArray, FloatArray, AdverseEvents]:
    """Simulate adverse events of the doses; withdrawals they cause end dosing and follow-up.
    Returns the doses actually given, the withdrawal days and the events."""
    events = simulate_adverse_events(
        terms,
        dose_days.astype(np.int64),
        amount_mg,
        dropout_day,
        last_day,
        seed=seed,
        replicates=replicates,
    )
    dropout = np.minimum(dropout_day, events.withdrawal_day)
    given: FloatArray = np.where(dose_days[None, None, :] < dropout[:, :, None], amount_mg, 0.0)
    return given, dropout, events


def _stack(
    populations: list[Population],
) -> tuple[FloatArray, BoolArray, BoolArray, dict[str, FloatArray]]:
    names = populations[0].parameters
    return (
        np.stack([p.age_years for p in populations]),
        np.stack([p.male for p in populations]),
        np.stack([p.a4v for p in populations]),
        {name: np.stack([p.parameters[name] for p in populations]) for name in names},
    )


def simulate_trial(
    design: TrialDesign,
    *,
    n_replicates: int,
    seed: int,
    parameters: ParameterSet | Sequence[ParameterSet] = DEFAULT_PARAMETERS,
    first_replicate: int = 0,
    adverse_event_terms: Sequence[AdverseEventTerm] | None = None,
    discontinuation: bool = True,
    uncertainty: PosteriorDraws | None = None,
) -> TrialSimulation:
    """Simulate replicates `first_replicate .. first_replicate + n_replicates - 1` of `design`.

    `adverse_event_terms` defaults to the table calibrated to the evidence
    (`alsim.calibrate.safety`); pass `()` to simulate no adverse events. `parameters` may give
    one parameter set per replicate for run-in designs (`alsim.simulate.presymptomatic`). With
    `discontinuation=False` nobody drops out or is withdrawn (every random number is still
    drawn, so the patients are the same): the counterfactual a hypothetical estimand ("had
    treatment continued") refers to, used for true effects. With `uncertainty` (posterior draws,
    e.g. `alsim.model.uncertainty.shipped_posterior()`), replicate r takes the free parameters
    from its own posterior draw (`PosteriorDraws.draw_index`), so results carry parameter
    uncertainty as well as trial sampling.
    """
    if adverse_event_terms is None:
        # imported here: the calibration reads the evidence package, which itself uses simulate
        from alsim.calibrate.safety import default_adverse_event_terms

        adverse_event_terms = default_adverse_event_terms()
    if not 1 <= n_replicates <= MAX_REPLICATES:
        raise AlsimError(f"replicates must be 1..{MAX_REPLICATES}, got {n_replicates}")
    if seed < 0 or first_replicate < 0:
        raise AlsimError(f"seed and first replicate must be >= 0, got {seed}, {first_replicate}")
    if design.run_in is not None:
        from alsim.simulate.presymptomatic import simulate_carrier_trial

        if uncertainty is not None and isinstance(parameters, ParameterSet):
            first = first_replicate
            parameters = [
                uncertainty.parameters_for(seed, r, parameters)
                for r in range(first, first + n_replicates)
            ]
        return simulate_carrier_trial(
            design,
            n_replicates=n_replicates,
            seed=seed,
            parameters=parameters,
            first_replicate=first_replicate,
            adverse_event_terms=adverse_event_terms,
        )
    if not isinstance(parameters, ParameterSet):
        raise AlsimError("one parameter set per replicate is simulated for run-in designs only")
    arm_index, group_index = design.allocation()
    n_patients = arm_index.shape[0]
    visit_days = np.array([v.day for v in design.visits], dtype=np.int64)
    endpoints = design.endpoints
    replicates = np.arange(first_replicate, first_replicate + n_replicates, dtype=np.int64)

    populations: list[Population] = []
    noise: list[FloatArray] = []
    dropout: list[FloatArray] = []
    entry_draws: list[FloatArray] = []
    for r in replicates:
        rng = replicate_rng(seed, int(r))
        p_r = (
            parameters
            if uncertainty is None
            else uncertainty.parameters_for(seed, int(r), parameters)
        )
        populations.append(sample_design_population(design, p_r, rng))
        noise.append(rng.standard_normal((len(endpoints), n_patients, visit_days.size)))
        if design.dropout_per_year > 0:
            mean_days = DAYS_PER_YEAR / design.dropout_per_year
            dropout.append(1.0 + np.asarray(rng.exponential(mean_days, n_patients), np.float64))
        else:
            dropout.append(np.full(n_patients, np.inf))
        if design.extension is not None:
            entry_draws.append(np.asarray(rng.random(n_patients), dtype=np.float64))
    age, male, a4v, individual = _stack(populations)
    z = np.stack(noise)
    dropout_day = np.stack(dropout)
    if not discontinuation:
        dropout_day = np.full_like(dropout_day, np.inf)
    course = stack_courses([p.course for p in populations])
    course["plasma_nfl_base_pg_ml"] = individual["plasma_nfl_base_pg_ml"]

    dose_days = np.array(design.regimen.dose_days, dtype=np.float64)
    amount_mg = arm_dose_amounts(design, arm_index, dose_days, dropout_day)
    if design.extension is not None:
        # every patient still in the study is dosed; who really entered is decided afterwards
        # (non-entrants and the dead are not observed after the extension starts)
        ext_days = np.array(design.extension.regimen.dose_days, dtype=np.float64)
        ext_mg = np.where(
            ext_days[None, None, :] < dropout_day[:, :, None], design.extension.dose_mg, 0.0
        )
        dose_days = np.concatenate([dose_days, ext_days])
        amount_mg = np.concatenate([amount_mg, ext_mg], axis=2)
    given_mg, stopped_day, adverse_events = with_adverse_events(
        adverse_event_terms,
        dose_days,
        amount_mg,
        dropout_day,
        float(visit_days[-1]),
        seed=seed,
        replicates=replicates,
    )
    if discontinuation:
        amount_mg, dropout_day = given_mg, stopped_day
    flat = {name: values.reshape(-1) for name, values in individual.items()}
    visit_t = visit_days.astype(np.float64) - 1.0
    grid_t, visit_position = (
        output_grid_days(visit_t)
        if design.has_progression
        else (visit_t, np.arange(visit_t.size, dtype=np.int64))
    )
    flat_amount = amount_mg.reshape(-1, dose_days.size)
    pieces = []
    for start in range(0, flat_amount.shape[0], SOLVE_CHUNK_PATIENTS):
        sl = slice(start, start + SOLVE_CHUNK_PATIENTS)
        pieces.append(
            solve(
                {k: v[sl] for k, v in flat.items()},
                DoseSchedule(t_days=dose_days - 1.0, amount_mg=flat_amount[sl]),
                grid_t,
            )
        )
    sod1 = np.concatenate([t.sod1_protein[:, visit_position] for t in pieces])
    nfl = np.concatenate([t.nfl[:, visit_position] for t in pieces])
    shape = (n_replicates, n_patients, visit_days.size)
    p = sod1.reshape(shape)
    n = nfl.reshape(shape)
    f_cns = individual["f_cns"][:, :, None]
    plasma_nfl = individual["plasma_nfl_base_pg_ml"][:, :, None] * n
    true_values = {
        "CSFSOD1": individual["csf_sod1_base_ng_ml"][:, :, None] * (f_cns * p + 1.0 - f_cns),
        "PLNFL": plasma_nfl,
        "CSFNFL": plasma_nfl * individual["csf_plasma_nfl_ratio"][:, :, None],
    }
    observed_visit = visit_days[None, None, :] <= dropout_day[:, :, None]
    clinical = None
    if design.has_progression:
        clinical = clinical_outcomes(
            design,
            individual=individual,
            course=course,
            effect_time_days=np.concatenate([t.effect_time_days for t in pieces]).reshape(
                n_replicates, n_patients, -1
            ),
            effect=np.concatenate([t.effect for t in pieces]).reshape(n_replicates, n_patients, -1),
            grid_days=grid_t,
            visit_position=visit_position,
            visit_days=visit_days,
            dropout_day=dropout_day,
            entry_draw=np.stack(entry_draws) if entry_draws else np.ones_like(dropout_day),
            z=z,
        )
        observed_visit = clinical.observed_visit
    observed: dict[str, FloatArray] = {}
    for k, endpoint in enumerate(endpoints):
        if endpoint not in RESIDUAL_SD_PARAMETER:
            continue
        sigma = individual[RESIDUAL_SD_PARAMETER[endpoint]][:, :, None]
        noisy = true_values[endpoint] * np.exp(sigma * z[:, k])
        observed[endpoint] = np.where(observed_visit, noisy, np.nan)

    simulation = TrialSimulation(
        design=design,
        seed=seed,
        replicate=replicates,
        arm_index=arm_index,
        group_index=group_index,
        age_years=age,
        male=male,
        a4v=a4v,
        parameters=individual,
        dropout_day=dropout_day,
        visit_days=visit_days,
        true_values={k: true_values[k] for k in endpoints if k in true_values},
        observed=observed,
        covariates={k: v for k, v in course.items() if k != "event_threshold"},
        adverse_events=adverse_events,
        parameter_set=parameters,
        uncertainty=uncertainty,
    )
    if clinical is None:
        return simulation
    true_values.update(clinical.true_values)
    observed.update(clinical.observed)
    return replace(
        simulation,
        true_values={k: true_values[k] for k in endpoints if k in true_values},
        observed={k: observed[k] for k in endpoints if k in observed},
        event_day=clinical.event_day,
        censor_day=clinical.censor_day,
        extension_entered=clinical.extension_entered,
        adverse_events=truncate_follow_up(
            adverse_events, np.minimum(clinical.censor_day, clinical.event_day)
        ),
    )
