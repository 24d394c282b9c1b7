"""Every comparison row has a role read from what was fitted, not from a hand list."""

from alsim.design.templates import load_template
from alsim.evidence.compare import compare
from alsim.evidence.roles import fitted_by, role_of
from alsim.model.parameters import shipped_calibration
from alsim.report.tables import comparison_cells, role_summary
from alsim.simulate.trial import simulate_trial


def test_roles_follow_the_shipped_calibration_and_the_parameter_sources() -> None:
    summary = shipped_calibration()
    assert summary is not None
    for record_id, names in summary["roles"].items():
        role, fitted = role_of(record_id)
        assert role == "calibrated" and set(names) <= set(fitted)
    # a published number no fit used (the all-SOD1 FVC decline, see svc_speed_other)
    assert "nh16_fvc_slope_all" not in summary["roles"]
    assert role_of("nh16_fvc_slope_all") == ("validation", ())
    # a parameter derived from a published number makes that number calibrated
    assert "prestudy_slope_a4v_per_month" in fitted_by()["nh16_alsfrs_slope_a4v"]
    # adverse-event terms calibrated by alsim.calibrate.safety
    assert role_of("valor_ae_headache")[0] == "calibrated"
    assert role_of(None) == ("prediction", ())


def test_comparison_rows_show_their_role() -> None:
    sim = simulate_trial(load_template("phase12"), n_replicates=20, seed=2)
    rows = compare("phase12", sim)
    roles = {r.target: r for r in rows}
    diff = roles["p12_csf_sod1_diff_100mg"]
    assert diff.role == "calibrated" and "ec50_tissue_mg" in diff.fitted
    assert comparison_cells(diff)[5].startswith("fit: ")
    assert all(r.role == "prediction" for r in rows if r.published is None)
    line = role_summary(rows)
    assert line.startswith("validation 0/0 inside CI")
    assert "calibration " in line and "predictions 8" in line
