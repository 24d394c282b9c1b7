"""Five-year courses of VALOR's entrants, untreated and on continuous tofersen 100 mg.

Built from the shipped VALOR design through the public API only (`set_duration`, the design
schema, `simulate_trial`), so the clinical-model tests read the same way on any model version.
"""

from typing import Any

import pytest

from alsim.campaign import set_duration
from alsim.design import load_template
from alsim.design.io import parse_design
from alsim.design.trial import TrialDesign
from alsim.simulate import TrialSimulation, simulate_trial

FIVE_YEARS_WEEKS = 261
A4V_FRACTION = 0.3


def long_valor(*, dose_mg: float, weeks: int = FIVE_YEARS_WEEKS) -> TrialDesign:
    """VALOR's strata and eligibility, every patient on `dose_mg` for `weeks`, visits every 28
    days, no withdrawal; a third of the screened patients A4V, so both variant classes have
    patients enough to check."""
    document: dict[str, Any] = set_duration(load_template("valor"), weeks).model_dump(mode="json")
    for arm in document["arms"]:
        arm["dose_mg"] = dose_mg
    document["dropout_per_year"] = 0.0
    document["population"]["a4v_fraction"] = A4V_FRACTION
    return parse_design(document)


@pytest.fixture(scope="session")
def untreated_5y() -> TrialSimulation:
    return simulate_trial(long_valor(dose_mg=0.0), n_replicates=4, seed=140, adverse_event_terms=())


@pytest.fixture(scope="session")
def treated_5y() -> TrialSimulation:
    return simulate_trial(
        long_valor(dose_mg=100.0), n_replicates=4, seed=140, adverse_event_terms=()
    )
