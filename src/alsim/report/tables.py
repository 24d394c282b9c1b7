"""Tables for people: simulated vs published, and the parameter table, as Markdown and HTML."""

import html
from collections.abc import Sequence

import pandas as pd

from alsim.evidence.compare import QUANTITY_LABELS, ComparisonRow
from alsim.model.parameters import ParameterSet

COMPARISON_HEADER = (
    "Target",
    "Arm",
    "Statistic",
    "Simulated median [2.5%, 97.5%]",
    "Published [95% CI]",
    "Met",
    "Source",
)


def _fmt(value: float | None) -> str:
    """A simulated number as shown: one decimal."""
    return "—" if value is None else f"{value:.1f}"


def _published(value: float | None) -> str:
    """A published number as printed: three significant digits, no invented trailing zeros."""
    return "—" if value is None else f"{value:.3g}"


def comparison_cells(row: ComparisonRow) -> tuple[str, ...]:
    """The table cells of one comparison row, as text."""
    simulated = f"{_fmt(row.sim_median)} [{_fmt(row.sim_low)}, {_fmt(row.sim_high)}]"
    if row.published is None and row.published_ci_low is not None:
        published = (
            f"range [{_published(row.published_ci_low)}, {_published(row.published_ci_high)}]"
        )
    elif row.published is None:
        published = "prediction"
    elif row.published_ci_low is not None:
        published = (
            f"{_published(row.published)} [{_published(row.published_ci_low)}, "
            f"{_published(row.published_ci_high)}]"
        )
    else:
        published = f"{_published(row.published)} (no CI)"
    met = "—" if row.inside is None else ("yes" if row.inside else "NO")
    statistic = f"{row.paramcd} {QUANTITY_LABELS[row.quantity]}, {row.visit}"
    source = f"{row.source} [{row.verification_tier}]" if row.source else ""
    return (row.target, row.arm, statistic, simulated, published, met, source)


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
            str(r.source),
        )
        for r in frame.itertuples()
    ]
    header = ("Parameter", "Value", "Unit", "Meaning", "Between-subject", "Status", "Source")
    return html_table(header, body)


def parameter_markdown(parameters: ParameterSet) -> str:
    """The parameter table as Markdown."""
    frame = parameter_frame(parameters)
    lines = ["| Parameter | Value | Unit | Status | Source |", "|---|---|---|---|---|"]
    for r in frame.itertuples():
        lines.append(f"| {r.name} | {r.value:.4g} | {r.unit} | {r.assumption} | {r.source} |")
    return "\n".join(lines) + "\n"
