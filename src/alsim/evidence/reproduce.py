"""Reproduce a published study: simulate its design many times and compare with the evidence."""

import time
from dataclasses import dataclass
from datetime import date

from alsim.design.templates import STUDY_TEMPLATES, load_template
from alsim.design.trial import TrialDesign
from alsim.errors import EvidenceError
from alsim.evidence.carriers import PrimaryPrediction, predict_primary
from alsim.evidence.compare import ComparisonRow, compare
from alsim.evidence.safety import safety_rows
from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet
from alsim.model.uncertainty import PosteriorDraws, shipped_posterior
from alsim.simulate.trial import TrialSimulation, simulate_trial


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyReproduction:
    """The comparison table of one study, with what produced it; `sim` is the simulation itself
    (the report draws its trajectories from it), None where only the rows were kept."""

    study: str
    design: TrialDesign
    rows: tuple[ComparisonRow, ...]
    seed: int
    n_replicates: int
    seconds: float
    sim: TrialSimulation | None = None
    notes: tuple[str, ...] = ()
    prediction: PrimaryPrediction | None = None


# Studies whose simulation is long (years of follow-up): `reproduce` runs at most this many
# replicates of them, and says so in its notes.
MAX_REPLICATES_BY_STUDY = {"ole": 200, "atlas": 400}
# The study whose reproduction also sets the untreated natural history beside Bali 2016/2017.
NATURAL_HISTORY_WITH = "valor"


NATURAL_HISTORY_NOTE = (
    "Natural history (Bali 2016/2017): the all-SOD1 slope rows cannot match beside the A4V ones "
    "(for a cohort with a third A4V patients the published means would make the rest improve), "
    "so the model reads the all-SOD1 ALS-FRS decline as the non-A4V course and fits the "
    "non-A4V respiratory pace to survival. The three survival medians are a least-squares "
    "compromise: the all-SOD1 median of 2.7 years needs a quarter of non-A4V patients to die "
    "within 2.7 years while their median lives 6.8, a wider spread than one non-A4V class "
    "gives, so non-A4V survival comes out shorter and the all-SOD1 median longer than published."
)


def study_notes(design: TrialDesign, parameters: ParameterSet) -> tuple[str, ...]:
    """What a reader must know about the clinical results of `design`: its assumptions."""
    if design.run_in is not None:
        return carrier_notes(design, parameters)
    if not design.has_progression:
        return ()
    effect = parameters["mtt_effect_days"]
    low, high = effect.sensitivity or (effect.value, effect.value)
    interval = "sensitivity range"
    if effect.posterior is not None:
        low, high = effect.posterior.low, effect.posterior.high
        interval = "95% credible interval"
    notes = [
        f"Clinical effects depend on the mean transit time of the delayed-onset chain "
        f"({effect.value:.0f} days), which the week-28 data identify only weakly: it is fitted "
        f"to the faster-stratum ALSFRS-R results ({interval} {low:.0f}-{high:.0f} days); use "
        "--uncertainty before relying on long-term predictions. Each patient's potency and "
        "recovery capacity are assumptions (the evidence file does not identify their spread).",
        "Trial entrants' in-study ALSFRS-R slope relative to their variant class "
        f"(in_study_slope_factor = {parameters.value('in_study_slope_factor'):.2f}) is fitted to "
        "the faster-stratum placebo change; the A4V share, the faster-progression cut-off and "
        "the time from onset to screening are ASSUMPTIONS (not public).",
    ]
    if design.extension is not None:
        notes.append(
            "Open-label extension results are predictions: placebo patients become the "
            "delayed-start arm, tofersen patients the early-start arm."
        )
    return tuple(notes)


def carrier_notes(design: TrialDesign, parameters: ParameterSet) -> tuple[str, ...]:
    """The assumptions behind a run-in (prevention) design's predictions."""
    effect = parameters["mtt_effect_days"]
    scale = parameters["prodromal_scale_a4v_days"]
    return (
        "Phenoconversion is delayed by tofersen only through the calibrated mechanism: SOD1 "
        "lowering slows the disease clock through the delayed effect on progression, whose "
        f"mean transit time ({effect.value:.0f} days) the week-28 data identify only weakly "
        f"(sensitivity range {effect.sensitivity}); before symptoms nothing was calibrated on "
        "treated carriers.",
        f"The prodromal e-folding time ({scale.value:.0f} days) is fitted by hand so that the "
        "untreated lead time of the NfL trigger falls inside the published 6-12 months; "
        "penetrance, the carriers' presymptomatic NfL, their age at entry, the Part B size and "
        "ratio, the assessment schedule and the withdrawal rates are ASSUMPTIONS.",
        "Intervals 'over the posterior' give each simulated trial its own draw of the shipped "
        "calibration's posterior (the quantities fitted by alsim calibrate); the presymptomatic "
        "assumptions keep their table values.",
    )


def available_studies() -> tuple[str, ...]:
    """Studies `reproduce` knows, in program order."""
    return tuple(STUDY_TEMPLATES)


def resolve_studies(study: str) -> tuple[str, ...]:
    """`all` or one study name, checked."""
    studies = available_studies()
    if study == "all":
        return studies
    if study not in studies:
        raise EvidenceError(f"--study must be one of: all, {', '.join(studies)}; got {study!r}")
    return (study,)


def reproduce_study(
    study: str,
    *,
    n_replicates: int,
    seed: int,
    parameters: ParameterSet = DEFAULT_PARAMETERS,
    uncertainty: PosteriorDraws | None = None,
) -> StudyReproduction:
    """Simulate `study`'s template and compare every target with its published value; with
    `uncertainty` every replicate takes its own posterior draw of the free parameters."""
    design = load_template(study)
    start = time.perf_counter()
    notes = study_notes(design, parameters)
    cap = MAX_REPLICATES_BY_STUDY.get(study)
    if cap is not None and n_replicates > cap:
        notes = (
            *notes,
            f"Run with {cap} replicates (asked {n_replicates}): years of follow-up make each "
            "replicate slow.",
        )
        n_replicates = cap
    if uncertainty is not None:
        notes = (
            *notes,
            f"Parameter uncertainty: each replicate uses its own draw of the {uncertainty.n_draws} "
            "posterior draws of the shipped calibration, so ranges include what the evidence "
            "leaves unknown about the biology.",
        )
    sim = simulate_trial(
        design,
        n_replicates=n_replicates,
        seed=seed,
        parameters=parameters,
        uncertainty=uncertainty,
    )
    rows = (*compare(study, sim), *safety_rows(study, sim))
    prediction = None
    if design.run_in is not None:
        over_posterior = (
            sim
            if uncertainty is not None
            else simulate_trial(
                design,
                n_replicates=n_replicates,
                seed=seed,
                parameters=parameters,
                uncertainty=shipped_posterior(),
            )
        )
        typical = (
            sim
            if uncertainty is None
            else simulate_trial(design, n_replicates=n_replicates, seed=seed, parameters=parameters)
        )
        prediction = predict_primary(typical, over_posterior, stated_on=date.today().isoformat())
    if study == NATURAL_HISTORY_WITH:
        rows = (*rows, *compare("natural_history", sim))
        notes = (*notes, NATURAL_HISTORY_NOTE)
    return StudyReproduction(
        study=study,
        design=design,
        rows=rows,
        seed=seed,
        n_replicates=n_replicates,
        seconds=time.perf_counter() - start,
        sim=sim,
        notes=notes,
        prediction=prediction,
    )
