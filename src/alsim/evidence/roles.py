"""Which published numbers were used to fit the model, and what was fitted to each.

A comparison row is "calibrated" when some fit used its published number, "validation" when a
published number no fit used, "prediction" when there is no published number. The fits are read
from what produced them, never from a hand list:

- the shipped joint calibration (`alsim calibrate`): its summary names every evidence id its
  likelihood used (and those restating the same numbers) with the parameters fitted to them;
- the parameter table: a parameter whose source cites an evidence record (``evidence <id>``,
  ``*`` as a wildcard) was set from that record;
- the adverse-event calibration (`alsim.calibrate.safety`): each term's evidence record;
- design inputs set from a published number (targets.yaml, ``design_inputs``).
"""

import re
from fnmatch import fnmatchcase
from functools import cache

from alsim.evidence.compare import Role, targets_document
from alsim.evidence.records import load_evidence

_CITED = re.compile(r"evidence ((?:[a-z0-9_*]+(?:, )?)+)")


def _cited_ids(source: str) -> set[str]:
    ids = set(load_evidence())
    out: set[str] = set()
    for match in _CITED.finditer(source):
        for token in match.group(1).split(", "):
            token = token.strip()
            out.update(i for i in ids if fnmatchcase(i, token))
    return out


@cache
def fitted_by() -> dict[str, tuple[str, ...]]:
    """Evidence id -> what was fitted to (or set from) it, for every calibrated number."""
    from alsim.calibrate.safety import TERM_SOURCES
    from alsim.model.parameters import TABLE, shipped_calibration

    found: dict[str, list[str]] = {}

    def add(record_id: str, name: str) -> None:
        names = found.setdefault(record_id, [])
        if name not in names:
            names.append(name)

    summary = shipped_calibration()
    if summary is not None:
        for record_id, names in summary["roles"].items():
            for name in names:
                add(record_id, name)
    for p in TABLE.parameters:
        for record_id in sorted(_cited_ids(p.source)):
            add(record_id, p.name)
    for term in TERM_SOURCES:
        if term.evidence_id is not None:
            add(term.evidence_id, f"adverse-event term {term.decod}")
    for record_id, what in targets_document().get("design_inputs", {}).items():
        add(record_id, str(what))
    return {k: tuple(v) for k, v in found.items()}


def role_of(record_id: str | None) -> tuple[Role, tuple[str, ...]]:
    """The role of a row showing the published number of `record_id` (None: no published
    number), and what was fitted to it."""
    if record_id is None:
        return "prediction", ()
    fitted = fitted_by().get(record_id, ())
    return ("calibrated", fitted) if fitted else ("validation", ())
