"""Terminal output fits 80 columns without cutting a number or a name: wide tables go vertical,
long text wraps between words."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alsim.cli import _common
from alsim.cli.main import app
from alsim.design import template_path
from alsim.evidence.compare import ComparisonRow
from alsim.report.tables import comparison_cells

runner = CliRunner()
WIDTH = 80


@pytest.fixture(autouse=True)
def terminal_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common.console, "width", WIDTH)


def _words(text: str) -> set[str]:
    return set(text.split())


def test_reproduce_output_fits_80_columns_and_keeps_every_number(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    result = runner.invoke(app, ["reproduce", "--study", "phase12", "-r", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    assert not any("…" in line for line in lines)
    printed = _words(result.output)
    document = json.loads((out / "comparison.json").read_text())
    for fields in document["phase12"]["rows"]:
        cells = comparison_cells(ComparisonRow(**fields))
        # target, arm, simulated and published cells: every word (number) whole on a line
        for cell in (cells[0], cells[1], cells[3], cells[4]):
            assert _words(cell) <= printed, cell


def test_power_output_fits_80_columns_and_keeps_design_point_labels(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "power",
            str(template_path("phase12")),
            "-r",
            "4",
            "--vary",
            "n_total=50,100",
            "--truth-patients",
            "200",
            "--out",
            str(tmp_path / "power"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    assert not any("…" in line for line in lines)
    assert "n_total=100: gmr_csf_sod1 (primary)" in result.output
