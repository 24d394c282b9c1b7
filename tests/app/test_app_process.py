"""`alsim app` takes its Streamlit server down with it: SIGTERM, SIGINT or SIGHUP to `alsim app`
leaves no process behind and the port free; `serve` also ends grandchildren of the server."""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from alsim.cli.app import serve

pytest.importorskip("streamlit")


def _port_is_free(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_to_alsim_app_stops_the_server(
    tmp_path: Path, signum: int, start_alsim_app: Any
) -> None:
    process, url = start_alsim_app(tmp_path / "app.log")
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "alsim app runs the server as a child"
    process.send_signal(signum)
    assert process.wait(timeout=30) == 0
    _gone, alive = psutil.wait_procs(children, timeout=15)
    for leftover in alive:
        leftover.kill()
    assert not alive, f"left running after {signal.Signals(signum).name}: {alive}"
    assert _port_is_free(url)


def test_serve_ends_the_whole_process_group_on_sigterm(tmp_path: Path) -> None:
    """A server that starts a child of its own, and ignores SIGTERM: both are gone afterwards
    (SIGTERM to the group, SIGKILL after the grace period)."""
    pids = tmp_path / "pids"
    script = (
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(120)\n"
    )
    runner = (
        "import os, signal, sys, threading, time\n"
        "from alsim.cli.app import serve\n"
        f"threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()\n"
        f"sys.exit(serve([sys.executable, '-c', {script!r}], grace_s=1.0))\n"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", runner], timeout=60, check=False)
    assert result.returncode == 0
    assert time.monotonic() - started < 30
    server, grandchild = (int(x) for x in pids.read_text().split())
    for pid in (server, grandchild):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_serve_returns_the_servers_exit_code() -> None:
    assert serve([sys.executable, "-c", "raise SystemExit(3)"]) == 3
