"""`alsim app [--port P]`: start the web app (Streamlit) on this machine.

The Streamlit server runs as a child in its own process group. Whatever ends `alsim app`
(Ctrl+C, SIGTERM from a service manager or a test, SIGHUP when the terminal closes, a normal
exit) takes the whole group down with it; on Linux the server also gets SIGTERM if `alsim app`
is killed outright (SIGKILL), so no server is left serving the port.
"""

import contextlib
import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Annotated

import typer

from alsim.cli._common import err_console, user_errors

STOP_GRACE_S = 10.0
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def app(
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port to serve on.", min=1, max=65535)
    ] = 8501,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "localhost",
) -> None:
    """Start the web app: pick or edit a design, run it, see the figures, download the data."""
    with user_errors():
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
        raise typer.Exit(serve(command))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: ask the kernel to send SIGTERM to this process when its parent dies."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_group(process: "subprocess.Popen[bytes]", grace_s: float = STOP_GRACE_S) -> int:
    """SIGTERM to `process`'s whole process group, SIGKILL after `grace_s`; its exit code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # anything the server started in its group
    return process.wait()


def serve(command: list[str], grace_s: float = STOP_GRACE_S) -> int:
    """Run `command` (the server) in its own process group until it exits or we are told to
    stop (SIGINT, SIGTERM, SIGHUP: passed on to the group as SIGTERM, then SIGKILL after
    `grace_s`); either way nothing of the group is left running. Returns the server's exit code,
    0 when stopped by a signal."""
    import atexit
    import time

    process = subprocess.Popen(
        command,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    atexit.register(stop_group, process, grace_s)
    stopped_at: list[float] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        if not stopped_at:
            stopped_at.append(time.monotonic())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in _FORWARDED}
    try:
        while True:
            try:
                code = process.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopped_at and time.monotonic() - stopped_at[0] > grace_s:
                    os.killpg(process.pid, signal.SIGKILL)
    finally:
        stop_group(process, grace_s)
        for s, handler in previous.items():
            signal.signal(s, handler)
        atexit.unregister(stop_group)
    return 0 if stopped_at else code
