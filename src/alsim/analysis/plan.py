"""Running an analysis plan: each planned estimand on every replicate, imputations shared.

`StudyData` holds a trial (simulated, or read from ADaM-like files) as arrays shaped
``(replicate, patient[, visit])``; `PlanRunner` runs `alsim.design.plan.PlannedAnalysis`
values on it, dispatching to the Spec classes of `alsim.analysis`.

How the intercurrent-event strategies become data (SCIENCE.md s.5 and s.7; ICH E9(R1)):

- A visit on or after the day of death or permanent ventilation is *after death*; a visit after
  the day treatment was discontinued (the simulator collects no data after it) is *after
  discontinuation*. Other missing values are intermittent and imputed under MAR.
- ``hypothetical`` and ``treatment-policy`` leave their values to imputation (with
  ``imputations >= 2``, under the stated model) or to the analysis (observed cases; MMRM by
  likelihood). ``composite`` with a ``score`` sets the value from the event on; the rank
  methods' composite keeps values after death missing and ranks the event first, comparing
  function at the last visit both patients were alive (Finkelstein & Schoenfeld 1999).
  ``while-alive`` / ``while-on-treatment`` carry the last value before the event forward.
- Noise-free data (`StudyData.complete`) have values after every event (the model's course
  continues); the same rules then give the true value of each estimand.

Imputations are shared: analyses of the same endpoint and arms whose strategies impute the same
values with the same models (and covariates, and number of imputations) use one set of
imputations, drawn for the patients of both arms in every stratum (with the stratum in the
imputation model when randomisation is stratified) up to the latest visit any of them analyses.
Values at a visit do not depend on how many later visits are imputed, so an analysis gives the
same numbers whatever else the plan holds. Imputations of replicate ``r`` draw from
``SeedSequence(seed, spawn_key=(r, IMPUTATION_STREAM))``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alsim.analysis._result import BoolArray, EstimateResult, FloatArray, IntArray
from alsim.analysis.ancova import AncovaResult, AncovaSpec, GmrSpec
from alsim.analysis.imputation import (
    KEEP,
    METHOD_CODES,
    ImputationSpec,
    Imputed,
    PooledResult,
    endpoint_scale,
    pool_imputations,
)
from alsim.analysis.mmrm import MmrmResult, MmrmSpec
from alsim.analysis.proportions import RiskDifferenceSpec
from alsim.analysis.rank import JointRankSpec, RankAncovaSpec, WinRatioSpec
from alsim.analysis.survival import CoxSpec, KaplanMeierSpec, LogRankSpec
from alsim.design.plan import (
    DEATH_EVENT,
    ITT,
    LANDMARK_VISIT,
    LAST_VISIT,
    PRIMARY_VISIT,
    EventHandling,
    PlannedAnalysis,
    highest_dose_arm,
)
from alsim.errors import AnalysisError

if TYPE_CHECKING:
    from alsim.simulate.trial import TrialSimulation

__all__ = [
    "IMPUTATION_STREAM",
    "EventTimes",
    "PlanRunner",
    "StudyData",
    "imputation_seeds",
    "study_data",
]

IMPUTATION_STREAM = 1_000_003


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class EventTimes:
    """Study day of an event (``inf``: none seen) and of the end of follow-up, (replicate,
    patient)."""

    event_day: FloatArray
    censor_day: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StudyData:
    """A trial as arrays; patients absent from a replicate (padding) have ``arm_index == -1``.

    Attributes
    ----------
    values : PARAMCD -> (replicate, patient, visit) values at `visit_names` (baseline first),
        NaN where not measured.
    events : time-to-event PARAMCD -> `EventTimes`; ``DTHPV`` also defines when a patient died.
    discontinuation_day : (replicate, patient) day treatment stopped (``inf``: never); no data
        are collected after it.
    covariates : ``AGE``, ``SEX`` (1 = male) -> (replicate, patient).
    complete : values exist after every intercurrent event (noise-free true values): strategies
        decide what is used, nothing is missing.
    landmark_days : event endpoint -> the study day of its landmark (``visit: LANDMARK``).
    """

    arm_labels: tuple[str, ...]
    control_arm: str
    default_treated_arm: str
    arm_index: IntArray
    group_labels: tuple[str, ...]
    group_index: IntArray
    stratified: bool
    visit_names: tuple[str, ...]
    visit_days: FloatArray
    primary_visit: str
    values: Mapping[str, FloatArray]
    events: Mapping[str, EventTimes]
    discontinuation_day: FloatArray
    covariates: Mapping[str, FloatArray]
    replicate: IntArray
    seed: int
    complete: bool = False
    landmark_days: Mapping[str, float] = field(default_factory=dict)

    @property
    def n_replicates(self) -> int:
        return int(self.replicate.shape[0])

    @property
    def death_day(self) -> FloatArray:
        """Study day of death or permanent ventilation (``inf``: none within follow-up)."""
        if DEATH_EVENT in self.events:
            return self.events[DEATH_EVENT].event_day
        return np.full(self.arm_index.shape, np.inf)

    def select(self, replicates: slice) -> StudyData:
        """The same trial restricted to a slice of its replicates (e.g. a chunk)."""

        def cut(a: npt.NDArray[Any]) -> Any:
            return a[replicates]

        return replace(
            self,
            arm_index=cut(self.arm_index),
            group_index=cut(self.group_index),
            values={k: cut(v) for k, v in self.values.items()},
            events={
                k: EventTimes(event_day=cut(v.event_day), censor_day=cut(v.censor_day))
                for k, v in self.events.items()
            },
            discontinuation_day=cut(self.discontinuation_day),
            covariates={k: cut(v) for k, v in self.covariates.items()},
            replicate=cut(self.replicate),
        )

    def visit_position(self, visit: str) -> int:
        """Index along the visit axis of a visit name, ``PRIMARY`` or ``LAST``."""
        name = {PRIMARY_VISIT: self.primary_visit, LAST_VISIT: self.visit_names[-1]}.get(
            visit, visit
        )
        if name not in self.visit_names[1:]:
            raise AnalysisError(
                f"visit {visit!r} is not a post-baseline visit of the data; allowed: "
                f"{', '.join(self.visit_names[1:])}"
            )
        return self.visit_names.index(name)


def imputation_seeds(seed: int, replicates: npt.ArrayLike) -> list[np.random.SeedSequence]:
    """One `SeedSequence` per replicate for multiple imputation."""
    return [
        np.random.SeedSequence(seed, spawn_key=(int(r), IMPUTATION_STREAM))
        for r in np.asarray(replicates)
    ]


def study_data(sim: TrialSimulation, *, noise_free: bool = False) -> StudyData:
    """The arrays of a simulation (``noise_free``: the true values, complete follow-up)."""
    design = sim.design
    shape = (sim.n_replicates, sim.n_patients)
    last_day = float(sim.visit_days[-1])
    events: dict[str, EventTimes] = {}
    stop = np.broadcast_to(sim.dropout_day, shape).astype(np.float64)
    if sim.has_events:
        # a death after the end of follow-up (withdrawal) is not observed, as in ADTTE
        observed = np.where(sim.event_day <= sim.censor_day, sim.event_day, np.inf)
        events[DEATH_EVENT] = EventTimes(event_day=observed, censor_day=sim.censor_day)
        # leaving before the end (dropout, withdrawal, not entering an extension) ends treatment
        stop = np.where(sim.censor_day < last_day, sim.censor_day, np.inf)
    stop = np.where(stop < last_day, stop, np.inf)
    landmarks: dict[str, float] = {}
    if sim.carriers is not None:  # run-in designs: the event endpoints' assessments
        record = sim.carriers
        for event in design.event_endpoints:
            events[event.paramcd] = EventTimes(
                event_day=record.event_day, censor_day=record.event_or_censor_day
            )
            landmarks[event.paramcd] = float(event.landmark_day)
    groups = tuple(g.name for g in design.randomization.groups)
    return StudyData(
        arm_labels=design.arm_labels,
        control_arm=design.control_arm,
        default_treated_arm=highest_dose_arm(design),
        arm_index=np.broadcast_to(sim.arm_index, shape),
        group_labels=groups,
        group_index=np.broadcast_to(sim.group_index, shape),
        stratified=design.randomization.unit == "stratum" and len(groups) > 1,
        visit_names=tuple(v.name for v in design.visits),
        visit_days=sim.visit_days.astype(np.float64),
        primary_visit=design.primary_visit,
        values=sim.true_values if noise_free else sim.observed,
        events=events,
        discontinuation_day=stop,
        covariates={"AGE": sim.age_years, "SEX": sim.male.astype(np.float64)},
        replicate=sim.replicate,
        seed=sim.seed,
        complete=noise_free,
        landmark_days=landmarks,
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Completed:
    """Values at visits ``0..k`` (baseline first) of the analysed patients: ``(m, replicate,
    patient, visit)``, ``m = 1`` without imputation; and the imputation status per replicate."""

    values: FloatArray
    status: npt.NDArray[np.str_]

    @property
    def m(self) -> int:
        return int(self.values.shape[0])


def _code(handling: EventHandling, imputes: bool) -> int:
    if not imputes or handling.strategy not in ("hypothetical", "treatment-policy"):
        return KEEP
    return METHOD_CODES[handling.imputation_method]


def _carry_forward(values: FloatArray, replace_mask: BoolArray) -> FloatArray:
    """``values`` with the entries of `replace_mask` replaced by the last earlier value that is
    not replaced (along the last axis); the baseline (index 0) is never replaced."""
    keep = ~np.broadcast_to(replace_mask, values.shape)
    index = np.where(keep, np.arange(values.shape[-1]), 0)
    np.maximum.accumulate(index, axis=-1, out=index)
    return np.take_along_axis(values, index, axis=-1)


def _with_status(result: EstimateResult, bad: BoolArray, message: str) -> EstimateResult:
    """`result` with replicates `bad` (still ok) marked `message` and their numbers NaN."""
    bad = bad & result.ok
    if not bad.any():
        return result
    changes: dict[str, object] = {"status": np.where(bad, message, result.status)}
    for name in ("estimate", "std_error", "ci_low", "ci_high", "p_value", "df"):
        changes[name] = np.where(bad, np.nan, getattr(result, name))
    for name in ("lsmean_treated", "lsmean_control"):
        if hasattr(result, name):
            changes[name] = np.where(bad, np.nan, getattr(result, name))
    return replace(result, **changes)  # type: ignore[arg-type]


class PlanRunner:
    """Runs planned analyses on one `StudyData`, sharing imputations between them (final).

    Parameters
    ----------
    data : StudyData
    n_imputations : int, optional
        Overrides the number of imputations of every analysis that imputes.
    """

    def __init__(self, data: StudyData, *, n_imputations: int | None = None) -> None:
        if n_imputations is not None and n_imputations < 2:
            raise AnalysisError(f"imputations must be >= 2, got {n_imputations}")
        self.data = data
        self.n_imputations = n_imputations
        self._imputed: dict[tuple[object, ...], tuple[int, FloatArray, Imputed]] = {}
        self._death_code: dict[tuple[object, ...], int] = {}
        self._impute_to: dict[tuple[object, ...], int] = {}

    def run(self, plan: tuple[PlannedAnalysis, ...]) -> dict[str, EstimateResult]:
        """Every analysis of `plan`, by name."""
        self.prepare(plan)
        return {analysis.name: self.fit(analysis) for analysis in plan}

    def prepare(self, analyses: tuple[PlannedAnalysis, ...] | list[PlannedAnalysis]) -> None:
        """Let analyses that leave values after death unimputed use the imputations of one that
        imputes them (same endpoint, arms, discontinuation model, covariates and number of
        imputations): imputation is sequential, so every value before death is the same in
        both, and their strategy replaces the values after death anyway."""
        for analysis in analyses:
            code = _code(analysis.death_handling(), self._m(analysis) > 0)
            if code != KEEP and not analysis.is_survival:
                self._death_code.setdefault(self._group(analysis), code)
        # one imputation per set, to the latest visit any analysis of it reads
        for analysis in analyses:
            if analysis.is_survival or not self._m(analysis):
                continue
            key = self._imputation_key(analysis)
            k = self.data.visit_position(analysis.visit)
            self._impute_to[key] = max(k, self._impute_to.get(key, 0))

    def _imputation_key(self, analysis: PlannedAnalysis) -> tuple[object, ...]:
        """Analyses with the same key impute the same values: their set of imputations."""
        group = self._group(analysis)
        death_code = _code(analysis.death_handling(), True)
        if death_code == KEEP:  # values after death unused: share another set's
            death_code = self._death_code.get(group, KEEP)
        return (*group, death_code)

    def _group(self, analysis: PlannedAnalysis) -> tuple[object, ...]:
        return (
            analysis.endpoint,
            self._arms(analysis)[0],
            _code(analysis.discontinuation_handling(), True),
            analysis.covariates,
            self._m(analysis),
        )

    # --- patients -------------------------------------------------------------------------
    def _arms(self, analysis: PlannedAnalysis) -> tuple[int, int]:
        labels = self.data.arm_labels
        treated = analysis.treated_arm or self.data.default_treated_arm
        if treated not in labels:
            raise AnalysisError(
                f"analysis {analysis.name}: unknown arm {treated!r}; allowed: {', '.join(labels)}"
            )
        return labels.index(treated), labels.index(self.data.control_arm)

    def _selected(self, analysis: PlannedAnalysis) -> BoolArray:
        treated, control = self._arms(analysis)
        data = self.data
        keep = (data.arm_index == treated) | (data.arm_index == control)
        if analysis.population != ITT:
            if analysis.population not in data.group_labels:
                raise AnalysisError(
                    f"analysis {analysis.name}: population {analysis.population!r} is not a "
                    f"group of the data; allowed: {ITT}, {', '.join(data.group_labels)}"
                )
            keep &= data.group_index == data.group_labels.index(analysis.population)
        return np.asarray(keep)

    def _stratum(self, analysis: PlannedAnalysis, selected: BoolArray) -> IntArray:
        """Codes for the analysis: the randomisation stratum if the plan stratifies, else 0;
        -1 leaves a patient out."""
        codes = self.data.group_index if analysis.strata else np.zeros_like(self.data.group_index)
        return np.where(selected, codes, -1).astype(np.int64)

    def _covariates(self, analysis: PlannedAnalysis) -> FloatArray:
        shape = self.data.arm_index.shape
        if not analysis.covariates:
            return np.zeros((*shape, 0))
        missing = [c for c in analysis.covariates if c not in self.data.covariates]
        if missing:
            raise AnalysisError(f"analysis {analysis.name}: the data have no {missing[0]}")
        return np.stack([self.data.covariates[c] for c in analysis.covariates], axis=-1)

    # --- completing the data by the strategies --------------------------------------------
    def _m(self, analysis: PlannedAnalysis) -> int:
        if analysis.imputations < 2:
            return 0
        return self.n_imputations or analysis.imputations

    def _complete(self, analysis: PlannedAnalysis, k: int) -> _Completed:
        data = self.data
        if analysis.endpoint not in data.values:
            raise AnalysisError(
                f"analysis {analysis.name}: the data have no {analysis.endpoint}; allowed: "
                f"{', '.join(data.values)}"
            )
        values = np.asarray(data.values[analysis.endpoint][:, :, : k + 1], dtype=np.float64)
        after_death, after_stop = self._after_events(k)
        death, stop = analysis.death_handling(), analysis.discontinuation_handling()
        m = self._m(analysis)
        status = np.full(data.n_replicates, "ok")
        imputed = values[None]
        if m:
            key = self._imputation_key(analysis)
            codes = self._codes(analysis, k, key)
            if (~np.isfinite(values[..., 1:]) & (codes > KEEP)).any():
                imputed, status = self._impute(analysis, k, key)
        out = imputed.copy()
        for handling, mask in ((stop, after_stop), (death, after_death)):
            if handling.strategy == "composite":
                out = np.where(mask, np.nan if handling.score is None else handling.score, out)
            elif handling.strategy in ("while-alive", "while-on-treatment"):
                out = _carry_forward(out, mask)
        return _Completed(values=out, status=status)

    def _after_events(self, k: int) -> tuple[BoolArray, BoolArray]:
        """Visits ``0..k`` after death, and after discontinuation (not death); baseline neither."""
        data = self.data
        days = data.visit_days[: k + 1]
        after_death = days >= data.death_day[..., None]
        after_stop = (days > data.discontinuation_day[..., None]) & ~after_death
        after_death[..., 0] = after_stop[..., 0] = False
        return after_death, after_stop

    def _codes(self, analysis: PlannedAnalysis, k: int, key: tuple[object, ...]) -> IntArray:
        """How each value at post-baseline visits ``1..k`` is imputed (`METHOD_CODES`, or KEEP)."""
        after_death, after_stop = self._after_events(k)
        death_code = int(key[-1])  # type: ignore[call-overload]
        stop_code = _code(analysis.discontinuation_handling(), True)
        codes: IntArray = np.where(
            after_death, death_code, np.where(after_stop, stop_code, METHOD_CODES["mar"])
        )[..., 1:]
        return codes

    def _impute(
        self, analysis: PlannedAnalysis, k: int, key: tuple[object, ...]
    ) -> tuple[FloatArray, npt.NDArray[np.str_]]:
        """Imputations of the analysis' endpoint for both arms, every stratum, shared by the
        analyses of `key`: drawn once, to the latest visit any of them reads."""
        data = self.data
        treated, control = self._arms(analysis)
        m = self._m(analysis)
        cached = self._imputed.get(key)
        if cached is None or cached[0] < k:
            last = max(k, self._impute_to.get(key, k))
            codes = self._codes(analysis, last, key)
            arms = (data.arm_index == treated) | (data.arm_index == control)
            values = np.asarray(data.values[analysis.endpoint][:, :, : last + 1], dtype=np.float64)
            covariates = [self._covariates(analysis)]
            if data.stratified:
                levels = np.arange(1, len(data.group_labels))
                covariates.append((data.group_index[..., None] == levels).astype(np.float64))
            spec = ImputationSpec(
                n_imputations=m,
                seed=imputation_seeds(data.seed, data.replicate),
                scale=endpoint_scale(analysis.endpoint),
            )
            imputed = spec.impute(
                np.where(arms[..., None], values[..., 1:], np.nan),
                baseline=np.where(arms, values[..., 0], np.nan),
                treated=data.arm_index == treated,
                covariates=np.concatenate(covariates, axis=-1),
                method=np.where(arms[..., None], codes, KEEP),
            )
            base = np.broadcast_to(values[None, ..., :1], (m, *values.shape[:2], 1))
            cached = (last, np.concatenate([base, imputed.values], axis=-1), imputed)
            self._imputed[key] = cached
        return cached[1][..., : k + 1], cached[2].status_through(k)

    # --- analyses -------------------------------------------------------------------------
    def fit(self, analysis: PlannedAnalysis) -> EstimateResult:
        """Run one planned analysis on every replicate."""
        if analysis.is_survival:
            return self._survival(analysis)
        k = self.data.visit_position(analysis.visit)
        selected = self._selected(analysis)
        cols = np.flatnonzero(selected.any(axis=0))  # patients of the population, any replicate
        treated_index, _ = self._arms(analysis)
        treated = (self.data.arm_index == treated_index)[:, cols]
        completed = self._complete(analysis, k)
        m, n_rep = completed.m, self.data.n_replicates
        stratum = self._stratum(analysis, selected)[:, cols]
        selected = selected[:, cols]
        values = np.where(selected[None, ..., None], completed.values[:, :, cols], np.nan)
        base = values[0, :, :, 0]
        covariates = self._covariates(analysis)[:, cols]

        def tile(a: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
            return np.concatenate([a] * m, axis=0) if m > 1 else a

        stacked = values.reshape(m * n_rep, *values.shape[2:])
        strata_in_model = stratum if analysis.strata else None
        method = analysis.method
        result: EstimateResult
        if method == "ancova":
            result = AncovaSpec(alpha=analysis.alpha).fit(
                stacked[..., k] - stacked[..., 0],
                baseline=tile(base),
                treated=tile(treated),
                covariates=tile(covariates),
                stratum=None if strata_in_model is None else tile(strata_in_model),
            )
        elif method == "gmr":
            result = GmrSpec(alpha=analysis.alpha).fit(
                stacked[..., k],
                baseline=base,
                treated=treated,
                covariates=covariates,
                stratum=strata_in_model,
            )
        elif method == "mmrm":
            result = MmrmSpec(visit_index=k - 1, alpha=analysis.alpha).fit(
                stacked[..., 1 : k + 1] - stacked[..., :1],
                baseline=base,
                treated=np.where(selected, treated, False),
                covariates=covariates,
                stratum=stratum if analysis.strata else None,
            )
        else:
            result = self._rank(
                analysis, k, cols, stacked, tile, treated, base, stratum, covariates
            )
        if m > 1:
            result = pool_imputations(
                result, m, alpha=analysis.alpha, imputation_status=completed.status
            )
        else:
            bad = completed.status != "ok"
            if bad.any():
                result = _with_status(result, bad, str(completed.status[bad][0]))
        return self._check_scale(analysis, result)

    def _rank(
        self,
        analysis: PlannedAnalysis,
        k: int,
        cols: IntArray,
        stacked: FloatArray,
        tile: object,
        treated: BoolArray,
        base: FloatArray,
        stratum: IntArray,
        covariates: FloatArray,
    ) -> EstimateResult:
        tiler = tile  # callable: repeat a per-replicate array once per imputation
        function = stacked[..., 1 : k + 1] - stacked[..., :1]
        time_days: FloatArray | None = None
        event: BoolArray | None = None
        death = analysis.death_handling()
        if death.strategy == "composite" and DEATH_EVENT in self.data.events:
            time_days, event = self._follow_up(DEATH_EVENT, float(self.data.visit_days[k]))
            time_days = tiler(time_days[:, cols])  # type: ignore[operator]
            event = tiler(event[:, cols])  # type: ignore[operator]
        kwargs = {
            "treated": tiler(treated),  # type: ignore[operator]
            "time_days": time_days,
            "event": event,
            "stratum": tiler(stratum),  # type: ignore[operator]
        }
        if analysis.method == "joint-rank":
            return JointRankSpec(alpha=analysis.alpha).fit(function, **kwargs)
        if analysis.method == "win-ratio":
            return WinRatioSpec(alpha=analysis.alpha).fit(function, **kwargs)
        return RankAncovaSpec(alpha=analysis.alpha).fit(
            function,
            baseline=tiler(base),  # type: ignore[operator]
            covariates=tiler(covariates),  # type: ignore[operator]
            **kwargs,
        )

    def _follow_up(self, endpoint: str, limit_day: float) -> tuple[FloatArray, BoolArray]:
        """Days from Day 1 to the event or censoring, follow-up cut at `limit_day`."""
        times = self.data.events[endpoint]
        end = np.minimum(times.censor_day, limit_day)
        event = times.event_day <= end
        day = np.where(event, times.event_day, end)
        return day - 1.0, np.asarray(event)

    def _survival(self, analysis: PlannedAnalysis) -> EstimateResult:
        data = self.data
        if analysis.endpoint not in data.events:
            raise AnalysisError(
                f"analysis {analysis.name}: the data have no times for {analysis.endpoint}; "
                f"allowed: {', '.join(data.events) or 'none'}"
            )
        if analysis.visit == LANDMARK_VISIT:
            if analysis.endpoint not in data.landmark_days:
                raise AnalysisError(
                    f"analysis {analysis.name}: {analysis.endpoint} has no landmark in the data"
                )
            limit = float(data.landmark_days[analysis.endpoint])
        else:
            limit = float(data.visit_days[data.visit_position(analysis.visit)])
        times = data.events[analysis.endpoint]
        if analysis.endpoint != DEATH_EVENT and DEATH_EVENT in data.events:
            # death competes with the event: counted as one (composite) or censoring
            death_day = data.death_day
            if analysis.death_handling().strategy == "composite":
                times = EventTimes(
                    event_day=np.minimum(times.event_day, death_day), censor_day=times.censor_day
                )
            else:
                times = EventTimes(
                    event_day=np.where(death_day < times.event_day, np.inf, times.event_day),
                    censor_day=np.minimum(times.censor_day, death_day),
                )
        end = np.minimum(times.censor_day, limit)
        happened = times.event_day <= end
        if data.complete:  # true effect: follow-up to the visit unless the event came first
            end = np.full_like(end, limit)
            happened = times.event_day <= limit
        selected = self._selected(analysis)
        treated_index, _ = self._arms(analysis)
        treated = data.arm_index == treated_index
        stratum = self._stratum(analysis, selected)
        if analysis.method == "risk-difference":
            known = happened | (end >= limit)
            outcome = np.where(known & selected, happened.astype(np.float64), np.nan)
            return RiskDifferenceSpec(alpha=analysis.alpha).fit(
                outcome, treated=treated, stratum=stratum if analysis.strata else None
            )
        time_days = np.where(selected, np.where(happened, times.event_day, end) - 1.0, np.nan)
        if analysis.method == "km":
            return KaplanMeierSpec(landmark_days=limit - 1.0, alpha=analysis.alpha).fit(
                time_days, event=happened, treated=treated
            )
        if analysis.method == "logrank":
            return LogRankSpec(alpha=analysis.alpha).fit(
                time_days, event=happened, treated=treated, stratum=stratum
            )
        return CoxSpec(alpha=analysis.alpha).fit(
            time_days,
            event=happened,
            treated=treated,
            covariates=self._covariates(analysis),
            stratum=stratum,
        )

    def _check_scale(self, analysis: PlannedAnalysis, result: EstimateResult) -> EstimateResult:
        """A change estimate beyond the endpoint's range is a degenerate fit, never a number."""
        width = endpoint_scale(analysis.endpoint).width
        if analysis.method not in ("ancova", "mmrm") or not np.isfinite(width):
            return result
        checks = [result.estimate]
        if isinstance(result, AncovaResult | PooledResult | MmrmResult):
            checks += [result.lsmean_treated, result.lsmean_control]
        with np.errstate(invalid="ignore"):
            off = np.zeros(result.n_replicates, dtype=bool)
            for values in checks:
                off |= np.abs(values) > width
        return _with_status(
            result,
            off,
            f"implausible estimate: beyond +/-{width:g} points, the range of {analysis.endpoint} "
            f"(a degenerate fit: too few patients per arm or visit?)",
        )
