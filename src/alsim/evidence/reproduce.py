"""Reproduce a published study: simulate its design many times and compare with the evidence."""

import time
from dataclasses import dataclass

from alsim.design.templates import STUDY_TEMPLATES, load_template
from alsim.design.trial import TrialDesign
from alsim.errors import EvidenceError
from alsim.evidence.compare import ComparisonRow, compare
from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet
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
    study: str, *, n_replicates: int, seed: int, parameters: ParameterSet = DEFAULT_PARAMETERS
) -> StudyReproduction:
    """Simulate `study`'s template and compare every target with its published value."""
    design = load_template(study)
    start = time.perf_counter()
    sim = simulate_trial(design, n_replicates=n_replicates, seed=seed, parameters=parameters)
    rows = tuple(compare(study, sim))
    return StudyReproduction(
        study=study,
        design=design,
        rows=rows,
        seed=seed,
        n_replicates=n_replicates,
        seconds=time.perf_counter() - start,
        sim=sim,
    )
