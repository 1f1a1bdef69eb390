"""Start the browser view on 127.0.0.1 (``python run.py view``).

``run.py view`` starts one child process, ``python -m sim.view.server PORT``, which runs Solara's own
``solara run sim.view.app`` after putting `LocalOnly` in front of the Starlette app Solara serves.
Everything the page needs is served locally: solara 1.58.2 with solara-assets (its JavaScript and fonts)
and matplotlib images only, so it works offline.

Security: the server answers only requests addressed to it by name (``Host`` 127.0.0.1:PORT or
localhost:PORT; anything else gets 403, which defeats DNS rebinding), and accepts a websocket (the page's
kernel channel) only from a page it served itself (``Origin`` http://127.0.0.1:PORT or
http://localhost:PORT; another site's page gets 403, which defeats cross-site websocket hijacking). The
check is an ASGI middleware, the outermost layer of Solara's app, so it sees every HTTP request and every
websocket handshake before any route does, with no second server or proxy hop to keep alive.

Stopping: Ctrl+C (SIGINT), SIGTERM and SIGHUP stop the child before ``run.py view`` exits, and the child
asks Linux to send it SIGTERM if its parent dies in any other way (even SIGKILL), so no server outlives
``run.py view``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SCENARIO_ENV = "MIGRATION_VIEW_SCENARIO"  # the scenario selected when the page opens
HOST = "127.0.0.1"
DEFAULT_PORT = 8765
READY_TIMEOUT_S = 120.0
APP = "sim.view.app"
STOP_TIMEOUT_S = 10.0  # then the child is killed


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a closing socket is no obstacle
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def command(port: int) -> list[str]:
    return [sys.executable, "-m", "sim.view.server", str(port)]


def solara_arguments(port: int) -> list[str]:
    return [APP, "--host", HOST, "--port", str(port), "--no-open", "--production", "--no-check-version",
            "--log-level", "warning"]  # fmt: skip


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


class _Stop(Exception):
    """SIGTERM or SIGHUP arrived."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop(signum)


def serve(port: int, scenario: str | Path | None) -> int:
    """Run the view until Ctrl+C, SIGTERM or SIGHUP; returns the exit status. The child never outlives it."""
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    process = None
    try:
        process = subprocess.Popen(command(port), env=environment(scenario), preexec_fn=_die_with_parent)
        if wait_until_listening(port, process):
            print(f"Migration view ready: open http://{HOST}:{port} in a browser (Ctrl+C stops it)", flush=True)
        return process.wait()
    except (KeyboardInterrupt, _Stop):
        return 0
    finally:
        if process is not None:
            stop_child(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_child(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the parent dies, however it dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


# ------------------------------------------------------------------------------------------- the child
def allowed(port: int) -> tuple[set[str], set[str]]:
    """(Host values, Origin values) the view accepts."""
    hosts = {f"{name}:{port}" for name in (HOST, "localhost")}
    return hosts, {f"http://{host}" for host in hosts}


class LocalOnly:
    """ASGI middleware: 403 for a request whose ``Host`` is not this server's address, for any request
    whose ``Origin`` is another site, and for a websocket handshake without this server's ``Origin``."""

    def __init__(self, app, port: int) -> None:
        self.app = app
        self.hosts, self.origins = allowed(port)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.lower(): v.decode("latin-1") for k, v in scope["headers"]}
            host, origin = headers.get(b"host", "").lower(), headers.get(b"origin")
            refusal = None
            if host not in self.hosts:
                refusal = f"Host {host!r} is not this view's address ({' or '.join(sorted(self.hosts))})"
            elif origin is not None and origin.lower() not in self.origins:
                refusal = f"Origin {origin!r} is not this view's page"
            elif scope["type"] == "websocket" and origin is None:
                refusal = "a websocket needs this view's Origin"
            if refusal is not None:
                await self._refuse(scope, receive, send, refusal)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope, receive, send, reason: str) -> None:
        body = f"Forbidden: {reason}\n".encode()
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            if "websocket.http.response" in scope.get("extensions", {}):
                await send({"type": "websocket.http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
                await send({"type": "websocket.http.response.body", "body": body})
            else:
                await send({"type": "websocket.close", "code": 1008})  # uvicorn answers the handshake with 403
            return
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def child_main(port: int) -> None:
    """``python -m sim.view.server PORT``: Solara's server with `LocalOnly` outermost and websocket
    compression off (`without_websocket_compression`)."""
    os.environ.update(SOLARA_APP=APP, SERVER_NAME=HOST, SERVER_PORT=str(port))  # as `solara run` sets them, but
    import solara.server.starlette  # before this import, which loads the app named by SOLARA_APP
    from solara.__main__ import run

    solara.server.starlette.app.add_middleware(LocalOnly, port=port)
    without_websocket_compression()
    run.main(args=solara_arguments(port), prog_name="solara run", standalone_mode=True)


def without_websocket_compression() -> None:
    """Uvicorn's servers from now on without permessage-deflate. The view's traffic is a few PNG images a
    day to a browser on this machine: deflating them again (Solara's ``solara run`` has no option for it)
    cost the server ~8 ms a day, and the browser as much to inflate, for nothing."""
    import uvicorn

    class Config(uvicorn.Config):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **{**kwargs, "ws_per_message_deflate": False})

    uvicorn.Config = Config  # solara.__main__ builds its server with uvicorn.Config(**kwargs)


if __name__ == "__main__":
    child_main(int(sys.argv[1]))
