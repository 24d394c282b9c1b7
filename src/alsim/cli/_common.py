"""What every command shares: user errors become one red line and exit code 2, never a traceback."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

console = Console()
err_console = Console(stderr=True)

EXIT_USER_ERROR = 2
OVERWRITE_HELP = (
    "Write into an --out directory alsim wrote before, replacing only the files its manifest "
    "lists; other files there are kept."
)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn an `AlsimError` (or a missing input file) into `error: <message>` and exit code 2."""
    from alsim.errors import AlsimError

    try:
        yield
    except AlsimError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_USER_ERROR) from None
    except FileNotFoundError as exc:
        print_error(f"file not found: {exc.filename}")
        raise typer.Exit(EXIT_USER_ERROR) from None


def print_error(message: str) -> None:
    """`error: <message>` on one line of stderr; the message is shown as text (user input in it,
    such as a design key, is never read as markup) with any line break turned into a space."""
    from rich.markup import escape

    one_line = " ".join(message.split())
    err_console.print(f"[bold red]error:[/] {escape(one_line)}", highlight=False, soft_wrap=True)


def replicate_progress(label: str) -> "Progress":
    """The progress bar every long command shows: replicates done of total, elapsed, ETA."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replicates"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
