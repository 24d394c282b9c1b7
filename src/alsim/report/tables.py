"""Tables for people: simulated vs published, and the parameter table, as Markdown and HTML."""

import html
import math
from collections.abc import Iterable, Sequence

import pandas as pd

from alsim.evidence.compare import QUANTITY_LABELS, ComparisonRow
from alsim.model.parameters import ParameterSet

COMPARISON_HEADER = (
    "Target",
    "Arm",
    "Statistic",
    "Simulated median [2.5%, 97.5%]",
    "Published [95% CI]",
    "Met (fit: calibrated)",
    "Role",
    "Source",
)


#: Ratios (GMRs, hazard ratios) are shown to at least two decimals, as they are published.
RATIO_QUANTITIES = frozenset({"gmr_to_baseline", "gmr_ratio", "cox_hr"})
P_VALUE_QUANTITIES = frozenset({"joint_rank_p"})
COUNT_QUANTITIES = frozenset({"ae_patients", "extension_entered_n"})
MAX_DECIMALS = 4


def _finite(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def simulated_decimals(quantity: str, values: Iterable[float | None]) -> int:
    """Decimals for simulated numbers of one row: two significant digits of the largest
    magnitude (one decimal from 1 up), at least two for ratios, none for whole counts."""
    finite = _finite(values)
    if quantity in COUNT_QUANTITIES and all(v == round(v) for v in finite):
        return 0
    largest = max((abs(v) for v in finite), default=0.0)
    decimals = 1 if largest == 0 or largest >= 1 else 1 - math.floor(math.log10(largest))
    if quantity in RATIO_QUANTITIES:
        decimals = max(decimals, 2)
    return min(decimals, MAX_DECIMALS)


def published_decimals(quantity: str, values: Iterable[float | None]) -> int:
    """Decimals for published numbers: as many as the evidence gives (never rounded away, no
    trailing zeros invented), two for ratios (0.40 [0.33, 0.49])."""
    own = [len(f"{v:g}".partition(".")[2]) for v in _finite(values) if "e" not in f"{v:g}"]
    decimals = max(own, default=0)
    if quantity in RATIO_QUANTITIES:
        decimals = max(decimals, 2)
    return min(decimals, MAX_DECIMALS)


def format_number(value: float | None, decimals: int, *, p_value: bool = False) -> str:
    """A number at `decimals` (p-values: two significant digits); "—" for a missing one."""
    if value is None or not math.isfinite(value):
        return "—"
    if p_value:
        return f"{value:.2g}"
    text = f"{value:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def format_interval(
    quantity: str, value: float | None, low: float | None, high: float | None, decimals: int
) -> str:
    """`value [low, high]` at one precision."""
    p_value = quantity in P_VALUE_QUANTITIES
    return (
        f"{format_number(value, decimals, p_value=p_value)} "
        f"[{format_number(low, decimals, p_value=p_value)}, "
        f"{format_number(high, decimals, p_value=p_value)}]"
    )


def simulated_text(row: ComparisonRow) -> str:
    """The simulated median and 2.5-97.5% range of a row, at the row's precision."""
    values = (row.sim_median, row.sim_low, row.sim_high)
    decimals = simulated_decimals(row.quantity, values)
    return format_interval(row.quantity, *values, decimals)


def published_text(row: ComparisonRow) -> str:
    """The published value (with its 95% CI when there is one) at the evidence's precision."""
    if row.published is None and row.published_ci_low is not None:
        # a published range without a point value (e.g. a stated interval)
        bounds = (row.published_ci_low, row.published_ci_high)
        decimals = published_decimals(row.quantity, bounds)
        return f"range [{format_number(bounds[0], decimals)}, {format_number(bounds[1], decimals)}]"
    if row.published is None:
        return "prediction"
    values = (row.published, row.published_ci_low, row.published_ci_high)
    decimals = published_decimals(row.quantity, values)
    if row.published_ci_low is not None:
        return format_interval(row.quantity, *values, decimals)
    p_value = row.quantity in P_VALUE_QUANTITIES
    return f"{format_number(row.published, decimals, p_value=p_value)} (no CI)"


def comparison_cells(row: ComparisonRow) -> tuple[str, ...]:
    """The table cells of one comparison row, as text."""
    simulated = simulated_text(row)
    published = published_text(row)
    met = "—" if row.inside is None else ("yes" if row.inside else "NO")
    if row.role == "calibrated" and row.inside is not None:
        met = f"fit: {met}"
    role: str = row.role
    if row.fitted:
        role = f"{role} ({', '.join(row.fitted)})"
    statistic = f"{row.paramcd} {QUANTITY_LABELS[row.quantity]}, {row.visit}"
    source = f"{row.source} [{row.verification_tier}]" if row.source else ""
    return (row.target, row.arm, statistic, simulated, published, met, role, source)


def role_summary(rows: Sequence[ComparisonRow]) -> str:
    """One line: validation k/n inside their criterion, calibration k/n, predictions n."""
    validation = [r for r in rows if r.role == "validation" and r.inside is not None]
    calibrated = [r for r in rows if r.role == "calibrated" and r.inside is not None]
    predictions = sum(1 for r in rows if r.role == "prediction")
    context = sum(1 for r in rows if r.role != "prediction" and r.inside is None)
    judged = (
        "inside the 95% posterior predictive range"
        if any("posterior predictive" in r.criterion for r in rows)
        else "inside CI (or criterion)"
    )
    line = (
        f"validation {sum(bool(r.inside) for r in validation)}/{len(validation)} {judged}, "
        f"calibration {sum(bool(r.inside) for r in calibrated)}/"
        f"{len(calibrated)}, predictions {predictions}"
    )
    return line + (f", context only {context}" if context else "")


def comparison_markdown(rows: Sequence[ComparisonRow]) -> str:
    """A Markdown table of the comparison, one line per target."""
    lines = ["| " + " | ".join(COMPARISON_HEADER) + " |", "|" + "---|" * len(COMPARISON_HEADER)]
    for row in rows:
        cells = (c.replace("|", "/") for c in comparison_cells(row))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def html_table(header: Sequence[str], body: Sequence[Sequence[str]], *, css_class: str = "") -> str:
    """An HTML table of text cells (escaped)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
        for cells in body
    )
    opening = f'<table class="{html.escape(css_class)}">' if css_class else "<table>"
    return f"{opening}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def comparison_html(rows: Sequence[ComparisonRow]) -> str:
    """An HTML table of the comparison."""
    return html_table(
        COMPARISON_HEADER, [comparison_cells(row) for row in rows], css_class="comparison"
    )


def parameter_frame(parameters: ParameterSet) -> pd.DataFrame:
    """The parameter table with the assumption flag spelled out for readers."""
    frame = parameters.to_frame()
    frame["assumption"] = frame["assumption"].map({True: "ASSUMPTION", False: "published"})
    frame.loc[frame["posterior"] != "", "assumption"] = "FITTED"
    return frame


def parameter_html(parameters: ParameterSet) -> str:
    """The parameter table (value, unit, variability, source, assumption) as HTML."""
    frame = parameter_frame(parameters)
    body = [
        (
            str(r.name),
            f"{r.value:.4g}",
            str(r.unit),
            str(r.description),
            "—" if r.variability == "none" else f"{r.variability}, ω={r.omega:.3g}",
            str(r.assumption),
            str(r.prior) or "—",
            str(r.posterior) or "—",
            str(r.fitted_to) or "—",
            str(r.source),
        )
        for r in frame.itertuples()
    ]
    header = (
        "Parameter",
        "Value",
        "Unit",
        "Meaning",
        "Between-subject",
        "Status",
        "Prior",
        "Posterior median [95% CrI]",
        "Fitted to",
        "Source",
    )
    return html_table(header, body)


def parameter_markdown(parameters: ParameterSet) -> str:
    """The parameter table as Markdown."""
    frame = parameter_frame(parameters)
    lines = [
        "| Parameter | Value | Unit | Status | Prior | Posterior median [95% CrI] | Fitted to "
        "| Source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in frame.itertuples():
        lines.append(
            f"| {r.name} | {r.value:.4g} | {r.unit} | {r.assumption} | {str(r.prior) or '—'} | "
            f"{str(r.posterior) or '—'} | {str(r.fitted_to) or '—'} | {r.source} |"
        )
    return "\n".join(lines) + "\n"
