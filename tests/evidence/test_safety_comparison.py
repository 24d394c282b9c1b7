"""Simulated vs published adverse events on the VALOR schedule (2:1, eight doses, 28 weeks)."""

import numpy as np

from alsim.calibrate.safety import default_adverse_event_terms
from alsim.evidence.safety import compare_safety
from alsim.simulate.adverse_events import simulate_adverse_events

DOSE_DAYS = np.array([1, 15, 29, 57, 85, 113, 141, 169])


def test_every_valor_adverse_event_is_compared_and_met() -> None:
    n_rep = 200
    arm_index = np.repeat([0, 1], [36, 72])
    amount = np.where(arm_index[None, :, None] == 1, 100.0, 0.0) * np.ones((n_rep, 108, 8))
    events = simulate_adverse_events(
        default_adverse_event_terms(),
        DOSE_DAYS,
        amount,
        np.full((n_rep, 108), np.inf),
        197.0,
        seed=5,
        replicates=np.arange(n_rep),
    )
    rows = compare_safety(
        "valor",
        events,
        arm_index=arm_index,
        arm_labels=("PLACEBO", "TOFERSEN 100 MG"),
        treated="TOFERSEN 100 MG",
        control="PLACEBO",
        n_replicates=n_rep,
    )
    targets = {row.target for row in rows}
    assert {
        "valor_ae_csf_wbc_count_increased",
        "valor_ae_procedural_pain",
        "valor_sae_myelitis",
        "valor_neuro_sae_randomized",
    } <= targets
    unmet = [(r.target, r.arm, r.sim_median, r.published) for r in rows if not r.inside]
    assert not unmet
