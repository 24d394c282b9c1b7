"""Every figure alsim draws, in one place and one style (matplotlib, no pyplot state).

Figures are built on `matplotlib.figure.Figure` directly, so they need no GUI backend, hold no
global state and are safe in the web app's worker threads; `png_data_uri` renders them with Agg.
Each function takes tidy data (from `alsim.report.summaries`, comparison rows, or a design) and
returns a Figure; none simulates anything.
"""

import base64
import io
import math
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from alsim.design.trial import TrialDesign
from alsim.evidence.compare import QUANTITY_LABELS, ComparisonRow
from alsim.report.summaries import ENDPOINT_AXIS_LABEL, ENDPOINT_STATISTIC, ENDPOINT_TITLE

#: Okabe-Ito: distinguishable with colour-vision deficiency and in greyscale print.
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442")
INSIDE_COLOR = "#009E73"
OUTSIDE_COLOR = "#D55E00"
PUBLISHED_COLOR = "#000000"
STYLE: dict[RcKeyType, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "legend.frameon": False,
    "savefig.dpi": 130,
    "figure.dpi": 100,
}
PANEL_WIDTH_IN = 4.2
PANEL_HEIGHT_IN = 3.0


@contextmanager
def style() -> Iterator[None]:
    """The shared style; wrap figure construction and rendering in it."""
    with rc_context(STYLE):
        yield


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure with constrained layout (no overlapping labels)."""
    return Figure(figsize=(width_in, height_in), layout="constrained")


def arm_colors(arms: Sequence[str]) -> dict[str, str]:
    """A fixed colour per arm, in the given order (control first gets black)."""
    return {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(arms)}


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG."""
    buffer = io.BytesIO()
    with style():
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def png_data_uri(figure: Figure) -> str:
    """The figure as a `data:image/png;base64,...` URI for a self-contained page."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(figure)).decode("ascii")


def _grid(n_panels: int, max_columns: int = 3) -> tuple[int, int]:
    columns = min(n_panels, max_columns)
    return math.ceil(n_panels / columns), columns


def _panels(figure: Figure, n_panels: int, max_columns: int = 3) -> list[Axes]:
    rows, columns = _grid(n_panels, max_columns)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return list(axes[:n_panels])


def _shared_legend(figure: Figure, axes: Sequence[Axes]) -> None:
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if seen:
        figure.legend(
            list(seen.values()),
            list(seen),
            loc="outside lower center",
            ncols=min(len(seen), 4),
        )


# ----------------------------------------------------------------------------- design


def design_timeline_figure(design: TrialDesign) -> Figure:
    """Dosing and visits per arm against study day; the extension (if any) shaded."""
    arms = design.arm_labels
    colors = arm_colors(arms)
    with style():
        figure = new_figure(8.4, 1.2 + 0.3 * len(arms))
        ax = figure.subplots()
        dose_days = np.array(design.regimen.dose_days)
        last_day = design.visits[-1].day
        for i, arm in enumerate(arms):
            y = len(arms) - 1 - i
            dose = design.arm(arm).dose_mg
            # placebo patients get the same intrathecal injections, without drug: open triangles
            ax.scatter(
                dose_days,
                np.full(dose_days.size, y),
                marker="v",
                s=36,
                color=colors[arm] if dose > 0 else "none",
                edgecolors=colors[arm],
                linewidths=1.0,
                label="tofersen dose" if dose > 0 else "placebo injection",
            )
            if design.extension is not None:
                ext = np.array(design.extension.regimen.dose_days)
                ax.scatter(
                    ext,
                    np.full(ext.size, y),
                    marker="v",
                    s=36,
                    color="#777777",
                    label=f"extension dose ({design.extension.arm_label})",
                )
        for visit in design.visits:
            ax.axvline(visit.day, color="#bbbbbb", linewidth=0.8, zorder=0)
        if design.extension is not None:
            ax.axvspan(design.extension.start_day, last_day, color="#f2f2f2", zorder=-1)
            ax.text(
                design.extension.start_day,
                len(arms) - 0.45,
                f" open-label extension: {design.extension.arm_label}",
                fontsize=8,
                va="bottom",
            )
        ax.set_yticks(range(len(arms)), [f"{a}" for a in reversed(arms)])
        ax.set_ylim(-0.6, len(arms) - 0.1 + (0.5 if design.extension else 0))
        ax.set_xlim(0, last_day * 1.02 + 1)
        ax.set_xlabel("Study day (first dose = Day 1); grey lines: visits")
        ax.grid(False)
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        figure.legend(
            list(unique.values()), list(unique), loc="outside lower center", ncols=len(unique)
        )
    return figure


# ----------------------------------------------------------------------- trajectories


#: Published within-arm statistics that can sit on a trajectory drawn with another statistic,
#: with the conversion to the plotted scale.
_COMPATIBLE: dict[tuple[str, str], Any] = {
    ("gmr_to_baseline", "geo_mean_pct_change"): lambda v: 100.0 * (v - 1.0),
    ("ancova_lsmean_change", "mean_change"): lambda v: v,
    ("ancova_mi_lsmean_change", "mean_change"): lambda v: v,
}


def _published_points(
    rows: Sequence[ComparisonRow], paramcd: str, statistic: str, visit_days: Mapping[str, int]
) -> list[tuple[str, float, float, float | None, float | None]]:
    """(arm, day, value, ci_low, ci_high) of published within-arm statistics matching the plot."""
    points = []
    for row in rows:
        if row.paramcd != paramcd or row.published is None or row.visit not in visit_days:
            continue
        if row.quantity == statistic:
            convert = float
        elif (row.quantity, statistic) in _COMPATIBLE:
            convert = _COMPATIBLE[(row.quantity, statistic)]
        else:
            continue
        low = None if row.published_ci_low is None else convert(row.published_ci_low)
        high = None if row.published_ci_high is None else convert(row.published_ci_high)
        day = float(visit_days[row.visit])
        points.append((row.arm, day, convert(row.published), low, high))
    return points


def _axis_label(paramcd: str, statistic: str) -> str:
    if statistic == ENDPOINT_STATISTIC.get(paramcd):
        return ENDPOINT_AXIS_LABEL.get(paramcd, paramcd)
    words = {"mean_pct_change": "mean % change", "geo_mean_pct_change": "geometric mean % change"}
    return f"{ENDPOINT_TITLE.get(paramcd, paramcd)}: {words.get(statistic, statistic)}"


def trajectory_figure(
    summary: pd.DataFrame,
    paramcds: Sequence[str],
    *,
    rows: Sequence[ComparisonRow] = (),
    arms: Sequence[str] | None = None,
    extension_start_day: int | None = None,
    title: str = "",
) -> Figure:
    """Mean trajectories per arm (median over replicates, 95% band), one panel per endpoint,
    with the published points and their 95% CIs overlaid where the comparison rows have them."""
    present = [p for p in paramcds if (summary["PARAMCD"] == p).any()]
    arm_order = list(arms) if arms is not None else list(pd.unique(summary["ARM"]))
    colors = arm_colors(arm_order)
    with style():
        rows_n, cols_n = _grid(max(len(present), 1))
        figure = new_figure(PANEL_WIDTH_IN * cols_n, PANEL_HEIGHT_IN * rows_n + 0.5)
        axes = _panels(figure, max(len(present), 1))
        for ax, paramcd in zip(axes, present, strict=False):
            data = summary[summary["PARAMCD"] == paramcd]
            visit_days = dict(zip(data["AVISIT"], data["ADY"], strict=False))
            span = float(data["ADY"].max()) or 1.0
            for arm in arm_order:
                line = data[data["ARM"] == arm].sort_values("ADY")
                if line.empty:
                    continue
                color = colors[arm]
                ax.fill_between(line["ADY"], line["LOW"], line["HIGH"], color=color, alpha=0.12)
                ax.plot(line["ADY"], line["MEDIAN"], color=color, marker="o", ms=3, label=arm)
            statistic = str(data["STAT"].iloc[0])
            points = _published_points(rows, paramcd, statistic, visit_days)
            for k, (arm, day, value, low, high) in enumerate(points):
                x = day + span * 0.012 * (k - (len(points) - 1) / 2)
                yerr = None
                if low is not None and high is not None:
                    yerr = [[value - low], [high - value]]
                ax.errorbar(
                    [x],
                    [value],
                    yerr=yerr,
                    fmt="D",
                    ms=5,
                    color=colors.get(arm, PUBLISHED_COLOR),
                    markeredgecolor=PUBLISHED_COLOR,
                    ecolor=PUBLISHED_COLOR,
                    elinewidth=1.0,
                    capsize=2,
                    label="published (95% CI)",
                )
            if extension_start_day is not None:
                ax.axvline(extension_start_day, color="#777777", linestyle="--", linewidth=1)
                ax.text(
                    extension_start_day,
                    1.0,
                    " extension",
                    transform=ax.get_xaxis_transform(),
                    fontsize=7,
                    va="top",
                    color="#555555",
                )
            ax.axhline(0, color="#888888", linewidth=0.8)
            ax.set_title(ENDPOINT_TITLE.get(paramcd, paramcd))
            ax.set_xlabel("Study day")
            ax.set_ylabel(_axis_label(paramcd, statistic))
        if not present:
            axes[0].text(0.5, 0.5, "no data", ha="center", va="center", transform=axes[0].transAxes)
        _shared_legend(figure, axes)
        if title:
            figure.suptitle(title)
    return figure


def early_delayed_figure(
    summary: pd.DataFrame,
    paramcds: Sequence[str],
    *,
    early_arm: str,
    delayed_arm: str,
    extension_start_day: int,
    extension_label: str = "tofersen",
) -> Figure:
    """Early- vs delayed-start curves: the randomised tofersen arm against placebo patients who
    switch to tofersen at the extension, with the switch marked."""
    relabel = {
        early_arm: f"early start ({early_arm})",
        delayed_arm: f"delayed start ({delayed_arm} → {extension_label})",
    }
    data = summary[summary["ARM"].isin(list(relabel))].assign(ARM=lambda f: f["ARM"].map(relabel))
    return trajectory_figure(
        data,
        paramcds,
        arms=[relabel[delayed_arm], relabel[early_arm]],
        extension_start_day=extension_start_day,
        title="Early vs delayed start (median over replicates, 95% band)",
    )


# -------------------------------------------------------------------- Kaplan-Meier


def km_figure(
    km: pd.DataFrame,
    *,
    arms: Sequence[str] | None = None,
    title: str = "",
    ylabel: str = "Free of death or permanent ventilation",
    cumulative: bool = False,
) -> Figure:
    """Kaplan-Meier curves per arm (median over replicates, 95% band): freedom from death or
    permanent ventilation by default, or the cumulative incidence 1 - S of another event."""
    arm_order = list(arms) if arms is not None else list(pd.unique(km["ARM"]))
    colors = arm_colors(arm_order)
    top = 1.02
    with style():
        figure = new_figure(PANEL_WIDTH_IN * 1.5, PANEL_HEIGHT_IN + 0.3)
        ax = figure.subplots()
        for arm in arm_order:
            curve = km[km["ARM"] == arm]
            if curve.empty:
                continue
            color = colors[arm]
            low, median, high = curve["LOW"], curve["MEDIAN"], curve["HIGH"]
            label = arm
            if cumulative:
                low, median, high = 1.0 - high, 1.0 - median, 1.0 - low
                if float(median.max()) == 0.0:
                    label = f"{arm} (median 0: most trials had none)"
            ax.fill_between(curve["DAY"], low, high, step="post", color=color, alpha=0.15)
            ax.step(curve["DAY"], median, where="post", color=color, label=label, clip_on=False)
        if cumulative:
            # rare events: zoom to the band, and lift the axis so a median of 0 stays visible
            highest = float(np.nanmax(1.0 - km["LOW"])) if not km.empty else 0.0
            top = min(1.02, max(0.05, 1.2 * highest))
            ax.set_ylim(-0.02 * top, top)
        else:
            ax.set_ylim(0, top)
        ax.set_xlabel("Study day")
        ax.set_ylabel(ylabel)
        ax.set_title(title or "Death or permanent ventilation (Kaplan-Meier)")
        ax.legend(loc="upper left" if cumulative else "lower left")
    return figure


# ------------------------------------------------------------------- dose-response


def dose_response_figure(
    rows: Sequence[ComparisonRow],
    design: TrialDesign,
    *,
    paramcd: str = "CSFSOD1",
    visit: str | None = None,
) -> Figure:
    """Difference vs control in mean % change at one visit against dose: simulated median and
    95% range over replicates, published difference with its 95% CI."""
    picked = [
        r
        for r in rows
        if r.paramcd == paramcd
        and r.quantity == "pct_change_diff"
        and (visit is None or r.visit == visit)
    ]
    with style():
        figure = new_figure(PANEL_WIDTH_IN * 1.4, PANEL_HEIGHT_IN + 0.4)
        ax = figure.subplots()
        doses = np.array([design.arm(r.arm).dose_mg for r in picked], dtype=np.float64)
        gaps = np.diff(np.unique(doses))
        step = 0.12 * float(gaps.min()) if gaps.size else 1.0
        for r, dose in zip(picked, doses, strict=True):
            ax.errorbar(
                [dose - step],
                [r.sim_median],
                yerr=[[r.sim_median - r.sim_low], [r.sim_high - r.sim_median]],
                fmt="o",
                color=PALETTE[4],
                capsize=3,
                label="simulated median, 95% range",
            )
            if r.published is not None:
                yerr = None
                if r.published_ci_low is not None and r.published_ci_high is not None:
                    yerr = [[r.published - r.published_ci_low], [r.published_ci_high - r.published]]
                ax.errorbar(
                    [dose + step],
                    [r.published],
                    yerr=yerr,
                    fmt="D",
                    color=PUBLISHED_COLOR,
                    capsize=3,
                    label="published, 95% CI",
                )
        ax.axhline(0, color="#888888", linewidth=0.8)
        ax.set_xticks(doses, [f"{d:g}" for d in doses])
        ax.set_xlabel("Tofersen dose (mg per intrathecal bolus)")
        label = ENDPOINT_TITLE.get(paramcd, paramcd)
        ax.set_ylabel("Difference vs control (percentage points)")
        shown_visit = picked[0].visit if picked else (visit or "")
        ax.set_title(f"{label}, mean % change vs control at {shown_visit.title()}")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(list(unique.values()), list(unique), loc="best")
    return figure


# ------------------------------------------------------------------------ forest


def _facet_key(row: ComparisonRow) -> tuple[str, str]:
    return (row.paramcd, row.quantity)


def forest_figure(rows: Sequence[ComparisonRow]) -> Figure:
    """Every published result beside its simulated counterpart, one panel per statistic (each on
    its own scale): simulated median with 95% range (colour: inside or outside the published CI),
    published value with 95% CI (black diamond)."""
    published = [r for r in rows if r.published is not None]
    facets: dict[tuple[str, str], list[ComparisonRow]] = {}
    for row in published:
        facets.setdefault(_facet_key(row), []).append(row)
    heights = [max(len(v), 1) for v in facets.values()] or [1]
    with style():
        figure = new_figure(8.4, 0.9 + sum(0.34 * h + 0.75 for h in heights))
        axes = figure.subplots(len(heights), 1, squeeze=False, height_ratios=heights).ravel()
        if not facets:
            axes[0].text(0.5, 0.5, "no published targets", ha="center", transform=axes[0].transAxes)
        for ax, ((paramcd, quantity), facet) in zip(axes, facets.items(), strict=False):
            n = len(facet)
            y = np.arange(n)[::-1].astype(np.float64)
            for yi, r in zip(y, facet, strict=True):
                if not np.isfinite([r.sim_median, r.sim_low, r.sim_high]).all():
                    ax.text(0.01, yi + 0.14, "not simulated", transform=ax.get_yaxis_transform())
                else:
                    _forest_simulated(ax, r, yi)
                _forest_published(ax, r, yi)
            ax.set_yticks(y, forest_labels(facet))
            ax.set_ylim(-0.7, n - 0.3)
            reference = FOREST_REFERENCE.get(quantity)
            if reference is not None:
                ax.axvline(reference, color="#888888", linewidth=0.8)
            title = (
                f"{ENDPOINT_TITLE.get(paramcd, paramcd)}: {QUANTITY_LABELS.get(quantity, quantity)}"
            )
            ax.set_title(textwrap.fill(title, 70), loc="left", wrap=True)
            ax.set_xlabel(_forest_unit(paramcd, quantity))
            ax.grid(axis="y", visible=False)
        _shared_legend(figure, list(axes))
    return figure


def forest_labels(rows: Sequence[ComparisonRow]) -> list[str]:
    """`arm · visit [target] (role)` per row, made unique (a repeated label gets its row
    number)."""
    labels = [f"{r.arm} · {r.visit.title()}  [{r.target}] {_ROLE_TAG[r.role]}" for r in rows]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if labels.count(label) == 1 else f"{label} #{seen[label]}")
    return unique


_ROLE_TAG = {"calibrated": "(fit)", "validation": "(validation)", "prediction": "(prediction)"}


def _forest_simulated(ax: Axes, r: ComparisonRow, y: float) -> None:
    color = {True: INSIDE_COLOR, False: OUTSIDE_COLOR}.get(r.inside, PALETTE[4])  # type: ignore[arg-type]
    calibrated = r.role == "calibrated"
    ax.errorbar(
        [r.sim_median],
        [y + 0.14],
        xerr=[[r.sim_median - r.sim_low], [r.sim_high - r.sim_median]],
        fmt="s" if calibrated else "o",
        mfc="white" if calibrated else color,
        color=color,
        capsize=2,
        label=_forest_label(r.inside, calibrated=calibrated),
    )


def _forest_published(ax: Axes, r: ComparisonRow, y: float) -> None:
    assert r.published is not None
    xerr = None
    if r.published_ci_low is not None and r.published_ci_high is not None:
        xerr = [[r.published - r.published_ci_low], [r.published_ci_high - r.published]]
    ax.errorbar(
        [r.published],
        [y - 0.14],
        xerr=xerr,
        fmt="D",
        color=PUBLISHED_COLOR,
        capsize=2,
        ms=4,
        label="published, 95% CI",
    )


def _forest_label(inside: bool | None, *, calibrated: bool = False) -> str:
    if inside is None:
        return "simulated (no criterion)"
    if calibrated:
        return "simulated, calibrated: fit" if inside else "simulated, calibrated: fit NOT met"
    return "validation: criterion met" if inside else "validation: criterion NOT met"


#: Where "no effect" / "no change" sits on each statistic's axis (none: no reference line).
FOREST_REFERENCE = {
    "gmr_to_baseline": 1.0,
    "gmr_ratio": 1.0,
    "cox_hr": 1.0,
    "pct_change_diff": 0.0,
    "mean_pct_change": 0.0,
    "geo_mean_pct_change": 0.0,
    "ancova_diff": 0.0,
    "ancova_mi_diff": 0.0,
    "ancova_lsmean_change": 0.0,
    "ancova_mi_lsmean_change": 0.0,
    "gmr_diff_pct": 0.0,
    "ae_risk_difference": 0.0,
}
#: Axis units of statistics without a unit in their name.
FOREST_UNIT = {
    "nh_median_survival": "years from onset",
    "nh_slope_mean": "ALSFRS-R points per month",
}
ENDPOINT_UNIT = {
    "ALSFRSR": "ALSFRS-R points",
    "SVCPP": "% predicted SVC",
    "HHDMEGA": "HHD megascore",
}


def _forest_unit(paramcd: str, quantity: str) -> str:
    if quantity in ("gmr_to_baseline", "gmr_ratio"):
        return "ratio (1 = no change)"
    if quantity == "cox_hr":
        return "hazard ratio (1 = no difference)"
    if quantity == "joint_rank_p":
        return "p-value"
    if quantity in ("ae_patients", "extension_entered_n"):
        return "patients"
    if quantity in ("pct_change_diff", "ae_risk_difference"):
        return "percentage points"
    if quantity == "gmr_diff_pct":
        return "% reduction vs control"
    if "pct" in quantity or quantity == "ae_incidence":
        return "%"
    if quantity.startswith("ancova"):
        return ENDPOINT_UNIT.get(paramcd, "endpoint units")
    return FOREST_UNIT.get(quantity, QUANTITY_LABELS.get(quantity, quantity))


# ------------------------------------------------------------------------- power


def power_curve_figure(
    frame: pd.DataFrame,
    *,
    x: str = "design_point",
    endpoint: str = "endpoint",
    power: str = "power",
    mc_se: str = "mc_se",
    x_label: str | None = None,
    targets: Sequence[float] = (0.8, 0.9),
    title: str = "Power by design",
) -> Figure:
    """Power against a design point (sample size, effect, duration...) per endpoint, with a
    ±1.96 Monte-Carlo SE band and reference lines at the usual power targets.

    `frame` is tidy: one row per design point x endpoint with columns `x`, `endpoint`, `power`
    (0-1) and `mc_se` (its Monte-Carlo standard error). A non-numeric `x` is drawn in row order.
    """
    missing = [c for c in (x, endpoint, power, mc_se) if c not in frame]
    if missing:
        raise ValueError(f"power frame lacks columns {missing}; has {list(frame.columns)}")
    numeric = pd.api.types.is_numeric_dtype(frame[x])
    categories = list(pd.unique(frame[x]))
    endpoints = list(pd.unique(frame[endpoint]))
    colors = arm_colors(endpoints)
    with style():
        figure = new_figure(PANEL_WIDTH_IN * 1.5, PANEL_HEIGHT_IN + 0.4)
        ax = figure.subplots()
        for name in endpoints:
            data = frame[frame[endpoint] == name]
            if numeric:
                data = data.sort_values(x)
                xs = data[x].to_numpy(np.float64)
            else:
                xs = np.array([categories.index(v) for v in data[x]], dtype=np.float64)
            p = data[power].to_numpy(np.float64)
            se = data[mc_se].to_numpy(np.float64)
            ax.fill_between(
                xs,
                np.clip(p - 1.96 * se, 0, 1),
                np.clip(p + 1.96 * se, 0, 1),
                color=colors[name],
                alpha=0.18,
            )
            ax.plot(xs, p, marker="o", ms=4, color=colors[name], label=str(name))
        for level in targets:
            ax.axhline(level, color="#888888", linestyle=":", linewidth=1)
        if not numeric:
            ax.set_xticks(range(len(categories)), [str(c) for c in categories])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(x_label or x)
        ax.set_ylabel("Power (band: ±1.96 Monte-Carlo SE)")
        ax.set_title(title)
        ax.legend(loc="lower right")
    return figure


# ----------------------------------------------------------- presymptomatic carriers


def prodromal_nfl_figure(
    nfl: pd.DataFrame,
    lead_months: Sequence[float] | np.ndarray,
    *,
    trigger_level_pg_ml: float | None,
    evidence_range_months: tuple[float, float] | None,
) -> Figure:
    """Left: plasma NfL of untreated carriers against months to phenoconversion (`nfl`: MONTH,
    MEDIAN, LOW, HIGH), with the trigger level; right: the months from the NfL trigger to
    phenoconversion (`lead_months`), with the published range shaded."""
    with style():
        figure = new_figure(PANEL_WIDTH_IN * 2, PANEL_HEIGHT_IN + 0.3)
        left, right = figure.subplots(1, 2)
        left.fill_between(nfl["MONTH"], nfl["LOW"], nfl["HIGH"], color=PALETTE[4], alpha=0.18)
        left.plot(nfl["MONTH"], nfl["MEDIAN"], color=PALETTE[4], label="median, 10-90% band")
        if trigger_level_pg_ml is not None:
            left.axhline(trigger_level_pg_ml, color=OUTSIDE_COLOR, linestyle="--", linewidth=1)
            left.annotate(
                f"trigger level {trigger_level_pg_ml:g} pg/mL",
                (float(nfl["MONTH"].min()), trigger_level_pg_ml),
                textcoords="offset points",
                xytext=(2, 3),
                color=OUTSIDE_COLOR,
                fontsize=8,
            )
        left.axvline(0.0, color="#888888", linewidth=1)
        left.set_yscale("log")
        left.set_xlabel("Months from phenoconversion (untreated)")
        left.set_ylabel("Plasma NfL (pg/mL)")
        left.set_title("NfL before and after phenoconversion")
        left.legend(loc="upper left")
        months = np.asarray(lead_months, dtype=np.float64)
        months = months[np.isfinite(months)]
        upper = float(np.quantile(months, 0.98)) if months.size else 1.0
        right.hist(months[months <= upper], bins=40, color=PALETTE[4], alpha=0.8)
        if evidence_range_months is not None:
            right.axvspan(*evidence_range_months, color=INSIDE_COLOR, alpha=0.15)
            right.annotate(
                "published range",
                (evidence_range_months[0], 0.95),
                xycoords=("data", "axes fraction"),
                color=INSIDE_COLOR,
                fontsize=8,
            )
        right.set_xlabel("Months from NfL trigger to phenoconversion (untreated)")
        right.set_ylabel("Randomised carriers")
        right.set_title("Lead time of the trigger")
    return figure
