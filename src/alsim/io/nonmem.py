"""A NONMEM-style event dataset for pharmacometric tools (NONMEM, nlmixr2, Monolix, Pumas).

One row per dosing record (EVID 1, II/ADDL for the maintenance phase) and per observation
(EVID 0, DV with MDV 0). TIME is in days since the first dose (study Day 1 = 0).
Compartments: 1 = CSF (dose), observations carry DVID: 1 CSF SOD1, 2 plasma NfL, 3 CSF NfL.
"""

import numpy as np
import pandas as pd

from alsim.design.events import dose_events
from alsim.simulate.trial import TrialSimulation

DOSE_CMT = 1
DVID = {"CSFSOD1": 1, "PLNFL": 2, "CSFNFL": 3, "ALSFRSR": 4, "SVCPP": 5, "HHDMEGA": 6}
COLUMNS = [
    "REPLICATE",
    "ID",
    "TIME",
    "EVID",
    "AMT",
    "CMT",
    "II",
    "ADDL",
    "DV",
    "MDV",
    "DVID",
    "AGE",
    "SEX",
    "A4V",
    "ARM",
]


def build_nonmem(sim: TrialSimulation) -> pd.DataFrame:
    """The event dataset of every replicate; doses after a patient's dropout are not given."""
    design = sim.design
    rows = []
    for a, arm in enumerate(design.arms):
        patients = np.flatnonzero(sim.arm_index == a)
        dropout = sim.dropout_day[:, patients]
        for event in dose_events(design.regimen, arm.dose_mg):
            days = event.day + event.ii_days * np.arange(event.addl + 1)
            n_given = (days[None, None, :] < dropout[:, :, None]).sum(axis=2)
            rep, pat = np.nonzero(n_given > 0)
            rows.append(
                pd.DataFrame(
                    {
                        "REPLICATE": sim.replicate[rep],
                        "ID": patients[pat] + 1,
                        "TIME": float(event.day - 1),
                        "EVID": 1,
                        "AMT": event.amt_mg,
                        "CMT": DOSE_CMT,
                        "II": float(event.ii_days),
                        "ADDL": n_given[rep, pat] - 1,
                        "DV": np.nan,
                        "MDV": 1,
                        "DVID": 0,
                    }
                )
            )
    for paramcd, values in sim.observed.items():
        rep, pat, vis = np.nonzero(~np.isnan(values))
        rows.append(
            pd.DataFrame(
                {
                    "REPLICATE": sim.replicate[rep],
                    "ID": pat + 1,
                    "TIME": (sim.visit_days[vis] - 1).astype(np.float64),
                    "EVID": 0,
                    "AMT": 0.0,
                    "CMT": 0,
                    "II": 0.0,
                    "ADDL": 0,
                    "DV": values[rep, pat, vis],
                    "MDV": 0,
                    "DVID": DVID[paramcd],
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    rep_index = np.searchsorted(sim.replicate, frame["REPLICATE"].to_numpy())
    pat_index = frame["ID"].to_numpy() - 1
    frame["AGE"] = np.floor(sim.age_years[rep_index, pat_index]).astype(np.int64)
    frame["SEX"] = np.where(sim.male[rep_index, pat_index], 1, 2)
    frame["A4V"] = sim.a4v[rep_index, pat_index].astype(np.int64)
    frame["ARM"] = sim.arm_index[pat_index] + 1
    # At a dosing time the observation comes first: samples are pre-dose troughs.
    frame["_order"] = np.where(frame["EVID"] == 0, 0, 1)
    frame = frame.sort_values(["REPLICATE", "ID", "TIME", "_order", "DVID"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)[COLUMNS]
