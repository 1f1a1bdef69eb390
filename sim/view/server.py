"""Start the browser view on 127.0.0.1 (``python run.py view``).

Runs ``solara run sim.view.app`` in a child process. Everything the page needs is served locally: solara
1.58.2 with solara-assets (its JavaScript and fonts) and matplotlib images only, so it works offline.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

SCENARIO_ENV = "MIGRATION_VIEW_SCENARIO"  # the scenario selected when the page opens
HOST = "127.0.0.1"
DEFAULT_PORT = 8765
READY_TIMEOUT_S = 120.0


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a closing socket is no obstacle
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def command(port: int) -> list[str]:
    return [sys.executable, "-m", "solara", "run", "sim.view.app", "--host", HOST, "--port", str(port),
            "--no-open", "--production", "--no-check-version", "--log-level", "warning"]  # fmt: skip


def environment(scenario: str | Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if scenario is not None:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    return env


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = READY_TIMEOUT_S) -> bool:
    """True once the server accepts connections; False if it exited or the timeout passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return True
        time.sleep(0.2)
    return False


def serve(port: int, scenario: str | Path | None) -> int:
    """Run the view until Ctrl+C; returns the exit status."""
    process = subprocess.Popen(command(port), env=environment(scenario))
    try:
        if wait_until_listening(port, process):
            print(f"Migration view ready: open http://{HOST}:{port} in a browser (Ctrl+C stops it)", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
        return 0
