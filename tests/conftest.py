"""Shared test settings: Hypothesis profile sized for a 2-core CI machine; and a check, when the
session ends, that no process the tests started is still running."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from hypothesis import settings

settings.register_profile("default", max_examples=40, deadline=None)
settings.load_profile("default")

#: Helpers that live exactly as long as the test process, by design, and go with it.
_ENDS_WITH_PYTEST = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def _leftovers() -> list[psutil.Process]:
    me = psutil.Process(os.getpid())
    found = []
    for child in me.children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.NoSuchProcess:
            continue
        if not any(name in command for name in _ENDS_WITH_PYTEST):
            found.append(child)
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a test left a process behind (a web server, a Dask worker, a browser);
    end those processes so that they do not outlive the run."""
    leftovers = _leftovers()
    if not leftovers:
        return
    _, alive = psutil.wait_procs(leftovers, timeout=10)
    if not alive:
        return
    lines = []
    for process in alive:
        try:
            lines.append(f"  pid {process.pid}: {' '.join(process.cmdline())[:160]}")
            process.kill()
        except psutil.NoSuchProcess:
            continue
    if lines:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "processes started by the tests were still running (now killed):\n"
        if reporter is not None:
            reporter.write_line(message + "\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


AppStarter = Callable[[Path], tuple["subprocess.Popen[bytes]", str]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def start_alsim_app() -> AppStarter:
    """A function that starts `alsim app` on a free port, logging to `log`, and returns the
    process and its URL once the server answers (the caller stops it)."""

    def start(log: Path) -> tuple["subprocess.Popen[bytes]", str]:
        port = _free_port()
        alsim = shutil.which("alsim", path=str(Path(sys.executable).parent)) or "alsim"
        with log.open("w") as stream:
            process = subprocess.Popen(
                [alsim, "app", "--port", str(port), "--host", "127.0.0.1"],
                stdout=stream,
                stderr=subprocess.STDOUT,
                env={**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"},
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return process, url
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"alsim app did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)

    return start
