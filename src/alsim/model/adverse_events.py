"""Adverse events of intrathecal dosing: what each lumbar puncture and each tofersen dose risks.

Three routes, any mix per term:
- procedure: every lumbar puncture (tofersen or placebo) carries `per_procedure_probability`;
- drug: every dose adds `per_100mg_probability` scaled by dose/100 mg, so cumulative risk grows
  with cumulative exposure;
- serious neurological events: a constant hazard per patient-year on drug (`per_year_on_drug`),
  as exposure-adjusted incidence rates are reported.
Values come from `alsim.calibrate.safety` (calibrated to the evidence) and carry their source.
"""

from dataclasses import dataclass
from typing import Literal

from alsim.errors import AlsimError

Severity = Literal["MILD", "MODERATE", "SEVERE"]
SEVERITIES: tuple[Severity, ...] = ("MILD", "MODERATE", "SEVERE")


@dataclass(frozen=True, slots=True, kw_only=True)
class AdverseEventTerm:
    """One MedDRA preferred term with its risks, its consequences and where the numbers come from.

    `severity_probabilities` are (MILD, MODERATE, SEVERE); `discontinuation_probability` is the
    chance the event leads to withdrawal from treatment and study (AEACN = DRUG WITHDRAWN).
    `onset_delay_days` is the maximum delay from the causing dose to onset (uniform 0..max).
    """

    decod: str
    body_system: str
    per_procedure_probability: float = 0.0
    per_100mg_probability: float = 0.0
    per_year_on_drug: float = 0.0
    serious: bool = False
    severity_probabilities: tuple[float, float, float] = (0.7, 0.25, 0.05)
    discontinuation_probability: float = 0.0
    onset_delay_days: int = 2
    source: str
    assumption: bool

    def __post_init__(self) -> None:
        for name in (
            "per_procedure_probability",
            "per_100mg_probability",
            "discontinuation_probability",
        ):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise AlsimError(
                    f"adverse event {self.decod}: {name} must be in [0, 1), got {value}"
                )
        if self.per_year_on_drug < 0:
            raise AlsimError(f"adverse event {self.decod}: per_year_on_drug must be >= 0")
        if (
            abs(sum(self.severity_probabilities) - 1.0) > 1e-9
            or min(self.severity_probabilities) < 0
        ):
            raise AlsimError(f"adverse event {self.decod}: severity probabilities must sum to 1")
        if self.onset_delay_days < 0:
            raise AlsimError(f"adverse event {self.decod}: onset_delay_days must be >= 0")

    @property
    def drug_related(self) -> bool:
        """Whether tofersen itself causes the term (AREL = RELATED)."""
        return self.per_100mg_probability > 0 or self.per_year_on_drug > 0
