"""SAS transport (XPT v5) files: read back with pyreadstat (ReadStat, the library behind
haven::read_xpt), names within 8 characters, labels intact, values equal."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from alsim.design import load_template
from alsim.io import build_adsl, build_bds
from alsim.io.xpt import VARIABLE_LABELS, write_xpt, xpt_names
from alsim.simulate import simulate_trial


def test_xpt_names_are_unique_upper_case_and_at_most_8_characters() -> None:
    columns = ["REPLICATE", "sigma_csf_sod1", "sigma_csf_nfl", "sigma_csf_x", "AVAL", "1st"]
    names = xpt_names(columns)
    assert names["REPLICATE"] == "REPLICAT"
    assert names["AVAL"] == "AVAL"
    assert names["sigma_csf_sod1"] == "SIGMA_CS"
    assert names["sigma_csf_nfl"] == "SIGMA_01"
    assert names["sigma_csf_x"] == "SIGMA_02"
    assert names["1st"] == "_1ST"
    assert len(set(names.values())) == len(columns)
    assert all(len(n) <= 8 and n == n.upper() for n in names.values())


@pytest.mark.parametrize("table", ["ADSL", "ADLB"])
def test_xpt_round_trip_keeps_values_and_labels(tmp_path: Path, table: str) -> None:
    sim = simulate_trial(load_template("phase12"), n_replicates=2, seed=4)
    frame = build_adsl(sim) if table == "ADSL" else build_bds(sim)
    target = tmp_path / f"{table.lower()}.xpt"
    renamed = write_xpt(frame, target, dataset=table)
    data, meta = pyreadstat.read_xport(str(target))
    assert meta.table_name == table
    assert len(data) == len(frame)
    names = xpt_names(list(frame.columns))
    assert list(data.columns) == [names[c] for c in frame.columns]
    labels = meta.column_names_to_labels
    for column in frame.columns:
        short = names[column]
        if short == column:
            assert labels[short] == VARIABLE_LABELS.get(column, column)
        else:
            assert renamed[column] == short
            assert labels[short] == column  # the full name travels as the label
        original = frame[column]
        if pd.api.types.is_numeric_dtype(original):
            np.testing.assert_allclose(data[short].to_numpy(float), original.to_numpy(float))
        else:
            assert (data[short].to_numpy() == original.fillna("").astype(str).to_numpy()).all()


def test_long_strings_and_labels_are_cut_to_xpt_limits(tmp_path: Path) -> None:
    frame = pd.DataFrame({"NOTE": ["x" * 300], "FLAG": [True]})
    write_xpt(frame, tmp_path / "t.xpt", dataset="T", labels={"NOTE": "n" * 60})
    data, meta = pyreadstat.read_xport(str(tmp_path / "t.xpt"))
    assert data["NOTE"][0] == "x" * 200
    assert data["FLAG"][0] == "Y"
    assert meta.column_names_to_labels["NOTE"] == "n" * 40


def test_numbers_survive_the_ibm_float_conversion_bit_for_bit(tmp_path: Path) -> None:
    """IBM's 56-bit fraction holds a double's 53 bits: values read back equal, NaN is missing."""
    values = np.array([0.0, -0.0, 1.0, -2.5, 0.1, 1e-70, 7e70, np.pi * 1e5, -1 / 3, np.nan])
    frame = pd.DataFrame({"X": values, "N": np.arange(values.size)})
    write_xpt(frame, tmp_path / "x.xpt", dataset="X")
    data, _ = pyreadstat.read_xport(str(tmp_path / "x.xpt"))
    np.testing.assert_array_equal(data["X"].to_numpy(), values)
    np.testing.assert_array_equal(data["N"].to_numpy(), np.arange(values.size))


def test_text_columns_with_repeats_gaps_flags_and_accents_read_back_as_written(
    tmp_path: Path,
) -> None:
    """Each distinct value is encoded once and placed in every row that holds it: ReadStat reads
    back every row's own value (missing as empty, flags as Y or empty, UTF-8 accents intact)."""
    rng = np.random.default_rng(3)
    pool = np.array(["PLACEBO", "TOFERSEN 100 MG", "Ménétrier", "", "x" * 250], dtype=object)
    text = pool[rng.integers(0, pool.size, 500)]
    text[rng.random(500) < 0.1] = None
    flags = rng.random(500) < 0.5
    frame = pd.DataFrame({"TRT": text, "FL": flags, "N": np.arange(500.0)})
    write_xpt(frame, tmp_path / "t.xpt", dataset="T")
    data, _ = pyreadstat.read_xport(str(tmp_path / "t.xpt"), encoding="utf-8")
    expected = [("" if v is None else v)[:200] for v in text]
    assert data["TRT"].tolist() == expected
    assert data["FL"].tolist() == ["Y" if f else "" for f in flags]
    np.testing.assert_array_equal(data["N"].to_numpy(), frame["N"].to_numpy())
