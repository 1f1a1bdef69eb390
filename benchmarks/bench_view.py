"""How fast the browser view runs: days per second in a real browser, and where the time goes.

    python benchmarks/bench_view.py [--seconds 20]

Starts ``python run.py view`` on the historical scenario (200 000 agents), opens it in headless Chromium,
times Step (median of 7) as Playwright sees it (its click and its wait for the text, which add ~0.1 s of
their own) and in the page (from the click to the last of the new day's text and charts), presses
Play and counts the days shown after ``--seconds``, first drawing every day (Render Interval 1), then
every 11th (Render Interval moved up five notches). Then times, in-process, one model day and drawing
each panel.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from sim.view import panels  # noqa: E402
from sim.view.browser import launch, running_view  # noqa: E402
from sim.view.model import ViewModel  # noqa: E402


def day_shown(page) -> int:
    match = re.search(r"Day (\d+) of", page.inner_text("body"))
    return int(match.group(1)) if match else 0


def days_per_second(page, seconds: float) -> float:
    """Days shown per second of Play, over ``seconds`` or until the run ends."""
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Before day 1").first.wait_for()
    page.get_by_role("button", name="▶", exact=True).click()
    start, days = time.perf_counter(), 0
    while time.perf_counter() - start < seconds and days < 181:
        time.sleep(0.25)
        days = day_shown(page)
    rate = days / (time.perf_counter() - start)
    pause = page.get_by_role("button", name="❚❚", exact=True)
    if pause.is_enabled():
        pause.click()
    return rate


def step_latency(page, steps: int = 7) -> float:
    """Median seconds from pressing Step to the new day on the page."""
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Before day 1").first.wait_for()
    times = []
    for day in range(1, steps + 1):
        start = time.perf_counter()
        page.get_by_role("button", name="Step", exact=True).click()
        page.get_by_text(f"Day {day} of").first.wait_for()
        times.append(time.perf_counter() - start)
    return sorted(times)[steps // 2]


STEP_IN_PAGE = """async (day) => {
  const step = [...document.querySelectorAll("button")].find((b) => b.innerText.trim().toUpperCase() === "STEP");
  const headline = document.querySelector(".run-headline");
  let last = null;  // when the step's last change reached the page: the day's text or a chart
  const observer = new MutationObserver((changes) => {
    if (changes.some((c) => c.target.tagName === "IMG" || headline.contains(c.target))) last = performance.now();
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributeFilter: ["src"]});
  const start = performance.now();
  step.click();
  while (!(document.body.innerText.includes(`Day ${day} of`) && performance.now() - last > 400)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  observer.disconnect();
  await Promise.all([...document.images].map((img) => img.decode()));
  return last - start;
}"""
"""Milliseconds from a click on Step to the last change the step makes to the page (the day's text or a
chart whose picture changed; each chart that changed is decoded before this returns)."""


def step_latency_in_page(page, steps: int = 7) -> float:
    """Median seconds from Step to the new day's text and charts, timed by the page itself (no Playwright
    round trips in it)."""
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Before day 1").first.wait_for()
    page.wait_for_timeout(1000)  # let the Reset settle
    times = [page.evaluate(STEP_IN_PAGE, day) / 1000 for day in range(1, steps + 1)]
    return sorted(times)[steps // 2]


def in_process(days: int = 40) -> dict[str, float]:
    """One model day; then each panel's frame as the view draws it (data only over a cached background)."""
    model = ViewModel()
    start = time.perf_counter()
    for _ in range(days):
        model.step()
    timings = {"model day": (time.perf_counter() - start) / days}
    for index, live in enumerate(panels.live_panels()):
        live.png(model)  # the full first draw
        model.step()
        start = time.perf_counter()
        live.png(model)
        timings[f"panel {index} frame"] = time.perf_counter() - start
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with running_view() as address, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1150})
        page.goto(address)
        page.get_by_text("Before day 1").first.wait_for(timeout=60_000)
        latency = step_latency(page)
        in_page = step_latency_in_page(page)
        every_day = days_per_second(page, args.seconds)
        slider = page.locator(".v-slider").nth(1)  # Mesa's "Render Interval (steps)"
        slider.click(position={"x": 1, "y": 5})
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        every_11th = days_per_second(page, args.seconds)
        browser.close()
    print(f"browser, Step to day shown:      {1000 * latency:.0f} ms (median of 7, as Playwright sees it)")
    print(f"browser, Step to day and charts: {1000 * in_page:.0f} ms (median of 7, timed in the page)")
    print(f"browser, drawing every day:     {every_day:.1f} days/s")
    print(f"browser, drawing every 11th day: {every_11th:.1f} days/s")
    for name, seconds in in_process().items():
        print(f"in-process {name:<22} {1000 * seconds:6.0f} ms")


if __name__ == "__main__":
    main()
