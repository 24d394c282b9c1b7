"""`alsim simulate DESIGN.yaml --replicates R --seed S --out DIR`: ADaM-like tables of R trials."""

from pathlib import Path
from typing import Annotated

import typer

from alsim.cli._common import console, user_errors

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
    """Simulate a trial design; write ADSL and ADLB (Parquet, CSV), a NONMEM dataset, manifest."""
    with user_errors():
        _run(design_file, replicates, seed, out, overwrite)


def _run(design_file: Path, replicates: int, seed: int, out: Path, overwrite: bool) -> None:
    import time

    import pandas as pd
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from alsim.design import dump_design, load_design
    from alsim.errors import AlsimError
    from alsim.io import (
        atomic_output_dir,
        build_adsl,
        build_bds,
        check_output_dir,
        write_json,
        write_table,
    )
    from alsim.io.manifest import build_manifest
    from alsim.io.nonmem import build_nonmem
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.simulate import MAX_REPLICATES, simulate_trial

    design = load_design(design_file)
    if not 1 <= replicates <= MAX_REPLICATES:
        raise AlsimError(f"--replicates must be 1..{MAX_REPLICATES}, got {replicates}")
    if seed < 0:
        raise AlsimError(f"--seed must be >= 0, got {seed}")
    check_output_dir(out, overwrite=overwrite)
    started = time.perf_counter()
    adsl, adlb, nonmem = [], [], []
    with Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} replicates"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("simulate", total=replicates)
        for first in range(0, replicates, CHUNK_REPLICATES):
            n = min(CHUNK_REPLICATES, replicates - first)
            sim = simulate_trial(design, n_replicates=n, seed=seed, first_replicate=first)
            adsl.append(build_adsl(sim))
            adlb.append(build_bds(sim))
            nonmem.append(build_nonmem(sim))
            progress.advance(task, n)
    simulated = time.perf_counter()
    with atomic_output_dir(out, overwrite=overwrite) as staging:
        write_table(pd.concat(adsl, ignore_index=True), staging, "adsl")
        write_table(pd.concat(adlb, ignore_index=True), staging, "adlb")
        pd.concat(nonmem, ignore_index=True).to_csv(staging / "nonmem.csv", index=False)
        (staging / "design.yaml").write_text(dump_design(design), encoding="utf-8")
        manifest = build_manifest(
            command="simulate",
            designs={design.study_id: design},
            seed=seed,
            n_replicates=replicates,
            parameters=DEFAULT_PARAMETERS,
            timings_s={
                "simulate": simulated - started,
                "write": time.perf_counter() - simulated,
            },
            extra={"design_file": str(design_file)},
        )
        write_json(manifest, staging / "manifest.json")
    console.print(
        f"wrote {replicates} replicate(s) of {design.study_id} "
        f"({design.n_patients} patients each) to {out}"
    )
