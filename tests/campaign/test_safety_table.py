"""Serious neurological events per trial, and P(at least k), from the campaign engine."""

import numpy as np
import pandas as pd

from alsim.campaign.grid import DesignPoint
from alsim.campaign.safety import SERIOUS_EVENTS, serious_event_rows, serious_event_table
from alsim.design import load_template
from alsim.io.adae import build_adae
from alsim.simulate import simulate_trial


def test_counts_match_the_adae_table_and_probabilities_count_replicates() -> None:
    design = load_template("valor")
    sim = simulate_trial(design, n_replicates=6, seed=4)
    rows = serious_event_rows(sim)
    adae = build_adae(sim)
    serious = adae[(adae.AESER == "Y") & (adae.TRT01P == "TOFERSEN 100 MG")]
    expected = serious.groupby("REPLICATE")["USUBJID"].nunique().reindex(sim.replicate).fillna(0)
    np.testing.assert_array_equal(rows["estimate"].to_numpy(), expected.to_numpy())

    results = rows.assign(point=0)
    point = DesignPoint(index=0, settings=(), design=design)
    table = serious_event_table(results, (point,), ks=(1, 3))
    counts = rows["estimate"].to_numpy()
    assert list(table["at_least_k"]) == [1, 3]
    assert table["probability"].tolist() == [np.mean(counts >= 1), np.mean(counts >= 3)]
    assert (results["analysis"] == SERIOUS_EVENTS).all()
    assert isinstance(table, pd.DataFrame)
