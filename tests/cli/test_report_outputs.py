"""`alsim simulate` writes report.html, SAS transport files and a manifest that names what was
renamed for XPT; `alsim reproduce` writes a report with figures."""

import json
from pathlib import Path

import pyreadstat
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import template_path

runner = CliRunner()


def test_simulate_writes_xpt_and_report(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = runner.invoke(
        app, ["simulate", str(template_path("phase12")), "-r", "2", "-s", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for name in ("adsl", "adlb"):
        data, meta = pyreadstat.read_xport(str(out / f"{name}.xpt"))
        assert meta.table_name == name.upper() and len(data) > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["xpt_renamed_variables"]["adsl"]["REPLICATE"] == "REPLICAT"
    assert "report" in manifest["timings_s"]
    page = (out / "report.html").read_text(encoding="utf-8")
    # timeline, biomarkers, time to first drug-caused and first serious adverse event
    assert page.count('<img src="data:image/png;base64,') == 4
    assert "<h3>Biomarkers</h3>" in page and "<h3>Safety</h3>" in page


def test_reproduce_writes_report_with_figures_and_rerunnable_manifest(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    result = runner.invoke(
        app, ["reproduce", "--study", "phase12", "-r", "3", "-s", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    # timeline, biomarkers, dose-response, two safety curves, forest plot
    assert page.count('<img src="data:image/png;base64,') == 6
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command_line"] == "alsim reproduce --study phase12 --replicates 3 --seed 2"
    assert manifest["replicates_by_study"] == {"phase12": 3}
    assert "report" in manifest["timings_s"]
