"""Shared test settings: Hypothesis profile sized for a 2-core CI machine; and a check, when the
session ends, that no process the tests started is still running."""

import os

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
