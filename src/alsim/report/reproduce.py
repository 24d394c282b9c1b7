"""Write a reproduction's files: comparison.json, comparison.md and report.html."""

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from alsim.evidence.reproduce import StudyReproduction
from alsim.io.output import write_json
from alsim.model.parameters import ParameterSet
from alsim.report.carriers import carrier_section, prediction_statement
from alsim.report.html import Section, render_page
from alsim.report.pages import StudyFigures, parameter_section, study_section
from alsim.report.tables import comparison_html, comparison_markdown

_CRITERIA = (
    "Simulated: median and 2.5-97.5% range over replicates of the trial. Published numbers come "
    "from the evidence file with their source. 'Met' means the simulated median lies inside the "
    "published 95% CI, or, where no CI is published, the published value lies inside the "
    "simulated range (or within the stated tolerance of the simulated median). Rows marked "
    "'prediction' have no published value to compare with."
)


def _study_section(result: StudyReproduction) -> Section:
    """Figures and table when the simulation is at hand; the table alone otherwise."""
    if result.sim is not None:
        return study_section(StudyFigures.from_simulation(result.sim, result.rows))
    return Section(
        title=result.design.title,
        note=f"{result.n_replicates} simulated replicates, seed {result.seed}. "
        f"{result.design.reference}",
        content_html=comparison_html(result.rows),
    )


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
    markdown = "".join(
        f"## {r.design.title}\n\n{r.n_replicates} replicates, seed {r.seed}.\n\n"
        + "".join(f"- {note}\n" for note in r.notes)
        + ("\n" if r.notes else "")
        + (f"{prediction_statement(r.prediction)}\n\n" if r.prediction is not None else "")
        + f"{comparison_markdown(r.rows)}\n"
        for r in results
    )
    paths.append(directory / "comparison.md")
    paths[-1].write_text(f"# alsim: simulated vs published\n\n{_CRITERIA}\n\n{markdown}", "utf-8")
    sections = []
    for r in results:
        sections.append(_study_section(r))
        if r.sim is not None and r.sim.carriers is not None:
            sections.append(carrier_section(r.sim, r.prediction))
        if r.notes:
            sections.append(
                Section(
                    title=f"{r.design.title}: assumptions", note=" ".join(r.notes), content_html=""
                )
            )
    sections.append(parameter_section(parameters))
    page = render_page("alsim: simulated vs published", _CRITERIA, sections)
    paths.append(directory / "report.html")
    paths[-1].write_text(page, encoding="utf-8")
    return paths
