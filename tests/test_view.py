"""The browser view without a browser: lever semantics, the view's model, the panels, and the Solara page
rendered in-process with ``solara.render`` (as Mesa tests its own views). The real-browser test is
tests/test_view_browser.py."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara
from PIL import Image

from sim.model import MigrationModel
from sim.observations import similarweb_dau_points
from sim.scenario import load_scenario, scenario_to_dict
from sim.view import app, panels
from sim.view.levers import LEVERS, LeverError, apply_levers, load_base, scenario_choices
from sim.view.model import ViewModel
from tests.conftest import SCENARIOS

SMALL = "20000"  # agents in view-model tests


@pytest.fixture(scope="module")
def historical():
    return load_scenario(SCENARIOS / "historical_2025.yaml")


def lever_doc(base, **values) -> dict:
    return scenario_to_dict(apply_levers(base, values))


# ---------------------------------------------------------------------------------------------- levers
def test_blank_levers_leave_every_scenario_as_written():
    for choice in scenario_choices():
        base = load_base(choice)
        assert apply_levers(base, {lever.name: "" for lever in LEVERS}) == base, choice
        assert apply_levers(base, {"real_name_scope": "as in scenario", "walled_garden": "as in scenario"}) == base


def test_ban_date_moves_outage_and_store_removal_together(historical):
    tl = lever_doc(historical, ban_date="2025-03-01")["timeline"]
    assert tl["tiktok_outages"][0] == {"start": "2025-03-01", "start_hour": 22.5, "hours": 13.5}
    offset = dt.date(2025, 3, 1) - dt.date(2025, 1, 18)
    assert tl["app_store_removals"][0] == {
        "removed": "2025-03-01",
        "returned": (dt.date(2025, 2, 13) + offset).isoformat(),
    }
    assert tl["news"] == scenario_to_dict(historical)["timeline"]["news"]  # news stays on its dates


def test_ban_length_levers(historical):
    tl = lever_doc(historical, outage_hours="forever", store_return_date="never")["timeline"]
    assert tl["tiktok_outages"][0]["hours"] is None and tl["app_store_removals"][0]["returned"] is None
    tl = lever_doc(historical, outage_hours="48", store_return_date="2025-01-25")["timeline"]
    assert tl["tiktok_outages"][0]["hours"] == 48 and tl["app_store_removals"][0]["returned"] == "2025-01-25"
    tl = lever_doc(historical, ban_date="none")["timeline"]
    assert tl["tiktok_outages"] == [] and tl["app_store_removals"] == []


def test_a_ban_added_to_a_scenario_without_one_lasts_unless_told():
    no_ban = load_base("no_ban.yaml")
    tl = lever_doc(no_ban, ban_date="2025-02-01")["timeline"]
    assert tl["tiktok_outages"] == [{"start": "2025-02-01", "start_hour": 0.0, "hours": None}]
    assert tl["app_store_removals"] == [{"removed": "2025-02-01", "returned": None}]
    tl = lever_doc(no_ban, ban_date="2025-02-01", outage_hours="12", store_return_date="2025-02-10")["timeline"]
    assert tl["tiktok_outages"][0]["hours"] == 12 and tl["app_store_removals"][0]["returned"] == "2025-02-10"


def test_platform_levers(historical):
    doc = lever_doc(historical, translation_start="never")
    assert doc["platform"]["translation"]["start"] is None and doc["platform"]["translation"]["grey_test_start"] is None
    doc = lever_doc(historical, translation_start="2025-01-14", translation_quality="0.4")
    assert doc["platform"]["translation"]["start"] == "2025-01-14" and doc["platform"]["translation"]["quality"] == 0.4
    assert doc["platform"]["translation"]["grey_test_start"] is None  # the grey test (17 Jan) would come after launch
    doc = lever_doc(historical, real_name_scope="new_accounts", real_name_start="2025-01-15")
    assert doc["platform"]["real_name"]["scope"] == "new_accounts" and doc["platform"]["real_name"]["start"] == "2025-01-15"
    doc = lever_doc(historical, review_capacity="5e6", walled_garden="on", agents="30,000", seed="7")
    assert doc["platform"]["moderation"]["review_capacity"] == 5e6
    assert doc["platform"]["moderation"]["capacity_max"] == 5e6  # hiring never lowers capacity below the lever
    assert doc["platform"]["walled_garden"]["enabled"] is True and doc["agents"] == 30_000 and doc["seed"] == 7
    strict = load_base("strict_real_name.yaml")
    assert lever_doc(strict, real_name_scope="none")["platform"]["real_name"] == {
        **scenario_to_dict(strict)["platform"]["real_name"],
        "scope": "none",
        "start": None,
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"ban_date": "2024-12-01"},
            "Ban: TikTok goes dark on (date): 2024-12-01 is before the scenario starts (2025-01-01); allowed: a date from 2025-01-01 to 2025-06-30",
        ),
        ({"ban_date": "2025-07-04"}, "2025-07-04 is after the scenario ends (2025-06-30)"),
        ({"ban_date": "tomorrow"}, "Ban: TikTok goes dark on (date): 'tomorrow' is not a date like 2025-01-01"),
        ({"ban_date": "none", "outage_hours": "5"}, "Ban: hours TikTok stays dark: there is no ban to change"),
        (
            {"outage_hours": "-3"},
            "Ban: hours TikTok stays dark: -3 is out of range; allowed: a number from 0.01 to 26352 or 'forever'",
        ),
        (
            {"store_return_date": "2025-01-10"},
            "Ban: TikTok back in app stores on: 2025-01-10 is not after TikTok leaves the stores (2025-01-18)",
        ),
        ({"translation_quality": "1.5"}, "Translation quality (0-1): 1.5 is out of range; allowed: a number from 0 to 1"),
        ({"translation_quality": "good"}, "Translation quality (0-1): 'good' is not a number"),
        ({"translation_quality": "nan"}, "is out of range"),
        ({"real_name_scope": "all_foreign"}, "Real-name verification from: required when all foreign must verify"),
        ({"real_name_start": "2025-01-20"}, "Real-name verification from: verification is off"),
        ({"review_capacity": "-1"}, "Moderation: reviews per day: -1 is out of range"),
        ({"agents": "50"}, "Agents: 50 is out of range; allowed: a whole number from 1000 to 2e+06"),
        ({"agents": "2.5e4"}, None),
        ({"agents": "20000.5"}, "Agents: 20000.5 is out of range; allowed: a whole number"),
        ({"seed": "-1"}, "Seed: -1 is out of range"),
        (
            {"walled_garden": "maybe"},
            "Walled-garden international feed: 'maybe' is not a choice; allowed: as in scenario, off, on",
        ),
        ({"bogus": "1"}, "unknown lever 'bogus'"),
    ],
)
def test_bad_lever_values_are_one_line_messages(historical, values, message):
    if message is None:
        apply_levers(historical, values)
        return
    with pytest.raises(LeverError) as err:
        apply_levers(historical, values)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_no_ban_has_no_ban_to_lengthen():
    with pytest.raises(LeverError, match="no_ban has no ban; set a ban date first"):
        apply_levers(load_base("no_ban.yaml"), {"outage_hours": "10"})


# ---------------------------------------------------------------------------------------------- model
def test_the_view_runs_the_same_model_as_the_command_line():
    """Levers are only a way to write a scenario: strict_real_name as a file and as levers on the
    historical scenario give identical days (same seed: common random numbers)."""
    by_file = ViewModel(scenario_file="strict_real_name.yaml", agents=SMALL)
    by_levers = ViewModel(
        scenario_file="historical_2025.yaml", real_name_scope="all_foreign", real_name_start="2025-01-20", agents=SMALL
    )
    reference = MigrationModel(load_scenario(SCENARIOS / "strict_real_name.yaml", overrides={"agents": int(SMALL)}))
    for _ in range(30):
        for m in (by_file, by_levers, reference):
            m.step()
    for column in ("us_rednote_dau", "accounts_blocked_unverified", "cross_cultural_ties"):
        a, b, c = (np.asarray(m.datacollector.model_vars[column]) for m in (by_file, by_levers, reference))
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert by_levers.datacollector.model_vars["accounts_blocked_unverified"][-1] > 0


def test_a_later_ban_moves_the_rush_later():
    """Scientific sanity through the view's lever: with the ban a month later, fewer US users are on RedNote
    on 19 Jan, the day TikTok was dark in 2025, than in 2025, and more on the outage day a month later and
    in late February. (Not 20 Jan: the day after the 2025 outage users rush back to TikTok, and how that
    compares with no outage at all depends on the fitted size of the rush.)"""
    runs = {}
    for ban in ("", "2025-02-18"):
        m = ViewModel(agents=SMALL, ban_date=ban)
        for _ in range(60):
            m.step()
        runs[ban] = np.asarray(m.datacollector.model_vars["us_rednote_dau"])
    assert runs["2025-02-18"][18] < runs[""][18]  # 19 Jan
    assert runs["2025-02-18"][49] > runs[""][49]  # 19 Feb
    assert runs["2025-02-18"][55] > runs[""][55]


def test_an_unknown_lever_name_is_a_programming_error():
    with pytest.raises(TypeError, match="unknown lever"):
        ViewModel(agents=SMALL, ban_dat="2025-02-01")


def test_scenario_keyword_is_mesas_not_a_file():
    """Mesa >= 3.5's Reset passes its own empty Scenario as ``scenario=``: accepted and unused. A file
    given there by mistake is an error, not silently the default scenario."""
    with pytest.raises(TypeError, match="name the file with scenario_file="):
        ViewModel(scenario="no_ban.yaml", agents=SMALL)
    scenarios = pytest.importorskip("mesa.experimental.scenarios", reason="Mesa < 3.5 has no Scenario")
    m = ViewModel(scenario_file="no_ban.yaml", scenario=scenarios.Scenario(), agents=SMALL)
    assert m.config.name == "no_ban" and m.scenario is not None
    with pytest.raises(TypeError, match="scenario_file="):
        ViewModel(scenario=scenarios.Scenario(agents=5000), agents=SMALL)  # parameters would be silently ignored


def test_bad_input_keeps_the_app_working_without_running():
    m = ViewModel(agents=SMALL, ban_date="2024-12-01")
    assert m.input_error.startswith("Ban: TikTok goes dark on (date): 2024-12-01 is before the scenario starts")
    assert not m.running
    m.step()
    assert m.day == 0
    assert panels.headline(m)[0].startswith("Input not used: Ban: TikTok goes dark on (date)")
    for draw in (panels.us_rednote_figure, panels.network_figure):
        draw(m)  # the panels still draw (empty)


def test_network_sample_is_fixed_and_shows_the_ties_forming():
    m = ViewModel(agents="60000")
    us, cn = m.sample.us.copy(), m.sample.cn.copy()
    assert 100 <= us.size + cn.size <= 600
    assert np.unique(us).size == us.size and us.max() < m.us.n and cn.max() < m.cn.n
    counts = []
    for _ in range(45):
        m.step()
        counts.append(m.sample.cross_ties(m)[0].shape[0])
    np.testing.assert_array_equal(m.sample.us, us)  # the same users throughout
    assert counts[5] == 0 and counts[-1] > 0  # no ties before the rush, some after it
    assert all(b >= a for a, b in zip(counts, counts[1:]))  # ties only accumulate
    start, end = m.sample.cross_ties(m)
    assert (start[:, 0] < 1.0).all() and (end[:, 0] > 1.0).all()  # from the US half to the Chinese half


# ---------------------------------------------------------------------------------------------- panels
def test_panels_grow_with_the_days_and_show_the_observed_points():
    m = ViewModel(agents=SMALL)
    for _ in range(15):
        m.step()
    fig = panels.us_rednote_figure(m)
    dau = fig.axes[0].lines[0]
    assert len(dau.get_xdata()) == 15
    np.testing.assert_allclose(dau.get_ydata(), np.asarray(m.datacollector.model_vars["us_rednote_dau"]) / 1e6)
    observed = fig.axes[0].collections[0].get_offsets()
    assert len(observed) == 3  # Similarweb: 6, 12 and 13 Jan
    assert fig.axes[0].get_xlim() == pytest.approx(tuple(float(x) for x in _date_nums(m)))
    for draw in (panels.platform_mix_figure, panels.moderation_figure, panels.hosts_figure):
        lines = [line for ax in draw(m).axes for line in ax.lines]
        assert lines and all(len(line.get_xdata()) == 15 for line in lines)
    text = "\n".join(panels.headline(m))
    assert "Day 15 of 181" in text and "Wed 15 Jan 2025" in text and "TikTok dark from 18 Jan 2025 22:30 for 13.5 h" in text


def test_no_observed_points_outside_their_dates():
    m = ViewModel(scenario_file="historical_2025.yaml", agents=SMALL)
    m.config = m.config.model_copy(update={"start_date": dt.date(2025, 2, 1), "end_date": dt.date(2025, 6, 30)})
    assert not panels.us_rednote_figure(m).axes[0].collections


def _date_nums(m):
    import matplotlib.dates as mdates

    return mdates.date2num(m.config.start_date), mdates.date2num(m.config.end_date)


# ---------------------------------------------------------------------------------------------- Solara components
@solara.component
def InApp():
    """The page inside an AppLayout, as `solara run` serves it (SolaraViz puts its controls in the sidebar)."""
    with solara.AppLayout():
        app.Page()


def page_text(rc) -> str:
    """The text of every HTML block and alert on the page, without HTML tags."""
    parts = []
    for w in _descendants(rc.find(solara.widgets.HTML).widgets + rc.find(v.Alert).widgets):
        if isinstance(w, solara.widgets.HTML):
            parts.append(w.unsafe_innerHTML or "")
        elif isinstance(w, v.Alert):
            parts.append(" ".join(c for c in w.children if isinstance(c, str)))
    return html.unescape(re.sub(r"<[^>]+>", " ", "\n".join(parts)).replace("  ", " "))


def _descendants(roots: list) -> list:
    """Widgets under ``roots``, including the panels inside Mesa's draggable grid (its ``items``)."""
    out, stack, seen = [], list(roots), set()
    while stack:
        w = stack.pop()
        if isinstance(w, str) or id(w) in seen:
            continue
        seen.add(id(w))
        out.append(w)
        stack.extend(getattr(w, "children", None) or [])
        stack.extend(getattr(w, "items", None) or [])
    return out


def button(rc, label: str):
    found = rc.find(v.Btn, children=[label])
    found.assert_single()
    return found.widget


def enter(rc, label: str, text: str) -> None:
    """Type into a lever's text field and press Enter (the field reports its value on Enter or leaving it)."""
    field = rc.find(v.TextField, label=label)
    field.assert_single()
    field.widget.v_model = text
    field.widget.fire_event("keyup.enter", None)


def choose(rc, label: str, value: str) -> None:
    found = rc.find(v.Select, label=label)
    found.assert_single()
    found.widget.v_model = value


@pytest.fixture
def page(monkeypatch):
    monkeypatch.delenv("MIGRATION_VIEW_SCENARIO", raising=False)
    _, rc = solara.render(InApp(), handle_error=False)
    return rc


def images(rc) -> list[bytes]:
    return [w.value for w in rc.find(ipywidgets.Image).widgets]


def test_page_offers_every_scenario_and_lever(page):
    picker = page.find(v.Select, label="Scenario").widget
    assert picker.items == scenario_choices() and picker.v_model == "historical_2025.yaml"
    for lever in LEVERS:
        kind = v.Select if lever.choices else v.TextField
        page.find(kind, label=lever.label).assert_single()
    assert len(images(page)) == 5  # four charts and the network picture
    assert "Before day 1" in page_text(page) and "scenario historical_2025" in page_text(page)


def test_step_advances_the_day_and_redraws_the_charts(page):
    before = images(page)
    for _ in range(3):
        button(page, "Step").click()
    assert "Day 3 of 181 (Fri 03 Jan 2025)" in page_text(page)
    after = images(page)
    assert all(a != b for a, b in zip(before, after))  # every panel redrawn with the new day


def test_reset_applies_the_scenario_and_levers(page):
    button(page, "Step").click()
    choose(page, "Scenario", "no_ban.yaml")
    choose(page, "Walled-garden international feed", "on")
    enter(page, "Translation quality (0-1)", "0.3")
    button(page, "Reset").click()
    text = page_text(page)
    assert "Before day 1" in text and "scenario no_ban" in text
    assert "no TikTok outage" in text and "walled garden on" in text and "quality 0.30" in text


def test_bad_input_shows_a_message_and_the_app_recovers(page):
    enter(page, "Ban: TikTok goes dark on (date)", "2024-12-01")
    button(page, "Reset").click()
    assert "Input not used: Ban: TikTok goes dark on (date): 2024-12-01 is before the scenario starts" in page_text(page)
    button(page, "Step").click()
    assert "Day 1 of" not in page_text(page)  # nothing runs on bad input
    enter(page, "Ban: TikTok goes dark on (date)", "2025-02-01")
    button(page, "Reset").click()
    button(page, "Step").click()
    text = page_text(page)
    assert "Input not used" not in text and "Day 1 of 181" in text and "TikTok dark from 1 Feb 2025" in text


# ---------------------------------------------------------------------------------------------- issue 16 items
def test_every_bad_lever_is_reported_at_once(historical):
    with pytest.raises(LeverError) as err:
        apply_levers(historical, {"ban_date": "2024-12-01", "translation_quality": "good", "agents": "50"})
    assert [m.split(":")[0] for m in err.value.messages] == ["Ban", "Translation quality (0-1)", "Agents"]
    with pytest.raises(LeverError) as err:  # each lever fine alone, two bad combinations
        apply_levers(historical, {"store_return_date": "2025-01-10", "real_name_scope": "all_foreign"})
    assert len(err.value.messages) == 2
    m = ViewModel(agents=SMALL, ban_date="tomorrow", seed="-1")
    text = "\n".join(panels.headline(m))
    assert "'tomorrow' is not a date" in text and "Seed: -1 is out of range" in text and "Fix these 2" in text


def test_step_on_bad_input_leaves_mesas_counter_alone():
    m = ViewModel(agents=SMALL, ban_date="2024-12-01")
    for _ in range(3):
        m.step()
    assert m.steps == 0 and m.day == 0
    good = ViewModel(agents=SMALL)
    good.step()
    assert good.steps == 1 and good.day == 1


def test_header_names_the_levers_in_use():
    m = ViewModel(agents=SMALL)
    assert "scenario **historical_2025** with your levers (Agents)" in panels.headline(m)[0]
    m.levers_changed = {}
    assert "scenario **historical_2025** as written" in panels.headline(m)[0]
    changed = panels.headline(ViewModel(agents=SMALL, translation_quality="0.3", walled_garden="on"))[0]
    assert "with your levers (Agents, Translation quality (0-1), Walled-garden international feed)" in changed


def test_baseline_runs_the_scenario_without_the_policy_levers():
    assert ViewModel(agents=SMALL, seed="3").baseline is None  # run settings alone: the run is the baseline
    m = ViewModel(agents=SMALL, translation_start="never")
    plain = MigrationModel(load_scenario(SCENARIOS / "historical_2025.yaml", overrides={"agents": int(SMALL)}))
    for _ in range(25):
        m.step()
        plain.step()
    column = "us_rednote_dau"
    np.testing.assert_array_equal(m.baseline.datacollector.model_vars[column], plain.datacollector.model_vars[column])
    fig = panels.us_rednote_figure(m)
    faint = [line for line in fig.axes[0].lines if line.get_alpha() == panels.BASELINE_ALPHA]
    assert len(faint) == 2 and len(faint[0].get_xdata()) == 25
    assert "without your levers" in "\n".join(panels.headline(m))


def test_csv_has_every_day_and_reporter_and_the_baseline():
    m = ViewModel(agents=SMALL, walled_garden="on")
    for _ in range(4):
        m.step()
    rows = list(csv.DictReader(io.StringIO(app.run_csv(m))))
    assert [r["date"] for r in rows] == ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]
    dau = m.datacollector.model_vars["us_rednote_dau"]
    assert [float(r["us_rednote_dau"]) for r in rows] == pytest.approx(dau)
    assert "baseline_us_rednote_dau" in rows[0]


def test_live_panels_match_a_full_redraw():
    """The image of a day drawn in layers (blitted) equals the same figure at the same scale drawn from
    scratch, on days when an axis grew (the surge) and on days it did not; the PNG holds exactly the canvas."""
    m = ViewModel(agents=SMALL, translation_quality="0.2")
    live = panels.live_panels()
    rescaled = set()
    for day in range(40):
        m.step()
        backgrounds = [p.background for p in live]
        images = [p.png(m) for p in live]
        rescaled |= {i for i, p in enumerate(live) if day and p.background is not backgrounds[i]}
        if day not in (5, 12, 13, 39):
            continue
        for i, (p, png) in enumerate(zip(live, images)):
            blitted = np.asarray(Image.open(io.BytesIO(png)))
            assert (blitted == np.asarray(p.fig.canvas.buffer_rgba())[:, :, :3]).all()
            fresh = panels.live_panels()[i]
            figure = fresh.figure(m)
            for side, ax in getattr(p, "axes", {}).items():  # the live scale (axes only grow, so it has a history)
                if ax is not None:
                    fresh.axes[side].set_ylim(ax.get_ylim())
            full = np.asarray(Image.open(io.BytesIO(panels.figure_png(figure))))
            assert blitted.shape == full.shape
            # the layers differ only where a data line runs along an axis spine (drawn over it in one, under
            # it in the other): a one-pixel seam, up to 0.23 % of a panel (a line on Jan 1 along the y axis)
            assert (blitted != full).any(axis=2).mean() < 0.003, (day, i)
    assert {0, 2} <= rescaled  # the surge made axes grow (those days redrew the scaled layer)


def test_all_errors_at_once_leaves_the_registry_strict_for_the_command_line(historical):
    """`sim.levers.set_levers` (the command line, compare, optimize) still stops at the first bad value;
    `lever_errors` lists all of them and is empty exactly when `set_levers` succeeds."""
    from sim import levers as registry

    bad = {"ban_date": "2024-12-01", "translation_quality": "good"}
    with pytest.raises(registry.LeverError) as err:
        registry.set_levers(historical, bad)
    assert str(err.value).startswith("Ban: TikTok goes dark on (date)") and "\n" not in str(err.value)
    assert [m.split(":")[0] for m in registry.lever_errors(historical, bad)] == ["Ban", "Translation quality (0-1)"]
    good = {"ban_date": "2025-02-01", "translation_quality": "0.4"}
    assert registry.lever_errors(historical, good) == []
    assert apply_levers(historical, good) == registry.set_levers(historical, good)


def test_panels_take_labels_and_colours_from_the_output_declarations():
    from sim.results import outputs

    declared = outputs()
    m = ViewModel(agents=SMALL)
    m.step()
    for draw in (panels.us_rednote_figure, panels.platform_mix_figure, panels.moderation_figure, panels.hosts_figure):
        fig = draw(m)
        for line in (line for ax in fig.axes for line in ax.lines):
            label = line.get_label()
            if label.startswith("_"):  # unlabelled (a baseline line)
                continue
            matches = [o for o in declared.values() if o.legend == label]
            if label == "banned or blocked on RedNote":  # a summed series, in the colour of accounts_banned
                matches = [declared["accounts_banned"]]
            assert matches, label
            assert matches[0].color is None or line.get_color() == matches[0].color, label
    _, label = similarweb_dau_points(m.config)
    assert label in panels.us_rednote_figure(m).axes[0].get_legend_handles_labels()[1]


def test_the_run_input_picks_the_posterior_draw_as_the_command_line_does():
    """Run r of the view is run r of `python run.py`: the same posterior draw, and the header says which."""
    from sim.calibration import parameter_draw

    historical = load_scenario(SCENARIOS / "historical_2025.yaml")
    third = ViewModel(agents=SMALL, run="3")
    assert third.run_index == 3 and third.config.us_users.habit == parameter_draw(historical, 3).us_users.habit
    assert third.config.us_users.habit != ViewModel(agents=SMALL).config.us_users.habit  # draw 0
    assert f"posterior draw 3 of {len(historical.calibration.good_fits)}" in "\n".join(panels.headline(third))
    bad = ViewModel(agents=SMALL, run="three")
    assert bad.input_errors == [
        "Run (posterior draw): 'three' is not allowed; give a whole number from 0 to 1,000,000 (blank = 0)"
    ]
    assert not bad.running
