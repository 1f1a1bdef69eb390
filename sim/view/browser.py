"""Helpers for driving the view in a real browser (the end-to-end test and benchmarks/bench_view.py).

Debian's Chromium (``apt-get install -y chromium``) driven by Playwright with ``executable_path``;
Playwright's own browser download is not needed. The flags keep Chromium from calling Google's hosts.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_view(port: int | None = None, timeout: float = 120.0, log: list[str] | None = None) -> Iterator[str]:
    """``python run.py view --port P`` as a user starts it; yields the address it prints, stops it after.
    Everything the server prints goes into ``log``."""
    port = free_port() if port is None else port
    output = [] if log is None else log
    process = subprocess.Popen(
        [sys.executable, "run.py", "view", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            output.append(line)
            if "ready: open http://" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(timeout):
            raise RuntimeError("the view did not start:\n" + "".join(output))
        yield re.search(r"http://127\.0\.0\.1:\d+", "".join(output)).group(0)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def launch(playwright):
    """Debian's headless Chromium under Playwright."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
