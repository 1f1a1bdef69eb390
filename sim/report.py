"""Self-contained HTML reports: ``report.html`` in every run folder and every comparison folder.

One file with the figures embedded (base64 PNG), no script and no link to fetch, so it opens offline
from a disk, a mail attachment or a shared drive. It says what each figure shows and how to read it,
which numbers are data and which are projections, and the caveats of the run (run count, model size).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path

from sim.ensemble import RunResult
from sim.observations import _rows as observation_rows
from sim.params import Scenario
from sim.results import compare_metrics, format_band, format_effect, format_value, headline_unit, headlines, summary_metrics

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222;line-height:1.45}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
.sub{color:#555;margin-top:4px}table{border-collapse:collapse;margin:8px 0;font-size:.92em}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}
.caveat{background:#fff4e0;border-left:4px solid #e69500;padding:8px 12px;margin:10px 0}
.note{background:#eef4fb;border-left:4px solid #3b7dd8;padding:8px 12px;margin:8px 0;font-size:.93em}
figure{margin:12px 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.9em;color:#444}
code{background:#f4f4f4;padding:0 3px}
"""


def esc(text: object) -> str:
    return html.escape(str(text))


def image(path: Path) -> str:
    """An <img> with the PNG inside it (no file to lose, nothing to fetch)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{esc(Path(path).stem)}" src="data:image/png;base64,{data}">'


def figure(path: Path, title: str, how: str) -> str:
    if not Path(path).is_file():
        return ""
    return f"<figure><h3>{esc(title)}</h3>{image(path)}<figcaption><b>How to read this:</b> {how}</figcaption></figure>"


def last_observation(scenario: Scenario) -> dt.date | None:
    """The latest observed data point inside the scenario's horizon (None: no data constrains it)."""
    days = [dt.date.fromisoformat(r["date"]) for r in observation_rows()]
    inside = [d for d in days if scenario.start_date <= d <= scenario.end_date]
    return max(inside) if inside else None


def data_and_projection(scenario: Scenario) -> str:
    last = last_observation(scenario)
    if last is None:
        return (
            "<p class='note'><b>Data vs projection:</b> no observation falls inside this scenario's dates, so every "
            "number here is a projection of the fitted behaviour, not a measurement.</p>"
        )
    return (
        f"<p class='note'><b>Data vs projection:</b> the model's behaviour was fitted to (and checked against) observations up to "
        f"{last:%d %b %Y} (black points on the first figure; <code>data/observed_2025.csv</code>). Everything after "
        f"that date, and every total below, is a <b>projection</b> of the fitted behaviour that no observation "
        "constrains. Differences between scenarios run on common random numbers are more robust than levels.</p>"
    )


def caveat_box(items: list[str]) -> str:
    if not items:
        return ""
    return "<div class='caveat'><b>Caveats</b><ul>" + "".join(f"<li>{esc(c)}</li>" for c in items) + "</ul></div>"


def events_table(scenario: Scenario) -> str:
    from sim.output import events

    marks = events(scenario)
    if not marks:
        return "<p>No ban, store or platform event inside the horizon.</p>"
    rows = "".join(f"<tr><td>{k}</td><td>{d:%d %b %Y}</td><td>{esc(w)}</td></tr>" for k, (d, w) in enumerate(marks, 1))
    return f"<table><tr><th>#</th><th>date</th><th>event (dotted line in the figures)</th></tr>{rows}</table>"


def page(title: str, subtitle: str, body: list[str]) -> str:
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{esc(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1><p class='sub'>{esc(subtitle)}</p>"
        + "\n".join(body)
        + f"<hr><p class='sub'>Written {generated} by the RedNote migration model (<code>python run.py</code>). "
        "This file is self-contained: it needs no network and no other file.</p></body></html>\n"
    )


def read_bands(scenario: Scenario) -> str:
    """How to read a band: what its spread comes from (with a posterior fit, the parameters too)."""
    from sim.calibration import posterior_draws

    head = "Each number is the median across replicate runs, with the 10th and 90th percentiles in brackets: "
    if posterior_draws(scenario):
        return head + (
            "the spread comes from the model's randomness (who meets whom, who decides what) and from what the "
            "observations leave unknown about the fitted parameters: run r uses draw r of the fit's posterior."
        )
    return head + (
        "the spread comes from the model's randomness (who meets whom, who decides what), not from "
        "uncertainty in the parameters or the data."
    )


def run_report(folder: Path, scenario: Scenario, results: list[RunResult], summary: dict, extra: dict | None = None) -> str:
    """report.html of one run folder (its plots must already be in ``folder/plots``)."""
    from sim.output import COHORT_FEW_AGENTS, events

    m, runs = summary["metrics"], len(results)
    rows = []
    for name, h in summary_metrics().items():
        unit = headline_unit(name)
        value = format_band(m[name], unit) if runs > 1 else format_value(m[name]["median"], unit)
        when = f" on {m['peak_date']['median']}" if name == "peak_us_rednote_dau" else ""
        rows.append(f"<tr><td>{esc(h.label)}</td><td class='num'>{esc(value + when)}</td><td>{esc(h.meaning)}</td></tr>")
    plots = Path(folder) / "plots"
    marks = "numbered dotted lines mark the scenario's own events (listed under 'Events')" if events(scenario) else ""
    command = (extra or {}).get("command", "")
    body = [
        caveat_box(summary.get("caveats", [])),
        data_and_projection(scenario),
        "<h2>Headline numbers</h2>",
        f"<p>{read_bands(scenario)}</p>",
        f"<table><tr><th>metric</th><th>median [10 %, 90 %]</th><th>meaning</th></tr>{''.join(rows)}</table>",
        "<h2>Figures</h2>",
        figure(plots / "us_rednote.png", "US users on RedNote",
               "the line is the median day by day across runs, the shaded area holds 80 % of the runs; black points are "
               f"observations (data), the rest is projection; {marks}. Sign-ups are new accounts per day, returns are "
               "dormant accounts coming back."),
        figure(plots / "retention.png", "Retention of migrants (the headline)",
               "of the US users who made a RedNote account during the run, the share active again 7, 30 and 90 days after "
               "their own sign-up, pooled over every sign-up day whose Day N falls inside the horizon. Whiskers: 10-90 % of runs."),
        figure(plots / "retention_by_cohort.png", "Retention by week of sign-up",
               "each line is the people who made their account in one week (Monday to Sunday; the legend gives the dates, "
               "how many signed up and whether TikTok was out of the US app stores that week); it shows the share of them "
               "who used RedNote 1, 2, ... days after their own sign-up day, the median across runs. Read across the lines "
               "at one day, e.g. Day 30: a higher line is a cohort that stayed better, whatever its size; the pooled "
               "Day-N retention above is their average weighted by size. Weeks with few sign-ups are a handful of agents "
               f"(dashed: fewer than {COHORT_FEW_AGENTS} a run), so their lines move in steps; small weeks are left out of the figure. "
               "<code>retention_by_cohort.csv</code> holds every week and every day with the 10-90 % band across runs."),
        figure(plots / "platform_mix.png", "Where US users are",
               "US users by the apps they use that day; a dashed or dotted line separates series of similar colour. "
               "Banned and blocked accounts are cumulative stocks."),
        figure(plots / "moderation.png", "Moderation",
               "posts held for review, removed and complained about per day, the review backlog at the end of each day, "
               "and the cumulative count of banned accounts (wrongful: none of their removed posts broke the rules)."),
        "<h2>Events</h2>",
        events_table(scenario),
        "<h2>Settings</h2>",
        "<table>"
        + "".join(
            f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>"
            for k, v in (
                ("scenario", f"{scenario.name}: {scenario.description.strip()}"),
                ("dates", f"{scenario.start_date:%d %b %Y} to {scenario.end_date:%d %b %Y} ({scenario.days} days)"),
                ("runs", runs),
                ("seed", scenario.seed),
                ("agents", f"{scenario.agents:,}"),
                ("command", command),
            )
            if v != ""
        )
        + "</table>",
        "<p>Files next to this report: <code>summary.json</code> (headline numbers per run and across runs), "
        "<code>quantiles.csv</code> (per day: 10th percentile, median, 90th percentile of every series), "
        "<code>timeseries.csv</code> (every run, every day), <code>retention_by_cohort.csv</code> (retention of each weekly "
        "sign-up cohort by day since sign-up, with bands), <code>scenario.resolved.yaml</code> (every parameter used).</p>",
    ]  # fmt: skip
    sub = f"{runs} run{'s' if runs > 1 else ''}, seed {scenario.seed}, {scenario.agents:,} agents, {scenario.start_date:%d %b %Y} to {scenario.end_date:%d %b %Y}"
    return page(f"Run report: {scenario.name}", sub, body)


def comparison_report(
    folder: Path,
    scenarios: list[Scenario],
    results: dict[str, list[RunResult]],
    rows: list[dict],
    caveats: list[str],
    lever_rows: list[str],
    title: str = "Scenario comparison",
) -> str:
    """report.html of a comparison folder (compare or whatif): levels, paired differences and the figures."""
    metrics = compare_metrics()
    first, runs = scenarios[0].name, len(next(iter(results.values())))
    head = "<tr><th>scenario</th>" + "".join(f"<th>{esc(h.label)}</th>" for h in metrics.values()) + "</tr>"
    levels = "".join(
        f"<tr><td>{esc(r['scenario'])}</td>"
        + "".join(f"<td class='num'>{esc(format_band(r[m], headline_unit(m)))}</td>" for m in metrics)
        + "</tr>"
        for r in rows
    )
    diffs = "".join(
        f"<tr><td>{esc(r['scenario'])}</td>"
        + "".join(f"<td class='num'>{esc(format_effect(r[m + '_diff'], headline_unit(m)))}</td>" for m in metrics)
        + "</tr>"
        for r in rows[1:]
    )
    levers = "".join(
        "<tr>" + "".join(f"<td>{esc(c.strip().replace('**', ''))}</td>" for c in line.strip("|").split("|")) + "</tr>"
        for line in lever_rows[2:]
    )
    lever_head = "<tr>" + "".join(f"<th>{esc(c.strip())}</th>" for c in lever_rows[0].strip("|").split("|")) + "</tr>"
    meanings = "".join(f"<li><b>{esc(h.label)}</b>: {esc(h.meaning)}</li>" for n, (h, _) in headlines().items() if n in metrics)
    body = [
        caveat_box(caveats),
        data_and_projection(scenarios[0]),
        f"<h2>Paired difference to {esc(first)}</h2>",
        f"<p class='note'><b>How to read this:</b> run <i>r</i> of each scenario minus run <i>r</i> of <code>{esc(first)}</code>; "
        "both used the same random numbers, so the difference is the effect of what the scenarios change, not luck. "
        "Median [10 %, 90 %] of those differences, and P(sign): the share of runs whose difference has the median's sign "
        "(with a posterior fit each run also uses its own draw of the fitted parameters, the same in every scenario); when "
        "the bracket excludes zero the effect is clear at this run count. "
        "Shares are in percentage points (pt).</p>",
        f"<table>{head}{diffs}</table>",
        figure(Path(folder) / "compare_diff.png", "Paired differences",
               "each dot is the median paired difference, the bar the 10-90 % range across runs; the grey line is no effect."),
        "<h2>Levels</h2>",
        f"<p>{read_bands(scenarios[0])}</p>",
        f"<table>{head}{levels}</table>",
        figure(Path(folder) / "compare_dau.png", "US users on RedNote over time",
               "median and 10-90 % band of each scenario; dotted lines are the events of the first scenario."),
        "<h2>What the scenarios set</h2>",
        f"<table>{lever_head}{levers}</table>",
        f"<ul>{meanings}</ul>",
        "<h2>Events of the first scenario</h2>",
        events_table(scenarios[0]),
    ]  # fmt: skip
    s = scenarios[0]
    sub = (
        f"{', '.join(x.name for x in scenarios)}: {runs} run{'s' if runs > 1 else ''} each on common random numbers, "
        f"seed {s.seed}, {s.agents:,} agents, {s.start_date:%d %b %Y} to {s.end_date:%d %b %Y}"
    )
    return page(title, sub, body)
