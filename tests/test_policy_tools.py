"""Issue 16 (analyst side): default folders, whatif, HTML reports, plots and tables, one validation."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import tomllib

import numpy as np
import pytest
import yaml

from sim import output
from sim.cli import main
from sim.ensemble import fingerprint
from sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS

HIST = str(SCENARIOS / "historical_2025.yaml")
SMALL = ["--agents", "1000", "--days", "25", "--runs", "2", "--seed", "5"]


def one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "hist"
    assert main([HIST, *SMALL, "--out", str(out), "--quiet"]) == 0
    return out


# 1. Default folders ---------------------------------------------------------------------------------
def test_a_run_with_other_options_goes_to_a_folder_named_after_what_differs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "mine.yaml"
    copy.write_text(f"extends: {HIST}\nname: mine\n")
    tiny = ["--agents", "1000", "--days", "5", "--runs", "1", "--quiet"]
    assert main([str(copy), *tiny]) == 0
    named = tmp_path / "results" / "mine-runs1-agents1000-days5"
    before = (named / "timeseries.csv").read_text()
    assert main([str(copy), *tiny]) == 0  # the same options: the same folder, replaced by the same result
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [named.name]
    assert main([str(copy), *tiny, "--seed", "9"]) == 0
    assert (tmp_path / "results" / "mine-runs1-seed9-agents1000-days5").is_dir()
    # an edited file: not the result in the folder of those options, so a folder of its own
    copy.write_text(f"extends: {HIST}\nname: mine\nplatform: {{translation: {{quality: 0.5}}}}\n")
    assert main([str(copy), *tiny]) == 0
    edited = [p.name for p in (tmp_path / "results").iterdir() if "-scenario" in p.name]
    assert len(edited) == 1 and edited[0].startswith(named.name + "-scenario")
    assert (named / "timeseries.csv").read_text() == before


def test_compare_names_its_folder_after_its_scenarios(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["compare", HIST, str(SCENARIOS / "no_ban.yaml"), "--agents", "1000", "--days", "5", "--runs", "2", "--quiet"]
    assert main(argv) == 0
    folder = tmp_path / "results" / "compare" / "historical_2025-vs-no_ban-runs2-agents1000-days5"
    assert (folder / "comparison.md").is_file() and (folder / "report.html").is_file()
    assert (folder / "compare_diff.png").is_file()


# 2. whatif ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("transltion_start=2025-01-13", "unknown lever 'transltion_start'; did you mean 'translation_start'?"),
        ("translation_start=2031-01-13", "2031-01-13 is after the scenario ends (2025-01-25)"),
        ("translation_quality=2", "2 is out of range; allowed: a number from 0 to 1"),
        ("translation_start", "must be LEVER=VALUE"),
        ("translation_start=2025-01-19", "already has these values"),
    ],
)
def test_whatif_bad_lever_is_one_line_exit_2(setting, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["whatif", HIST, "--set", setting, *SMALL]) == 2
    line = one_line(capsys.readouterr().err)
    assert expected in line and line.startswith("error: run.py whatif: argument --set")
    assert list(tmp_path.iterdir()) == []


def test_whatif_prints_paired_effects_and_saves_a_movable_variant(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    argv = ["whatif", HIST, "--set", "translation_start=never", *SMALL, "--save", "a/none.yaml"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "paired effect (variant minus base" in out and "Day-7" not in out  # compare's metrics only
    assert re.search(r"peak US DAU\s+[-+][\d.]+[kM]? \[.*\]\s+(raises|lowers|does not)", out)
    assert "Day-90 retention      n/a" in out
    assert "results in results/whatif/historical_2025-translation_start_never-runs2-seed5-agents1000-days25/" in out
    folder = tmp_path / "results" / "whatif" / "historical_2025-translation_start_never-runs2-seed5-agents1000-days25"
    rows = json.loads((folder / "comparison.json").read_text())
    assert [r["scenario"] for r in rows] == ["historical_2025", "historical_2025-translation_start_never"]
    doc = yaml.safe_load((tmp_path / "a" / "none.yaml").read_text())
    assert doc["extends"] == HIST and doc["platform"] == {"translation": {"start": None, "grey_test_start": None}}
    # moved elsewhere, it still loads, and it is the variant that was run (the file's own size and dates)
    (tmp_path / "b").mkdir()
    shutil.move(tmp_path / "a" / "none.yaml", tmp_path / "b" / "moved.yaml")
    variant = load_scenario(tmp_path / "b" / "moved.yaml")
    base = load_scenario(HIST)
    assert variant.platform.translation.start is None and variant.platform.translation.grey_test_start is None
    assert variant.model_copy(update={"platform": base.platform, "name": base.name, "description": base.description}) == base
    # a second save over it needs --overwrite; a file whatif did not write is never replaced
    (tmp_path / "b" / "other.yaml").write_text("name: other\n")
    assert main([*argv[:-1], "b/other.yaml"]) == 2
    assert "was not written by whatif" in one_line(capsys.readouterr().err)


def test_whatif_runs_base_and_variant_on_common_random_numbers(tmp_path, monkeypatch):
    """Translation quality matters only from the grey test (17 Jan): over 15 days base and variant draw the
    same random numbers, so every paired difference is exactly zero."""
    monkeypatch.chdir(tmp_path)
    argv = ["whatif", HIST, "--set", "translation_quality=0.5", "--agents", "1000", "--days", "15", "--runs", "2"]
    assert main([*argv, "--quiet", "--out", "w"]) == 0
    rows = json.loads((tmp_path / "w" / "comparison.json").read_text())
    for metric in ("peak_us_rednote_dau", "total_signups", "cross_cultural_ties"):
        d = rows[1][f"{metric}_diff"]
        assert d["p10"] == d["median"] == d["p90"] == 0.0


# 3. HTML reports ------------------------------------------------------------------------------------
def test_run_report_is_self_contained_with_caveats_and_notes(run_dir):
    text = (run_dir / "report.html").read_text()
    figures = sorted(p.stem for p in (run_dir / "plots").glob("*.png"))
    assert len(figures) == 5 and text.count("data:image/png;base64,") == 5  # every plot, embedded
    assert all(f'alt="{name}"' in text for name in figures)
    assert not re.search(r"""(src|href)=["'](https?:|//|[^d#])""", text)  # nothing to fetch, offline
    assert "How to read this" in text and "projection" in text and "Data vs projection" in text
    assert (
        "2 runs: the 10-90 % bands are rough" in text
        and "1,000 agents: fewer than the 20,000 from which results are tested not to depend on the agent count" in text
    )
    assert "18 Jan 2025" in text and "TikTok dark" in text


# 4. Plots and tables --------------------------------------------------------------------------------
def test_events_come_from_the_scenarios_own_timeline():
    hist = load_scenario(HIST)
    marks = dict(output.events(hist))
    assert marks[dt.date(2025, 1, 18)] == "TikTok dark, out of app stores"
    assert marks[dt.date(2025, 1, 19)] == "TikTok back, translation for all"
    assert "back in app stores" in marks[dt.date(2025, 2, 13)] and "ban enforcement paused" in marks[dt.date(2025, 1, 20)]
    later = load_scenario(SCENARIOS / "delayed_ban.yaml")
    assert dict(output.events(later))[dt.date(2025, 4, 5)] == "TikTok dark for good, out of app stores"
    # another calendar: the same file a year later has its events a year later
    doc = hist.model_dump(mode="json")
    shifted = json.loads(re.sub(r'"2025-', '"2026-', re.sub(r'"2026-', '"2027-', json.dumps(doc))))
    moved = load_scenario.__globals__["validate"](shifted)
    assert [d.year for d, _ in output.events(moved)] == [2026] * len(marks)


def test_every_time_axis_shows_the_year_and_the_event_markers(run_dir):
    scenario = load_scenario(HIST, overrides={"agents": 1000, "days": 25})
    fig, ax = output.subplots()
    ax.plot(output.dates(scenario), np.arange(25))
    output.mark_events(ax, output.events(scenario))
    output.date_axis(ax)
    fig.canvas.draw() if hasattr(fig.canvas, "draw") else None
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all("2025" in t for t in labels)
    assert len(ax.lines) == 1 + len(output.events(scenario))
    for name in ("us_rednote", "platform_mix", "moderation", "retention"):
        assert (run_dir / "plots" / f"{name}.png").stat().st_size > 10_000


def test_similar_colours_in_one_panel_get_different_line_styles():
    assert output._distinct_styles(["#9467bd", "#8c6bb1", "tab:orange"]) == ["-", "--", "-"]


def test_quantiles_table_has_one_row_per_day_with_median_and_band(run_dir):
    with (run_dir / "quantiles.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    with (run_dir / "timeseries.csv").open() as fh:
        series = list(csv.DictReader(fh))
    assert len(rows) == 25 and rows[0]["date"] == "2025-01-01" and rows[-1]["date"] == "2025-01-25"
    assert list(rows[0]) == list(output.quantile_columns())
    day = [float(r["us_rednote_dau"]) for r in series if r["day"] == "20"]
    assert float(rows[20]["us_rednote_dau_median"]) == pytest.approx(np.median(day), rel=1e-9)
    assert (
        float(rows[20]["us_rednote_dau_p10"]) <= float(rows[20]["us_rednote_dau_median"]) <= float(rows[20]["us_rednote_dau_p90"])
    )
    text = (run_dir / "timeseries.csv").read_text() + (run_dir / "quantiles.csv").read_text()
    assert not re.search(r"\de[-+]\d", text) and ",-0," not in text


@pytest.mark.parametrize(
    ("value", "text"), [(5.17e-26, "0"), (-0.0, "0"), (1234567.0, "1234567"), (0.125, "0.125"), (3.4e10, "34000000000")]
)
def test_csv_numbers_are_plain(value, text):
    assert output.plain(value) == text


# 5. One validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "expected"),
    [("2025-12-01", "is after the scenario ends (2025-06-30)"), ("2019-01-13", "is before the scenario starts (2025-01-01)")],
)
def test_a_translation_start_outside_the_horizon_is_refused_like_the_view_does(start, expected, tmp_path, capsys):
    path = tmp_path / "t.yaml"
    path.write_text(f"extends: {HIST}\nname: t\nplatform: {{translation: {{start: {start}}}}}\n")
    assert main([str(path), "--agents", "1000", "--days", "5", "--runs", "1", "--out", str(tmp_path / "o")]) == 2
    line = one_line(capsys.readouterr().err)
    assert f"{path}: platform.translation.start:" in line and expected in line
    assert not (tmp_path / "o").exists()


def test_the_lever_registry_check_is_the_one_the_view_uses():
    from sim.levers import LEVERS, LeverError, check_dates

    hist = load_scenario(HIST)
    check_dates(hist)  # every shipped scenario passes
    for path in SCENARIOS.glob("*.yaml"):
        check_dates(load_scenario(path))
    with pytest.raises(LeverError, match="after the scenario ends"):
        LEVERS["translation_start"].parse("2026-01-01", hist)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["comapre", "a.yaml", "b.yaml"], "did you mean 'compare'?"),
        (["whatfi", "a.yaml"], "did you mean 'whatif'?"),
        (["help", "optimise"], "did you mean 'optimize'?"),
    ],
)
def test_mistyped_commands_get_a_suggestion(argv, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert expected in one_line(capsys.readouterr().err)


def test_help_lists_the_commands(capsys):
    assert main(["help"]) == 0
    text = capsys.readouterr().out
    assert all(c in text for c in ("whatif", "compare", "calibrate", "validate", "view"))
    assert main(["help", "whatif"]) == 0 and "--set LEVER=VALUE" in capsys.readouterr().out


def test_few_runs_and_a_small_model_are_warned_about(tmp_path, capsys):
    assert main([HIST, "--agents", "1000", "--days", "5", "--runs", "3", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "warning: 3 runs: the 10-90 % bands are rough below 10 runs" in err
    assert "warning: 1,000 agents: fewer than the 20,000" in err
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["caveats"][0].startswith("3 runs")
    assert output.caveats(load_scenario(HIST), 15) == []


# 7. Notebooks -----------------------------------------------------------------------------------------
def test_notebooks_extra_and_the_readme_command():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(x.startswith("jupyterlab") for x in extras["notebooks"])
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[notebooks]"' in readme and "jupyter lab analysis/notebooks" in readme


def test_readme_shows_the_new_commands_and_the_report_screenshot():
    readme = (ROOT / "README.md").read_text()
    assert "run.py whatif" in readme and "run.py help" in readme and "docs/img/report.png" in readme
    assert (ROOT / "docs" / "img" / "report.png").stat().st_size > 10_000
    assert fingerprint  # imported for the what-if test's equality helpers
