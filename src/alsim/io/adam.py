"""ADaM-like tables from a simulated trial: ADSL (one row per subject), BDS tables (ADLB for
biomarkers, ADQS for function: ALSFRS-R, vital capacity, strength) and ADTTE (time to death or
permanent ventilation).

Column names follow CDISC ADaM; REPLICATE is alsim's addition so many simulated trials can live in
one file. These layouts are a contract: extend them, never rename.
"""

import numpy as np
import pandas as pd

from alsim.io.carriers import PHENOCNV_LABEL, add_carrier_adsl, add_carrier_bds, carrier_tte
from alsim.simulate.trial import TrialSimulation

PARAM_LABELS = {
    "CSFSOD1": "CSF total SOD1 (ng/mL)",
    "PLNFL": "Plasma neurofilament light (pg/mL)",
    "CSFNFL": "CSF neurofilament light (pg/mL)",
}
QS_PARAM_LABELS = {
    "ALSFRSR": "ALSFRS-R total score (0-48)",
    "SVCPP": "Slow vital capacity (% predicted)",
    "HHDMEGA": "Handheld dynamometry megascore",
}
TTE_PARAM_LABELS = {
    "DTHPV": "Time to death or permanent ventilation (days from Day 1)",
    "PHENOCNV": PHENOCNV_LABEL,
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
    if sim.uncertainty is not None:
        frame["PDRAW"] = np.repeat(sim.draw_index, n_pat)  # posterior draw of the replicate
    if sim.has_events:
        event = sim.event_day <= sim.censor_day
        end = np.where(event, sim.event_day, sim.censor_day)
        stopped = event | (sim.censor_day < last_visit_day)
        frame["EOSSTT"] = np.where(stopped, "DISCONTINUED", "COMPLETED").reshape(-1)
        frame["EOSDY"] = np.where(stopped, np.floor(end), last_visit_day).reshape(-1)
        frame["DTHPVFL"] = np.where(event, "Y", "").reshape(-1)
        for name, values in sim.covariates.items():
            frame[name.upper()] = values.reshape(-1)
    if sim.extension_entered.size and design.extension is not None:
        frame["TRT02P"] = np.where(sim.extension_entered, design.extension.arm_label, "").reshape(
            -1
        )
    if sim.carriers is not None:
        frame = add_carrier_adsl(frame, sim)
    return frame


def build_bds(sim: TrialSimulation) -> pd.DataFrame:
    """Lab-style BDS (ADLB): observed biomarker records, baseline = the Day 1 pre-dose value; run-in
    designs add their run-in samples (`alsim.io.carriers`)."""
    frame = _bds(sim, PARAM_LABELS)
    if sim.carriers is None:
        return frame
    return add_carrier_bds(frame, sim, usubjid(sim.design.study_id, sim.n_patients), BDS_KEYS)


def build_adqs(sim: TrialSimulation) -> pd.DataFrame:
    """Questionnaire/function BDS (ADQS): ALSFRS-R totals (integers 0-48), slow vital capacity and
    HHD megascore, laid out like ADLB; empty when the design has none of them."""
    return _bds(sim, QS_PARAM_LABELS)


def build_adtte(sim: TrialSimulation) -> pd.DataFrame:
    """Time-to-event table (ADTTE): PARAMCD DTHPV (or PHENOCNV in run-in designs), AVAL in days
    from Day 1, CNSR 1 = censored."""
    design = sim.design
    n_rep, n_pat = sim.n_replicates, sim.n_patients
    paramcd = "DTHPV"
    if sim.carriers is not None:
        paramcd = "PHENOCNV"
        end_day, event, reason = carrier_tte(sim)
    elif not sim.has_events:
        return pd.DataFrame(columns=[*ADSL_KEYS, "TRT01P", "PARAMCD", "PARAM", "AVAL", "CNSR"])
    else:
        event = sim.event_day <= sim.censor_day
        end_day = np.where(event, sim.event_day, sim.censor_day)
        reason = np.where(
            event,
            "DEATH OR PERMANENT VENTILATION",
            np.where(sim.censor_day >= float(sim.visit_days[-1]), "END OF FOLLOW-UP", "WITHDRAWN"),
        )
    arm_labels = np.array(design.arm_labels, dtype=object)
    group_names = np.array([g.name for g in design.randomization.groups], dtype=object)
    return pd.DataFrame(
        {
            "STUDYID": design.study_id,
            "REPLICATE": np.repeat(sim.replicate, n_pat),
            "USUBJID": np.tile(usubjid(design.study_id, n_pat), n_rep),
            "TRT01P": np.tile(arm_labels[sim.arm_index], n_rep),
            "STRATUM": np.tile(group_names[sim.group_index], n_rep),
            "PARAMCD": paramcd,
            "PARAM": TTE_PARAM_LABELS[paramcd],
            "AVAL": (end_day - 1.0).reshape(-1),
            "CNSR": np.where(event, 0, 1).astype(np.int64).reshape(-1),
            "EVNTDESC": reason.reshape(-1),
        }
    )


def _bds(sim: TrialSimulation, labels: dict[str, str]) -> pd.DataFrame:
    design = sim.design
    n_rep, n_pat = sim.n_replicates, sim.n_patients
    n_vis = sim.visit_days.size
    arm_labels = np.array(design.arm_labels, dtype=object)
    visit_names = np.array([v.name for v in design.visits], dtype=object)
    ids = usubjid(design.study_id, n_pat)
    pieces = []
    for paramcd, values in sim.observed.items():
        if paramcd not in labels:
            continue
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
                "PARAM": labels[paramcd],
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
    if not pieces:
        return pd.DataFrame(columns=[*BDS_KEYS, "AVAL"])
    return pd.concat(pieces, ignore_index=True).sort_values(
        BDS_KEYS, kind="stable", ignore_index=True
    )
