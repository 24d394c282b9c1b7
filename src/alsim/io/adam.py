"""ADaM-like tables from a simulated trial: ADSL (one row per subject) and BDS tables (ADLB).

Column names follow CDISC ADaM; REPLICATE is alsim's addition so many simulated trials can live in
one file. These layouts are a contract: extend them, never rename.
"""

import numpy as np
import pandas as pd

from alsim.simulate.trial import TrialSimulation

PARAM_LABELS = {
    "CSFSOD1": "CSF total SOD1 (ng/mL)",
    "PLNFL": "Plasma neurofilament light (pg/mL)",
    "CSFNFL": "CSF neurofilament light (pg/mL)",
}
ADSL_KEYS = ["STUDYID", "REPLICATE", "USUBJID"]
BDS_KEYS = ["STUDYID", "REPLICATE", "USUBJID", "PARAMCD", "AVISITN"]


def usubjid(study_id: str, n_patients: int) -> np.ndarray:
    """Unique subject ids `STUDYID-0001`..., the same in every replicate."""
    return np.array([f"{study_id}-{i + 1:04d}" for i in range(n_patients)], dtype=object)


def build_adsl(sim: TrialSimulation) -> pd.DataFrame:
    """Subject-level table: one row per REPLICATE x USUBJID, with sampled model parameters."""
    design = sim.design
    n_rep, n_pat = sim.n_replicates, sim.n_patients
    arm_labels = np.array(design.arm_labels, dtype=object)
    group_names = np.array([g.name for g in design.randomization.groups], dtype=object)
    last_visit_day = float(sim.visit_days[-1])
    discontinued = sim.dropout_day < last_visit_day
    frame = pd.DataFrame(
        {
            "STUDYID": design.study_id,
            "REPLICATE": np.repeat(sim.replicate, n_pat),
            "USUBJID": np.tile(usubjid(design.study_id, n_pat), n_rep),
            "TRT01P": np.tile(arm_labels[sim.arm_index], n_rep),
            "TRT02P": "",
            "STRATUM": np.tile(group_names[sim.group_index], n_rep),
            "AGE": np.floor(sim.age_years).astype(np.int64).reshape(-1),
            "SEX": np.where(sim.male, "M", "F").reshape(-1),
            "VARIANT": np.where(sim.a4v, "A4V", "NON-A4V").reshape(-1),
            "EOSSTT": np.where(discontinued, "DISCONTINUED", "COMPLETED").reshape(-1),
            "EOSDY": np.where(discontinued, np.floor(sim.dropout_day), last_visit_day).reshape(-1),
        }
    )
    for name, values in sim.parameters.items():
        frame[name.upper()] = values.reshape(-1)
    return frame


def build_bds(sim: TrialSimulation) -> pd.DataFrame:
    """Lab-style BDS (ADLB): observed biomarker records, baseline = the Day 1 pre-dose value."""
    design = sim.design
    n_rep, n_pat = sim.n_replicates, sim.n_patients
    n_vis = sim.visit_days.size
    arm_labels = np.array(design.arm_labels, dtype=object)
    visit_names = np.array([v.name for v in design.visits], dtype=object)
    ids = usubjid(design.study_id, n_pat)
    pieces = []
    for paramcd, values in sim.observed.items():
        base = np.broadcast_to(values[:, :, :1], values.shape)
        post = np.arange(n_vis)[None, None, :] > 0
        chg = np.where(post, values - base, np.nan)
        piece = pd.DataFrame(
            {
                "STUDYID": design.study_id,
                "REPLICATE": np.repeat(sim.replicate, n_pat * n_vis),
                "USUBJID": np.tile(np.repeat(ids, n_vis), n_rep),
                "TRT01P": np.tile(np.repeat(arm_labels[sim.arm_index], n_vis), n_rep),
                "PARAMCD": paramcd,
                "PARAM": PARAM_LABELS[paramcd],
                "AVISIT": np.tile(visit_names, n_rep * n_pat),
                "AVISITN": np.tile(np.arange(n_vis), n_rep * n_pat),
                "ADY": np.tile(sim.visit_days, n_rep * n_pat),
                "ABLFL": np.tile(np.where(np.arange(n_vis) == 0, "Y", ""), n_rep * n_pat),
                "AVAL": values.reshape(-1),
                "BASE": base.reshape(-1),
                "CHG": chg.reshape(-1),
                "PCHG": (100.0 * chg / base).reshape(-1),
                "R2BASE": np.where(post, values / base, np.nan).reshape(-1),
            }
        )
        pieces.append(piece[piece["AVAL"].notna()])
    return pd.concat(pieces, ignore_index=True).sort_values(
        BDS_KEYS, kind="stable", ignore_index=True
    )
