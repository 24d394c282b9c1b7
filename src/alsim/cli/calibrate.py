"""`alsim calibrate [--targets GROUP]... [--leave-out GROUP]... [--quick] --seed S --out DIR`:
one joint fit of the free parameters to published targets, with its posterior and report."""

from pathlib import Path
from typing import Annotated

import typer

from alsim.cli._common import console, user_errors


def calibrate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path(
        "out/calibration"
    ),
    targets: Annotated[
        list[str] | None,
        typer.Option("--targets", help="Target group to fit (repeatable; default: all)."),
    ] = None,
    leave_out: Annotated[
        list[str] | None,
        typer.Option("--leave-out", help="Target group to leave out and predict (repeatable)."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Tiny design and chain (seconds; for tests).")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (>= 0).")] = 1,
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Processes simulating the design.")
    ] = 1,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a non-empty --out directory.")
    ] = False,
) -> None:
    """Fit the free parameters jointly to published targets (emulator + MCMC)."""
    with user_errors():
        _run(out, tuple(targets or ()), tuple(leave_out or ()), quick, seed, workers, overwrite)


def command_line(
    targets: tuple[str, ...], leave_out: tuple[str, ...], quick: bool, seed: int
) -> str:
    """The command that regenerates a calibration (the output directory aside)."""
    parts = ["alsim calibrate"]
    parts += [f"--targets {t}" for t in targets]
    parts += [f"--leave-out {g}" for g in leave_out]
    if quick:
        parts.append("--quick")
    parts.append(f"--seed {seed}")
    return " ".join(parts)


def _run(
    out: Path,
    targets: tuple[str, ...],
    leave_out: tuple[str, ...],
    quick: bool,
    seed: int,
    workers: int,
    overwrite: bool,
) -> None:
    from alsim.calibrate.joint import CalibrationSettings, calibrate
    from alsim.calibrate.output import write_calibration
    from alsim.calibrate.targets import select_groups
    from alsim.cli._common import replicate_progress
    from alsim.errors import AlsimError
    from alsim.io import atomic_output_dir, check_output_dir

    if not 1 <= workers <= 64:
        raise AlsimError(f"--workers must be 1..64, got {workers}")
    settings = CalibrationSettings.quick(seed) if quick else CalibrationSettings(seed=seed)
    groups, left = select_groups(targets or None, leave_out)
    check_output_dir(out, overwrite=overwrite)
    with replicate_progress("design") as progress:
        task = progress.add_task("design", total=settings.n_points)
        result = calibrate(
            settings,
            groups=groups,
            left_out=left,
            workers=workers,
            progress=lambda n: progress.advance(task, n),
            command=command_line(targets, leave_out, quick, seed),
        )
    with atomic_output_dir(out, overwrite=overwrite) as staging:
        write_calibration(result, staging)
    for p in result.parameters:
        flag = " (weakly identified)" if p.weakly_identified else ""
        console.print(
            f"{p.name}: {p.median:.4g} [{p.low:.4g}, {p.high:.4g}] {p.unit}{flag}",
            highlight=False,
        )
    for fold in result.cross_validation:
        console.print(
            f"left out {fold.group}: {sum(c.inside for c in fold.checks)} of "
            f"{len(fold.checks)} published numbers inside their 95% prediction interval",
            highlight=False,
        )
    console.print(f"wrote posterior.parquet, summary.json, design.parquet, report.html to {out}")
