"""Headless Chromium (Debian's, never a downloaded build) driving `alsim app`.

Outside CI the tests skip, with the reason, where /usr/bin/chromium or Playwright is missing; in
CI (`CI` set) a missing browser is a failure, because `.ci/run` installs it first.
"""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

CHROMIUM = Path(os.environ.get("ALSIM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-crash-reporter",
    "--disable-breakpad",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[browser]')"
    try:
        import streamlit  # noqa: F401
    except ImportError:
        return "Streamlit is not installed (pip install -e '.[app]')"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def app_url(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, start_alsim_app: Any
) -> Iterator[str]:
    """`alsim app` on a free port, stopped after the session; nothing of it may outlive it."""
    process, url = start_alsim_app(tmp_path_factory.mktemp("app") / "app.log")
    children = psutil.Process(process.pid).children(recursive=True)
    yield url
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _, alive = psutil.wait_procs(children, timeout=15)
    for leftover in alive:
        leftover.kill()
    assert not alive, f"alsim app left its server running: {alive}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
