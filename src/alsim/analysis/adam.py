"""From ADaM-like tables (ADSL, BDS, ADTTE) to the batched arrays the analyses take, and back.

This is the one place that knows the file layout; `alsim analyze` and any other tool call
`trial_arrays` then `run_analysis`, which dispatches to the same Spec classes the batched
Python API uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from alsim.analysis._result import BoolArray, EstimateResult, FloatArray, IntArray
from alsim.errors import AnalysisError

if TYPE_CHECKING:
    from alsim.analysis.plan import StudyData
    from alsim.design.trial import TrialDesign

__all__ = ["METHODS", "TrialArrays", "plan_data", "read_table", "run_analysis", "trial_arrays"]

METHODS = (
    "ancova",
    "mmrm",
    "gmr",
    "joint-rank",
    "rank-ancova",
    "cox",
    "logrank",
    "km",
    "win-ratio",
)
SURVIVAL_METHODS = ("cox", "logrank", "km")


def read_table(path: Path | str, name: str) -> pd.DataFrame:
    """Read a CSV or Parquet table chosen by extension."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(2, "No such file", str(p))
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(p)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(p)
    raise AnalysisError(f"{name} file {str(p)!r} must end in .csv or .parquet")


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnalysisError(
            f"{name} is missing column {missing[0]!r} (has: {', '.join(map(str, frame.columns))})"
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TrialArrays:
    """One or more trials as arrays shaped (replicate, patient[, visit]).

    Replicates with fewer patients are padded; padding has ``present = False``, NaN data and
    stratum code -1.
    """

    replicates: npt.NDArray[np.int64]
    present: BoolArray
    treated: BoolArray
    baseline: FloatArray
    value: FloatArray
    chg: FloatArray
    visits: tuple[str, ...]
    covariates: FloatArray
    covariate_names: tuple[str, ...]
    stratum: IntArray
    stratum_labels: tuple[str, ...]
    time_days: FloatArray | None
    event: BoolArray | None

    @property
    def has_strata(self) -> bool:
        """Whether strata were requested (more than the single all-patient stratum)."""
        return len(self.stratum_labels) > 0

    def visit_index(self, visit: str | None) -> int:
        """Index of ``visit`` among the post-baseline visits (default: the last one)."""
        if visit is None:
            return len(self.visits) - 1
        if visit not in self.visits:
            raise AnalysisError(
                f"visit {visit!r} not found among post-baseline visits: {', '.join(self.visits)}"
            )
        return self.visits.index(visit)


def trial_arrays(
    adsl: pd.DataFrame,
    bds: pd.DataFrame | None,
    adtte: pd.DataFrame | None,
    *,
    paramcd: str,
    arm_var: str,
    treated_label: str,
    control_label: str,
    covariates: Sequence[str] = (),
    strata: str | None = None,
    replicate: int | None = None,
    tte_paramcd: str = "DTHPV",
) -> TrialArrays:
    """Arrange ADSL/BDS/ADTTE rows into `TrialArrays` (one replicate if REPLICATE is absent)."""
    adsl = adsl.copy()
    _require(adsl, ["USUBJID", arm_var], "ADSL")
    tables = {"ADSL": adsl, "BDS": bds, "ADTTE": adtte}
    for name, table in tables.items():
        if table is not None and "REPLICATE" not in table.columns:
            table = table.copy()
            table["REPLICATE"] = 1
            tables[name] = table
    adsl = tables["ADSL"] if tables["ADSL"] is not None else adsl
    bds, adtte = tables["BDS"], tables["ADTTE"]
    labels = adsl[arm_var].astype(str)
    for label, option in ((treated_label, "--treated"), (control_label, "--control")):
        if label not in set(labels):
            raise AnalysisError(
                f"{option} arm {label!r} not found in ADSL column {arm_var!r} "
                f"(values: {', '.join(sorted(set(labels)))})"
            )
    adsl = adsl[labels.isin([treated_label, control_label])]
    if replicate is not None:
        if replicate not in set(adsl["REPLICATE"]):
            raise AnalysisError(f"--replicate {replicate} not found in ADSL REPLICATE")
        adsl = adsl[adsl["REPLICATE"] == replicate]
    replicates = np.sort(adsl["REPLICATE"].unique()).astype(np.int64)
    rep_index = {r: i for i, r in enumerate(replicates)}
    adsl = adsl.assign(_r=adsl["REPLICATE"].map(rep_index))
    adsl = adsl.assign(_i=adsl.groupby("_r").cumcount())
    n_rep, n_pat = len(replicates), int(adsl["_i"].max()) + 1
    keys = adsl[["REPLICATE", "USUBJID", "_r", "_i"]]
    r_idx, i_idx = adsl["_r"].to_numpy(), adsl["_i"].to_numpy()
    present = np.zeros((n_rep, n_pat), dtype=bool)
    present[r_idx, i_idx] = True
    treated = np.zeros((n_rep, n_pat), dtype=bool)
    treated[r_idx, i_idx] = adsl[arm_var].astype(str).to_numpy() == treated_label
    for r in range(n_rep):
        n1 = int((present[r] & treated[r]).sum())
        n0 = int((present[r] & ~treated[r]).sum())
        if n1 < 2 or n0 < 2:
            raise AnalysisError(
                f"too few patients in replicate {replicates[r]}: {n1} on {treated_label!r} and "
                f"{n0} on {control_label!r} (need at least 2 per arm)"
            )

    visits: tuple[str, ...] = ()
    baseline = np.full((n_rep, n_pat), np.nan)
    value = np.full((n_rep, n_pat, 0), np.nan)
    chg = value.copy()
    bds_patient: pd.DataFrame | None = None
    if bds is not None:
        _require(bds, ["USUBJID", "PARAMCD", "AVISIT", "AVAL", "BASE"], "BDS")
        rows = bds[bds["PARAMCD"] == paramcd]
        if rows.empty:
            raise AnalysisError(
                f"PARAMCD {paramcd!r} not found in BDS "
                f"(values: {', '.join(sorted(map(str, bds['PARAMCD'].unique())))})"
            )
        rows = rows.merge(keys, on=["REPLICATE", "USUBJID"], how="inner")
        bds_patient = rows.drop_duplicates(["_r", "_i"])
        post_rows = rows.loc[_post_mask(rows)]
        order_key = "AVISITN" if "AVISITN" in post_rows.columns else "ADY"
        if order_key in post_rows.columns:
            visit_order = post_rows.groupby("AVISIT")[order_key].median().sort_values()
            visits = tuple(str(v) for v in visit_order.index)
        else:
            visits = tuple(sorted(map(str, post_rows["AVISIT"].unique())))
        k_of = {v: k for k, v in enumerate(visits)}
        value = np.full((n_rep, n_pat, len(visits)), np.nan)
        chg = value.copy()
        k_idx = post_rows["AVISIT"].astype(str).map(k_of).to_numpy()
        pr, pi = post_rows["_r"].to_numpy(), post_rows["_i"].to_numpy()
        value[pr, pi, k_idx] = post_rows["AVAL"].to_numpy(dtype=float)
        change = (
            post_rows["CHG"].to_numpy(dtype=float)
            if "CHG" in post_rows.columns
            else post_rows["AVAL"].to_numpy(dtype=float) - post_rows["BASE"].to_numpy(dtype=float)
        )
        chg[pr, pi, k_idx] = change
        baseline[rows["_r"].to_numpy(), rows["_i"].to_numpy()] = rows["BASE"].to_numpy(dtype=float)

    cov_columns: list[FloatArray] = []
    cov_names: list[str] = []
    for name in covariates:
        if name == "BASE":
            continue  # the baseline is always in the model
        if bds_patient is not None and name in bds_patient.columns:
            source, rr, ii = bds_patient, bds_patient["_r"], bds_patient["_i"]
        elif name in adsl.columns:
            source, rr, ii = adsl, adsl["_r"], adsl["_i"]
        else:
            raise AnalysisError(f"covariate column {name!r} not found in BDS or ADSL")
        column = source[name]
        if pd.api.types.is_numeric_dtype(column):
            arr = np.full((n_rep, n_pat), np.nan)
            arr[rr.to_numpy(), ii.to_numpy()] = column.to_numpy(dtype=float)
            cov_columns.append(arr)
            cov_names.append(name)
        else:
            levels = sorted(map(str, column.dropna().unique()))
            for level in levels[1:]:
                arr = np.full((n_rep, n_pat), np.nan)
                arr[rr.to_numpy(), ii.to_numpy()] = (column.astype(str) == level).to_numpy(float)
                cov_columns.append(arr)
                cov_names.append(f"{name}={level}")
    cov = np.stack(cov_columns, axis=-1) if cov_columns else np.zeros((n_rep, n_pat, 0))

    stratum = np.where(present, 0, -1).astype(np.int64)
    stratum_labels: tuple[str, ...] = ()
    if strata is not None:
        _require(adsl, [strata], "ADSL")
        values = adsl[strata].astype(str)
        stratum_labels = tuple(sorted(values.unique()))
        codes = values.map({s: k for k, s in enumerate(stratum_labels)}).to_numpy()
        stratum = np.full((n_rep, n_pat), -1, dtype=np.int64)
        stratum[r_idx, i_idx] = codes

    time_days = event = None
    if adtte is not None:
        _require(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], "ADTTE")
        tte = adtte[adtte["PARAMCD"] == tte_paramcd]
        if tte.empty:
            raise AnalysisError(f"PARAMCD {tte_paramcd!r} not found in ADTTE")
        tte = tte.merge(keys, on=["REPLICATE", "USUBJID"], how="inner")
        time_days = np.full((n_rep, n_pat), np.nan)
        event = np.zeros((n_rep, n_pat), dtype=bool)
        time_days[tte["_r"].to_numpy(), tte["_i"].to_numpy()] = tte["AVAL"].to_numpy(float)
        event[tte["_r"].to_numpy(), tte["_i"].to_numpy()] = tte["CNSR"].to_numpy() == 0
        lacking = present & ~np.isfinite(time_days)
        if lacking.any():
            r, i = np.argwhere(lacking)[0]
            usubjid = adsl.loc[(adsl["_r"] == r) & (adsl["_i"] == i), "USUBJID"].iloc[0]
            raise AnalysisError(f"ADTTE has no {tte_paramcd} row for USUBJID {usubjid!r}")

    return TrialArrays(
        replicates=replicates,
        present=present,
        treated=treated,
        baseline=baseline,
        value=value,
        chg=chg,
        visits=visits,
        covariates=cov,
        covariate_names=tuple(cov_names),
        stratum=stratum,
        stratum_labels=stratum_labels,
        time_days=time_days,
        event=event,
    )


def _post_mask(rows: pd.DataFrame) -> npt.NDArray[np.bool_]:
    post = np.ones(len(rows), dtype=bool)
    if "ABLFL" in rows.columns:
        post &= rows["ABLFL"].fillna("").astype(str).str.upper().ne("Y").to_numpy()
    if "ADY" in rows.columns:
        post &= ~(rows["ADY"].to_numpy(dtype=float) <= 1)
    post &= rows["AVISIT"].astype(str).str.upper().ne("BASELINE").to_numpy()
    return post


def run_analysis(
    method: str,
    data: TrialArrays,
    *,
    visit: str | None = None,
    n_imputations: int = 0,
    seed: int = 0,
    landmark_days: float | None = None,
    alpha: float = 0.05,
) -> EstimateResult:
    """Run one analysis (by its CLI name) on `TrialArrays`; see `METHODS`."""
    from alsim.analysis.ancova import AncovaSpec, GmrSpec
    from alsim.analysis.imputation import ImputationSpec
    from alsim.analysis.mmrm import MmrmSpec
    from alsim.analysis.rank import JointRankSpec, RankAncovaSpec, WinRatioSpec
    from alsim.analysis.survival import CoxSpec, KaplanMeierSpec, LogRankSpec

    if method not in METHODS:
        raise AnalysisError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    strat = data.stratum if data.has_strata else None
    if method in SURVIVAL_METHODS:
        if data.time_days is None or data.event is None:
            raise AnalysisError(f"method {method!r} needs --adtte (time to death or ventilation)")
        t, e = data.time_days, data.event
        if method == "cox":
            return CoxSpec(alpha=alpha).fit(
                t, event=e, treated=data.treated, covariates=data.covariates, stratum=strat
            )
        if method == "logrank":
            return LogRankSpec(alpha=alpha).fit(t, event=e, treated=data.treated, stratum=strat)
        return KaplanMeierSpec(landmark_days=landmark_days, alpha=alpha).fit(
            t, event=e, treated=data.treated
        )
    if not data.visits:
        raise AnalysisError(f"method {method!r} needs --bds with post-baseline visits")
    k = data.visit_index(visit)
    if n_imputations and method not in ("ancova", "joint-rank", "rank-ancova"):
        raise AnalysisError(
            f"--imputations applies to ancova, joint-rank and rank-ancova, not {method!r}"
        )
    if method == "mmrm":
        return MmrmSpec(visit_index=k, alpha=alpha).fit(
            data.chg,
            baseline=data.baseline,
            treated=data.treated,
            covariates=data.covariates,
            stratum=strat,
        )
    if method == "gmr":
        return GmrSpec(alpha=alpha).fit(
            data.value[..., k],
            baseline=data.baseline,
            treated=data.treated,
            covariates=data.covariates,
            stratum=strat,
        )
    function = data.chg[..., : k + 1]
    rank_kwargs: dict[str, Any] = {
        "time_days": data.time_days,
        "event": data.event,
        "stratum": data.stratum,
    }
    if n_imputations:
        imp = ImputationSpec(n_imputations=n_imputations, seed=seed).impute(
            data.chg[..., : k + 1],
            baseline=data.baseline,
            treated=data.treated,
            covariates=data.covariates,
        )
        stacked = np.where(imp.tile(data.present)[..., None], imp.stacked(), np.nan)
        result: EstimateResult
        if method == "ancova":
            result = AncovaSpec(alpha=alpha).fit(
                stacked[..., k],
                baseline=imp.tile(data.baseline),
                treated=imp.tile(data.treated),
                covariates=imp.tile(data.covariates),
                stratum=imp.tile(strat),
            )
        elif method == "joint-rank":
            result = JointRankSpec(alpha=alpha).fit(
                stacked,
                treated=imp.tile(data.treated),
                **{key: imp.tile(v) for key, v in rank_kwargs.items()},
            )
        else:
            result = RankAncovaSpec(alpha=alpha).fit(
                stacked,
                treated=imp.tile(data.treated),
                baseline=imp.tile(data.baseline),
                covariates=imp.tile(data.covariates),
                **{key: imp.tile(v) for key, v in rank_kwargs.items()},
            )
        return imp.pool(result, alpha)
    if method == "ancova":
        return AncovaSpec(alpha=alpha).fit(
            data.chg[..., k],
            baseline=data.baseline,
            treated=data.treated,
            covariates=data.covariates,
            stratum=strat,
        )
    if method == "joint-rank":
        return JointRankSpec(alpha=alpha).fit(function, treated=data.treated, **rank_kwargs)
    if method == "rank-ancova":
        return RankAncovaSpec(alpha=alpha).fit(
            function,
            treated=data.treated,
            baseline=data.baseline,
            covariates=data.covariates,
            **rank_kwargs,
        )
    return WinRatioSpec(alpha=alpha).fit(function, treated=data.treated, **rank_kwargs)


def plan_data(
    design: TrialDesign,
    adsl: pd.DataFrame,
    bds: Sequence[pd.DataFrame],
    adtte: pd.DataFrame | None,
    *,
    seed: int = 0,
) -> StudyData:
    """ADaM-like tables arranged as the `StudyData` a design's analysis plan runs on.

    Arms are ADSL ``TRT01P`` values among the design's arm labels (other patients are left out);
    strata are ADSL ``STRATUM`` values among its randomisation groups; visits are matched by
    ``AVISIT`` name to the design's visits (the baseline value is ``BASE``). From ADTTE, each
    PARAMCD gives event times (``AVAL`` days from Day 1; ``CNSR`` 1 = censored). Treatment is
    taken to stop on ADSL ``EOSDY`` when ``EOSSTT`` is ``DISCONTINUED`` (and the patient did not
    die then). ``AGE`` and ``SEX`` (``M`` = 1) are the covariates. Without a ``REPLICATE``
    column the files hold one trial.
    """
    from alsim.analysis.plan import EventTimes, StudyData
    from alsim.design.plan import highest_dose_arm

    _require(adsl, ["USUBJID", "TRT01P"], "ADSL")
    adsl = adsl if "REPLICATE" in adsl.columns else adsl.assign(REPLICATE=1)
    labels = design.arm_labels
    arm_code = {label: i for i, label in enumerate(labels)}
    adsl = adsl[adsl["TRT01P"].astype(str).isin(labels)]
    if adsl.empty:
        raise AnalysisError(
            f"ADSL has no patient on the design's arms ({', '.join(labels)}) in column TRT01P"
        )
    replicates = np.sort(adsl["REPLICATE"].unique()).astype(np.int64)
    rep_index = {r: i for i, r in enumerate(replicates)}
    adsl = adsl.assign(_r=adsl["REPLICATE"].map(rep_index))
    adsl = adsl.assign(_i=adsl.groupby("_r").cumcount())
    shape = (len(replicates), int(adsl["_i"].max()) + 1)
    r_idx, i_idx = adsl["_r"].to_numpy(), adsl["_i"].to_numpy()
    keys = adsl[["REPLICATE", "USUBJID", "_r", "_i"]]

    def per_patient(values: npt.ArrayLike, fill: float = np.nan) -> FloatArray:
        out = np.full(shape, fill)
        out[r_idx, i_idx] = np.asarray(values, dtype=np.float64)
        return out

    arm_index = per_patient(adsl["TRT01P"].astype(str).map(arm_code).to_numpy(), -1)
    groups = tuple(g.name for g in design.randomization.groups)
    group_code = {name: i for i, name in enumerate(groups)}
    group_index = np.zeros(shape)
    if "STRATUM" in adsl.columns:
        group_index = per_patient(adsl["STRATUM"].astype(str).map(group_code).fillna(-1), -1)
    visits = tuple(v.name for v in design.visits)
    visit_code = {name: k for k, name in enumerate(visits)}
    values: dict[str, FloatArray] = {}
    for table in bds:
        _require(table, ["USUBJID", "PARAMCD", "AVISIT", "AVAL", "BASE"], "BDS")
        table = table if "REPLICATE" in table.columns else table.assign(REPLICATE=1)
        rows = table.merge(keys, on=["REPLICATE", "USUBJID"], how="inner")
        for paramcd, block in rows.groupby("PARAMCD"):
            grid = np.full((*shape, len(visits)), np.nan)
            k = block["AVISIT"].astype(str).map(visit_code)
            known = k.notna().to_numpy()
            grid[
                block["_r"].to_numpy()[known],
                block["_i"].to_numpy()[known],
                k.to_numpy()[known].astype(np.int64),
            ] = block["AVAL"].to_numpy(dtype=float)[known]
            grid[block["_r"].to_numpy(), block["_i"].to_numpy(), 0] = block["BASE"].to_numpy(
                dtype=float
            )
            values[str(paramcd)] = grid
    events: dict[str, EventTimes] = {}
    if adtte is not None and not adtte.empty:
        _require(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], "ADTTE")
        adtte = adtte if "REPLICATE" in adtte.columns else adtte.assign(REPLICATE=1)
        rows = adtte.merge(keys, on=["REPLICATE", "USUBJID"], how="inner")
        for paramcd, block in rows.groupby("PARAMCD"):
            day = np.full(shape, np.nan)
            event = np.zeros(shape, dtype=bool)
            rr, ii = block["_r"].to_numpy(), block["_i"].to_numpy()
            day[rr, ii] = block["AVAL"].to_numpy(dtype=float) + 1.0
            event[rr, ii] = block["CNSR"].to_numpy() == 0
            events[str(paramcd)] = EventTimes(
                event_day=np.where(event, day, np.inf), censor_day=day
            )
    stop = np.full(shape, np.inf)
    if {"EOSSTT", "EOSDY"} <= set(adsl.columns):
        died = adsl.get("DTHPVFL", pd.Series("", index=adsl.index)).astype(str).eq("Y")
        stopped = adsl["EOSSTT"].astype(str).str.upper().eq("DISCONTINUED") & ~died
        eos = np.where(stopped, adsl["EOSDY"].to_numpy(dtype=float), np.inf)
        stop = per_patient(eos, np.inf)
    covariates = {}
    if "AGE" in adsl.columns:
        covariates["AGE"] = per_patient(adsl["AGE"].to_numpy(dtype=float))
    if "SEX" in adsl.columns:
        covariates["SEX"] = per_patient(adsl["SEX"].astype(str).str.upper().eq("M").to_numpy())
    return StudyData(
        arm_labels=labels,
        control_arm=design.control_arm,
        default_treated_arm=highest_dose_arm(design),
        arm_index=arm_index.astype(np.int64),
        group_labels=groups,
        group_index=group_index.astype(np.int64),
        stratified=design.randomization.unit == "stratum" and len(groups) > 1,
        visit_names=visits,
        visit_days=np.array([v.day for v in design.visits], dtype=np.float64),
        primary_visit=design.primary_visit,
        values=values,
        events=events,
        discontinuation_day=stop,
        covariates=covariates,
        replicate=replicates,
        seed=seed,
        landmark_days={e.paramcd: float(e.landmark_day) for e in design.event_endpoints},
    )
