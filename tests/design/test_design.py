"""Design loading: templates, round trips, and errors that name the field."""

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
    loading = tuple(sorted(draw(st.sets(st.integers(1, 60), min_size=1, max_size=4))))
    days = sorted(draw(st.sets(st.integers(2, 400), min_size=1, max_size=6)))
    visits = (Visit(name="BASELINE", day=1), *tuple(Visit(name=f"DAY {d}", day=d) for d in days))
    return TrialDesign(
        study_id=draw(labels),
        title=draw(st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30)),
        arms=arms,
        regimen=Regimen(
            loading_days=loading,
            interval_days=draw(st.integers(1, 90)),
            n_maintenance=draw(st.integers(0, 12)),
        ),
        randomization=Randomization(unit="cohort", ratio="2:1", groups=groups),
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
