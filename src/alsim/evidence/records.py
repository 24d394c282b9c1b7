"""Published results as data: the evidence file shipped with alsim, one record per number.

The file is a copy of the project's curated `evidence/tofersen.yaml`; each record keeps its source
and verification tier so every published number alsim shows carries its provenance.
"""

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from alsim.errors import EvidenceError

EVIDENCE_FILE = "tofersen.yaml"
# libyaml's parser where PyYAML was built with it: the same records, a seventh of the time (every
# process that imports the model parses this file; 0.16 s against 0.02 s)
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRecord:
    """One published number (or a documented gap, when `value` is None)."""

    id: str
    study: str
    population: str
    arm: str
    endpoint: str
    timepoint_days: int | None
    statistic: str
    value: Any
    unit: str | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    source: str
    verified: bool
    verification_tier: str
    note: str = ""

    @property
    def is_numeric(self) -> bool:
        """Whether the value is a number (not a gap, a range in words or a definition)."""
        return isinstance(self.value, int | float) and not isinstance(self.value, bool)

    @property
    def numeric_value(self) -> float:
        """The value as a float, or an error naming the record if it is not numeric."""
        if not self.is_numeric:
            raise EvidenceError(f"evidence {self.id}: value {self.value!r} is not a number")
        return float(self.value)

    @property
    def has_ci(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None


def _record(raw: dict[str, Any]) -> EvidenceRecord:
    fields = set(EvidenceRecord.__dataclass_fields__)
    unknown = set(raw) - fields
    if unknown:
        raise EvidenceError(f"evidence {raw.get('id')}: unknown fields {sorted(unknown)}")
    values = {k: raw.get(k) for k in fields}
    values["note"] = values["note"] or ""
    try:
        return EvidenceRecord(**values)  # type: ignore[arg-type]
    except TypeError as error:
        raise EvidenceError(f"evidence {raw.get('id')}: {error}") from None


@cache
def load_evidence() -> dict[str, EvidenceRecord]:
    """All evidence records by id."""
    text = files("alsim.evidence").joinpath("data", EVIDENCE_FILE).read_text(encoding="utf-8")
    records = [_record(raw) for raw in yaml.load(text, Loader=_LOADER)]
    return {record.id: record for record in records}


def evidence(record_id: str) -> EvidenceRecord:
    """The record `record_id`, or an error naming it."""
    records = load_evidence()
    if record_id not in records:
        raise EvidenceError(f"no evidence record {record_id!r}")
    return records[record_id]
