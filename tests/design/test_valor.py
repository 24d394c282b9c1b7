"""VALOR and its open-label extension as designs: published sizes, doses, visits, validation."""

import pytest
import yaml

from alsim.design import STUDY_TEMPLATES, dump_design, load_template, loads_design
from alsim.errors import DesignError
from alsim.evidence import evidence


def document(study: str) -> dict:
    return yaml.safe_load(dump_design(load_template(study)))


def test_valor_sizes_match_the_evidence_file() -> None:
    design = load_template("valor")
    sizes = {g.name: g.n_per_arm for g in design.randomization.groups}
    assert design.n_patients == evidence("valor_n_itt").numeric_value
    assert sizes["FASTER"]["TOFERSEN 100 MG"] == evidence("valor_n_fast_tof").numeric_value
    assert sizes["FASTER"]["PLACEBO"] == evidence("valor_n_fast_pbo").numeric_value
    assert sizes["SLOWER"]["TOFERSEN 100 MG"] == evidence("valor_n_slow_tof").numeric_value
    assert sizes["SLOWER"]["PLACEBO"] == evidence("valor_n_slow_pbo").numeric_value


def test_valor_gives_eight_doses_to_day_169_and_ends_at_week_28() -> None:
    design = load_template("valor")
    assert design.regimen.dose_days == (1, 15, 29, 57, 85, 113, 141, 169)
    assert len(design.regimen.dose_days) == evidence("valor_design_doses").numeric_value
    week28 = next(v for v in design.visits if v.name == "WEEK 28")
    assert week28.day == 7 * 28 + 1 == design.visits[-1].day
    assert design.primary_visit == "WEEK 28"
    assert design.has_progression
    assert {"ALSFRSR", "SVCPP", "HHDMEGA", "DTHPV"} <= set(design.endpoints)


def test_faster_rule_default_is_a_documented_design_parameter() -> None:
    design = load_template("valor")
    assert design.faster_rule is not None
    assert design.faster_rule.a4v_is_faster
    assert design.faster_rule.prestudy_slope_per_month == 0.9
    text = STUDY_TEMPLATES["valor"]
    assert text == "valor.yaml"


def test_extension_continues_valor_with_everyone_on_tofersen() -> None:
    valor, ole = load_template("valor"), load_template("ole")
    assert ole.extension is not None
    assert ole.extension.arm_label == "TOFERSEN 100 MG"
    assert ole.extension.start_day == valor.visits[-1].day
    assert ole.extension.entry_fraction == pytest.approx(
        evidence("ole_entered").numeric_value / evidence("valor_n_itt").numeric_value, abs=0.01
    )
    assert ole.visits[: len(valor.visits)] == valor.visits
    assert any(v.day == 7 * 52 + 1 for v in ole.visits)
    assert ole.visits[-1].day >= 7 * 104 + 1
    assert ole.randomization == valor.randomization


@pytest.mark.parametrize("study", ["phase12", "valor", "ole"])
def test_templates_round_trip(study: str) -> None:
    design = load_template(study)
    assert loads_design(dump_design(design)) == design


def test_phase12_has_no_progression_fields() -> None:
    design = load_template("phase12")
    assert design.faster_rule is None and design.extension is None and design.eligibility is None
    assert not design.has_progression


def test_faster_rule_needs_faster_and_slower_strata() -> None:
    doc = document("valor")
    doc["randomization"]["groups"][0]["name"] = "FAST"
    with pytest.raises(DesignError, match=r"faster_rule needs randomization\.unit 'stratum'"):
        loads_design(yaml.safe_dump(doc))


def test_extension_must_start_after_the_last_randomised_dose() -> None:
    doc = document("ole")
    doc["extension"]["start_day"] = 100
    doc["extension"]["regimen"]["loading_days"] = [100]
    with pytest.raises(DesignError, match=r"extension\.start_day must come after the last"):
        loads_design(yaml.safe_dump(doc))


def test_unknown_faster_rule_key_names_the_allowed_keys() -> None:
    doc = document("valor")
    doc["faster_rule"]["slope"] = 1.0
    with pytest.raises(DesignError, match=r"design\.faster_rule\.slope: unknown key; allowed keys"):
        loads_design(yaml.safe_dump(doc))
