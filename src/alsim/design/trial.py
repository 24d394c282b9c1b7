"""Trial designs as pure, immutable data: arms, regimen, randomisation groups, visits.

Study days follow CDISC: the first dose is Day 1 (model time t = 0 days); there is no Day 0.
"""

import itertools
import math
import unicodedata
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alsim.design.plan import PlannedAnalysis, check_plan, default_plan
from alsim.design.presymptomatic import (
    EVENT_ENDPOINTS,
    EventEndpoint,
    Rescue,
    RunIn,
    TriggerRule,
    check_carrier_design,
)
from alsim.population.sampling import PopulationSpec

MAX_PATIENTS_PER_TRIAL = 100_000
MAX_STUDY_DAY = 20 * 365
Endpoint = Literal["CSFSOD1", "PLNFL", "CSFNFL", "ALSFRSR", "SVCPP", "HHDMEGA", "DTHPV", "PHENOCNV"]
BIOMARKER_ENDPOINTS = ("CSFSOD1", "PLNFL", "CSFNFL")
CLINICAL_ENDPOINTS = ("ALSFRSR", "SVCPP", "HHDMEGA")
TIME_TO_EVENT_ENDPOINTS = ("DTHPV",)
FASTER_STRATUM = "FASTER"
SLOWER_STRATUM = "SLOWER"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Regimen(_Frozen):
    """Intrathecal boluses: loading doses on the listed study days, then one every `interval_days`.

    In NONMEM terms the maintenance phase is one record with II = interval_days and
    ADDL = n_maintenance - 1, starting `interval_days` after the last loading dose.
    """

    loading_days: tuple[int, ...] = Field(min_length=1)
    interval_days: int = Field(gt=0, le=365)
    n_maintenance: int = Field(ge=0, le=1000)

    @field_validator("loading_days")
    @classmethod
    def _increasing(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if days[0] < 1 or any(b <= a for a, b in itertools.pairwise(days)):
            raise ValueError("must be study days >= 1 in strictly increasing order")
        return days

    @property
    def dose_days(self) -> tuple[int, ...]:
        """All dosing study days, loading then maintenance."""
        last = self.loading_days[-1]
        maintenance = tuple(last + self.interval_days * (i + 1) for i in range(self.n_maintenance))
        return self.loading_days + maintenance


class Arm(_Frozen):
    """A treatment arm; `label` is the TRT01P value written to ADSL."""

    label: str = Field(min_length=1, max_length=40)
    dose_mg: float = Field(ge=0, le=1000)


class RandomizationGroup(_Frozen):
    """A cohort or stratum with the number of patients randomised to each arm in it."""

    name: str = Field(min_length=1, max_length=40)
    n_per_arm: dict[str, int] = Field(min_length=1)

    @field_validator("n_per_arm")
    @classmethod
    def _non_negative(cls, counts: dict[str, int]) -> dict[str, int]:
        for label, count in counts.items():
            if count < 0:
                raise ValueError(f"{label!r} must be >= 0, got {count}")
        return counts


class Randomization(_Frozen):
    """Randomisation within groups (`cohort` or `stratum`) at `ratio` (active:control).

    The groups' `n_per_arm` counts decide who gets what; `ratio` describes them and must agree
    with them (all active arms against the control arm, within one patient per group of
    rounding), so a ratio that disagrees with the counts is an error, not a silent label.
    `unit: none` means one group.
    """

    unit: Literal["cohort", "stratum", "none"]
    ratio: str = Field(pattern=r"^\d+:\d+$")
    groups: tuple[RandomizationGroup, ...] = Field(min_length=1)


def ratio_matches(ratio: str, n_active: int, n_control: int, n_groups: int) -> bool:
    """Whether `ratio` (active:control) describes counts of `n_active` and `n_control` patients
    randomised in `n_groups` groups, each of which may round its split by up to one patient."""
    active, control = (int(part) for part in ratio.split(":"))
    expected = (n_active + n_control) * control / (active + control)
    return abs(n_control - expected) <= n_groups


def counts_ratio(n_active: int, n_control: int) -> str:
    """The ratio `n_active:n_control` in lowest terms, e.g. 72, 36 -> '2:1'."""
    divisor = math.gcd(n_active, n_control) or 1
    return f"{n_active // divisor}:{n_control // divisor}"


class Visit(_Frozen):
    """A scheduled assessment; `name` becomes AVISIT, `day` the planned ADY."""

    name: str = Field(min_length=1, max_length=40)
    day: int = Field(ge=1, le=MAX_STUDY_DAY)


class FasterRule(_Frozen):
    """The faster-progression stratum rule: A4V-like variants, or a pre-study ALSFRS-R slope
    (48 - ALSFRS-R)/(months since onset) at or above `prestudy_slope_per_month`.

    VALOR defined faster progression from SOD1 variant type and the pre-randomisation slope
    (evidence valor_faster_definition); its numeric cut-offs are not public, so the default of
    0.9 points/month is an assumption, to be varied in sensitivity analyses.
    """

    a4v_is_faster: bool = True
    prestudy_slope_per_month: float = Field(0.9, gt=0, le=48)


class Eligibility(_Frozen):
    """Entry criteria checked on generated candidates before they fill a stratum."""

    min_alsfrsr: float = Field(0.0, ge=0, le=48)
    max_alsfrsr: float = Field(48.0, ge=0, le=48)
    min_svc_pct: float = Field(0.0, ge=0, le=150)

    @model_validator(mode="after")
    def _range(self) -> "Eligibility":
        if self.min_alsfrsr > self.max_alsfrsr:
            raise ValueError(
                f"min_alsfrsr ({self.min_alsfrsr}) must be <= max_alsfrsr ({self.max_alsfrsr})"
            )
        return self


class Extension(_Frozen):
    """An open-label extension: from `start_day` everyone who enters gets `arm_label` (TRT02P).

    `entry_fraction` is the share of randomised patients expected to enter; it is applied as the
    probability of entering among patients still in the study (alive, not withdrawn) at
    `start_day`, scaled up by the share of patients lost before it in the replicate.
    """

    start_day: int = Field(ge=2, le=MAX_STUDY_DAY)
    arm_label: str = Field(min_length=1, max_length=40)
    dose_mg: float = Field(ge=0, le=1000)
    regimen: Regimen
    entry_fraction: float = Field(1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _doses_in_extension(self) -> "Extension":
        if self.regimen.loading_days[0] < self.start_day:
            raise ValueError(
                f"regimen.loading_days must start on or after start_day ({self.start_day}), "
                f"got {self.regimen.loading_days[0]}"
            )
        return self


class TrialDesign(_Frozen):
    """A complete, validated trial design; see `designs/*.yaml` for the templates."""

    study_id: str = Field(min_length=1, max_length=40)
    title: str
    reference: str = ""
    control_arm: str = "PLACEBO"
    arms: tuple[Arm, ...] = Field(min_length=2)
    regimen: Regimen
    randomization: Randomization
    visits: tuple[Visit, ...] = Field(min_length=2)
    endpoints: tuple[Endpoint, ...] = Field(min_length=1)
    primary_visit: str
    dropout_per_year: float = Field(0.0, ge=0, le=5)
    population: PopulationSpec = PopulationSpec()
    faster_rule: FasterRule | None = None
    eligibility: Eligibility | None = None
    extension: Extension | None = None
    run_in: RunIn | None = None
    trigger: TriggerRule | None = None
    event_endpoints: tuple[EventEndpoint, ...] = ()
    rescue: Rescue | None = None
    analysis_plan: tuple[PlannedAnalysis, ...] | None = Field(None, min_length=1)

    @field_validator("study_id", "title", "reference")
    @classmethod
    def _printable(cls, text: str) -> str:
        if any(unicodedata.category(ch) == "Cc" for ch in text):
            raise ValueError("must not contain control characters (tabs, line breaks, ...)")
        return text

    @model_validator(mode="after")
    def _consistent(self) -> "TrialDesign":
        labels = [arm.label for arm in self.arms]
        if len(set(labels)) != len(labels):
            raise ValueError(f"arms: labels must be unique, got {labels}")
        if self.control_arm not in labels:
            raise ValueError(f"control_arm {self.control_arm!r} is not one of the arms {labels}")
        allocated: set[str] = set()
        for i, group in enumerate(self.randomization.groups):
            for label in group.n_per_arm:
                if label not in labels:
                    raise ValueError(
                        f"randomization.groups[{i}].n_per_arm: unknown arm {label!r}; "
                        f"allowed: {', '.join(labels)}"
                    )
                if group.n_per_arm[label] > 0:
                    allocated.add(label)
        missing = [label for label in labels if label not in allocated]
        if missing:
            raise ValueError(f"arms {missing} get no patients in randomization.groups")
        if not 1 <= self.n_patients <= MAX_PATIENTS_PER_TRIAL:
            raise ValueError(
                f"randomization: total patients must be 1..{MAX_PATIENTS_PER_TRIAL}, "
                f"got {self.n_patients}"
            )
        names = [v.name for v in self.visits]
        if len(set(names)) != len(names):
            raise ValueError(f"visits: names must be unique, got {names}")
        days = [v.day for v in self.visits]
        if days[0] != 1 or any(b <= a for a, b in itertools.pairwise(days)):
            raise ValueError(
                f"visits: the first visit must be the baseline on day 1 and days must increase, "
                f"got {days}"
            )
        if self.primary_visit not in names[1:]:
            raise ValueError(
                f"primary_visit {self.primary_visit!r} must be a post-baseline visit; "
                f"allowed: {', '.join(names[1:])}"
            )
        self._check_ratio()
        self._check_used(names, days)
        if self.faster_rule is not None:
            groups = tuple(g.name for g in self.randomization.groups)
            if self.randomization.unit != "stratum" or groups != (FASTER_STRATUM, SLOWER_STRATUM):
                raise ValueError(
                    f"faster_rule needs randomization.unit 'stratum' with groups "
                    f"[{FASTER_STRATUM}, {SLOWER_STRATUM}] in that order, got "
                    f"{self.randomization.unit!r} with {list(groups)}"
                )
        if self.extension is not None:
            last_dose = self.regimen.dose_days[-1]
            if self.extension.start_day <= last_dose or self.extension.start_day > days[-1]:
                raise ValueError(
                    f"extension.start_day must come after the last randomised dose (day "
                    f"{last_dose}) and not after the last visit (day {days[-1]}), got "
                    f"{self.extension.start_day}"
                )
        check_carrier_design(self)
        if self.analysis_plan is not None:
            check_plan(self, self.analysis_plan)
        return self

    def _check_ratio(self) -> None:
        randomization = self.randomization
        active, control = (int(part) for part in randomization.ratio.split(":"))
        if active == 0 or control == 0:
            raise ValueError(
                f"randomization.ratio must be active:control with both parts >= 1, "
                f"got {randomization.ratio!r}"
            )
        if randomization.unit == "none" and len(randomization.groups) != 1:
            raise ValueError(
                f"randomization.unit 'none' means one group, got "
                f"{len(randomization.groups)} in randomization.groups; use 'cohort' or 'stratum'"
            )
        n_control = self.arm_sizes()[self.control_arm]
        n_active = self.n_patients - n_control
        if not ratio_matches(randomization.ratio, n_active, n_control, len(randomization.groups)):
            raise ValueError(
                f"randomization.ratio {randomization.ratio!r} does not match "
                f"randomization.groups[*].n_per_arm, which randomise {n_active} active : "
                f"{n_control} {self.control_arm} ({counts_ratio(n_active, n_control)}); "
                "the counts decide the allocation, so set ratio to match them or change the counts"
            )

    def _check_used(self, names: list[str], days: list[int]) -> None:
        """Refuse fields that would not change the run."""
        if len(set(self.endpoints)) != len(self.endpoints):
            raise ValueError(f"endpoints: each endpoint once, got {list(self.endpoints)}")
        # (run-in designs refuse these fields with their own message)
        if not self.has_progression and self.run_in is None:
            clinical = ", ".join((*CLINICAL_ENDPOINTS, *TIME_TO_EVENT_ENDPOINTS))
            unused = [
                field
                for field, value in (
                    ("faster_rule", self.faster_rule),
                    ("eligibility", self.eligibility),
                )
                if value is not None
            ]
            if self.extension is not None and self.extension.entry_fraction != 1.0:
                unused.append("extension.entry_fraction")
            if unused:
                raise ValueError(
                    f"{' and '.join(unused)} only act{'s' if len(unused) == 1 else ''} on designs "
                    "with a clinical endpoint "
                    f"({clinical}), and endpoints has none ({', '.join(self.endpoints)}): "
                    "remove it or add one to endpoints"
                )
        regimens = [("regimen", self.regimen)]
        if self.extension is not None:
            regimens.append(("extension.regimen", self.extension.regimen))
        for where, regimen in regimens:
            last_dose = regimen.dose_days[-1]
            if regimen.loading_days[-1] > days[-1]:
                raise ValueError(
                    f"{where}.loading_days include day {regimen.loading_days[-1]}, after the "
                    f"last visit (visits: {names[-1]}, day {days[-1]}), so that dose would never "
                    "be given; remove it or add a visit"
                )
            if last_dose > days[-1]:
                fits = max(0, (days[-1] - regimen.loading_days[-1]) // regimen.interval_days)
                raise ValueError(
                    f"{where} doses until day {last_dose}, after the last visit "
                    f"(visits: {names[-1]}, day {days[-1]}), so the later doses would never be "
                    f"given; set {where}.n_maintenance to at most {fits} or add a visit"
                )

    @property
    def plan(self) -> tuple[PlannedAnalysis, ...]:
        """The stated `analysis_plan`, or the documented default (`alsim.design.plan`)."""
        if self.analysis_plan is not None:
            return self.analysis_plan
        return default_plan(self)

    @property
    def event_endpoint_codes(self) -> tuple[str, ...]:
        """PARAMCDs of the event endpoints of a run-in design (assessed on their own schedule)."""
        return tuple(e.paramcd for e in self.event_endpoints)

    @property
    def has_progression(self) -> bool:
        """Whether the design needs the disease-progression model (clinical endpoints)."""
        return any(e in CLINICAL_ENDPOINTS or e in TIME_TO_EVENT_ENDPOINTS for e in self.endpoints)

    @property
    def visit_endpoints(self) -> tuple[str, ...]:
        """Endpoints measured at visits (all but time-to-event ones), in design order."""
        events = (*TIME_TO_EVENT_ENDPOINTS, *EVENT_ENDPOINTS)
        return tuple(e for e in self.endpoints if e not in events)

    @property
    def n_patients(self) -> int:
        return sum(sum(g.n_per_arm.values()) for g in self.randomization.groups)

    @property
    def arm_labels(self) -> tuple[str, ...]:
        return tuple(arm.label for arm in self.arms)

    def arm(self, label: str) -> Arm:
        """The arm with TRT01P `label`."""
        for arm in self.arms:
            if arm.label == label:
                return arm
        raise KeyError(label)

    def allocation(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Arm index and group index of each patient, patients ordered by group then arm."""
        arm_index: list[int] = []
        group_index: list[int] = []
        for g, group in enumerate(self.randomization.groups):
            for a, label in enumerate(self.arm_labels):
                count = group.n_per_arm.get(label, 0)
                arm_index += [a] * count
                group_index += [g] * count
        return np.array(arm_index, dtype=np.int64), np.array(group_index, dtype=np.int64)

    def arm_sizes(self) -> dict[str, int]:
        """Number of patients per arm, summed over groups."""
        return {
            label: sum(g.n_per_arm.get(label, 0) for g in self.randomization.groups)
            for label in self.arm_labels
        }
