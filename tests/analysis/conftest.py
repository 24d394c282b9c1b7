"""Shared fixtures: the committed reference datasets and the values R computed on them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE = Path(__file__).parents[1] / "reference"


def _expected(name: str) -> dict[str, float]:
    frame = pd.read_csv(REFERENCE / f"expected_{name}.csv")
    return dict(zip(frame["name"], frame["value"].astype(float), strict=True))


@pytest.fixture(scope="session")
def expected() -> Callable[[str], dict[str, float]]:
    """Reader of ``tests/reference/expected_<name>.csv`` (written by ``<name>.R``)."""
    return _expected


@pytest.fixture(scope="session")
def patients() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "trial_patients.csv")


@pytest.fixture(scope="session")
def long() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "trial_long.csv")


@pytest.fixture(scope="session")
def chg_wide(long: pd.DataFrame, patients: pd.DataFrame) -> np.ndarray:
    """ALSFRS-R change shaped (1, patient, visit) in patient-file order, NaN after dropout."""
    wide = long.pivot(index="id", columns="visit_index", values="chg").reindex(patients["id"])
    return wide.to_numpy()[None]
