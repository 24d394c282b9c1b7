"""Design features of prevention trials in presymptomatic carriers: a monitoring run-in, a trigger
rule on a biomarker that randomises the carrier, event endpoints assessed on their own schedule,
and open-label rescue at the event.

The shape follows ATLAS (evidence atlas_*) but nothing here is ATLAS-only:

- `RunIn` (Part A): carriers are sampled every `sampling_interval_days` for at most `max_days`
  from their own entry; `n_carriers` is the size of the monitored cohort from which the expected
  randomised-part size is projected.
- `TriggerRule`: a sample triggers randomisation when it is at or above `min_level_pg_ml` and at
  least `min_rise_pg_ml` above the carrier's own baseline (mean of the first `baseline_samples`
  samples); with `confirm` the next scheduled sample must meet the rule too and the carrier is
  randomised on the confirming sample's day. The randomised part's Day 1 is that day.
- `EventEndpoint`: an event (PHENOCNV, clinically manifest ALS) found at clinical assessments
  every `assessment_interval_days`, in the run-in and from Day 1 on; the primary summary is the
  proportion with the event by `landmark_day`, which must be an assessment day.
- `Rescue`: who has the event switches to open-label treatment (ATLAS Part C).
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from alsim.design.trial import TrialDesign

MAX_RUN_IN_DAYS = 20 * 365
MAX_CARRIERS = 100_000
EVENT_ENDPOINTS = ("PHENOCNV",)
CARRIER_ENDPOINTS = ("CSFSOD1", "PLNFL", "CSFNFL", *EVENT_ENDPOINTS)
VARIANT_STRATA = ("A4V", "NON-A4V")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunIn(_Frozen):
    """A monitoring run-in before randomisation (ATLAS Part A)."""

    sampling_interval_days: int = Field(gt=0, le=365)
    max_days: int = Field(gt=0, le=MAX_RUN_IN_DAYS)
    n_carriers: int | None = Field(None, ge=1, le=MAX_CARRIERS)
    dropout_per_year: float = Field(0.0, ge=0, le=5)

    @model_validator(mode="after")
    def _at_least_two_samples(self) -> "RunIn":
        if self.max_days < self.sampling_interval_days:
            raise ValueError(
                f"max_days ({self.max_days}) must be at least one sampling interval "
                f"({self.sampling_interval_days} days)"
            )
        return self


class TriggerRule(_Frozen):
    """Randomise when a biomarker sample reaches a level and a rise from the carrier's baseline."""

    biomarker: Literal["PLNFL"] = "PLNFL"
    min_level_pg_ml: float = Field(0.0, ge=0, le=100_000)
    min_rise_pg_ml: float = Field(0.0, ge=0, le=100_000)
    baseline_samples: int = Field(1, ge=1, le=24)
    confirm: bool = False

    @model_validator(mode="after")
    def _fires_on_change(self) -> "TriggerRule":
        if self.min_level_pg_ml <= 0 and self.min_rise_pg_ml <= 0:
            raise ValueError(
                "min_level_pg_ml or min_rise_pg_ml must be > 0 (a rule without either fires on "
                "every sample)"
            )
        return self


class EventEndpoint(_Frozen):
    """An event assessed at clinical visits every `assessment_interval_days` from Day 1."""

    paramcd: Literal["PHENOCNV"] = "PHENOCNV"
    assessment_interval_days: int = Field(gt=0, le=365)
    landmark_day: int = Field(ge=2, le=MAX_RUN_IN_DAYS)

    @model_validator(mode="after")
    def _landmark_on_assessment(self) -> "EventEndpoint":
        if (self.landmark_day - 1) % self.assessment_interval_days:
            raise ValueError(
                f"landmark_day ({self.landmark_day}) must be an assessment day: 1 + a multiple "
                f"of assessment_interval_days ({self.assessment_interval_days})"
            )
        return self

    def assessment_days(self, last_day: int) -> tuple[int, ...]:
        """Study days of the assessments up to `last_day` (Day 1 = randomisation included)."""
        return tuple(range(1, last_day + 1, self.assessment_interval_days))


class Rescue(_Frozen):
    """Open-label treatment for anyone who has `event` (follow-up after it is not simulated)."""

    event: Literal["PHENOCNV"] = "PHENOCNV"
    arm_label: str = Field(min_length=1, max_length=40)
    dose_mg: float = Field(ge=0, le=1000)


def event_endpoint(design: "TrialDesign", paramcd: str = "PHENOCNV") -> EventEndpoint:
    """The event endpoint `paramcd` of `design` (ValueError if it has none)."""
    for event in design.event_endpoints:
        if event.paramcd == paramcd:
            return event
    raise ValueError(f"{design.study_id} has no event endpoint {paramcd}")


def check_carrier_design(design: "TrialDesign") -> None:
    """Cross-field rules of run-in designs; raises ValueError naming the field."""
    has_run_in = design.run_in is not None
    if has_run_in != (design.trigger is not None):
        raise ValueError(
            "run_in and trigger go together: a monitoring run-in randomises by a trigger rule"
        )
    events = [e.paramcd for e in design.event_endpoints]
    listed = [e for e in design.endpoints if e in EVENT_ENDPOINTS]
    if len(set(events)) != len(events) or sorted(events) != sorted(listed):
        raise ValueError(
            f"event_endpoints must describe each event endpoint of endpoints once: endpoints "
            f"list {listed}, event_endpoints {events}"
        )
    if not has_run_in:
        if events or design.rescue is not None:
            raise ValueError("event_endpoints and rescue need a run_in (presymptomatic designs)")
        return
    assert design.run_in is not None and design.trigger is not None
    _only(design.endpoints, CARRIER_ENDPOINTS, "endpoints")
    n_samples = design.run_in.max_days // design.run_in.sampling_interval_days + 1
    needed = design.trigger.baseline_samples + 1 + int(design.trigger.confirm)
    if needed > n_samples:
        raise ValueError(
            f"trigger.baseline_samples ({design.trigger.baseline_samples}) leaves no run-in sample "
            f"to trigger on: the run-in has {n_samples} samples (run_in.max_days / "
            "sampling_interval_days + 1)"
        )
    if design.trigger.biomarker not in design.endpoints:
        raise ValueError(
            f"trigger.biomarker {design.trigger.biomarker} must be one of the endpoints "
            f"{list(design.endpoints)}"
        )
    for name in ("extension", "faster_rule", "eligibility"):
        if getattr(design, name) is not None:
            raise ValueError(
                f"{name} is not available with a run_in (symptomatic designs only); use rescue "
                "for treatment after the event"
            )
    if design.randomization.unit == "stratum":
        _only(
            [g.name for g in design.randomization.groups],
            VARIANT_STRATA,
            "randomization.groups names (run-in designs stratify by variant class)",
        )
    elif len(design.randomization.groups) != 1:
        raise ValueError(
            "randomization: a run-in design randomises carriers as they trigger; give one group, "
            f"or unit 'stratum' with groups {list(VARIANT_STRATA)}"
        )
    last_day = design.visits[-1].day
    for i, event in enumerate(design.event_endpoints):
        if event.landmark_day > last_day:
            raise ValueError(
                f"event_endpoints[{i}].landmark_day ({event.landmark_day}) must not come after "
                f"the last visit (day {last_day})"
            )
    if design.rescue is not None and design.rescue.event not in events:
        raise ValueError(f"rescue.event {design.rescue.event} is not one of the event_endpoints")


def _only(values: Sequence[str], allowed: Sequence[str], field: str) -> None:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(
            f"{field}: {bad} not available in a run-in design; allowed: {', '.join(allowed)}"
        )
