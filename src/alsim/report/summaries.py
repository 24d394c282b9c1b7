"""Per-arm summaries over replicates, the data every trajectory figure draws.

Each replicate is one simulated trial; within it an arm's statistic at a visit is computed as the
trial would report it (mean % change, geometric mean % change, or mean change from baseline).
Across replicates we keep the median and the 2.5-97.5% range: the band says how far one trial of
this size can land from another.

The same tidy frame comes from a `TrialSimulation` (fast, numpy) or from ADaM-like tables
(`ADLB`/`ADQS` BDS rows, `ADTTE`), so the report of `alsim reproduce` and of `alsim simulate` and
the web app draw the same thing.
"""

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from alsim.design.trial import Visit
from alsim.simulate.trial import TrialSimulation

FloatArray = NDArray[np.float64]

#: How each endpoint is summarised per arm: biomarkers as % change (NfL geometric, as published),
#: clinical scores as change from baseline in their own units.
ENDPOINT_STATISTIC = {
    "CSFSOD1": "mean_pct_change",
    "PLNFL": "geo_mean_pct_change",
    "CSFNFL": "geo_mean_pct_change",
    "ALSFRSR": "mean_change",
    "SVCPP": "mean_change",
    "HHDMEGA": "mean_change",
}
#: Axis labels with units.
ENDPOINT_AXIS_LABEL = {
    "CSFSOD1": "CSF SOD1: mean % change from baseline",
    "PLNFL": "Plasma NfL: geometric mean % change",
    "CSFNFL": "CSF NfL: geometric mean % change",
    "ALSFRSR": "ALSFRS-R: mean change (points)",
    "SVCPP": "SVC: mean change (% predicted)",
    "HHDMEGA": "HHD megascore: mean change",
}
ENDPOINT_TITLE = {
    "CSFSOD1": "CSF SOD1",
    "PLNFL": "Plasma NfL",
    "CSFNFL": "CSF NfL",
    "ALSFRSR": "ALSFRS-R",
    "SVCPP": "Slow vital capacity",
    "HHDMEGA": "Handheld dynamometry",
}
BIOMARKERS = ("CSFSOD1", "PLNFL", "CSFNFL")
CLINICAL = ("ALSFRSR", "SVCPP", "HHDMEGA")
TRAJECTORY_COLUMNS = [
    "PARAMCD",
    "STAT",
    "ARM",
    "AVISITN",
    "AVISIT",
    "ADY",
    "MEDIAN",
    "LOW",
    "HIGH",
    "N_REPLICATES",
]
KM_COLUMNS = ["ARM", "DAY", "MEDIAN", "LOW", "HIGH", "N_REPLICATES"]
#: Kaplan-Meier bands are drawn from at most this many replicates (the median settles long before).
KM_MAX_REPLICATES = 200


def _per_subject(values: FloatArray, base: FloatArray, statistic: str) -> FloatArray:
    if statistic == "mean_pct_change":
        out: FloatArray = 100.0 * (values / base - 1.0)
        return out
    if statistic == "geo_mean_pct_change":
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(values / base)
        return out
    return values - base


def _finish(mean: FloatArray, statistic: str) -> FloatArray:
    if statistic == "geo_mean_pct_change":
        return 100.0 * (np.exp(mean) - 1.0)
    return mean


def _quantiles(per_replicate: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Median, 2.5% and 97.5% over axis 0, NaN (without a warning) where no replicate has data."""
    finite = np.isfinite(per_replicate)
    count = finite.sum(axis=0)
    filled = np.where(finite, per_replicate, np.nan)
    safe = np.where(count[None] > 0, filled, 0.0)
    q = np.nanquantile(safe, [0.5, 0.025, 0.975], axis=0)
    q = np.where(count[None] > 0, q, np.nan)
    return q[0], q[1], q[2], count.astype(np.float64)


def trajectory_summary(
    sim: TrialSimulation, statistics: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Per-arm statistic at every visit of every visit endpoint, summarised over replicates.

    `statistics` overrides `ENDPOINT_STATISTIC` per PARAMCD (e.g. CSF SOD1 as a geometric mean
    where the publication reports geometric mean ratios)."""
    chosen = {**ENDPOINT_STATISTIC, **(statistics or {})}
    design = sim.design
    n_arms = len(design.arms)
    onehot = (sim.arm_index[:, None] == np.arange(n_arms)[None, :]).astype(np.float64)
    frames = []
    for paramcd, observed in sim.observed.items():
        statistic = chosen.get(paramcd)
        if statistic is None:
            continue
        per_subject = _per_subject(observed, observed[:, :, :1], statistic)
        ok = np.isfinite(per_subject)
        total = np.einsum("rpv,pa->rav", np.where(ok, per_subject, 0.0), onehot)
        count = np.einsum("rpv,pa->rav", ok.astype(np.float64), onehot)
        mean = np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)
        median, low, high, n = _quantiles(_finish(mean, statistic))
        frames.append(
            _frame(paramcd, statistic, design.arm_labels, design.visits, median, low, high, n)
        )
    return _concat(frames, TRAJECTORY_COLUMNS)


def _frame(
    paramcd: str,
    statistic: str,
    arms: Sequence[str],
    visits: Sequence[Visit],
    median: FloatArray,
    low: FloatArray,
    high: FloatArray,
    n: FloatArray,
) -> pd.DataFrame:
    n_arms, n_visits = median.shape
    return pd.DataFrame(
        {
            "PARAMCD": paramcd,
            "STAT": statistic,
            "ARM": np.repeat(np.array(arms, dtype=object), n_visits),
            "AVISITN": np.tile(np.arange(n_visits), n_arms),
            "AVISIT": np.tile(np.array([v.name for v in visits], dtype=object), n_arms),
            "ADY": np.tile(np.array([v.day for v in visits], dtype=np.int64), n_arms),
            "MEDIAN": median.reshape(-1),
            "LOW": low.reshape(-1),
            "HIGH": high.reshape(-1),
            "N_REPLICATES": n.reshape(-1).astype(np.int64),
        }
    )


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)[columns]


def bds_trajectory_summary(bds: pd.DataFrame, arm_var: str = "TRT01P") -> pd.DataFrame:
    """The same summary as `trajectory_summary`, from BDS rows (ADLB, ADQS).

    Needs REPLICATE (optional: one trial), `arm_var`, PARAMCD, AVISITN, AVISIT, ADY, AVAL, BASE.
    Parameters without a known summary statistic are skipped.
    """
    frame = bds[bds["PARAMCD"].isin(list(ENDPOINT_STATISTIC))]
    if frame.empty:
        return _concat([], TRAJECTORY_COLUMNS)
    frame = frame.assign(
        REPLICATE=frame.get("REPLICATE", 0),
        STAT=frame["PARAMCD"].map(ENDPOINT_STATISTIC),
    )
    aval = frame["AVAL"].to_numpy(np.float64)
    base = frame["BASE"].to_numpy(np.float64)
    stat = frame["STAT"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.select(
            [stat == "mean_pct_change", stat == "geo_mean_pct_change"],
            [100.0 * (aval / base - 1.0), np.log(aval / base)],
            aval - base,
        )
    frame = frame.assign(_V=np.where(np.isfinite(value), value, np.nan))
    keys = ["PARAMCD", "STAT", arm_var, "AVISITN"]
    means = frame.groupby([*keys, "REPLICATE"], sort=False, observed=True)["_V"].mean()
    per_replicate = means.dropna().reset_index()
    geo = per_replicate["STAT"] == "geo_mean_pct_change"
    per_replicate.loc[geo, "_V"] = 100.0 * (np.exp(per_replicate.loc[geo, "_V"]) - 1.0)
    grouped = per_replicate.groupby(keys, sort=False, observed=True)["_V"]
    out = grouped.quantile(np.array([0.5, 0.025, 0.975])).unstack()
    out.columns = pd.Index(["MEDIAN", "LOW", "HIGH"])
    out["N_REPLICATES"] = grouped.size()
    out = out.reset_index().rename(columns={arm_var: "ARM"})
    visits = frame.drop_duplicates(["PARAMCD", "AVISITN"])[["PARAMCD", "AVISITN", "AVISIT", "ADY"]]
    out = out.merge(visits, on=["PARAMCD", "AVISITN"], how="left")
    arm_order = {arm: i for i, arm in enumerate(pd.unique(frame[arm_var]))}
    out = out.assign(_A=out["ARM"].map(arm_order)).sort_values(
        ["PARAMCD", "_A", "AVISITN"], kind="stable", ignore_index=True
    )
    out["ADY"] = out["ADY"].astype(np.int64)
    out["N_REPLICATES"] = out["N_REPLICATES"].astype(np.int64)
    result: pd.DataFrame = out[TRAJECTORY_COLUMNS]
    return result


def _km_on_grid(time: FloatArray, event: NDArray[np.bool_], grid: FloatArray) -> FloatArray:
    """Kaplan-Meier survival of one sample evaluated at `grid` (right-continuous step)."""
    event_times = np.unique(time[event])
    if event_times.size == 0:
        return np.ones_like(grid)
    at_risk = (time[None, :] >= event_times[:, None]).sum(axis=1)
    deaths = (event[None, :] & (time[None, :] == event_times[:, None])).sum(axis=1)
    survival = np.cumprod(1.0 - deaths / at_risk)
    position = np.searchsorted(event_times, grid, side="right")
    return np.where(position > 0, survival[np.maximum(position - 1, 0)], 1.0)


def km_summary(
    tte: pd.DataFrame,
    *,
    paramcd: str = "DTHPV",
    arm_var: str = "TRT01P",
    n_grid: int = 120,
) -> pd.DataFrame:
    """Kaplan-Meier curves per arm and replicate on a common day grid, summarised over replicates.

    `tte` is ADTTE-like: REPLICATE (optional), `arm_var`, PARAMCD, AVAL (days), CNSR (1 censored).
    """
    rows = tte[tte["PARAMCD"] == paramcd] if "PARAMCD" in tte else tte
    if rows.empty:
        return _concat([], KM_COLUMNS)
    replicate = rows["REPLICATE"] if "REPLICATE" in rows else pd.Series(0, index=rows.index)
    kept = np.sort(replicate.unique())[:KM_MAX_REPLICATES]
    rows = rows[replicate.isin(kept)]
    replicate = replicate[rows.index]
    grid = np.linspace(0.0, float(rows["AVAL"].max()), n_grid)
    frames = []
    for arm in pd.unique(rows[arm_var]):
        in_arm = (rows[arm_var] == arm).to_numpy()
        curves = []
        for r in kept:
            sel = in_arm & (replicate == r).to_numpy()
            if sel.any():
                time = rows["AVAL"].to_numpy(np.float64)[sel]
                event = rows["CNSR"].to_numpy()[sel] == 0
                curves.append(_km_on_grid(time, event, grid))
        median, low, high, n = _quantiles(np.array(curves))
        frames.append(
            pd.DataFrame(
                {
                    "ARM": arm,
                    "DAY": grid,
                    "MEDIAN": median,
                    "LOW": low,
                    "HIGH": high,
                    "N_REPLICATES": n.astype(np.int64),
                }
            )
        )
    return _concat(frames, KM_COLUMNS)


def tte_frame(sim: TrialSimulation) -> pd.DataFrame:
    """ADTTE-like rows (REPLICATE, TRT01P, PARAMCD, AVAL, CNSR) of death or permanent ventilation;
    empty when the design has no time-to-event endpoint."""
    if not sim.has_events:
        return pd.DataFrame({c: [] for c in ("REPLICATE", "TRT01P", "PARAMCD", "AVAL", "CNSR")})
    event = sim.event_day <= sim.censor_day
    time = np.where(event, sim.event_day, sim.censor_day)
    arms = np.array(sim.design.arm_labels, dtype=object)[sim.arm_index]
    return pd.DataFrame(
        {
            "REPLICATE": np.repeat(sim.replicate, sim.n_patients),
            "TRT01P": np.tile(arms, sim.n_replicates),
            "PARAMCD": "DTHPV",
            "AVAL": time.reshape(-1),
            "CNSR": np.where(event, 0, 1).reshape(-1),
        }
    )


AE_INCIDENCE_COLUMNS = ["AEDECOD", "AESER", "ARM", "MEDIAN", "LOW", "HIGH"]
#: First-event kinds for the safety time-to-event curves (PARAMCD of `first_event_frame`).
FIRST_EVENT_KINDS = {
    "AEREL": "first adverse event caused by tofersen",
    "AESER": "first serious neurological event",
}


def ae_incidence_summary(adae: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """% of patients with each adverse event per arm: median and 2.5-97.5% over replicates.

    `adae` and `adsl` are the ADaM-like tables (REPLICATE optional: one trial)."""
    if adae.empty:
        return pd.DataFrame(columns=AE_INCIDENCE_COLUMNS)
    adsl = _with_replicate(adsl)
    adae = _with_replicate(adae)
    at_risk = adsl.groupby(["REPLICATE", "TRT01P"]).size()
    patients = (
        adae.drop_duplicates(["REPLICATE", "USUBJID", "AEDECOD"])
        .groupby(["AEDECOD", "AESER", "TRT01P", "REPLICATE"])
        .size()
    )
    replicates = np.sort(adsl["REPLICATE"].unique())
    rows = []
    for key, block in patients.groupby(level=["AEDECOD", "AESER"], sort=False):
        decod, serious = cast(tuple[str, str], key)
        for arm in pd.unique(adsl["TRT01P"]):
            counts = np.array(
                [block.get((decod, serious, arm, r), 0) for r in replicates], dtype=np.float64
            )
            percent = (
                100.0 * counts / at_risk.xs(arm, level="TRT01P").reindex(replicates).to_numpy()
            )
            low, median, high = np.quantile(percent, [0.025, 0.5, 0.975])
            rows.append((decod, serious, arm, median, low, high))
    return pd.DataFrame(rows, columns=AE_INCIDENCE_COLUMNS)


def first_event_frame(adae: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """ADTTE-like rows (REPLICATE, TRT01P, PARAMCD, AVAL, CNSR) of the time to the first adverse
    event of each kind in `FIRST_EVENT_KINDS`, censored at the subject's end of study (EOSDY)."""
    adsl = _with_replicate(adsl)
    adae = _with_replicate(adae)
    kinds = {"AEREL": adae["AREL"] == "RELATED", "AESER": adae["AESER"] == "Y"}
    frames = []
    for paramcd, selected in kinds.items():
        first = adae[selected].groupby(["REPLICATE", "USUBJID"])["ASTDY"].min()
        merged = adsl[["REPLICATE", "USUBJID", "TRT01P", "EOSDY"]].join(
            first, on=["REPLICATE", "USUBJID"]
        )
        event = merged["ASTDY"].notna().to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "REPLICATE": merged["REPLICATE"].to_numpy(),
                    "TRT01P": merged["TRT01P"].to_numpy(),
                    "PARAMCD": paramcd,
                    "AVAL": np.where(event, merged["ASTDY"], merged["EOSDY"]).astype(np.float64),
                    "CNSR": np.where(event, 0, 1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _with_replicate(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if "REPLICATE" in frame else frame.assign(REPLICATE=0)
