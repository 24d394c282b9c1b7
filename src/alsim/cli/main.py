"""The `alsim` command line: one module per command, heavy imports inside the commands."""

import typer

from alsim.cli import analyze, power, reproduce, simulate
from alsim.cli import app as app_command

app = typer.Typer(
    name="alsim",
    help="In-silico clinical trials of antisense therapy (tofersen) in SOD1-ALS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: it wraps to the terminal, and shows flags without a value (rich help prints
    # `--overwrite <bool>`, as if it took one)
    rich_markup_mode=None,
)
app.command("simulate")(simulate.simulate)
app.command("reproduce")(reproduce.reproduce)
app.command("analyze")(analyze.analyze)
app.command("power")(power.power)
app.command("app")(app_command.app)
