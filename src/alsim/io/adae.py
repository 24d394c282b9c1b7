"""ADAE-like table: one row per simulated adverse event, beside ADSL/ADLB in the same formats."""

import numpy as np
import pandas as pd

from alsim.io.adam import usubjid
from alsim.model.adverse_events import SEVERITIES
from alsim.simulate.trial import TrialSimulation

ADAE_COLUMNS = [
    "STUDYID",
    "REPLICATE",
    "USUBJID",
    "TRT01P",
    "AEDECOD",
    "AEBODSYS",
    "ASTDY",
    "AESER",
    "AESEV",
    "AREL",
    "AEACN",
]


def build_adae(sim: TrialSimulation) -> pd.DataFrame:
    """Adverse events of every replicate, sorted by replicate, subject and onset study day."""
    events = sim.adverse_events
    if events is None:
        return pd.DataFrame(columns=ADAE_COLUMNS)
    study_id = sim.design.study_id
    decod = np.array([t.decod for t in events.terms], dtype=object)
    body = np.array([t.body_system for t in events.terms], dtype=object)
    serious = np.array(["Y" if t.serious else "N" for t in events.terms], dtype=object)
    frame = pd.DataFrame(
        {
            "STUDYID": study_id,
            "REPLICATE": sim.replicate[events.replicate_index],
            "USUBJID": usubjid(study_id, sim.n_patients)[events.patient],
            "TRT01P": np.array(sim.design.arm_labels, dtype=object)[sim.arm_index[events.patient]],
            "AEDECOD": decod[events.term],
            "AEBODSYS": body[events.term],
            "ASTDY": events.onset_day.astype(np.int64),
            "AESER": serious[events.term],
            "AESEV": np.array(SEVERITIES, dtype=object)[events.severity],
            "AREL": np.where(events.related, "RELATED", "NOT RELATED"),
            "AEACN": np.where(events.withdrew, "DRUG WITHDRAWN", "DOSE NOT CHANGED"),
        },
        columns=ADAE_COLUMNS,
    )
    return frame.sort_values(["REPLICATE", "USUBJID", "ASTDY"], kind="stable", ignore_index=True)
