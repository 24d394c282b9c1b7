"""The shipped evidence file and the target map."""

import pytest

from alsim.errors import EvidenceError
from alsim.evidence import evidence, load_evidence, study_targets


def test_evidence_copy_loads_with_provenance() -> None:
    records = load_evidence()
    assert len(records) > 100
    assert all(r.source for r in records.values())


def test_every_target_points_to_a_numeric_published_value() -> None:
    targets, predictions = study_targets("phase12")
    assert len(targets) == 9
    for target in targets:
        assert target.evidence is not None
        evidence(target.evidence).numeric_value  # noqa: B018 - raises if not numeric
    assert all(p.evidence is None for p in predictions)


def test_gaps_are_not_numbers() -> None:
    with pytest.raises(EvidenceError, match="p12_svc_100mg_vs_pbo: value None is not a number"):
        evidence("p12_svc_100mg_vs_pbo").numeric_value  # noqa: B018
    with pytest.raises(EvidenceError, match="no evidence record 'nope'"):
        evidence("nope")


def test_libyaml_loader_reads_the_same_records_as_the_python_parser() -> None:
    from importlib.resources import files

    import yaml

    from alsim.evidence import records

    text = files("alsim.evidence").joinpath("data", records.EVIDENCE_FILE).read_text("utf-8")
    python_parsed = yaml.load(text, Loader=yaml.SafeLoader)
    libyaml_parsed = yaml.load(text, Loader=records._LOADER)
    assert libyaml_parsed == python_parsed
    # equal values of the same types (1 == 1.0 == True would pass the line above)
    assert [[type(v) for v in raw.values()] for raw in libyaml_parsed] == [
        [type(v) for v in raw.values()] for raw in python_parsed
    ]
