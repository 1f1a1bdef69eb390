"""The command's outputs: files, columns, summary, plots, resolved scenario, atomic writing."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from sim import output
from sim.cli import main
from sim.model import REPORTERS
from sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS

REQUIRED_COLUMNS = [
    "run",
    "day",
    "date",
    "us_rednote_dau",
    "us_rednote_signups",
    "us_rednote_cumulative_signups",
    "us_tiktok_dau",
    "cn_rednote_dau",
    "cross_cultural_ties",
    "complaints",
    "posts_removed",
    "review_backlog",
    "accounts_banned",
    "accounts_blocked_unverified",
    "cn_welcoming_share",
]


@pytest.fixture(scope="module")
def ensemble_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("res") / "hist"
    code = main(
        [
            str(SCENARIOS / "historical_2025.yaml"),
            "--agents",
            "10000",
            "--days",
            "130",
            "--runs",
            "3",
            "--seed",
            "11",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    return out


def test_timeseries_has_one_row_per_run_and_day_with_the_required_columns(ensemble_dir):
    with (ensemble_dir / "timeseries.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["run", "day", "date", *REPORTERS]
    assert set(REQUIRED_COLUMNS) <= set(rows[0])
    assert len(rows) == 3 * 130
    assert rows[0]["date"] == "2025-01-01" and rows[129]["date"] == "2025-05-10" and rows[130]["run"] == "1"
    cumulative = [float(r["us_rednote_cumulative_signups"]) for r in rows if r["run"] == "0"]
    daily = [float(r["us_rednote_signups"]) for r in rows if r["run"] == "0"]
    assert cumulative[-1] == pytest.approx(sum(daily))
    assert all(b >= a for a, b in zip(cumulative, cumulative[1:]))


def test_summary_reports_median_and_band_of_each_headline(ensemble_dir):
    summary = json.loads((ensemble_dir / "summary.json").read_text())
    m = summary["metrics"]
    for key in ("peak_us_rednote_dau", "total_signups", "retention_day7", "retention_day30", "retention_day90"):
        assert m[key]["p10"] <= m[key]["median"] <= m[key]["p90"], key
    assert m["peak_date"]["median"].startswith("2025-01")
    assert summary["runs"] == 3 and len(summary["per_run"]) == 3 and summary["seed"] == 11
    # retention falls with time since sign-up (at 10 000 agents a Day-90 cohort may have no one left)
    assert 0 <= m["retention_day90"]["median"] <= m["retention_day30"]["median"] < m["retention_day7"]["median"] < 1


def test_plots_and_resolved_scenario_are_written(ensemble_dir):
    for name in ("us_rednote.png", "platform_mix.png", "moderation.png", "retention.png", "retention_by_cohort.png"):
        data = (ensemble_dir / "plots" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    resolved = load_scenario(ensemble_dir / "scenario.resolved.yaml")
    original = load_scenario(SCENARIOS / "historical_2025.yaml", overrides={"agents": 10000, "days": 130, "seed": 11})
    assert resolved == original
    text = (ensemble_dir / "scenario.resolved.yaml").read_text()
    assert "# package_version: 0.1.0" in text and "seed: 11" in text and "# command: run.py" in text


def test_retention_by_cohort_csv_has_weekly_cohorts_with_bands(ensemble_dir):
    with (ensemble_dir / "retention_by_cohort.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == output.RETENTION_BY_COHORT_COLUMNS
    keys = [(dt.date.fromisoformat(r["cohort_start"]), int(r["day_since_signup"])) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # by cohort, then day since sign-up
    starts = sorted({k for k, _ in keys})
    assert starts[0] == dt.date(2025, 1, 1) and all(s.weekday() == 0 for s in starts[1:])  # ISO weeks
    assert dt.date(2025, 1, 13) in starts and starts[-1] == dt.date(2025, 5, 5)  # the horizon ends Sat 10 May
    for r in rows:
        start, end, day = (
            dt.date.fromisoformat(r["cohort_start"]),
            dt.date.fromisoformat(r["cohort_end"]),
            int(r["day_since_signup"]),
        )
        assert end - start <= dt.timedelta(days=6) and start + dt.timedelta(days=day) <= dt.date(2025, 5, 10) and day <= 90
        assert 0 <= int(r["runs"]) <= 3 and float(r["observed_people"]) <= float(r["cohort_people"])
        if r["retention_median"]:
            assert 0 <= float(r["retention_p10"]) <= float(r["retention_median"]) <= float(r["retention_p90"]) <= 1
        else:
            assert r["runs"] == "0"
    surge = [r for r in rows if r["cohort_start"] == "2025-01-13"]
    assert [int(r["day_since_signup"]) for r in surge] == list(range(91)) and {r["runs"] for r in surge} == {"3"}
    assert float(surge[0]["cohort_people"]) > 1e5 and float(surge[30]["retention_median"]) < float(surge[1]["retention_median"])
    report = (ensemble_dir / "report.html").read_text()
    assert "Retention by week of sign-up" in report and "retention_by_cohort.csv" in report
    assert report.count('alt="retention_by_cohort"') == 1


def test_every_file_of_a_run_is_in_the_readme_outputs_table(ensemble_dir):
    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Outputs")[1].split("\n\n")[1]
    written = {
        p.relative_to(ensemble_dir).as_posix() for p in ensemble_dir.rglob("*") if p.is_file() and not p.name.startswith(".")
    }
    assert {"retention_by_cohort.csv", "plots/retention_by_cohort.png"} <= written
    missing = [name for name in written if f"`{name}`" not in table]
    assert not missing, f"written by a run but not in README's outputs table: {missing}"


def test_interrupted_writing_leaves_no_complete_looking_result_and_keeps_the_old_one(tmp_path, monkeypatch, capsys):
    out = tmp_path / "res"
    args = [str(SCENARIOS / "no_ban.yaml"), "--agents", "2000", "--days", "5", "--runs", "1", "--out", str(out), "--quiet"]
    assert main(args) == 0
    before = (out / "timeseries.csv").read_text()

    def killed(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "plot_all", killed)
    assert main([*args, "--seed", "5"]) == 2  # other options: refused before any work without --overwrite
    assert "other options (seed 20250113 -> 5" in capsys.readouterr().err
    assert main([*args, "--seed", "5", "--overwrite"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert (out / "timeseries.csv").read_text() == before  # the earlier complete result is untouched
    # no staging folder left behind; the finished run is kept for --resume in a hidden ".res.runs"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".res.runs", "res"]
    assert len(list((tmp_path / ".res.runs").glob("*.npz"))) == 1
    monkeypatch.undo()
    fresh = tmp_path / "fresh"
    monkeypatch.setattr(output, "plot_all", killed)
    assert main([*args[:-3], "--out", str(fresh), "--quiet"]) == 130
    assert not fresh.exists()


def test_summary_table_is_printed(tmp_path, capsys):
    assert (
        main([str(SCENARIOS / "no_ban.yaml"), "--agents", "2000", "--days", "10", "--runs", "2", "--out", str(tmp_path / "o")])
        == 0
    )
    printed = capsys.readouterr().out
    assert "peak US DAU" in printed and "Day-7 retention" in printed and str(tmp_path / "o") in printed
    assert "2 run(s)" in printed and " [" in printed  # bands are shown with more than one run
    assert "fitted parameters     posterior draws 0-1 of 200, one per run" in printed  # which draws the runs used


def test_default_number_of_runs_is_the_one_chosen_from_variance_stability():
    from sim.cli import DEFAULT_RUNS, run_parser

    assert run_parser().parse_args(["x.yaml"]).runs == DEFAULT_RUNS == 15


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_runs_from_the_command_line(path, tmp_path):
    out = tmp_path / path.stem
    assert main([str(path), "--agents", "3000", "--days", "40", "--runs", "1", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == path.stem and summary["metrics"]["peak_us_rednote_dau"]["median"] > 0


def test_progress_bar_only_on_a_terminal(tmp_path, monkeypatch, capsys):
    args = [str(SCENARIOS / "no_ban.yaml"), "--agents", "1000", "--days", "12", "--runs", "1", "--out", str(tmp_path / "o")]
    assert main(args) == 0
    assert "day/s" not in capsys.readouterr().err  # captured stderr is not a terminal
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert main(args) == 0
    assert "/12 [" in capsys.readouterr().err  # tqdm: "n/12 [elapsed<remaining, rate]"
