"""What run-in (presymptomatic) designs add to the ADaM-like tables; extensions, no renames.

- ADSL: ENTAGE (age at run-in entry), TRIGADY (run-in day of the trigger sample, entry = day
  1), PHENOFL (Y: clinically manifest ALS found in the randomised part), PHENODY (its study
  day, which is also EOSDY: the randomised part ends there), and TRT02P = the open-label rescue
  arm for patients with the event.
- ADLB: the run-in samples of the trigger biomarker before Day 1, with AVISIT "RUN-IN DAY -d",
  AVISITN and ADY the (negative) study day, APHASE "RUN-IN" (randomised-part rows: "RANDOMISED");
  they precede the randomised baseline, so BASE, CHG, PCHG and R2BASE are empty on them.
- ADTTE: PARAMCD PHENOCNV, AVAL the days from Day 1 to the assessment that found the event or to
  the last assessment without it, CNSR 1 = censored.
"""

import numpy as np
import pandas as pd

from alsim.simulate.presymptomatic import CarrierRecord
from alsim.simulate.trial import TrialSimulation

PHENOCNV_LABEL = "Time to clinically manifest ALS (days from Day 1)"
RUN_IN_PHASE = "RUN-IN"
RANDOMISED_PHASE = "RANDOMISED"


def _record(sim: TrialSimulation) -> CarrierRecord:
    assert sim.carriers is not None
    return sim.carriers


def add_carrier_adsl(frame: pd.DataFrame, sim: TrialSimulation) -> pd.DataFrame:
    """ADSL with the run-in columns added (rows in REPLICATE x USUBJID order)."""
    record = _record(sim)
    found = record.event_observed
    out = frame.assign(
        ENTAGE=np.floor(record.entry_age_years).astype(np.int64).reshape(-1),
        TRIGADY=(record.trigger_day + 1.0).astype(np.int64).reshape(-1),
        PHENOFL=np.where(found, "Y", "").reshape(-1),
        PHENODY=np.where(found, record.event_day, np.nan).reshape(-1),
    )
    # the randomised part ends at the event (the patient moves to open-label rescue)
    out["EOSDY"] = np.where(found.reshape(-1), out["PHENODY"], out["EOSDY"])
    if sim.design.rescue is not None:
        out["TRT02P"] = np.where(found, sim.design.rescue.arm_label, "").reshape(-1)
    return out


def add_carrier_bds(
    frame: pd.DataFrame, sim: TrialSimulation, ids: np.ndarray, keys: list[str]
) -> pd.DataFrame:
    """ADLB (`frame`, randomised-part rows) with APHASE and the run-in samples of the trigger
    biomarker added, sorted by `keys`; `ids` are the USUBJIDs by patient."""
    record = _record(sim)
    design = sim.design
    assert design.trigger is not None
    paramcd = design.trigger.biomarker
    day = record.run_in_day
    n_rep, n_pat, n_samples = day.shape
    keep = np.isfinite(day).reshape(-1)
    patient = np.tile(np.repeat(np.arange(n_pat), n_samples), n_rep)[keep]
    ady = day.reshape(-1)[keep].astype(np.int64)
    labels = dict(zip(frame["PARAMCD"], frame["PARAM"], strict=True))
    run_in = pd.DataFrame(
        {
            "STUDYID": design.study_id,
            "REPLICATE": np.repeat(sim.replicate, n_pat * n_samples)[keep],
            "USUBJID": ids[patient],
            "TRT01P": np.array(design.arm_labels, dtype=object)[sim.arm_index[patient]],
            "PARAMCD": paramcd,
            "PARAM": labels.get(paramcd, paramcd),
            "AVISIT": [f"RUN-IN DAY {d}" for d in ady],
            "AVISITN": ady,
            "ADY": ady,
            "ABLFL": "",
            "AVAL": record.run_in_nfl.reshape(-1)[keep],
            "BASE": np.nan,
            "CHG": np.nan,
            "PCHG": np.nan,
            "R2BASE": np.nan,
            "APHASE": RUN_IN_PHASE,
        }
    )
    frame = frame.assign(APHASE=RANDOMISED_PHASE)
    return pd.concat([frame, run_in], ignore_index=True).sort_values(
        keys, kind="stable", ignore_index=True
    )


def carrier_tte(sim: TrialSimulation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PHENOCNV per (replicate, patient): the study day of the event or of the last assessment
    without it, whether the event was found, and why the time ends (EVNTDESC)."""
    record = _record(sim)
    found = record.event_observed
    reason = np.where(
        found,
        "CLINICALLY MANIFEST ALS",
        np.where(record.censor_day >= float(sim.visit_days[-1]), "END OF FOLLOW-UP", "WITHDRAWN"),
    )
    return record.event_or_censor_day, found, reason
