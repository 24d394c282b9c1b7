"""`alsim simulate DESIGN.yaml --replicates R --seed S --out DIR`: ADaM-like tables of R trials."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alsim.cli._common import console, replicate_progress, user_errors

if TYPE_CHECKING:
    import pandas as pd

    from alsim.design import TrialDesign
    from alsim.model.parameters import ParameterSet

CHUNK_REPLICATES = 250


def simulate(
    design_file: Annotated[Path, typer.Argument(help="Trial design YAML (see designs/).")],
    replicates: Annotated[int, typer.Option("--replicates", "-r", help="Trial replicates.")] = 1,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (>= 0).")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("out"),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a non-empty --out directory.")
    ] = False,
) -> None:
    """Simulate a design; write ADaM tables (Parquet, CSV, XPT), NONMEM data, report, manifest."""
    with user_errors():
        _run(design_file, replicates, seed, out, overwrite)


def _run(design_file: Path, replicates: int, seed: int, out: Path, overwrite: bool) -> None:
    import time

    import pandas as pd

    from alsim.design import dump_design, load_design
    from alsim.errors import AlsimError
    from alsim.io import (
        atomic_output_dir,
        build_adqs,
        build_adsl,
        build_adtte,
        build_bds,
        check_output_dir,
        write_json,
        write_table,
    )
    from alsim.io.adae import build_adae
    from alsim.io.adam import QS_PARAM_LABELS, TTE_PARAM_LABELS
    from alsim.io.manifest import build_manifest
    from alsim.io.nonmem import build_nonmem
    from alsim.io.xpt import write_xpt_tables
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.simulate import MAX_REPLICATES, simulate_trial

    design = load_design(design_file)
    if not 1 <= replicates <= MAX_REPLICATES:
        raise AlsimError(f"--replicates must be 1..{MAX_REPLICATES}, got {replicates}")
    if seed < 0:
        raise AlsimError(f"--seed must be >= 0, got {seed}")
    check_output_dir(out, overwrite=overwrite)
    started = time.perf_counter()
    adsl, adlb, nonmem, adqs, adtte, adae = [], [], [], [], [], []
    with replicate_progress("simulating") as progress:
        task = progress.add_task("simulate", total=replicates)
        for first in range(0, replicates, CHUNK_REPLICATES):
            n = min(CHUNK_REPLICATES, replicates - first)
            sim = simulate_trial(design, n_replicates=n, seed=seed, first_replicate=first)
            adsl.append(build_adsl(sim))
            adlb.append(build_bds(sim))
            nonmem.append(build_nonmem(sim))
            adae.append(build_adae(sim))
            if design.has_progression:
                adqs.append(build_adqs(sim))
            if design.has_progression or design.run_in is not None:
                adtte.append(build_adtte(sim))
            progress.advance(task, n)
    simulated = time.perf_counter()
    tables = {
        "adsl": pd.concat(adsl, ignore_index=True),
        "adlb": pd.concat(adlb, ignore_index=True),
    }
    if any(e in QS_PARAM_LABELS for e in design.endpoints):
        tables["adqs"] = pd.concat(adqs, ignore_index=True)
    if any(e in TTE_PARAM_LABELS for e in design.endpoints):
        tables["adtte"] = pd.concat(adtte, ignore_index=True)
    tables["adae"] = pd.concat(adae, ignore_index=True)
    with atomic_output_dir(out, overwrite=overwrite) as staging:
        for name, frame in tables.items():
            write_table(frame, staging, name)
        xpt_renamed = write_xpt_tables(staging, tables, _parameter_labels(DEFAULT_PARAMETERS))
        pd.concat(nonmem, ignore_index=True).to_csv(staging / "nonmem.csv", index=False)
        (staging / "design.yaml").write_text(dump_design(design), encoding="utf-8")
        written = time.perf_counter()
        _write_report(staging, design, tables, seed, replicates)
        manifest = build_manifest(
            command="simulate",
            designs={design.study_id: design},
            seed=seed,
            n_replicates=replicates,
            parameters=DEFAULT_PARAMETERS,
            timings_s={
                "simulate": simulated - started,
                "write": written - simulated,
                "report": time.perf_counter() - written,
            },
            extra={
                "design_file": str(design_file),
                "command_line": (
                    f"alsim simulate design.yaml --replicates {replicates} --seed {seed}"
                ),
                "xpt_renamed_variables": xpt_renamed,
            },
        )
        write_json(manifest, staging / "manifest.json")
    console.print(
        f"wrote {replicates} replicate(s) of {design.study_id} "
        f"({design.n_patients} patients each) to {out}"
    )


def _parameter_labels(parameters: "ParameterSet") -> dict[str, str]:
    """XPT labels of the sampled-parameter columns of ADSL: the parameter's description."""
    frame = parameters.to_frame()
    return {str(r.name).upper(): str(r.description) for r in frame.itertuples()}


def _write_report(
    directory: Path, design: "TrialDesign", tables: "dict[str, pd.DataFrame]", seed: int, n: int
) -> None:
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.report.pages import StudyFigures, write_report

    bds = [tables[name] for name in ("adlb", "adqs") if name in tables]
    study = StudyFigures.from_adam(
        design, bds, tables.get("adtte"), seed=seed, adae=tables.get("adae"), adsl=tables["adsl"]
    )
    write_report(
        directory / "report.html",
        f"alsim: {design.title}",
        f"{n} simulated replicate(s) of {design.study_id}, seed {seed}. Bands are the 2.5-97.5% "
        "range over replicates; with one replicate they collapse onto the line.",
        [study],
        DEFAULT_PARAMETERS,
    )
