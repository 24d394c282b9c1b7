"""Disease course of virtual SOD1-ALS patients, generated so correlations arise by construction.

Recipe (SCIENCE.md s.3): variant class -> pre-study slope dFS (log-normal by class) -> months since
onset (when about `entry_loss_points` have been lost) -> baseline ALSFRS-R = 48 - dFS x months ->
in-study slope, partly predicted by dFS -> baseline plasma NfL from the slope -> vital capacity and
strength from the same functional loss -> an Exp(1) draw that fixes the time of death or permanent
ventilation along the patient's own hazard.

Candidates are drawn in vectorised batches and sorted into strata by a rule (for VALOR: faster vs
slower progression), after an eligibility check, until every stratum is filled.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from alsim.errors import AlsimError
from alsim.model.parameters import ParameterSet
from alsim.model.progression import (
    ALSFRSR_MAX,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    latent_from_score,
    logistic_time_scale_days,
    svc_pct,
)
from alsim.population.sampling import sample_parameter_block

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

MAX_CANDIDATE_ROUNDS = 200
# Parameters the course sampler turns into covariates; the rest of the progression block is kept
# per patient as individual model parameters.
_COURSE_ONLY = (
    "prestudy_slope_a4v_per_month",
    "prestudy_slope_other_per_month",
    "entry_loss_points",
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Eligibility:
    """Entry criteria applied to candidates (baseline ALSFRS-R and slow vital capacity)."""

    min_alsfrsr: float = 0.0
    max_alsfrsr: float = ALSFRSR_MAX
    min_svc_pct: float = 0.0

    def check(self, alsfrsr: FloatArray, svc: FloatArray) -> BoolArray:
        return np.asarray(
            (alsfrsr >= self.min_alsfrsr)
            & (alsfrsr <= self.max_alsfrsr)
            & (svc >= self.min_svc_pct)
        )


@dataclass(frozen=True, slots=True)
class DiseaseCourse:
    """Covariates of the disease course, each shaped (patient,), and the progression parameters.

    `alsfrsr_baseline` is the true (latent, continuous) score at Day 1; `slope_per_month` the
    true local rate of decline at Day 1 without drug; `event_threshold` an Exp(1) draw: death or
    permanent ventilation happens when the cumulative hazard reaches it.
    """

    a4v: BoolArray
    faster: BoolArray
    prestudy_slope_per_month: FloatArray
    months_since_onset: FloatArray
    alsfrsr_baseline: FloatArray
    slope_per_month: FloatArray
    plasma_nfl_base_pg_ml: FloatArray
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
    def time_scale_days(self) -> FloatArray:
        """dx: days per logit unit of the patient's logistic course without drug."""
        return logistic_time_scale_days(
            self.alsfrsr_baseline, self.slope_per_month / DAYS_PER_MONTH
        )

    def take(self, index: NDArray[np.int64]) -> "DiseaseCourse":
        """The patients at `index`, in that order."""
        return DiseaseCourse(
            a4v=self.a4v[index],
            faster=self.faster[index],
            prestudy_slope_per_month=self.prestudy_slope_per_month[index],
            months_since_onset=self.months_since_onset[index],
            alsfrsr_baseline=self.alsfrsr_baseline[index],
            slope_per_month=self.slope_per_month[index],
            plasma_nfl_base_pg_ml=self.plasma_nfl_base_pg_ml[index],
            event_threshold=self.event_threshold[index],
            parameters={k: v[index] for k, v in self.parameters.items()},
        )


def sample_candidates(
    parameters: ParameterSet, n: int, a4v_fraction: float, rng: np.random.Generator
) -> DiseaseCourse:
    """`n` candidate patients from the natural-history population (no selection)."""
    a4v = rng.random(n) < a4v_fraction
    values = sample_parameter_block(parameters, "progression", n, rng)
    z_slope = rng.standard_normal(n)
    z_nfl = rng.standard_normal(n)
    threshold = rng.exponential(1.0, n)

    median_slope = np.where(
        a4v,
        parameters.value("prestudy_slope_a4v_per_month"),
        parameters.value("prestudy_slope_other_per_month"),
    )
    omega_slope = np.where(
        a4v,
        parameters["prestudy_slope_a4v_per_month"].omega,
        parameters["prestudy_slope_other_per_month"].omega,
    )
    prestudy = np.where(
        a4v, values["prestudy_slope_a4v_per_month"], values["prestudy_slope_other_per_month"]
    )
    months = values["entry_loss_points"] / prestudy
    alsfrsr = ALSFRSR_MAX - prestudy * months
    # in-study slope: same marginal law as dFS, log-scale correlation `slope_persistence`
    rho = values["slope_persistence"]
    log_ratio = np.log(prestudy / median_slope)
    slope = (
        values["in_study_slope_factor"]
        * median_slope
        * np.exp(rho * log_ratio + np.sqrt(1.0 - rho**2) * omega_slope * z_slope)
    )
    anchor = parameters.value("prestudy_slope_other_per_month")
    nfl = parameters.value("plasma_nfl_base_other_pg_ml") * np.exp(
        values["nfl_slope_exponent"] * np.log(slope / anchor)
        + values["nfl_slope_residual_omega"] * z_nfl
    )
    kept = {k: v for k, v in values.items() if k not in _COURSE_ONLY}
    return DiseaseCourse(
        a4v=a4v,
        faster=np.zeros(n, dtype=bool),
        prestudy_slope_per_month=prestudy,
        months_since_onset=months,
        alsfrsr_baseline=alsfrsr,
        slope_per_month=slope,
        plasma_nfl_base_pg_ml=nfl,
        event_threshold=np.asarray(threshold, dtype=np.float64),
        parameters=kept,
    )


def baseline_svc_pct(course: DiseaseCourse) -> FloatArray:
    """True slow vital capacity at Day 1."""
    return svc_pct(
        course.alsfrsr_baseline,
        course.parameters["svc_full_pct"],
        course.parameters["svc_per_alsfrsr_point"],
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
        ok = eligibility.check(batch.alsfrsr_baseline, baseline_svc_pct(batch))
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
    names = list(first.parameters)
    return DiseaseCourse(
        a4v=np.concatenate([c.a4v for c in courses]),
        faster=np.concatenate([c.faster for c in courses]),
        prestudy_slope_per_month=np.concatenate([c.prestudy_slope_per_month for c in courses]),
        months_since_onset=np.concatenate([c.months_since_onset for c in courses]),
        alsfrsr_baseline=np.concatenate([c.alsfrsr_baseline for c in courses]),
        slope_per_month=np.concatenate([c.slope_per_month for c in courses]),
        plasma_nfl_base_pg_ml=np.concatenate([c.plasma_nfl_base_pg_ml for c in courses]),
        event_threshold=np.concatenate([c.event_threshold for c in courses]),
        parameters={k: np.concatenate([c.parameters[k] for c in courses]) for k in names},
    )


def stack_courses(courses: Sequence[DiseaseCourse]) -> Mapping[str, FloatArray]:
    """Covariates of one course per replicate, stacked to (replicate, patient)."""
    return {
        "a4v": np.stack([c.a4v for c in courses]),
        "faster": np.stack([c.faster for c in courses]),
        "prestudy_slope_per_month": np.stack([c.prestudy_slope_per_month for c in courses]),
        "months_since_onset": np.stack([c.months_since_onset for c in courses]),
        "alsfrsr_baseline": np.stack([c.alsfrsr_baseline for c in courses]),
        "slope_per_month": np.stack([c.slope_per_month for c in courses]),
        "plasma_nfl_base_pg_ml": np.stack([c.plasma_nfl_base_pg_ml for c in courses]),
        "event_threshold": np.stack([c.event_threshold for c in courses]),
    }


def survival_from_onset_years(
    course: DiseaseCourse, hazard_mid_per_year: float, exponent: float
) -> FloatArray:
    """Time from symptom onset to death or permanent ventilation without drug, in years."""
    u0 = course.latent_baseline
    dx = course.time_scale_days
    h_entry = hazard_mid_per_year / DAYS_PER_YEAR * np.exp(-exponent * u0)
    after = dx / exponent * np.log1p(course.event_threshold * exponent / (h_entry * dx))
    out: FloatArray = (course.months_since_onset * DAYS_PER_MONTH + after) / DAYS_PER_YEAR
    return out
