"""The web app's logic without a browser: bounded edits validated like design files, chunked runs
equal to one run, cancellation between chunks, downloads that read back."""

import io
import zipfile

import numpy as np
import pyreadstat
import pytest

from alsim.app.logic import (
    DesignEdit,
    RunCancelledError,
    data_zip,
    design_from_upload,
    design_yaml,
    edited_design,
    load_base,
    parse_days,
    parse_ratio,
    primary_table,
    report_html,
    run_design,
)
from alsim.design import loads_design
from alsim.errors import AlsimError, DesignError
from alsim.simulate import simulate_trial


def test_resizing_keeps_group_structure_and_ratio() -> None:
    base = load_base("phase12")
    design = edited_design(base, DesignEdit(n_patients=100, ratio="3:1"))
    assert design.n_patients == 100
    sizes = design.arm_sizes()
    assert sizes["PLACEBO"] == 24  # 25 per cohort, a quarter to placebo (rounded)
    assert sum(sizes.values()) == 100
    assert design.randomization.ratio == "3:1"


def test_shortening_follow_up_drops_late_visits_and_doses() -> None:
    design = edited_design(load_base("phase12"), DesignEdit(last_day=40))
    assert [v.day for v in design.visits] == [1, 15, 29]
    assert design.primary_visit == "DAY 29"
    assert max(design.regimen.dose_days) <= 40


def test_dose_edit_and_yaml_round_trip() -> None:
    design = edited_design(load_base("phase12"), DesignEdit(arm_doses_mg={"TOFERSEN 100 MG": 150}))
    assert loads_design(design_yaml(design).decode()) == design
    assert design.arm("TOFERSEN 100 MG").dose_mg == 150


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (DesignEdit(loading_days="1, 15, __import__('os')"), "whole study days"),
        (DesignEdit(loading_days="15, 1"), "design.regimen.loading_days"),
        (DesignEdit(ratio="two to one"), "ratio must look like 2:1"),
        (DesignEdit(arm_doses_mg={"TOFERSEN 20 MG": -5}), "design.arms[1].dose_mg"),
        (DesignEdit(n_patients=10**6), "patients must be 2..2000"),
    ],
)
def test_invalid_edits_give_one_line_errors(edit: DesignEdit, message: str) -> None:
    with pytest.raises(DesignError) as error:
        edited_design(load_base("phase12"), edit)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_parsers() -> None:
    assert parse_days("1,15 29") == (1, 15, 29)
    assert parse_ratio(" 2:1 ") == (2, 1)


def test_upload_is_parsed_as_yaml_only() -> None:
    with pytest.raises(DesignError, match=r"not valid YAML|mapping"):
        design_from_upload(b"!!python/object/apply:os.system ['true']")
    with pytest.raises(DesignError, match="UTF-8"):
        design_from_upload(b"\xff\xfe")


def test_chunked_run_equals_one_simulation() -> None:
    design = load_base("phase12")
    seen: list[tuple[int, int]] = []
    run = run_design(
        design,
        n_replicates=23,
        seed=4,
        study="phase12",
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(10, 23), (20, 23), (23, 23)]
    whole = simulate_trial(design, n_replicates=23, seed=4)
    for key, values in whole.observed.items():
        np.testing.assert_array_equal(run.sim.observed[key], values)
    np.testing.assert_array_equal(run.sim.replicate, whole.replicate)
    assert run.rows and set(primary_table(run)["Arm"]) == set(design.arm_labels)


def test_run_stops_between_chunks_and_refuses_oversized_runs() -> None:
    calls = iter([False, True])
    with pytest.raises(RunCancelledError):
        run_design(load_base("phase12"), n_replicates=30, seed=1, should_stop=lambda: next(calls))
    with pytest.raises(AlsimError, match=r"replicates must be 1\.\.200"):
        run_design(load_base("phase12"), n_replicates=10_000, seed=1)


def test_downloads_read_back() -> None:
    run = run_design(load_base("phase12"), n_replicates=2, seed=1, study="phase12")
    archive = zipfile.ZipFile(io.BytesIO(data_zip(run)))
    names = set(archive.namelist())
    assert {"adsl.csv", "adlb.csv", "adsl.xpt", "adlb.xpt", "design.yaml", "manifest.json"} <= names
    with archive.open("adsl.xpt") as handle:
        payload = handle.read()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "adsl.xpt"
        path.write_bytes(payload)
        _, meta = pyreadstat.read_xport(str(path))
    assert meta.column_names_to_labels["REPLICAT"] == "REPLICATE"
    assert b"<img" in report_html(run)
