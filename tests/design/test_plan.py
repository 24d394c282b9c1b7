"""Analysis plans in the design YAML: the templates' plans, round trips, errors naming the field."""

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import dump_design, load_template, loads_design
from alsim.design.plan import IMPUTATIONS, default_plan
from alsim.errors import DesignError

runner = CliRunner()


def valor_document() -> dict:
    return yaml.safe_load(dump_design(load_template("valor")))


@pytest.mark.parametrize("study", ["phase12", "valor", "ole"])
def test_templates_state_their_plans_and_round_trip(study: str) -> None:
    design = load_template(study)
    assert design.analysis_plan is not None
    assert sum(a.primary for a in design.analysis_plan) == 1
    assert loads_design(dump_design(design)) == design


def test_valor_primary_is_the_joint_rank_test_in_the_faster_stratum() -> None:
    primary = next(a for a in load_template("valor").plan if a.primary)
    assert (primary.method, primary.endpoint, primary.population) == (
        "joint-rank",
        "ALSFRSR",
        "FASTER",
    )
    assert primary.visit == "PRIMARY" and load_template("valor").primary_visit == "WEEK 28"
    assert primary.death_handling().strategy == "composite"  # ranked first, worst
    methods = {a.method for a in load_template("valor").plan}
    assert methods == {"joint-rank", "ancova", "gmr", "cox"}


def test_a_design_without_a_plan_gets_the_documented_default() -> None:
    document = valor_document()
    document.pop("analysis_plan")
    design = loads_design(yaml.safe_dump(document))
    assert design.analysis_plan is None
    assert design.plan == default_plan(design)
    # the default keeps deaths out of imputation unless it says so: every imputing analysis
    # states its death strategy
    for analysis in design.plan:
        if analysis.imputations:
            assert analysis.intercurrent_events.death_or_ventilation is not None


ANALYSES = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["ancova", "joint-rank", "rank-ancova"]),
        "population": st.sampled_from(["ITT", "FASTER", "SLOWER"]),
        "visit": st.sampled_from(["PRIMARY", "LAST", "WEEK 8", "WEEK 28"]),
        "imputations": st.sampled_from([0, 2, 5]),
        "death": st.sampled_from(["hypothetical", "while-alive", "composite"]),
        "discontinuation": st.sampled_from(
            ["hypothetical", "while-on-treatment", "composite", "treatment-policy"]
        ),
        "imputation": st.sampled_from(IMPUTATIONS),
        "covariates": st.sampled_from([[], ["AGE"], ["AGE", "SEX"]]),
    }
)


def _analysis(spec: dict) -> dict:
    """A valid analysis from drawn features (scores where composites need them)."""
    rank = spec["method"] != "ancova"
    death: dict = {"strategy": spec["death"]}
    stop: dict = {"strategy": spec["discontinuation"]}
    imputes = spec["imputations"] >= 2
    if spec["death"] == "composite" and not rank:
        death["score"] = 0
    if spec["discontinuation"] == "composite":
        stop["score"] = 0
    if spec["discontinuation"] in ("hypothetical", "treatment-policy") and imputes:
        stop["imputation"] = spec["imputation"]
    if spec["discontinuation"] == "treatment-policy" and not imputes:
        stop = {"strategy": "hypothetical"}
    covariates = spec["covariates"] if spec["method"] != "joint-rank" else []
    return {
        "name": "drawn",
        "method": spec["method"],
        "endpoint": "ALSFRSR",
        "population": spec["population"],
        "visit": spec["visit"],
        "covariates": covariates,
        "strata": ["STRATUM"] if spec["population"] == "ITT" else [],
        "imputations": spec["imputations"],
        "intercurrent_events": {"death_or_ventilation": death, "discontinuation": stop},
    }


@settings(max_examples=60, deadline=None)
@given(ANALYSES)
def test_plans_round_trip_through_yaml(spec: dict) -> None:
    """Property: any valid plan reads back equal after dump_design (xarray-style round trip)."""
    document = valor_document()
    document["analysis_plan"] = [_analysis(spec)]
    design = loads_design(yaml.safe_dump(document))
    assert loads_design(dump_design(design)) == design


def _edit(path: str, value: object) -> dict:
    document = valor_document()
    analysis = document["analysis_plan"][1]
    keys = path.split(".")
    target = analysis
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "method",
            "anova",
            r"design\.analysis_plan\[1\]\.method: Input should be 'ancova', 'mmrm', 'gmr', "
            r"'joint-rank', 'rank-ancova', 'win-ratio', 'cox', 'logrank', 'risk-difference' or "
            r"'km', "
            r"got 'anova'",
        ),
        (
            "visit",
            "WEEK 99",
            r"analysis_plan\[1\]\.visit: 'WEEK 99' is not a post-baseline visit; allowed: "
            r"PRIMARY, LAST, WEEK 2",
        ),
        (
            "endpoint",
            "FVC",
            r"analysis_plan\[1\]\.endpoint: 'FVC' is not an endpoint of the design; allowed: "
            r"CSFSOD1, PLNFL",
        ),
        (
            "intercurrent_events.discontinuation.strategy",
            "ignore",
            r"design\.analysis_plan\[1\]\.intercurrent_events\.discontinuation\.strategy: "
            r"Input should be 'treatment-policy', 'composite', 'while-alive', "
            r"'while-on-treatment' or 'hypothetical', got 'ignore'",
        ),
        (
            "intercurrent_events.death_or_ventilation",
            {"strategy": "treatment-policy"},
            r"analysis_plan\[1\]\.intercurrent_events: .*death_or_ventilation\.strategy "
            r"'treatment-policy' is not allowed: function is not defined after death",
        ),
        (
            "intercurrent_events.death_or_ventilation",
            {"strategy": "composite"},
            r"a composite strategy in a ancova analysis needs the score",
        ),
        (
            "intercurrent_events.discontinuation",
            {"strategy": "hypothetical", "imputation": "jump-to-ref"},
            r"imputation: Input should be 'mar', 'jump-to-reference', "
            r"'copy-increments-from-reference' or 'copy-reference', got 'jump-to-ref'",
        ),
        ("population", "FAST", r"population: 'FAST' is not a randomisation group"),
        ("strata", ["STRATUM"], r"strata: population FASTER is one stratum"),
        ("imputations", 1, r"imputations must be 0 \(observed cases\) or at least 2"),
        ("colour", "red", r"analysis_plan\[1\]\.colour: unknown key; allowed keys: name, method"),
    ],
)
def test_a_bad_plan_gets_one_error_naming_the_field(path: str, value: object, message: str) -> None:
    with pytest.raises(DesignError, match=message) as error:
        loads_design(yaml.safe_dump(_edit(path, value)))
    assert "\n" not in str(error.value)


def test_imputing_analysis_must_state_how_deaths_are_handled() -> None:
    document = valor_document()
    del document["analysis_plan"][1]["intercurrent_events"]["death_or_ventilation"]
    with pytest.raises(DesignError, match="state how death or permanent ventilation is handled"):
        loads_design(yaml.safe_dump(document))


def test_reference_based_imputation_needs_imputations() -> None:
    document = _edit("imputations", 0)
    document["analysis_plan"][1]["intercurrent_events"]["discontinuation"]["imputation"] = (
        "jump-to-reference"
    )
    with pytest.raises(DesignError, match="imputes the missing values; set imputations >= 2"):
        loads_design(yaml.safe_dump(document))


def test_the_cli_reports_a_bad_plan_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_edit("method", "anova")), encoding="utf-8")
    result = runner.invoke(app, ["power", str(path), "-r", "2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "analysis_plan[1].method" in lines[0]
    assert not (tmp_path / "o").exists()


def test_an_endpoint_the_design_declares_is_accepted_for_time_to_event_methods() -> None:
    """Risk difference and log-rank accept any time-to-event endpoint the design declares."""
    document = valor_document()
    document["analysis_plan"].append(
        {
            "name": "rd_death",
            "method": "risk-difference",
            "endpoint": "DTHPV",
            "visit": "WEEK 28",
            "strata": ["STRATUM"],
        }
    )
    design = loads_design(yaml.safe_dump(document))
    assert design.plan[-1].method == "risk-difference"
    document["analysis_plan"][-1]["endpoint"] = "ALSFRSR"
    with pytest.raises(DesignError, match="needs a time-to-event endpoint, got 'ALSFRSR'"):
        loads_design(yaml.safe_dump(document))
