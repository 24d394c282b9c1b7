"""Disease course of virtual SOD1-ALS patients, generated as patients reach a screening visit.

Recipe (SCIENCE.md s.3), per candidate: variant class -> age at onset -> pre-study slope dFS
(log-normal by class) -> months from onset to the screening visit (log-normal, shorter for faster
disease) -> baseline ALSFRS-R = 48 - dFS x months -> in-study slope, partly predicted by dFS ->
breathing and strength at screening from their own paces over the same course -> survival to
the screening visit. A candidate who would have died before it (or lost every point) never
presents: it is redrawn with the same variant class, so `a4v_fraction` is the A4V share of the
patients who present for screening. The pre-study course runs on the latent logistic from
symptom onset (ALSFRS-R `alsfrsr_at_onset`) to the baseline score at an even latent speed; from
screening on the patient's own in-study speed takes over (`alsim.model.progression`).

Candidates are drawn in vectorised batches and sorted into strata by a rule (for VALOR: faster vs
slower progression), after an eligibility check, until every stratum is filled. The natural
history (Bali 2016/2017) is the same population before any eligibility check.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alsim.errors import AlsimError
from alsim.model.parameters import ParameterSet
from alsim.model.progression import (
    ALSFRSR_MAX,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    hazard_log_offset,
    latent_from_score,
    logistic_measure,
    points_per_latent_unit,
    untreated_event_days,
    untreated_hazard_integral,
)
from alsim.population.blocks import sample_parameter_block

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
AnyArray = NDArray[Any]

MAX_CANDIDATE_ROUNDS = 200
MAX_REDRAW_ROUNDS = 2000
# A candidate must still have at least this ALSFRS-R total at screening.
MIN_SCORE_AT_SCREENING = 1.0
# Parameters the course sampler turns into covariates; the rest of the progression block is kept
# per patient as individual model parameters.
_COURSE_ONLY = (
    "prestudy_slope_a4v_per_month",
    "prestudy_slope_other_per_month",
    "months_onset_to_entry",
    "entry_delay_elasticity",
    "in_study_slope_factor",
    "in_study_slope_elasticity",
    "svc_speed_a4v",
    "svc_speed_other",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FasterProgressionRule:
    """Who counts as a faster progressor: A4V-like variants, or a pre-study slope at or above
    `prestudy_slope_per_month` (ALSFRS-R points per month)."""

    a4v_is_faster: bool = True
    prestudy_slope_per_month: float = 0.9

    def classify(self, a4v: BoolArray, prestudy_slope_per_month: FloatArray) -> BoolArray:
        faster = prestudy_slope_per_month >= self.prestudy_slope_per_month
        if self.a4v_is_faster:
            faster = faster | a4v
        return np.asarray(faster)


@dataclass(frozen=True, slots=True)
class DiseaseCourse:
    """Covariates of the disease course at the screening visit, each shaped (patient,), and the
    patients' progression parameters.

    `alsfrsr_baseline` is the true (latent, continuous) score at Day 1; `slope_per_month` the
    true local rate of decline at Day 1 without drug; `latent_speed_per_day` the same on the logit
    scale (v0); `svc_latent_baseline` and `hhd_latent_baseline` the logits of breathing and
    strength at Day 1; `event_threshold` an Exp(1) draw: death or permanent ventilation happens
    when the cumulative hazard from Day 1 reaches it.
    """

    a4v: BoolArray
    faster: BoolArray
    onset_age_years: FloatArray
    prestudy_slope_per_month: FloatArray
    months_since_onset: FloatArray
    alsfrsr_baseline: FloatArray
    slope_per_month: FloatArray
    latent_speed_per_day: FloatArray
    svc_latent_baseline: FloatArray
    hhd_latent_baseline: FloatArray
    event_threshold: FloatArray
    parameters: dict[str, FloatArray]

    @property
    def n_patients(self) -> int:
        return int(self.a4v.shape[0])

    @property
    def latent_baseline(self) -> FloatArray:
        """u0 = log(F0 / (48 - F0))."""
        return latent_from_score(self.alsfrsr_baseline)

    @property
    def age_years(self) -> FloatArray:
        """Age at the screening visit (Day 1)."""
        out: FloatArray = self.onset_age_years + self.months_since_onset / 12.0
        return out

    @property
    def svc_baseline_pct(self) -> FloatArray:
        """True slow vital capacity at Day 1."""
        return logistic_measure(self.parameters["svc_full_pct"], self.svc_latent_baseline)

    @property
    def hazard_log_offset_per_day(self) -> FloatArray:
        """The constant part of each patient's log hazard (reference, age, frailty)."""
        p = self.parameters
        return hazard_log_offset(
            p["hazard_ref_per_year"],
            p["hazard_age_per_10y"],
            self.onset_age_years,
            p["hazard_frailty"],
        )

    def take(self, index: NDArray[np.int64] | BoolArray) -> "DiseaseCourse":
        """The patients at `index` (integer positions or a mask), in that order."""
        return _map_arrays(self, lambda values: values[index])

    def put(self, where: BoolArray, other: "DiseaseCourse") -> "DiseaseCourse":
        """A copy with the patients at mask `where` replaced by `other`'s, in order."""

        def merged(mine: FloatArray, theirs: FloatArray) -> FloatArray:
            out = mine.copy()
            out[where] = theirs
            return out

        return _zip_arrays(self, other, merged)


def _map_arrays(course: DiseaseCourse, f: Callable[[AnyArray], AnyArray]) -> DiseaseCourse:
    values = {k.name: f(getattr(course, k.name)) for k in fields(course) if k.name != "parameters"}
    params = {k: f(v) for k, v in course.parameters.items()}
    return DiseaseCourse(**values, parameters=params)


def _zip_arrays(
    a: DiseaseCourse, b: DiseaseCourse, f: Callable[[AnyArray, AnyArray], AnyArray]
) -> DiseaseCourse:
    values = {
        k.name: f(getattr(a, k.name), getattr(b, k.name))
        for k in fields(a)
        if k.name != "parameters"
    }
    params = {k: f(v, b.parameters[k]) for k, v in a.parameters.items()}
    return DiseaseCourse(**values, parameters=params)


def _by_class(
    a4v: BoolArray, values: Mapping[str, FloatArray], a4v_name: str, other: str
) -> FloatArray:
    out: FloatArray = np.where(a4v, values[a4v_name], values[other])
    return out


def draw_courses(
    parameters: ParameterSet, a4v: BoolArray, rng: np.random.Generator
) -> tuple[DiseaseCourse, BoolArray]:
    """One course per entry of `a4v`, and whether the patient presents for screening (alive, with
    at least `MIN_SCORE_AT_SCREENING` points left). With the same generator state, different
    parameter values reuse the same random numbers (common random numbers for fitting)."""
    n = a4v.size
    values = sample_parameter_block(parameters, "progression", n, rng)
    threshold = np.asarray(rng.exponential(1.0, n), dtype=np.float64)
    median_a4v = parameters.value("prestudy_slope_a4v_per_month")
    median_other = parameters.value("prestudy_slope_other_per_month")
    class_median = np.where(a4v, median_a4v, median_other)
    prestudy = _by_class(
        a4v, values, "prestudy_slope_a4v_per_month", "prestudy_slope_other_per_month"
    )
    months = values["months_onset_to_entry"] * (prestudy / median_other) ** (
        -values["entry_delay_elasticity"]
    )
    score = ALSFRSR_MAX - prestudy * months
    at_onset = values["alsfrsr_at_onset"]
    presents = (score >= MIN_SCORE_AT_SCREENING) & (score < at_onset)
    score = np.clip(score, MIN_SCORE_AT_SCREENING, at_onset - 1e-6)
    latent_lost = latent_from_score(at_onset) - latent_from_score(score)
    days = months * DAYS_PER_MONTH
    in_study = (
        values["in_study_slope_factor"]
        * class_median
        * (prestudy / class_median) ** values["in_study_slope_elasticity"]
    )
    respiratory = _by_class(a4v, values, "svc_speed_a4v", "svc_speed_other")
    params = {k: v for k, v in values.items() if k not in _COURSE_ONLY}
    params["svc_speed"] = respiratory
    course = DiseaseCourse(
        a4v=a4v,
        faster=np.zeros(n, dtype=bool),
        onset_age_years=values["onset_age_years"],
        prestudy_slope_per_month=prestudy,
        months_since_onset=months,
        alsfrsr_baseline=score,
        slope_per_month=in_study,
        latent_speed_per_day=in_study / (points_per_latent_unit(score) * DAYS_PER_MONTH),
        svc_latent_baseline=values["svc_latent_onset"] - respiratory * latent_lost,
        hhd_latent_baseline=values["hhd_latent_onset"] - params["hhd_speed"] * latent_lost,
        event_threshold=threshold,
        parameters=params,
    )
    # cumulative hazard from onset to screening: the SVC logit falls evenly over that time
    pre_hazard = untreated_hazard_integral(
        values["svc_latent_onset"],
        course.svc_latent_baseline,
        params["svc_full_pct"],
        course.hazard_log_offset_per_day,
        params["hazard_svc_per_10pct"],
    ) / (respiratory * latent_lost / days)
    alive = presents & (threshold > pre_hazard)
    return replace(course, event_threshold=np.where(alive, threshold - pre_hazard, 1.0)), alive


def sample_candidates(
    parameters: ParameterSet, n: int, a4v_fraction: float, rng: np.random.Generator
) -> DiseaseCourse:
    """`n` patients presenting for screening, before any eligibility check: `a4v_fraction` of
    them (in expectation) A4V-like. Those who would not present are redrawn within their class."""
    a4v = np.asarray(rng.random(n) < a4v_fraction)
    course, ok = draw_courses(parameters, a4v, rng)
    for _ in range(MAX_REDRAW_ROUNDS):
        if ok.all():
            return course
        redo, redo_ok = draw_courses(parameters, a4v[~ok], rng)
        course = course.put(~ok, redo)
        ok = ok.copy()
        ok[~ok] = redo_ok
    raise AlsimError(
        f"fewer than all candidates reached screening alive after {MAX_REDRAW_ROUNDS} rounds: "
        "the course parameters leave (almost) no patient alive at screening; check "
        "months_onset_to_entry and the hazard parameters"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Eligibility:
    """Entry criteria applied to candidates at screening (ALSFRS-R, slow vital capacity, age)."""

    min_alsfrsr: float = 0.0
    max_alsfrsr: float = ALSFRSR_MAX
    min_svc_pct: float = 0.0
    min_age_years: float = 0.0
    max_age_years: float = 200.0

    def check(self, course: DiseaseCourse) -> BoolArray:
        age = course.age_years
        return np.asarray(
            (course.alsfrsr_baseline >= self.min_alsfrsr)
            & (course.alsfrsr_baseline <= self.max_alsfrsr)
            & (course.svc_baseline_pct >= self.min_svc_pct)
            & (age >= self.min_age_years)
            & (age <= self.max_age_years)
        )


def sample_stratified_courses(
    parameters: ParameterSet,
    stratum_sizes: Sequence[int],
    *,
    a4v_fraction: float,
    rule: FasterProgressionRule | None,
    eligibility: Eligibility,
    rng: np.random.Generator,
) -> DiseaseCourse:
    """Patients ordered by stratum: the first `stratum_sizes[0]` faster, then the slower ones.

    Without a rule there is one stratum filled by eligible candidates in draw order. Candidates
    come in vectorised batches; each eligible candidate fills the next free place of its stratum.
    """
    n_strata = len(stratum_sizes)
    if rule is not None and n_strata != 2:
        raise AlsimError(f"a faster-progression rule needs 2 strata, got {n_strata}")
    if rule is None and n_strata != 1:
        raise AlsimError("several strata need a rule that assigns candidates to them")
    needed = np.array(stratum_sizes, dtype=np.int64)
    picked: list[list[DiseaseCourse]] = [[] for _ in range(n_strata)]
    total = int(needed.sum())
    for _ in range(MAX_CANDIDATE_ROUNDS):
        if not needed.any():
            break
        batch = sample_candidates(parameters, max(64, 4 * total), a4v_fraction, rng)
        ok = eligibility.check(batch)
        if rule is None:
            labels = np.zeros(batch.n_patients, dtype=np.int64)
            faster = np.zeros(batch.n_patients, dtype=bool)
        else:
            faster = rule.classify(batch.a4v, batch.prestudy_slope_per_month)
            labels = np.where(faster, 0, 1)
        batch = replace(batch, faster=faster)
        for s in range(n_strata):
            index = np.flatnonzero(ok & (labels == s))[: needed[s]]
            if index.size:
                picked[s].append(batch.take(index))
                needed[s] -= index.size
    else:
        raise AlsimError(
            "could not fill the strata from eligible candidates after "
            f"{MAX_CANDIDATE_ROUNDS} rounds; relax the eligibility or the faster-progression rule"
        )
    return concatenate_courses([c for stratum in picked for c in stratum])


def concatenate_courses(courses: Sequence[DiseaseCourse]) -> DiseaseCourse:
    """Patients of several courses, one after the other."""
    first = courses[0]
    values = {
        k.name: np.concatenate([getattr(c, k.name) for c in courses])
        for k in fields(first)
        if k.name != "parameters"
    }
    params = {k: np.concatenate([c.parameters[k] for c in courses]) for k in first.parameters}
    return DiseaseCourse(**values, parameters=params)


COVARIATES = (
    "a4v",
    "faster",
    "onset_age_years",
    "prestudy_slope_per_month",
    "months_since_onset",
    "alsfrsr_baseline",
    "slope_per_month",
    "event_threshold",
)


def stack_courses(courses: Sequence[DiseaseCourse]) -> dict[str, FloatArray]:
    """Covariates of one course per replicate, stacked to (replicate, patient)."""
    out = {name: np.stack([getattr(c, name) for c in courses]) for name in COVARIATES}
    out["svc_baseline_pct"] = np.stack([c.svc_baseline_pct for c in courses])
    return out


def survival_from_onset_years(course: DiseaseCourse) -> FloatArray:
    """Time from symptom onset to death or permanent ventilation without drug, in years: the
    time to screening plus the untreated course after it, along each patient's own hazard."""
    after = untreated_event_days(
        course.svc_latent_baseline,
        course.parameters["svc_speed"] * course.latent_speed_per_day,
        course.event_threshold,
        course.parameters["svc_full_pct"],
        course.hazard_log_offset_per_day,
        course.parameters["hazard_svc_per_10pct"],
    )
    out: FloatArray = (course.months_since_onset * DAYS_PER_MONTH + after) / DAYS_PER_YEAR
    return out


def svc_prestudy_slope_per_month(course: DiseaseCourse) -> FloatArray:
    """SVC lost per month from onset to screening (% predicted/month), the respiratory analogue
    of the pre-study ALSFRS-R slope."""
    p = course.parameters
    at_onset = logistic_measure(p["svc_full_pct"], p["svc_latent_onset"])
    out: FloatArray = (at_onset - course.svc_baseline_pct) / course.months_since_onset
    return out
