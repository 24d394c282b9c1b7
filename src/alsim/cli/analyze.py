"""`alsim analyze`: placeholder until the statistics engine lands."""

import typer


def analyze() -> None:
    """Analyse ADaM-like trial data (ANCOVA, MMRM, GMR, joint rank, survival)."""
    raise typer.Exit(1)
