"""What every command shares: user errors become one red line and exit code 2, never a traceback."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

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


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print `rows` as a table when every cell fits on one line of the terminal; otherwise one
    block per row (its first cell as a heading, then `header: value` lines), so that no number
    or name is ever cut or folded mid-word."""
    from rich.table import Table

    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    if sum(widths) + 3 * len(widths) + 1 <= console.width:
        table = Table(title=title, title_justify="left")
        for i, name in enumerate(header):
            table.add_column(name, no_wrap=True, justify="left" if i < 2 else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table, highlight=False)
        return
    import textwrap

    console.print(f"[bold]{escape(title)}[/]", highlight=False)
    label = max((len(h) for h in header[1:]), default=0)
    room = max(console.width - label - 4, 20)
    for row in rows:
        console.print(f"\n[bold]{escape(row[0])}[/]", highlight=False)
        for name, cell in zip(header[1:], row[1:], strict=True):
            # long text wraps between words, under its own column; numbers are never split
            lines = textwrap.wrap(cell, room, break_long_words=False, break_on_hyphens=False)
            for i, line in enumerate(lines or [""]):
                lead = f"  {name.ljust(label)}  " if i == 0 else " " * (label + 4)
                console.print(escape(lead + line), highlight=False, soft_wrap=True)
    console.print()
