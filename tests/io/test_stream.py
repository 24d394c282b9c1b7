"""Tables streamed chunk by chunk: the same files as written whole, in each requested format."""

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import load_template, template_path
from alsim.errors import AlsimError
from alsim.io import build_bds
from alsim.io.stream import TableStream, parse_formats
from alsim.io.xpt import write_xpt
from alsim.simulate import simulate_trial


def _chunks() -> list[pd.DataFrame]:
    design = load_template("phase12")
    return [
        build_bds(simulate_trial(design, n_replicates=n, seed=3, first_replicate=first))
        for first, n in ((0, 2), (2, 1), (3, 3))
    ]


def test_a_table_streamed_in_chunks_equals_it_written_whole(tmp_path: Path) -> None:
    chunks = _chunks()
    whole = pd.concat(chunks, ignore_index=True)
    for name, parts in (("one", [whole]), ("three", chunks)):
        (tmp_path / name).mkdir()
        stream = TableStream(tmp_path / name, "adlb", ("parquet", "csv", "xpt"))
        for part in parts:
            stream.write(part)
        stream.close()
    one, three = tmp_path / "one", tmp_path / "three"
    assert (one / "adlb.csv").read_bytes() == (three / "adlb.csv").read_bytes()
    assert (one / "adlb.xpt").read_bytes() == (three / "adlb.xpt").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(three / "adlb.parquet"), whole)
    write_xpt(whole, tmp_path / "direct.xpt", dataset="ADLB")
    streamed, _ = pyreadstat.read_xport(str(three / "adlb.xpt"))
    direct, _ = pyreadstat.read_xport(str(tmp_path / "direct.xpt"))
    pd.testing.assert_frame_equal(streamed, direct)


def test_only_the_requested_formats_are_left(tmp_path: Path) -> None:
    stream = TableStream(tmp_path, "adlb", ("csv",))
    for part in _chunks():
        stream.write(part)
    stream.close()
    assert len(stream.read()) == sum(len(c) for c in _chunks())
    stream.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adlb.csv"]


def test_formats_are_checked_with_one_line_naming_the_allowed_values(tmp_path: Path) -> None:
    assert parse_formats("xpt, parquet,xpt") == ("xpt", "parquet")
    with pytest.raises(AlsimError, match="allowed: parquet, csv, xpt"):
        parse_formats("parquet,sas7bdat")
    result = CliRunner().invoke(
        app,
        ["simulate", str(template_path("phase12")), "--formats", "xlsx", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "--formats: 'xlsx' is not a table format" in result.output
    assert not any(tmp_path.iterdir())


def test_simulate_writes_only_the_formats_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            str(template_path("phase12")),
            "-r",
            "2",
            "--formats",
            "xpt",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "adlb.xpt" in names and "report.html" in names and "nonmem.csv" in names
    assert not [n for n in names if n.endswith(".parquet") or n.startswith(".")]
    assert not [n for n in names if n.endswith(".csv") and n != "nonmem.csv"]


def test_same_seed_gives_byte_identical_table_files(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = CliRunner().invoke(
            app,
            ["simulate", str(template_path("phase12")), "-r", "3", "-s", "5", "--out", str(out)],
        )
        assert result.exit_code == 0, result.output
        runs.append(out)
    tables = sorted(p.name for p in runs[0].iterdir() if p.suffix in (".parquet", ".csv", ".xpt"))
    assert len(tables) >= 10
    for name in tables:
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
