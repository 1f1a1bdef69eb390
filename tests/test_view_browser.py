"""End to end: ``python run.py view`` in a real headless Chromium (Debian's, driven by Playwright).

Starts the server the way a user does, loads the page with every request outside 127.0.0.1 blocked (the
view must work offline), steps, resets, changes levers, enters bad input and switches scenario. Each
stage leaves a screenshot in test-artifacts/view/ to look at. In CI (``CI`` set) a missing Chromium is a
failure, not a skip.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import sync_playwright

from sim.view.browser import CHROMIUM, launch, running_view
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

    # Step five times: the day advances and the charts are redrawn.
    for day in range(1, 6):
        press(page, "Step")
        see(page, f"Day {day} of 181")
    see(page, "Sun 05 Jan 2025")
    page.wait_for_function("before => [...document.images].every((img, i) => img.src !== before[i])", arg=before)
    shot(page, "02_five_days")

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
    assert page.outside_requests == [], page.outside_requests
