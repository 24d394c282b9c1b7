"""`alsim reproduce --study phase12 --out DIR`: simulated vs published, for the tofersen program."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from alsim.cli._common import OVERWRITE_HELP, console, print_table, user_errors


class Study(StrEnum):
    """What `--study` accepts: every study template `reproduce` knows, or all of them (kept
    equal to `alsim.evidence.reproduce.available_studies()` by a test; spelled out here so that
    `alsim --help` imports nothing heavy)."""

    all = "all"
    phase12 = "phase12"
    valor = "valor"
    ole = "ole"
    atlas = "atlas"


def reproduce(
    study: Annotated[
        Study, typer.Option("--study", help="The study to reproduce, or all of them.")
    ] = Study.all,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path(
        "out/reproduce"
    ),
    replicates: Annotated[
        int, typer.Option("--replicates", "-r", help="Trial replicates per study.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (>= 0).")] = 20200708,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    uncertainty: Annotated[
        bool,
        typer.Option(
            "--uncertainty", help="Each replicate draws its parameters from the posterior."
        ),
    ] = False,
) -> None:
    """Simulate published studies many times and set each result beside the published one."""
    with user_errors():
        _run(study.value, out, replicates, seed, overwrite, uncertainty)


def _run(
    study: str, out: Path, replicates: int, seed: int, overwrite: bool, uncertainty: bool
) -> None:
    import time

    from alsim.errors import AlsimError
    from alsim.evidence.reproduce import reproduce_study, resolve_studies
    from alsim.io import atomic_output_dir, check_output_dir, write_json
    from alsim.io.manifest import build_manifest
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.report.reproduce import section_rows, write_reproduction
    from alsim.report.tables import COMPARISON_HEADER, comparison_cells, role_summary
    from alsim.simulate import MAX_REPLICATES

    studies = resolve_studies(study)
    if not 2 <= replicates <= MAX_REPLICATES:
        raise AlsimError(f"--replicates must be 2..{MAX_REPLICATES}, got {replicates}")
    if seed < 0:
        raise AlsimError(f"--seed must be >= 0, got {seed}")
    check_output_dir(out, overwrite=overwrite)
    draws = None
    if uncertainty:
        from alsim.model.uncertainty import shipped_posterior

        draws = shipped_posterior()
    results = []
    for name in studies:
        with console.status(f"simulating {name}: {replicates} replicates"):
            results.append(
                reproduce_study(name, n_replicates=replicates, seed=seed, uncertainty=draws)
            )
    shown = [i for i, name in enumerate(COMPARISON_HEADER) if name != "Source"]
    for result in results:
        for title, rows in section_rows(result):
            print_table(
                f"{title}: simulated vs published",
                [COMPARISON_HEADER[i] for i in shown],
                [[comparison_cells(row)[i] for i in shown] for row in rows],
            )
        console.print(f"{result.design.title}: {role_summary(result.rows)}", highlight=False)
        for note in result.notes:
            console.print(f"note: {note}", highlight=False)
    with atomic_output_dir(out, overwrite=overwrite) as staging:
        started = time.perf_counter()
        write_reproduction(staging, results, DEFAULT_PARAMETERS)
        manifest = build_manifest(
            command="reproduce",
            designs={r.study: r.design for r in results},
            seed=seed,
            n_replicates=replicates,
            parameters=DEFAULT_PARAMETERS,
            timings_s={
                **{r.study: r.seconds for r in results},
                "report": time.perf_counter() - started,
            },
            extra={
                "command_line": (
                    f"alsim reproduce --study {study} --replicates {replicates} --seed {seed}"
                    + (" --uncertainty" if uncertainty else "")
                ),
                "uncertainty": uncertainty,
                "replicates_by_study": {r.study: r.n_replicates for r in results},
            },
        )
        write_json(manifest, staging / "manifest.json")
    console.print(f"wrote comparison.json, comparison.md, report.html and manifest.json to {out}")
