"""Sections that show a joint calibration's out-of-sample checks and global sensitivity, read
from its summary document (`alsim calibrate`'s summary.json, or the one shipped with alsim):
used by the calibration report and by the reproduction report."""

from collections.abc import Mapping, Sequence
from typing import Any

from alsim.report.html import Section
from alsim.report.tables import html_table

CHECK_HEADER = (
    "Group",
    "Evidence",
    "In likelihood",
    "Published [95% CI]",
    "Predicted median [95% PI]",
    "Published inside PI",
    "Error (published - predicted)",
)


def g(value: float | None) -> str:
    """A number with 4 significant digits, or a dash."""
    return "—" if value is None else f"{value:.4g}"


def check_rows(checks: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Table rows of published numbers beside their (posterior or out-of-sample) prediction."""
    rows = []
    for c in checks:
        ci = c["published_ci"]
        published = g(c["published"]) + ("" if ci is None else f" [{g(ci[0])}, {g(ci[1])}]")
        rows.append(
            [
                c["group"],
                c["target"],
                "yes" if c["in_likelihood"] else "same information",
                published,
                f"{g(c['predicted_median'])} [{g(c['predicted_low'])}, {g(c['predicted_high'])}]",
                "yes" if c["inside_95_prediction_interval"] else "NO",
                g(c["error"]),
            ]
        )
    return rows


def cross_validation_lines(document: Mapping[str, Any]) -> list[str]:
    """One line per left-out group: out-of-sample 95% prediction-interval coverage."""
    lines = []
    for fold in document.get("cross_validation", []):
        inside = sum(1 for c in fold["targets"] if c["inside_95_prediction_interval"])
        lines.append(
            f"Without {fold['left_out']}: {inside} of {len(fold['targets'])} published numbers "
            "inside their 95% prediction interval"
        )
    return lines


def cross_validation_section(document: Mapping[str, Any]) -> Section | None:
    """Each left-out group's published numbers beside their out-of-sample prediction."""
    folds = document.get("cross_validation", [])
    if not folds:
        return None
    parts = []
    for line, fold in zip(cross_validation_lines(document), folds, strict=True):
        parts.append(f"<h3>{line}</h3>")
        parts.append(html_table(CHECK_HEADER, check_rows(fold["targets"])))
    return Section(
        "Cross-validation",
        "Each group is left out of the joint fit and predicted from the rest of the evidence "
        "(out-of-sample 95% prediction interval: parameter uncertainty, the trial's sampling "
        "error, emulator error); the error is the published minus the predicted median, on the "
        "published number's scale.",
        "\n".join(parts),
    )


def sobol_section(document: Mapping[str, Any]) -> Section | None:
    """First-order and total Sobol indices of the headline outputs over the posterior."""
    sobol = document.get("sobol", {})
    if not sobol:
        return None
    rows = []
    for output, indices in sobol.items():
        for k, name in enumerate(indices["parameters"]):
            rows.append(
                [
                    indices.get("label", output),
                    name,
                    f"{g(indices['S1'][k])} ± {g(indices['S1_conf'][k])}",
                    f"{g(indices['ST'][k])} ± {g(indices['ST_conf'][k])}",
                ]
            )
    return Section(
        "Global sensitivity (Sobol indices)",
        "Share of each headline output's variance over the posterior due to each parameter alone "
        "(S1) and with its interactions (ST), from the emulators, with the posterior marginals "
        "taken as independent; ± 95% bootstrap half-width.",
        html_table(("Output", "Parameter", "S1", "ST"), rows),
    )
