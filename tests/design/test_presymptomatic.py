"""Run-in designs (presymptomatic carriers): the ATLAS template, round trips, and one clear error
naming the field for every bad input in the new fields."""

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import dump_design, load_template, loads_design, parse_design, template_path
from alsim.errors import DesignError
from alsim.evidence import evidence

Document = dict[str, Any]


def atlas_document() -> Document:
    document: Document = yaml.safe_load(dump_design(load_template("atlas")))
    return document


def test_atlas_template_reads_its_published_facts_from_the_evidence() -> None:
    design = load_template("atlas")
    assert design.run_in is not None and design.trigger is not None
    assert design.trigger.min_level_pg_ml == evidence("atlas_nfl_threshold").numeric_value
    assert design.trigger.min_rise_pg_ml == evidence("atlas_nfl_rise").numeric_value
    assert design.run_in.sampling_interval_days == evidence("atlas_parta_sampling").numeric_value
    assert design.run_in.n_carriers == evidence("atlas_enrollment").numeric_value
    assert design.event_endpoints[0].landmark_day == 365
    assert design.visit_endpoints == ("PLNFL", "CSFSOD1")


def test_atlas_round_trips_and_other_designs_keep_their_yaml() -> None:
    design = load_template("atlas")
    assert loads_design(dump_design(design)) == design
    valor = dump_design(load_template("valor"))
    assert "run_in" not in valor and "trigger" not in valor and "rescue" not in valor


def test_unpublished_choices_are_marked_as_assumptions() -> None:
    """Each choice the evidence does not give sits in a template comment marked ASSUMPTION."""
    text = template_path("atlas").read_text(encoding="utf-8")
    comments: list[str] = []
    block: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            block.append(line)
        elif block:
            comments.append(" ".join(block))
            block = []
    for choice in ("1:1", "Part B size", "withdrawal", "confirmation", "age at entry"):
        assert any(choice in b and "ASSUMPTION" in b for b in comments), choice


Edit = Callable[[Document], object]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["trigger"].update(min_level_pg_ml=-1),
            r"^design\.trigger\.min_level_pg_ml: Input should be greater than or equal to 0, "
            r"got -1$",
        ),
        (
            lambda d: d["trigger"].update(min_level_pg_ml=0, min_rise_pg_ml=0),
            r"^design\.trigger: min_level_pg_ml or min_rise_pg_ml must be > 0",
        ),
        (
            lambda d: d["trigger"].update(biomarker="CSFNFL"),
            r"^design\.trigger\.biomarker: Input should be 'PLNFL', got 'CSFNFL'$",
        ),
        (
            lambda d: d["trigger"].update(confirmed=True),
            r"^design\.trigger\.confirmed: unknown key; allowed keys: biomarker, min_level_pg_ml, "
            r"min_rise_pg_ml, baseline_samples, confirm$",
        ),
        (
            lambda d: d["run_in"].update(sampling_interval_days=0),
            r"^design\.run_in\.sampling_interval_days: Input should be greater than 0, got 0$",
        ),
        (
            lambda d: d["run_in"].update(max_days=14),
            r"^design\.run_in: max_days \(14\) must be at least one sampling interval \(28 days\)$",
        ),
        (
            lambda d: d["trigger"].update(baseline_samples=20) or d["run_in"].update(max_days=280),
            r"^design: trigger\.baseline_samples \(20\) leaves no run-in sample to trigger on",
        ),
        (
            lambda d: d.pop("trigger"),
            r"^design: run_in and trigger go together",
        ),
        (
            lambda d: d["event_endpoints"][0].update(landmark_day=366),
            r"^design\.event_endpoints\[0\]: landmark_day \(366\) must be an assessment day",
        ),
        (
            lambda d: d["event_endpoints"][0].update(landmark_day=757),
            r"^design: event_endpoints\[0\]\.landmark_day \(757\) must not come after the last "
            r"visit \(day 729\)$",
        ),
        (
            lambda d: d.update(event_endpoints=[]),
            r"^design: event_endpoints must describe each event endpoint of endpoints once",
        ),
        (
            lambda d: d.update(endpoints=["PLNFL", "ALSFRSR", "PHENOCNV"]),
            r"^design: endpoints: \['ALSFRSR'\] not available in a run-in design; allowed: "
            r"CSFSOD1, PLNFL, CSFNFL, PHENOCNV$",
        ),
        (
            lambda d: d.update(endpoints=["CSFSOD1", "PHENOCNV"]),
            r"^design: trigger\.biomarker PLNFL must be one of the endpoints",
        ),
        (
            lambda d: d["rescue"].update(dose_mg=-5),
            r"^design\.rescue\.dose_mg: Input should be greater than or equal to 0, got -5$",
        ),
        (
            lambda d: d["randomization"].update(unit="stratum"),
            r"^design: randomization\.groups names \(run-in designs stratify by variant class\): "
            r"\['PART B'\] not available",
        ),
        (
            lambda d: d.update(eligibility={"min_svc_pct": 50}),
            r"^design: eligibility is not available with a run_in",
        ),
    ],
)
def test_bad_run_in_fields_get_one_clear_error(edit: Edit, message: str) -> None:
    document = atlas_document()
    edit(document)
    with pytest.raises(DesignError, match=message) as caught:
        parse_design(document)
    assert "\n" not in str(caught.value)


def test_event_endpoints_need_a_run_in() -> None:
    document: Document = yaml.safe_load(dump_design(load_template("phase12")))
    document["endpoints"] = [*document["endpoints"], "PHENOCNV"]
    document["event_endpoints"] = [{"assessment_interval_days": 28, "landmark_day": 29}]
    with pytest.raises(DesignError, match=r"^design: event_endpoints and rescue need a run_in"):
        parse_design(document)


def test_cli_reports_a_bad_trigger_as_one_line_and_writes_nothing(tmp_path: Any) -> None:
    document = atlas_document()
    document["trigger"]["min_rise_pg_ml"] = "ten"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "design.trigger.min_rise_pg_ml: Input should be a valid number" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
