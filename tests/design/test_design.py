"""Design loading: templates, round trips, and errors that name the field."""

import math

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from alsim.design import (
    Arm,
    Randomization,
    RandomizationGroup,
    Regimen,
    TrialDesign,
    Visit,
    dump_design,
    load_template,
    loads_design,
)
from alsim.errors import DesignError


def phase12_document() -> dict:
    return yaml.safe_load(dump_design(load_template("phase12")))


def test_phase12_template_has_published_arm_sizes_and_dose_days() -> None:
    design = load_template("phase12")
    assert design.arm_sizes() == {
        "PLACEBO": 12,
        "TOFERSEN 20 MG": 10,
        "TOFERSEN 40 MG": 9,
        "TOFERSEN 60 MG": 9,
        "TOFERSEN 100 MG": 10,
    }
    assert design.n_patients == 50
    assert design.regimen.dose_days == (1, 15, 29, 57, 85)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["arms"][1].update(dose_mg=-100),
            r"design\.arms\[1\]\.dose_mg: Input should be greater than or equal to 0, got -100",
        ),
        (
            lambda d: d.update(colour="red"),
            r"design\.colour: unknown key; allowed keys: study_id, title",
        ),
        (
            lambda d: d["arms"][0].update(dose="x"),
            r"design\.arms\[0\]\.dose: unknown key; allowed keys: label, dose_mg",
        ),
        (
            lambda d: d["randomization"]["groups"][0]["n_per_arm"].update({"TOFERSEN 500 MG": 3}),
            r"unknown arm 'TOFERSEN 500 MG'; allowed: PLACEBO, TOFERSEN 20 MG",
        ),
        (lambda d: d["arms"].pop(2), r"unknown arm 'TOFERSEN 40 MG'"),
        (lambda d: d.update(control_arm="SHAM"), r"control_arm 'SHAM' is not one of the arms"),
        (
            lambda d: d["regimen"].update(interval_days="monthly"),
            r"design\.regimen\.interval_days: Input should be a valid integer.*got 'monthly'",
        ),
        (
            lambda d: d.update(visits=[]),
            r"design\.visits: Tuple should have at least 2 items.*got \[\]",
        ),
        (
            lambda d: d["randomization"]["groups"][0]["n_per_arm"].update({"PLACEBO": 10**7}),
            r"total patients must be 1\.\.100000, got 100",
        ),
        (
            lambda d: d["randomization"]["groups"][1]["n_per_arm"].update({"PLACEBO": -1}),
            r"design\.randomization\.groups\[1\]\.n_per_arm: 'PLACEBO' must be >= 0, got -1",
        ),
        (
            lambda d: d.update(primary_visit="WEEK 99"),
            r"primary_visit 'WEEK 99' must be a post-baseline visit; allowed: DAY 15",
        ),
        (lambda d: d.pop("regimen"), r"design\.regimen: required field is missing"),
        (
            lambda d: d.update(title="VALOR\x85extension"),
            r"design\.title: must not contain control characters",
        ),
    ],
)
def test_bad_design_names_the_field(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    document = phase12_document()
    edit(document)
    with pytest.raises(DesignError, match=message) as info:
        loads_design(yaml.safe_dump(document))
    assert "\n" not in str(info.value)


def test_not_a_mapping_and_not_yaml_are_clear_errors() -> None:
    with pytest.raises(DesignError, match="must hold a mapping"):
        loads_design("- just\n- a list\n")
    with pytest.raises(DesignError, match="not valid YAML"):
        loads_design("arms: [unclosed\n")


labels = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789", min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)


@st.composite
def designs(draw: st.DrawFn) -> TrialDesign:
    arm_labels = draw(
        st.lists(labels, min_size=1, max_size=4, unique=True).filter(lambda xs: "PLACEBO" not in xs)
    )
    doses = st.floats(0, 1000, allow_nan=False)
    arms = (
        Arm(label="PLACEBO", dose_mg=0.0),
        *(Arm(label=label, dose_mg=draw(doses)) for label in arm_labels),
    )
    groups = tuple(
        RandomizationGroup(
            name=f"G{g}",
            n_per_arm={arm.label: draw(st.integers(1, 50)) for arm in arms},
        )
        for g in range(draw(st.integers(1, 3)))
    )
    days = sorted(draw(st.sets(st.integers(2, 400), min_size=1, max_size=6)))
    visits = (Visit(name="BASELINE", day=1), *tuple(Visit(name=f"DAY {d}", day=d) for d in days))
    loading = tuple(
        sorted(draw(st.sets(st.integers(1, min(60, days[-1])), min_size=1, max_size=4)))
    )
    interval = draw(st.integers(1, 90))
    n_control = sum(g.n_per_arm["PLACEBO"] for g in groups)
    n_active = sum(sum(g.n_per_arm.values()) for g in groups) - n_control
    divisor = math.gcd(n_active, n_control)
    return TrialDesign(
        study_id=draw(labels),
        title=draw(st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30)),
        arms=arms,
        regimen=Regimen(
            loading_days=loading,
            interval_days=interval,
            n_maintenance=draw(st.integers(0, (days[-1] - loading[-1]) // interval)),
        ),
        randomization=Randomization(
            unit="cohort", ratio=f"{n_active // divisor}:{n_control // divisor}", groups=groups
        ),
        visits=visits,
        endpoints=("CSFSOD1", "PLNFL"),
        primary_visit=visits[-1].name,
        dropout_per_year=draw(st.floats(0, 5, allow_nan=False)),
    )


@given(designs())
def test_load_of_dump_is_identity(design: TrialDesign) -> None:
    assert loads_design(dump_design(design)) == design


@given(designs())
def test_allocation_matches_group_counts(design: TrialDesign) -> None:
    arm_index, group_index = design.allocation()
    assert arm_index.shape == group_index.shape == (design.n_patients,)
    for g, group in enumerate(design.randomization.groups):
        for a, label in enumerate(design.arm_labels):
            assert ((arm_index == a) & (group_index == g)).sum() == group.n_per_arm.get(label, 0)


def valor_document() -> dict:
    return yaml.safe_load(dump_design(load_template("valor")))


def ole_document() -> dict:
    return yaml.safe_load(dump_design(load_template("ole")))


def _biomarker_only(document: dict) -> dict:
    document["endpoints"] = ["CSFSOD1", "PLNFL"]
    return document


@pytest.mark.parametrize(
    ("document", "edit", "message"),
    [
        (
            valor_document,
            lambda d: d["randomization"].update(ratio="1:1"),
            r"^design: randomization\.ratio '1:1' does not match "
            r"randomization\.groups\[\*\]\.n_per_arm, which randomise 72 active : 36 PLACEBO "
            r"\(2:1\)",
        ),
        (
            phase12_document,
            lambda d: d["randomization"].update(ratio="1:1"),
            r"randomization\.ratio '1:1' does not match .* 38 active : 12 PLACEBO \(19:6\)",
        ),
        (
            phase12_document,
            lambda d: d["randomization"].update(ratio="3:0"),
            r"randomization\.ratio must be active:control with both parts >= 1, got '3:0'",
        ),
        (
            phase12_document,
            lambda d: d["randomization"].update(unit="none"),
            r"randomization\.unit 'none' means one group, got 4 in randomization\.groups",
        ),
        (
            lambda: _biomarker_only(valor_document()),
            lambda d: d.update(faster_rule=None),
            r"eligibility only acts on designs with a clinical endpoint .* endpoints has none "
            r"\(CSFSOD1, PLNFL\)",
        ),
        (
            lambda: _biomarker_only(valor_document()),
            lambda d: d.update(eligibility=None),
            r"faster_rule only acts on designs with a clinical endpoint",
        ),
        (
            lambda: _biomarker_only(ole_document()),
            lambda d: d.update(eligibility=None, faster_rule=None),
            r"extension\.entry_fraction only acts on designs with a clinical endpoint",
        ),
        (
            phase12_document,
            lambda d: d["regimen"].update(n_maintenance=4),
            r"regimen doses until day 141, after the last visit \(visits: DAY 85, day 85\), so "
            r"the later doses would never be given; set regimen\.n_maintenance to at most 2",
        ),
        (
            phase12_document,
            lambda d: d["regimen"].update(loading_days=[1, 15, 99]),
            r"regimen\.loading_days include day 99, after the last visit",
        ),
        (
            ole_document,
            lambda d: d["extension"]["regimen"].update(n_maintenance=40),
            r"extension\.regimen doses until day 1345, after the last visit \(visits: WEEK 156",
        ),
        (
            phase12_document,
            lambda d: d.update(endpoints=["CSFSOD1", "PLNFL", "CSFSOD1"]),
            r"endpoints: each endpoint once",
        ),
    ],
)
def test_a_field_that_would_not_change_the_run_is_an_error(document, edit, message) -> None:  # type: ignore[no-untyped-def]
    """Accepted-and-ignored fields: a ratio that disagrees with the counts (the run follows the
    counts and the report would print the ratio), rules and criteria that only act on clinical
    endpoints, doses after the last visit, repeated endpoints."""
    doc = document()
    edit(doc)
    with pytest.raises(DesignError, match=message) as info:
        loads_design(yaml.safe_dump(doc))
    assert "\n" not in str(info.value)


def test_every_template_states_a_ratio_that_matches_its_counts() -> None:
    for name in ("phase12", "valor", "ole"):
        design = load_template(name)
        active, control = (int(x) for x in design.randomization.ratio.split(":"))
        sizes = design.arm_sizes()
        n_control = sizes[design.control_arm]
        assert abs(n_control - design.n_patients * control / (active + control)) <= len(
            design.randomization.groups
        )
