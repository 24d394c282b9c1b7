"""Analysis plans as data: named estimands (ICH E9(R1)) in the design's ``analysis_plan:``.

Each analysis names its population (``ITT`` or a randomisation group), endpoint (a PARAMCD the
design measures), visit, summary method (``ancova``, ``mmrm``, ``gmr``, ``joint-rank``,
``rank-ancova``, ``win-ratio``, ``cox``, ``logrank``, ``risk-difference``), covariates, strata,
and how each intercurrent event is handled:

- ``death_or_ventilation`` (death or permanent ventilation): ``composite`` (the event is an
  outcome: ranked worst by the rank methods, earlier worse, or given a stated ``score``),
  ``while-alive`` (the value at the last visit alive), or ``hypothetical`` (the value had the
  patient not died: imputed under ``imputation``). ``treatment-policy`` is refused: function is
  not defined after death.
- ``discontinuation`` (treatment discontinuation; the simulator collects no data after it):
  ``treatment-policy`` (what would have been measured off treatment: the missing values are
  imputed under ``imputation``, usually a reference-based one), ``hypothetical`` (had treatment
  continued: ``mar`` imputation, or observed cases without imputations), ``while-on-treatment``
  (the last value on treatment) or ``composite`` (a stated ``score``).

``imputation`` is ``mar`` (missing at random, within arm), or reference-based (Carpenter, Roger &
Kenward 2013): ``jump-to-reference``, ``copy-increments-from-reference``, ``copy-reference``.
Imputed values respect the endpoint's scale (ALSFRS-R integers 0-48, SVC and HHD >= 0,
biomarkers positive).

A design without ``analysis_plan`` gets `default_plan`, derived from its endpoints (documented
there); the shipped templates state theirs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alsim.errors import DesignError

if TYPE_CHECKING:
    from alsim.design.trial import TrialDesign

__all__ = [
    "COVARIATES",
    "IMPUTATIONS",
    "ITT",
    "LAST_VISIT",
    "METHODS",
    "PRIMARY_VISIT",
    "RANK_METHODS",
    "STRATEGIES",
    "SURVIVAL_METHODS",
    "EventHandling",
    "IntercurrentEvents",
    "PlannedAnalysis",
    "default_plan",
    "highest_dose_arm",
]

Method = Literal[
    "ancova",
    "mmrm",
    "gmr",
    "joint-rank",
    "rank-ancova",
    "win-ratio",
    "cox",
    "logrank",
    "risk-difference",
    "km",
]
Strategy = Literal[
    "treatment-policy", "composite", "while-alive", "while-on-treatment", "hypothetical"
]
Imputation = Literal["mar", "jump-to-reference", "copy-increments-from-reference", "copy-reference"]
Covariate = Literal["AGE", "SEX"]
StratumVariable = Literal["STRATUM"]

METHODS: tuple[str, ...] = Method.__args__  # type: ignore[attr-defined]
STRATEGIES: tuple[str, ...] = Strategy.__args__  # type: ignore[attr-defined]
IMPUTATIONS: tuple[str, ...] = Imputation.__args__  # type: ignore[attr-defined]
COVARIATES: tuple[str, ...] = Covariate.__args__  # type: ignore[attr-defined]
SURVIVAL_METHODS = ("cox", "logrank", "risk-difference", "km")
RANK_METHODS = ("joint-rank", "rank-ancova", "win-ratio")
MEAN_METHODS = ("ancova", "mmrm", "gmr")
PRIMARY_VISIT = "PRIMARY"
LAST_VISIT = "LAST"
LANDMARK_VISIT = "LANDMARK"
ITT = "ITT"
DEATH_EVENT = "DTHPV"
DEFAULT_IMPUTATIONS = 10
DEATH_STRATEGIES = ("composite", "while-alive", "hypothetical")
DISCONTINUATION_STRATEGIES = ("treatment-policy", "composite", "while-on-treatment", "hypothetical")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EventHandling(_Frozen):
    """How one intercurrent event enters the estimand.

    ``imputation`` applies to the values a ``hypothetical`` or ``treatment-policy`` strategy has to
    impute (default ``mar``); ``score`` is the value a ``composite`` strategy gives from the event
    on, in the endpoint's units (e.g. 0 for ALSFRS-R).
    """

    strategy: Strategy
    imputation: Imputation | None = None
    score: float | None = None

    @model_validator(mode="after")
    def _fields_fit_strategy(self) -> EventHandling:
        if self.imputation is not None and self.strategy not in (
            "hypothetical",
            "treatment-policy",
        ):
            raise ValueError(
                f"imputation applies to the hypothetical and treatment-policy strategies, not "
                f"{self.strategy!r}; remove it"
            )
        if self.score is not None and self.strategy != "composite":
            raise ValueError(f"score applies to the composite strategy, not {self.strategy!r}")
        return self

    @property
    def imputation_method(self) -> str:
        """The imputation model of the values this strategy imputes (``mar`` when unstated)."""
        return self.imputation or "mar"


class IntercurrentEvents(_Frozen):
    """The strategy for each intercurrent event; unstated ones take `PlannedAnalysis` defaults."""

    death_or_ventilation: EventHandling | None = None
    discontinuation: EventHandling | None = None

    @model_validator(mode="after")
    def _allowed(self) -> IntercurrentEvents:
        death, stop = self.death_or_ventilation, self.discontinuation
        if death is not None and death.strategy not in DEATH_STRATEGIES:
            raise ValueError(
                f"death_or_ventilation.strategy {death.strategy!r} is not allowed: function is "
                f"not defined after death; allowed: {', '.join(DEATH_STRATEGIES)}"
            )
        if stop is not None and stop.strategy not in DISCONTINUATION_STRATEGIES:
            raise ValueError(
                f"discontinuation.strategy {stop.strategy!r} is not allowed; allowed: "
                f"{', '.join(DISCONTINUATION_STRATEGIES)}"
            )
        return self


class PlannedAnalysis(_Frozen):
    """One estimand and the analysis that estimates it.

    ``visit`` is a visit name, ``PRIMARY`` (the design's primary visit) or ``LAST`` (its last
    visit), resolved per design so that a grid over durations analyses each at its own end. For
    time-to-event methods it is the end of the follow-up analysed (``risk-difference``: the
    proportion with the event by then; ``km``: the Kaplan-Meier difference there); an event
    endpoint of a run-in design also takes ``LANDMARK``, its ``landmark_day``. ``treated_arm``
    (default: the highest-dose arm) is compared with the design's control arm. The baseline value
    of the endpoint is always a covariate of ``ancova``, ``mmrm``, ``gmr`` and ``rank-ancova``;
    ``covariates`` adds AGE or SEX. ``strata: [STRATUM]`` adds the randomisation stratum (a
    factor in linear models, strata in rank, survival and Mantel-Haenszel analyses).
    ``imputations`` >= 2 multiply imputes the values the strategies leave missing (Rubin's
    rules); 0 analyses observed cases (``mmrm``: all observed visits, by likelihood).
    """

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    method: Method
    endpoint: str = Field(min_length=1, max_length=8)
    population: str = ITT
    visit: str = PRIMARY_VISIT
    treated_arm: str | None = None
    covariates: tuple[Covariate, ...] = ()
    strata: tuple[StratumVariable, ...] = ()
    intercurrent_events: IntercurrentEvents = IntercurrentEvents()
    imputations: int = Field(0, ge=0, le=1000)
    alpha: float = Field(0.05, gt=0, lt=1)
    primary: bool = False

    @model_validator(mode="after")
    def _method_fits(self) -> PlannedAnalysis:
        death = self.intercurrent_events.death_or_ventilation
        stop = self.intercurrent_events.discontinuation
        method = self.method
        if self.imputations == 1:
            raise ValueError("imputations must be 0 (observed cases) or at least 2")
        if method in SURVIVAL_METHODS:
            if self.imputations:
                raise ValueError(f"imputations: {method} analyses time to event; must be 0")
            if stop is not None and stop.strategy != "hypothetical":
                raise ValueError(
                    f"intercurrent_events.discontinuation: {method} censors follow-up at "
                    f"discontinuation (hypothetical); {stop.strategy!r} is not available"
                )
            if death is not None and death.strategy == "while-alive":
                raise ValueError(
                    f"intercurrent_events.death_or_ventilation: {method} counts death as an "
                    "event (composite) or censors at it (hypothetical), not while-alive"
                )
            if method in ("logrank", "risk-difference", "km") and self.covariates:
                raise ValueError(f"covariates: {method} takes no covariates")
            if method == "km" and self.strata:
                raise ValueError("strata: km compares the arms' Kaplan-Meier curves unstratified")
            return self
        if method in ("joint-rank", "win-ratio") and self.covariates:
            raise ValueError(f"covariates: {method} takes strata, not covariates")
        for event, handling in (("death_or_ventilation", death), ("discontinuation", stop)):
            if handling is None:
                continue
            where = f"intercurrent_events.{event}"
            ranked = method in RANK_METHODS and event == "death_or_ventilation"
            if handling.strategy == "composite" and handling.score is None and not ranked:
                raise ValueError(
                    f"{where}: a composite strategy in a {method} analysis needs the "
                    f"score given from the event on (e.g. score: 0)"
                )
            needs_imputation = handling.strategy == "treatment-policy" or (
                handling.strategy == "hypothetical" and handling.imputation_method != "mar"
            )
            if needs_imputation and self.imputations < 2:
                raise ValueError(
                    f"{where}: strategy {handling.strategy!r} with imputation "
                    f"{handling.imputation_method!r} imputes the missing values; set "
                    f"imputations >= 2"
                )
        if method == "mmrm" and self.imputations:
            raise ValueError(
                "imputations: mmrm uses every observed visit by likelihood (missing at random); "
                "for multiple or reference-based imputation use method ancova"
            )
        if method in ("gmr", "win-ratio") and self.imputations:
            raise ValueError(f"imputations: {method} analyses observed values; must be 0")
        if method == "gmr" and death is not None and death.strategy == "composite":
            raise ValueError(
                "intercurrent_events.death_or_ventilation: a GMR has no score for death; use "
                "hypothetical (observed cases) or while-alive"
            )
        return self

    @property
    def is_survival(self) -> bool:
        """Whether the method analyses a time to event."""
        return self.method in SURVIVAL_METHODS

    @property
    def log_scale(self) -> bool:
        """Whether the estimate is a ratio (GMR, HR, win ratio): bias is on the log scale."""
        return self.method in ("gmr", "cox", "logrank", "win-ratio")

    @property
    def null_value(self) -> float:
        """The estimate under no treatment effect."""
        return 1.0 if self.log_scale else 0.0

    @property
    def has_effect_size(self) -> bool:
        """False for test statistics (the joint rank T grows with N): no true value off the
        null."""
        return self.method != "joint-rank"

    def death_handling(self) -> EventHandling:
        """The stated or default handling of death or permanent ventilation.

        Defaults: the rank methods rank the event worst (composite); survival methods count it
        (composite, it is their event); the others leave values after death missing without
        imputing them (hypothetical, observed cases). With imputations the strategy must be
        stated (checked with the design): deaths are never silently imputed as alive.
        """
        stated = self.intercurrent_events.death_or_ventilation
        if stated is not None:
            return stated
        if self.method in RANK_METHODS or self.method in SURVIVAL_METHODS:
            return EventHandling(strategy="composite")
        return EventHandling(strategy="hypothetical")

    def discontinuation_handling(self) -> EventHandling:
        """The stated or default handling of treatment discontinuation (hypothetical, MAR)."""
        stated = self.intercurrent_events.discontinuation
        return stated if stated is not None else EventHandling(strategy="hypothetical")

    def estimand_text(self) -> str:
        """One line describing the estimand (population, variable, events, summary)."""
        death, stop = self.death_handling(), self.discontinuation_handling()

        def describe(h: EventHandling) -> str:
            text: str = h.strategy
            if h.strategy in ("hypothetical", "treatment-policy"):
                text += f" ({h.imputation_method} imputation)" if self.imputations else ""
            if h.score is not None:
                text += f" (score {h.score:g})"
            return text

        events = f"discontinuation: {describe(stop)}"
        if self.endpoint != DEATH_EVENT:
            events = f"death or permanent ventilation: {describe(death)}; {events}"
        return f"{self.population}, {self.endpoint} at {self.visit}, {self.method}; {events}"


def highest_dose_arm(design: TrialDesign) -> str:
    """The label of the arm with the highest dose (first one on ties), control excluded."""
    arms = [a for a in design.arms if a.label != design.control_arm]
    return max(arms, key=lambda a: a.dose_mg).label


def check_plan(design: TrialDesign, plan: tuple[PlannedAnalysis, ...]) -> None:
    """Check `plan` against `design`: raises ValueError naming ``analysis_plan[i].field``."""
    from alsim.design.presymptomatic import EVENT_ENDPOINTS
    from alsim.design.trial import TIME_TO_EVENT_ENDPOINTS

    time_to_event_endpoints = (*TIME_TO_EVENT_ENDPOINTS, *EVENT_ENDPOINTS)
    landmarks = {e.paramcd for e in design.event_endpoints}
    names = [a.name for a in plan]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"analysis_plan: names must be unique, {duplicates[0]!r} repeats")
    visits = [v.name for v in design.visits][1:]
    groups = [g.name for g in design.randomization.groups]
    for i, analysis in enumerate(plan):
        where = f"analysis_plan[{i}]"
        if analysis.endpoint not in design.endpoints:
            raise ValueError(
                f"{where}.endpoint: {analysis.endpoint!r} is not an endpoint of the design; "
                f"allowed: {', '.join(design.endpoints)}"
            )
        time_to_event = analysis.endpoint in time_to_event_endpoints
        if analysis.is_survival != time_to_event:
            kind = "a time-to-event" if analysis.is_survival else "a visit"
            allowed = [
                e
                for e in design.endpoints
                if (e in TIME_TO_EVENT_ENDPOINTS) == analysis.is_survival
            ]
            raise ValueError(
                f"{where}.endpoint: {analysis.method} needs {kind} endpoint, got "
                f"{analysis.endpoint!r}; allowed: {', '.join(allowed) or 'none in this design'}"
            )
        landmark = (LANDMARK_VISIT,) if analysis.endpoint in landmarks else ()
        if analysis.visit not in (PRIMARY_VISIT, LAST_VISIT, *landmark, *visits):
            raise ValueError(
                f"{where}.visit: {analysis.visit!r} is not a post-baseline visit; allowed: "
                f"{', '.join((PRIMARY_VISIT, LAST_VISIT, *landmark, *visits))}"
            )
        if analysis.population not in (ITT, *groups):
            raise ValueError(
                f"{where}.population: {analysis.population!r} is not a randomisation group; "
                f"allowed: {ITT}, {', '.join(groups)}"
            )
        arms = [a.label for a in design.arms if a.label != design.control_arm]
        if analysis.treated_arm is not None and analysis.treated_arm not in arms:
            raise ValueError(
                f"{where}.treated_arm: {analysis.treated_arm!r} is not a treated arm; allowed: "
                f"{', '.join(arms)}"
            )
        if analysis.strata:
            if len(groups) < 2 or design.randomization.unit != "stratum":
                raise ValueError(
                    f"{where}.strata: the design is not randomised within strata; remove it"
                )
            if analysis.population != ITT:
                raise ValueError(
                    f"{where}.strata: population {analysis.population} is one stratum; remove "
                    f"strata or analyse the ITT population"
                )
        death = analysis.intercurrent_events.death_or_ventilation
        if analysis.endpoint == DEATH_EVENT and death is not None:
            raise ValueError(
                f"{where}.intercurrent_events.death_or_ventilation: death or permanent "
                f"ventilation is the event of {DEATH_EVENT}; remove it"
            )
        if (
            death is None
            and analysis.imputations
            and design.has_progression
            and analysis.method not in RANK_METHODS
        ):
            raise ValueError(
                f"{where}.intercurrent_events.death_or_ventilation: state how death or "
                f"permanent ventilation is handled (composite with a score, while-alive, or "
                f"hypothetical): with imputations the strategy decides whether values after "
                f"death are imputed"
            )


def default_plan(design: TrialDesign) -> tuple[PlannedAnalysis, ...]:
    """The plan of a design that states none, derived from its endpoints and strata.

    - ALSFRS-R: the joint rank test (death or permanent ventilation ranked worst, then ALSFRS-R
      change with 10 MAR imputations for discontinuation) at the primary visit, primary, in the
      FASTER stratum when the design has one (else ITT); ANCOVA of ALSFRS-R change with 10
      imputations in that population and the ITT (deaths and discontinuations hypothetical, MAR).
    - CSF SOD1 and plasma NfL: GMR ANCOVA at the primary visit, observed cases (primary when there
      is no ALSFRS-R).
    - DTHPV: Cox hazard ratio of death or permanent ventilation to the last visit.
    - with an open-label extension, the ITT ANCOVA of ALSFRS-R change at the last visit.
    - run-in (prevention) designs: the difference in the proportion with the event endpoint
      (PHENOCNV) by its landmark (primary; Mantel-Haenszel over the strata when randomisation is
      stratified), the Kaplan-Meier difference at the landmark, log-rank and Cox over the whole
      follow-up, and the GMR ANCOVA of plasma NfL at the primary visit.

    Highest dose vs control throughout; ITT analyses of stratified designs add the stratum.
    """
    groups = [g.name for g in design.randomization.groups]
    stratified = design.randomization.unit == "stratum" and len(groups) > 1
    strata: tuple[Literal["STRATUM"], ...] = ("STRATUM",) if stratified else ()
    if design.run_in is not None:
        return _run_in_plan(design, strata)
    endpoints = set(design.endpoints)
    mar = EventHandling(strategy="hypothetical", imputation="mar")
    mi_events = IntercurrentEvents(death_or_ventilation=mar, discontinuation=mar)

    def mi_ancova(name: str, population: str, visit: str = PRIMARY_VISIT) -> PlannedAnalysis:
        return PlannedAnalysis(
            name=name,
            method="ancova",
            endpoint="ALSFRSR",
            population=population,
            visit=visit,
            strata=strata if population == ITT else (),
            imputations=DEFAULT_IMPUTATIONS,
            intercurrent_events=mi_events,
        )

    plan: list[PlannedAnalysis] = []
    if "ALSFRSR" in endpoints:
        focus = "FASTER" if "FASTER" in groups else ITT
        plan.append(
            PlannedAnalysis(
                name=f"joint_rank_alsfrsr_{focus.lower()}",
                method="joint-rank",
                endpoint="ALSFRSR",
                population=focus,
                strata=strata if focus == ITT else (),
                imputations=DEFAULT_IMPUTATIONS,
                intercurrent_events=IntercurrentEvents(
                    death_or_ventilation=EventHandling(strategy="composite"),
                    discontinuation=mar,
                ),
                primary=True,
            )
        )
        for population in [focus] if focus == ITT else [focus, ITT]:
            plan.append(mi_ancova(f"ancova_alsfrsr_{population.lower()}", population))
    for paramcd, label in (("CSFSOD1", "csf_sod1"), ("PLNFL", "plasma_nfl")):
        if paramcd in endpoints:
            plan.append(
                PlannedAnalysis(
                    name=f"gmr_{label}",
                    method="gmr",
                    endpoint=paramcd,
                    strata=strata,
                    primary=not plan,
                )
            )
    if DEATH_EVENT in endpoints:
        plan.append(
            PlannedAnalysis(
                name="cox_death_or_ventilation",
                method="cox",
                endpoint=DEATH_EVENT,
                visit=LAST_VISIT,
                strata=strata,
            )
        )
    if design.extension is not None and "ALSFRSR" in endpoints:
        plan.append(mi_ancova("ancova_alsfrsr_itt_end", ITT, LAST_VISIT))
    if not plan:
        raise DesignError(
            f"{design.study_id}: no default analysis for endpoints {sorted(endpoints)}; write an "
            f"analysis_plan"
        )
    return tuple(plan)


def _run_in_plan(
    design: TrialDesign, strata: tuple[Literal["STRATUM"], ...]
) -> tuple[PlannedAnalysis, ...]:
    """The default plan of a run-in design (see `default_plan`)."""
    plan: list[PlannedAnalysis] = []
    for event in design.event_endpoints:
        label = event.paramcd.lower()
        plan += [
            PlannedAnalysis(
                name=f"risk_difference_{label}_landmark",
                method="risk-difference",
                endpoint=event.paramcd,
                visit=LANDMARK_VISIT,
                strata=strata,
                primary=not plan,
            ),
            PlannedAnalysis(
                name=f"km_{label}_landmark", method="km", endpoint=event.paramcd, visit="LANDMARK"
            ),
        ]
        plan += [
            PlannedAnalysis.model_validate(
                {
                    "name": f"{method}_{label}",
                    "method": method,
                    "endpoint": event.paramcd,
                    "visit": LAST_VISIT,
                    "strata": strata,
                }
            )
            for method in ("logrank", "cox")
        ]
    if "PLNFL" in design.endpoints:
        plan.append(
            PlannedAnalysis(name="gmr_plasma_nfl", method="gmr", endpoint="PLNFL", strata=strata)
        )
    return tuple(plan)
