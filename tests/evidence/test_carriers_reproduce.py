"""alsim reproduce --study atlas: the lead time beside its published range, and the stated
prediction of the randomised part's primary result in every output file."""

import json
from pathlib import Path

import pytest

from alsim.evidence.reproduce import StudyReproduction, reproduce_study
from alsim.model import DEFAULT_PARAMETERS
from alsim.report.reproduce import write_reproduction


@pytest.fixture(scope="module")
def atlas() -> StudyReproduction:
    return reproduce_study("atlas", n_replicates=12, seed=2)


def test_lead_time_sits_beside_the_published_range(atlas: StudyReproduction) -> None:
    rows = {r.target: r for r in atlas.rows}
    lead = rows["nh_prefals_nfl_lead"]
    assert lead.published is None
    assert (lead.published_ci_low, lead.published_ci_high) == (6, 12)
    assert lead.criterion == "simulated median inside the published range"
    # the prodromal scale was fitted to this range: the row is calibrated, not a prediction
    assert lead.role == "calibrated" and "prodromal_scale_a4v_days" in lead.fitted
    predictions = [r for r in atlas.rows if r.criterion.startswith("prediction")]
    assert {r.quantity for r in predictions} >= {
        "event_proportion_landmark",
        "risk_difference_landmark",
        "projected_randomised",
    }


def test_prediction_is_written_to_every_output(atlas: StudyReproduction, tmp_path: Path) -> None:
    prediction = atlas.prediction
    assert prediction is not None and prediction.landmark_day == 365
    for parameters in ("typical", "posterior"):
        control = prediction.value("event_proportion_landmark", "PLACEBO", parameters)
        assert 0 <= control.low <= control.median <= control.high <= 100
    assert 0 <= prediction.power <= 1 and 0 <= prediction.assurance <= 1
    write_reproduction(tmp_path, [atlas], DEFAULT_PARAMETERS)
    document = json.loads((tmp_path / "comparison.json").read_text(encoding="utf-8"))
    assert document["atlas"]["prediction"]["stated_on"] == prediction.stated_on
    assert f"Stated on {prediction.stated_on}" in (tmp_path / "comparison.md").read_text("utf-8")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "before symptoms" in page and "Prediction of the primary result" in page
    assert page.count("<img") >= 3
