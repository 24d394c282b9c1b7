"""The `alsim` command line: one module per command, heavy imports inside the commands."""

import typer

from alsim.cli import analyze, reproduce, simulate

app = typer.Typer(
    name="alsim",
    help="In-silico clinical trials of antisense therapy (tofersen) in SOD1-ALS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("simulate")(simulate.simulate)
app.command("reproduce")(reproduce.reproduce)
app.command("analyze")(analyze.analyze)
