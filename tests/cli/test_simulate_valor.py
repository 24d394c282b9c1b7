"""`alsim simulate` on VALOR writes the clinical tables: ADQS and ADTTE beside ADSL and ADLB."""

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import template_path

runner = CliRunner()


def test_simulate_valor_writes_adqs_and_adtte(tmp_path: Path) -> None:
    out = tmp_path / "valor"
    result = runner.invoke(
        app, ["simulate", str(template_path("valor")), "-r", "1", "-s", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    adqs = pd.read_parquet(out / "adqs.parquet")
    adtte = pd.read_parquet(out / "adtte.parquet")
    adsl = pd.read_parquet(out / "adsl.parquet")
    adlb = pd.read_parquet(out / "adlb.parquet")
    assert set(adqs["PARAMCD"]) == {"ALSFRSR", "SVCPP", "HHDMEGA"}
    assert set(adlb["PARAMCD"]) == {"CSFSOD1", "PLNFL", "CSFNFL"}
    alsfrsr = adqs.loc[adqs["PARAMCD"] == "ALSFRSR", "AVAL"]
    assert alsfrsr.between(0, 48).all() and (alsfrsr == alsfrsr.round()).all()
    assert set(adtte["PARAMCD"]) == {"DTHPV"} and len(adtte) == len(adsl) == 108
    assert set(adsl["STRATUM"]) == {"FASTER", "SLOWER"}
    assert (adsl["STRATUM"] == "FASTER").sum() == 60
