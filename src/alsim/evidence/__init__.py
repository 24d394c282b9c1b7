"""Published targets with provenance, and their comparison with simulation.

The names are loaded on first use, so that `alsim.model` can read published values through
`alsim.evidence.records` without importing the simulation that the comparison needs. The
comparison function is imported from its module (`from alsim.evidence.compare import compare`):
here `alsim.evidence.compare` is that module, whatever was imported before.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alsim.evidence.compare import (
        ComparisonRow,
        Target,
        simulated_values,
        study_targets,
    )
    from alsim.evidence.records import EvidenceRecord, evidence, load_evidence

_WHERE = {
    "ComparisonRow": "alsim.evidence.compare",
    "Target": "alsim.evidence.compare",
    "simulated_values": "alsim.evidence.compare",
    "study_targets": "alsim.evidence.compare",
    "EvidenceRecord": "alsim.evidence.records",
    "evidence": "alsim.evidence.records",
    "load_evidence": "alsim.evidence.records",
}
_SUBMODULES = ("compare", "records")

__all__ = [
    "ComparisonRow",
    "EvidenceRecord",
    "Target",
    "evidence",
    "load_evidence",
    "simulated_values",
    "study_targets",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"alsim.evidence.{name}")
    if name not in _WHERE:
        raise AttributeError(f"module 'alsim.evidence' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
