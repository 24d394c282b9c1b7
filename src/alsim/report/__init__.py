"""Tables, figures and HTML rendering of results."""

from alsim.report.html import Section, render_page
from alsim.report.tables import (
    comparison_cells,
    comparison_html,
    comparison_markdown,
    parameter_frame,
    parameter_html,
    parameter_markdown,
)

__all__ = [
    "Section",
    "comparison_cells",
    "comparison_html",
    "comparison_markdown",
    "parameter_frame",
    "parameter_html",
    "parameter_markdown",
    "render_page",
]
