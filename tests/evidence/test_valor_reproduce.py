"""Reproducing VALOR and the extension: every published number beside its simulated counterpart."""

import math

import pytest

from alsim.evidence import evidence, study_targets
from alsim.evidence.reproduce import StudyReproduction, reproduce_study, resolve_studies

PUBLISHED_VALOR = (
    "valor_alsfrsr_fast_tof",
    "valor_alsfrsr_fast_pbo",
    "valor_alsfrsr_fast_diff",
    "valor_csf_sod1_itt_tof",
    "valor_csf_sod1_itt_pbo",
    "valor_csf_sod1_itt_diff",
    "valor_plasma_nfl_gmr_itt_tofersen",
    "valor_plasma_nfl_gmr_itt_placebo",
    "valor_plasma_nfl_gmr_faster_tofersen",
    "valor_plasma_nfl_gmr_faster_placebo",
    "valor_plasma_nfl_ratio_itt",
    "valor_plasma_nfl_itt_diff",
)


@pytest.fixture(scope="module")
def valor() -> StudyReproduction:
    return reproduce_study("valor", n_replicates=4, seed=3)


def test_all_covers_valor_and_the_extension() -> None:
    assert resolve_studies("all")[:3] == ("phase12", "valor", "ole")


def test_every_published_valor_number_is_compared(valor: StudyReproduction) -> None:
    rows = {row.target: row for row in valor.rows}
    for record_id in PUBLISHED_VALOR:
        row = rows[record_id]
        record = evidence(record_id)
        assert row.published == record.numeric_value
        assert row.published_ci_low == record.ci_low and row.published_ci_high == record.ci_high
        assert row.source == record.source
        assert row.inside is not None
        assert math.isfinite(row.sim_median)


def test_gaps_in_the_evidence_are_shown_as_predictions(valor: StudyReproduction) -> None:
    rows = [r for r in valor.rows if r.target == "valor_svc_diff_faster"]
    assert rows and rows[0].published is None and rows[0].inside is None
    assert "gap" in rows[0].criterion


def test_reproduce_is_deterministic(valor: StudyReproduction) -> None:
    again = reproduce_study("valor", n_replicates=4, seed=3)
    assert [r.to_dict() for r in again.rows] == [r.to_dict() for r in valor.rows]


def test_extension_rows_are_predictions_except_entry() -> None:
    targets, predictions = study_targets("ole")
    assert [t.evidence for t in targets] == ["ole_entered"]
    assert all(t.evidence is None for t in predictions)
    assert any(t.visit == "WEEK 52" and t.quantity == "ancova_diff" for t in predictions)


def test_natural_history_is_set_beside_bali(valor: StudyReproduction) -> None:
    rows = {r.target: r for r in valor.rows if r.study == "natural_history"}
    for record_id in (
        "nh_median_surv_a4v",
        "nh_median_surv_nona4v",
        "nh16_alsfrs_slope_a4v",
        "nh16_fvc_slope_a4v",
    ):
        assert rows[record_id].published == evidence(record_id).numeric_value
    assert rows["nh_median_surv_a4v"].sim_median < rows["nh_median_surv_nona4v"].sim_median
