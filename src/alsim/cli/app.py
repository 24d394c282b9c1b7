"""`alsim app [--port P]`: start the web app (Streamlit) on this machine."""

from typing import Annotated

import typer

from alsim.cli._common import err_console, user_errors


def app(
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port to serve on.", min=1, max=65535)
    ] = 8501,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "localhost",
) -> None:
    """Start the web app: pick or edit a design, run it, see the figures, download the data."""
    with user_errors():
        import subprocess
        import sys

        from alsim.app import PAGE
        from alsim.errors import AlsimError

        try:
            import streamlit  # noqa: F401
        except ImportError:
            raise AlsimError("the web app needs Streamlit: pip install 'alsim[app]'") from None
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(PAGE),
            "--server.port",
            str(port),
            "--server.address",
            host,
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--global.developmentMode",
            "false",
            "--client.toolbarMode",
            "minimal",
        ]
        err_console.print(f"alsim app on http://{host}:{port} (Ctrl+C to stop)")
        try:
            raise typer.Exit(subprocess.call(command))
        except KeyboardInterrupt:
            raise typer.Exit(0) from None
