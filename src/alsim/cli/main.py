"""The `alsim` command line: one module per command, heavy imports inside the commands."""

import typer

from alsim.cli import analyze, calibrate, power, reproduce, simulate
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
# short help for `alsim --help`: whole sentences that fit 80 columns
app.command("simulate", short_help="Simulate a design; write ADaM tables and a report.")(
    simulate.simulate
)
app.command("reproduce", short_help="Simulate the published studies, compare with them.")(
    reproduce.reproduce
)
app.command("analyze", short_help="Analyse ADaM-like trial data (yours or simulated).")(
    analyze.analyze
)
app.command("power", short_help="Power, type I error, bias and coverage over a grid.")(power.power)
app.command("calibrate", short_help="Fit the free parameters jointly to the evidence.")(
    calibrate.calibrate
)
app.command("app", short_help="Start the web app.")(app_command.app)
