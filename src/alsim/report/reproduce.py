"""Write a reproduction's files: comparison.json, comparison.md and report.html."""

import html
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from alsim.evidence.compare import ComparisonRow
from alsim.evidence.reproduce import StudyReproduction
from alsim.io.output import write_json
from alsim.model.parameters import ParameterSet, shipped_calibration
from alsim.report.calibration import (
    cross_validation_lines,
    cross_validation_section,
    sobol_section,
)
from alsim.report.carriers import carrier_section, prediction_statement
from alsim.report.html import Section, render_page
from alsim.report.pages import StudyFigures, parameter_section, study_section
from alsim.report.tables import comparison_html, comparison_markdown, role_summary

_CRITERIA = (
    "Simulated: median and 2.5-97.5% range over replicates of the trial. Published numbers come "
    "from the evidence file with their source. 'Met' means the simulated median lies inside the "
    "published 95% CI, or, where no CI is published, the published value lies inside the "
    "simulated range (or within the stated tolerance of the simulated median). Each row has a "
    "role: 'calibrated' rows show a number a fit used (the row names what was fitted to it; "
    "their criterion reads 'fit', not 'Met': agreement there is by construction), 'validation' "
    "rows a published number no fit used, 'prediction' rows have no published value."
)


NATURAL_HISTORY_STUDY = "natural_history"
NATURAL_HISTORY_TITLE = "Natural history of SOD1-ALS (untreated)"


def section_rows(result: StudyReproduction) -> list[tuple[str, tuple[ComparisonRow, ...]]]:
    """The rows of a reproduction by section: the study's own, then the untreated natural
    history (survival and pre-study slopes from onset) that the study's population implies,
    which is not a result of the trial and gets its own section."""
    own = tuple(r for r in result.rows if r.study != NATURAL_HISTORY_STUDY)
    natural = tuple(r for r in result.rows if r.study == NATURAL_HISTORY_STUDY)
    sections = [(result.design.title, own)]
    if natural:
        sections.append((NATURAL_HISTORY_TITLE, natural))
    return sections


def _natural_history_section(result: StudyReproduction, rows: Sequence[ComparisonRow]) -> Section:
    from alsim.report.figures import forest_figure
    from alsim.report.pages import figure_html

    parts = []
    if any(r.published is not None for r in rows):
        parts.append(
            figure_html(
                forest_figure(rows),
                "Untreated natural history from onset of the simulated patient population "
                "(circle: median, bar: 2.5-97.5% over trials) beside the published cohort "
                "values (black diamond); green when the criterion is met, orange when not.",
                "natural history forest plot",
            )
        )
    parts.append(comparison_html(rows))
    return Section(
        title=NATURAL_HISTORY_TITLE,
        note=f"The population of {result.design.title} followed from onset without treatment "
        f"({result.n_replicates} replicates, seed {result.seed}): survival and pre-study "
        "ALSFRS-R slopes against published SOD1-ALS cohorts.",
        content_html="\n".join(parts),
    )


def summary_lines(results: Sequence[StudyReproduction]) -> list[str]:
    """One line per study: validation k/n inside CI, calibration k/n, predictions n."""
    return [f"{r.design.title}: {role_summary(r.rows)}" for r in results]


def _study_sections(result: StudyReproduction) -> list[Section]:
    """Figures and table when the simulation is at hand (the table alone otherwise), then the
    natural history when the reproduction has it."""
    (_, own), *natural = section_rows(result)
    if result.sim is not None:
        sections = [study_section(StudyFigures.from_simulation(result.sim, own))]
    else:
        sections = [
            Section(
                title=result.design.title,
                note=f"{result.n_replicates} simulated replicates, seed {result.seed}. "
                f"{result.design.reference}",
                content_html=comparison_html(own),
            )
        ]
    sections += [_natural_history_section(result, rows) for _, rows in natural]
    return sections


def write_reproduction(
    directory: Path, results: Sequence[StudyReproduction], parameters: ParameterSet
) -> list[Path]:
    """Write the comparison files for `results` into `directory`; return their paths."""
    document = {
        r.study: {
            "study_id": r.design.study_id,
            "title": r.design.title,
            "replicates": r.n_replicates,
            "seed": r.seed,
            "notes": list(r.notes),
            "rows": [row.to_dict() for row in r.rows],
            **({"prediction": asdict(r.prediction)} if r.prediction is not None else {}),
        }
        for r in results
    }
    paths = [write_json(document, directory / "comparison.json")]
    lines = summary_lines(results)
    calibration = shipped_calibration() or {}
    cv_lines = [
        f"Cross-validation of the shipped calibration: {line}"
        for line in cross_validation_lines(calibration)
    ]
    markdown = "".join(f"- {line}\n" for line in (*lines, *cv_lines)) + "\n"
    markdown += "".join(
        f"## {r.design.title}\n\n{r.n_replicates} replicates, seed {r.seed}.\n\n"
        + "".join(f"- {note}\n" for note in r.notes)
        + ("\n" if r.notes else "")
        + (f"{prediction_statement(r.prediction)}\n\n" if r.prediction is not None else "")
        + "\n".join(
            (f"### {title}\n\n" if title != r.design.title else "") + comparison_markdown(rows)
            for title, rows in section_rows(r)
        )
        + "\n"
        for r in results
    )
    paths.append(directory / "comparison.md")
    paths[-1].write_text(f"# alsim: simulated vs published\n\n{_CRITERIA}\n\n{markdown}", "utf-8")
    summary = "".join(f"<li>{html.escape(line)}</li>" for line in (*lines, *cv_lines))
    sections = [Section("Summary: what was fitted, what was predicted", "", f"<ul>{summary}</ul>")]
    for r in results:
        sections += _study_sections(r)
        if r.sim is not None and r.sim.carriers is not None:
            sections.append(carrier_section(r.sim, r.prediction))
        if r.notes:
            sections.append(
                Section(
                    title=f"{r.design.title}: assumptions", note=" ".join(r.notes), content_html=""
                )
            )
    sections += [
        s
        for s in (cross_validation_section(calibration), sobol_section(calibration))
        if s is not None
    ]
    sections.append(parameter_section(parameters))
    page = render_page("alsim: simulated vs published", _CRITERIA, sections)
    paths.append(directory / "report.html")
    paths[-1].write_text(page, encoding="utf-8")
    return paths
