"""Adverse-event risks calibrated to VALOR's week-28 incidences (FDA Integrated Review tables).

VALOR gave eight lumbar punctures in 28 weeks to both arms; tofersen arms got 100 mg each time.
For a term seen equally in both arms the per-puncture risk p solves 1 - (1 - p)^8 = pooled
incidence. For a term with a drug excess, p comes from placebo and the per-dose drug risk q solves
1 - (1 - p)^8 (1 - q)^8 = tofersen incidence. Serious neurological events get a hazard per
patient-year on drug: count / tofersen patient-years. The published counts are read from the
evidence file; nothing here is a published number typed in.
"""

import re
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

from alsim.errors import EvidenceError
from alsim.evidence.records import EvidenceRecord, evidence
from alsim.model.adverse_events import AdverseEventTerm

VALOR_PROCEDURES = 8
Route = Literal["procedure", "procedure+drug", "serious", "assumed"]

NERVOUS = "Nervous system disorders"
MUSCULOSKELETAL = "Musculoskeletal and connective tissue disorders"
INVESTIGATIONS = "Investigations"
PROCEDURAL = "Injury, poisoning and procedural complications"
SERIOUS_SEVERITY = (0.0, 0.4, 0.6)


@dataclass(frozen=True, slots=True)
class _TermSource:
    decod: str
    body_system: str
    evidence_id: str | None
    route: Route
    discontinuation_probability: float = 0.0
    discontinuation_source: str = "assumption: non-serious events do not stop treatment [A]"


TERM_SOURCES: tuple[_TermSource, ...] = (
    _TermSource("Procedural pain", PROCEDURAL, "valor_ae_procedural_pain", "procedure"),
    _TermSource("Headache", NERVOUS, "valor_ae_headache", "procedure"),
    _TermSource("Back pain", MUSCULOSKELETAL, "valor_ae_back_pain", "procedure+drug"),
    _TermSource("Dizziness", NERVOUS, "valor_ae_dizziness", "procedure"),
    _TermSource("Hypoaesthesia", NERVOUS, "valor_ae_hypoesthesia", "procedure"),
    _TermSource("Muscle spasms", MUSCULOSKELETAL, "valor_ae_muscle_spasms", "procedure"),
    _TermSource(
        "CSF white blood cell count increased",
        INVESTIGATIONS,
        "valor_ae_csf_wbc_count_increased",
        "procedure+drug",
    ),
    _TermSource(
        "CSF protein increased", INVESTIGATIONS, "valor_ae_csf_protein_increased", "procedure+drug"
    ),
    _TermSource("Pleocytosis", INVESTIGATIONS, "valor_ae_pleocytosis", "procedure+drug"),
    _TermSource("Neuralgia", NERVOUS, "valor_ae_neuralgia", "procedure+drug"),
    _TermSource("Post lumbar puncture syndrome", PROCEDURAL, None, "assumed"),
    _TermSource(
        "Myelitis",
        NERVOUS,
        "valor_sae_myelitis",
        "serious",
        1 / 3,
        "label: 2 of 6 with myelitis or radiculitis discontinued "
        "(evidence label_myelitis_radiculitis) [D]",
    ),
    _TermSource(
        "Myelitis transverse",
        NERVOUS,
        "valor_sae_myelitis_transverse",
        "serious",
        1 / 3,
        "label: 2 of 6 with myelitis or radiculitis discontinued "
        "(evidence label_myelitis_radiculitis) [D]",
    ),
    _TermSource("Meningitis chemical", NERVOUS, "valor_sae_meningitis_chemical", "serious"),
    _TermSource(
        "Lumbar radiculopathy",
        NERVOUS,
        "valor_sae_lumbar_radiculopathy",
        "serious",
        1 / 3,
        "label: 2 of 6 with myelitis or radiculitis discontinued "
        "(evidence label_myelitis_radiculitis) [D]",
    ),
)

_ARM_COUNTS = re.compile(r"tofersen (\d+)/(\d+).*?placebo (\d+)/(\d+)")
_PLACEBO_PERCENT = re.compile(r"placebo (\d+(?:\.\d+)?)%")
_PATIENT_YEARS = re.compile(r"tofersen PY=(\d+(?:\.\d+)?)")
POST_LP_SYNDROME_PER_PROCEDURE = 0.01


def arm_incidences(record: EvidenceRecord) -> tuple[float, float, int, int]:
    """(tofersen incidence, placebo incidence, n tofersen, n placebo) from a VALOR AE record."""
    counts = _ARM_COUNTS.search(record.note)
    if counts:
        x_t, n_t, x_p, n_p = (int(g) for g in counts.groups())
        return x_t / n_t, x_p / n_p, n_t, n_p
    placebo = _PLACEBO_PERCENT.search(record.note)
    if placebo and record.n is not None:
        n_t = int(record.n)
        n_p = int(evidence("valor_n_pbo").numeric_value)
        return record.numeric_value / 100.0, float(placebo.group(1)) / 100.0, n_t, n_p
    raise EvidenceError(f"evidence {record.id}: no arm counts in its note")


def per_procedure(incidence: float, n_procedures: int = VALOR_PROCEDURES) -> float:
    """Per-puncture risk giving `incidence` after `n_procedures` punctures."""
    return float(1.0 - (1.0 - incidence) ** (1.0 / n_procedures))


def _calibrate(source: _TermSource) -> AdverseEventTerm:
    base = AdverseEventTerm(
        decod=source.decod,
        body_system=source.body_system,
        discontinuation_probability=source.discontinuation_probability,
        source="",
        assumption=True,
    )
    if source.route == "assumed":
        return replace(
            base,
            per_procedure_probability=POST_LP_SYNDROME_PER_PROCEDURE,
            source="no published incidence in the evidence; per-puncture risk assumed [A]",
            assumption=True,
        )
    assert source.evidence_id is not None
    record = evidence(source.evidence_id)
    cite = (
        f"calibrated to evidence {record.id} ({record.source}) [D]; {source.discontinuation_source}"
    )
    if source.route == "serious":
        years = _PATIENT_YEARS.search(record.note)
        if not years:
            raise EvidenceError(f"evidence {record.id}: no tofersen patient-years in its note")
        return replace(
            base,
            per_year_on_drug=record.numeric_value / float(years.group(1)),
            serious=True,
            severity_probabilities=SERIOUS_SEVERITY,
            onset_delay_days=0,
            source=cite + "; severity mix assumed [A]",
            assumption=False,
        )
    tofersen, placebo, n_t, n_p = arm_incidences(record)
    if source.route == "procedure":
        pooled = (tofersen * n_t + placebo * n_p) / (n_t + n_p)
        return replace(
            base,
            per_procedure_probability=per_procedure(pooled),
            source=cite,
            assumption=False,
        )
    p = per_procedure(placebo)
    survive_drug = (1.0 - tofersen) / (1.0 - p) ** VALOR_PROCEDURES
    q = 1.0 - survive_drug ** (1.0 / VALOR_PROCEDURES)
    return replace(
        base,
        per_procedure_probability=p,
        per_100mg_probability=max(q, 0.0),
        onset_delay_days=13,
        source=cite,
        assumption=False,
    )


@cache
def default_adverse_event_terms() -> tuple[AdverseEventTerm, ...]:
    """The calibrated term table used by default in every simulation."""
    return tuple(_calibrate(source) for source in TERM_SOURCES)
