"""End to end: ``python run.py view`` in a real headless Chromium (Debian's, driven by Playwright).

Starts the server the way a user does, loads the page with every request outside 127.0.0.1 blocked (the
view must work offline), steps, resets, changes levers, enters bad input and switches scenario. Each
stage leaves a screenshot in test-artifacts/view/ to look at. In CI (``CI`` set) a missing Chromium is a
failure, not a skip.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

from sim.view.browser import CHROMIUM, free_port, launch, running_view
from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "view"
TIMEOUT_MS = 60_000

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (Debian: apt-get install -y chromium; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"the browser test must run in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="module")
def server():
    """The view started as a user starts it; its address as printed."""
    log: list[str] = []
    with running_view(log=log) as address:
        yield address
    assert not any("Traceback" in line for line in log), "".join(log)


@pytest.fixture(scope="module")
def page(server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1150})
        page.set_default_timeout(TIMEOUT_MS)
        outside: list[str] = []

        def only_local(route) -> None:
            url = route.request.url
            if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        page.route("**/*", only_local)
        page.outside_requests = outside
        page.failures = []  # every 4xx/5xx response, failed request, page error and console error
        page.on("response", lambda r: r.status >= 400 and page.failures.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: page.failures.append(f"failed {r.url}: {r.failure}"))
        page.on("pageerror", lambda e: page.failures.append(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and page.failures.append(f"console error: {m.text}"))
        page.goto(server)
        yield page
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def chart_sources(page) -> list[str]:
    return page.locator("img").evaluate_all("imgs => imgs.map(i => i.src)")


def press(page, label: str) -> None:
    page.get_by_role("button", name=label, exact=True).click()


def enter(page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")


def choose(page, label: str, option: str) -> None:
    page.locator(".v-select").filter(has=page.get_by_text(label, exact=True)).click()
    page.locator(".menuable__content__active").get_by_role("option", name=option, exact=True).click()


def see(page, text: str) -> None:
    page.get_by_text(text).first.wait_for()


def test_the_view_in_a_real_browser(page):
    # Loads offline, with no error shown.
    see(page, "Before day 1")
    shot(page, "01_loaded")
    body = page.inner_text("body")
    assert "Traceback" not in body and "Error" not in body
    assert page.outside_requests == [], page.outside_requests
    assert len(page.locator("img").all()) == 5
    before = chart_sources(page)

    # Step seven times: the day advances and the charts are redrawn. (How fast is measured by
    # benchmarks/bench_view.py, not gated here: machines of this kind differ by 2x.)
    for day in range(1, 8):
        press(page, "Step")
        see(page, f"Day {day} of 181")
    see(page, "Tue 07 Jan 2025")
    page.wait_for_function("before => [...document.images].every((img, i) => img.src !== before[i])", arg=before)
    shot(page, "02_seven_days")

    # Reset goes back to the first day.
    press(page, "Reset")
    see(page, "Before day 1")
    shot(page, "03_reset")

    # Change levers, reset: the run uses them.
    choose(page, "Walled-garden international feed", "on")
    enter(page, "Translation quality (0-1)", "0.3")
    press(page, "Reset")
    see(page, "walled garden on")
    see(page, "quality 0.30")
    press(page, "Step")
    see(page, "Day 1 of 181")
    shot(page, "04_levers_changed")

    # Bad input: a visible message, nothing runs; fixing it brings the app back.
    enter(page, "Ban: TikTok goes dark on (date)", "2024-12-01")
    press(page, "Reset")
    see(page, "Input not used: Ban: TikTok goes dark on (date): 2024-12-01 is before the scenario starts")
    assert page.locator(".input-error").count() == 1
    shot(page, "05_bad_input")
    enter(page, "Ban: TikTok goes dark on (date)", "")
    press(page, "Reset")
    see(page, "Before day 1")
    assert page.locator(".input-error").count() == 0

    # Another scenario from the picker.
    choose(page, "Scenario", "permanent_ban.yaml")
    press(page, "Reset")
    see(page, "scenario permanent_ban")
    see(page, "for good")
    for _ in range(3):
        press(page, "Step")
    see(page, "Day 3 of 181")
    shot(page, "06_other_scenario")
    assert "Traceback" not in page.inner_text("body")

    # Every bad lever at once; Step does nothing (Mesa's own counter stays put) until they are fixed.
    enter(page, "Translation quality (0-1)", "good")
    enter(page, "Seed", "-1")
    press(page, "Reset")
    see(page, "Fix these 2 and press Reset")
    see(page, "'good' is not a number")
    see(page, "Seed: -1 is out of range")
    shot(page, "07_two_bad_levers")
    enter(page, "Translation quality (0-1)", "0.1")
    enter(page, "Seed", "")
    press(page, "Reset")
    see(page, "with your levers (")

    # Baseline overlay and CSV download: a Step now runs two models and draws twice the lines.
    for day in range(1, 8):
        press(page, "Step")
        see(page, f"Day {day} of 181")
    see(page, "Faint lines: the same scenario without your levers")
    shot(page, "08_baseline")
    with page.expect_download() as download:
        page.get_by_text("Download this run (CSV)").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == 8 and lines[0].startswith("day,date,") and "baseline_us_rednote_dau" in lines[0]

    # No Mesa extras a user cannot explain; nothing failed and nothing left the machine.
    assert not page.get_by_text("Use Threads").is_visible() and not page.get_by_text("Page 0").is_visible()
    assert page.failures == [], page.failures
    assert page.outside_requests == [], page.outside_requests


def request(address: str, headers: dict[str, str], path: str = "/", answer: dict | None = None) -> int:
    """The status of a GET; the response's headers go into ``answer`` (lower-case names)."""
    url = urlparse(address)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest("GET", path, skip_host=True)
    for key, value in headers.items():
        connection.putheader(key, value)
    connection.endheaders()
    response = connection.getresponse()
    if answer is not None:
        answer.update((k.lower(), v) for k, v in response.getheaders())
    connection.close()
    return response.status


def websocket(address: str, origin: str | None, extensions: str | None = None, answer: dict | None = None) -> int:
    upgrade = {"Host": address.removeprefix("http://"), "Connection": "Upgrade", "Upgrade": "websocket",
               "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip
    if origin is not None:
        upgrade["Origin"] = origin
    if extensions is not None:
        upgrade["Sec-WebSocket-Extensions"] = extensions
    return request(address, upgrade, "/jupyter/api/kernels/k/channels?session_id=s", answer)


def test_only_this_address_and_its_own_pages():
    """DNS rebinding (another Host) and cross-site websocket hijacking (another Origin) are refused. (Its own
    server: the accepted websockets here are hung up at once, which Solara logs as an error.)"""
    with running_view() as server:
        check_host_and_origin(server)


def check_host_and_origin(server: str) -> None:
    port = urlparse(server).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert request(server, {"Host": host}) == 200, host
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1", ""):
        assert request(server, {"Host": host}) == 403, host
    assert request(server, {"Host": f"127.0.0.1:{port}", "Origin": "http://evil.example"}) == 403
    assert websocket(server, f"http://127.0.0.1:{port}") == 101
    assert websocket(server, f"http://localhost:{port}") == 101
    for origin in ("http://evil.example", f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}", "null", None):
        assert websocket(server, origin) == 403, origin
    # the PNG images are not deflated a second time (sim.view.server.without_websocket_compression)
    answer: dict[str, str] = {}
    assert websocket(server, f"http://127.0.0.1:{port}", "permessage-deflate; client_max_window_bits", answer) == 101
    assert "sec-websocket-extensions" not in answer, answer


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *children(int(child))]
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL])
def test_no_child_outlives_the_view(sig):
    port = free_port()
    process = subprocess.Popen([sys.executable, "run.py", "view", "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    try:
        assert "ready" in process.stdout.readline() + process.stdout.readline()
        kids = children(process.pid)
        assert kids, "the view runs its server in a child"
        process.send_signal(sig)  # to run.py view alone, not its process group
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{k}").exists() for k in kids):
            time.sleep(0.1)
        assert not any(Path(f"/proc/{k}").exists() for k in kids), kids
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
