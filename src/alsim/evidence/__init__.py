"""Published targets with provenance, and their comparison with simulation."""

from alsim.evidence.compare import ComparisonRow, Target, compare, simulated_values, study_targets
from alsim.evidence.records import EvidenceRecord, evidence, load_evidence

__all__ = [
    "ComparisonRow",
    "EvidenceRecord",
    "Target",
    "compare",
    "evidence",
    "load_evidence",
    "simulated_values",
    "study_targets",
]
