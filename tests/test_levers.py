"""The lever registry (`sim.levers`): every lever, set through every tool, reaches the running model unchanged.

The tools are the browser view (text), sensitivity (SALib's numbers), optimize (optuna's trial parameters)
and compare (which reads the levers back). "Reaches the model" is checked on what the model actually uses:
its day-by-day schedules and its regulator, never on the scenario the tool wrote.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import optuna
import pytest

from analysis import compare, optimize, sensitivity
from sim.levers import LEVERS, NOT_APPLICABLE, POLICY, LeverError, of_kind, read_levers, set_levers, set_numbers
from sim.model import MigrationModel
from sim.params import Scenario
from sim.scenario import scenario_to_dict, validate
from sim.view.model import ViewModel
from tests.conftest import small

AGENTS = 5000

# lever: (value to set, levers that must be set with it)
CASES: dict[str, tuple[object, dict[str, object]]] = {
    "ban_date": (dt.date(2025, 2, 2), {}),
    "outage_hours": (60.0, {}),
    "store_return_date": (dt.date(2025, 2, 20), {}),
    "translation_start": (dt.date(2025, 1, 25), {}),
    "translation_quality": (0.55, {}),
    "real_name_scope": ("all_foreign", {"real_name_start": dt.date(2025, 1, 22)}),
    "real_name_start": (dt.date(2025, 1, 22), {"real_name_scope": "new_accounts"}),
    "review_capacity": (5e6, {}),  # above the old hiring ceiling (capacity_max 2e6)
    "walled_garden": (True, {}),
    "cross_feed_visibility": (0.2, {}),
}


@pytest.fixture(scope="module")
def base() -> Scenario:
    return small(agents=AGENTS, days=60)  # the 2025 calendar: 1 Jan to 1 Mar


def in_model(model: MigrationModel, name: str) -> object:
    """The lever's value as the running model uses it (its schedules and regulator)."""
    us, pf, s = model.calendar.us, model.calendar.platform, model.config

    def first(mask: np.ndarray) -> dt.date | None:
        idx = np.flatnonzero(mask)
        return s.date_of(int(idx[0])) if idx.size else None

    if name == "ban_date":
        return first(us.tiktok_up < 1)
    if name == "outage_hours":
        return float(np.sum(1.0 - us.tiktok_up) * 24)
    if name == "store_return_date":
        last_out = int(np.flatnonzero(~us.in_store)[-1])
        return s.date_of(last_out + 1) if last_out + 1 < s.days else None
    if name == "translation_start":
        return first(pf.translation_quality > 0)
    if name == "translation_quality":
        return float(pf.translation_quality.max())
    if name == "real_name_scope":
        return (
            "all_foreign" if pf.real_name_sweep_day is not None else ("new_accounts" if pf.verify_new_accounts.any() else "none")
        )
    if name == "real_name_start":
        return first(pf.verify_new_accounts)
    if name == "review_capacity":
        assert model.regulator.capacity == model.config.platform.moderation.review_capacity
        for _ in range(pf.directive_day + 3):  # past the directive day, when hiring starts (and used to cut it)
            model.step()
        return model.regulator.capacity
    if name == "walled_garden":
        return bool((pf.visibility < 1).all())
    if name == "cross_feed_visibility":
        return float(pf.visibility.min())
    raise AssertionError(f"no model observation for lever {name}")


# ---------------------------------------------------------------------------------------------- the tools
def through_view(base: Scenario, values: dict) -> MigrationModel:
    texts = {name: LEVERS[name].format(value) for name, value in values.items()}
    model = ViewModel(scenario_file="historical_2025.yaml", agents=str(AGENTS), **texts)
    assert model.input_error is None
    return model


def through_sensitivity(base: Scenario, values: dict) -> MigrationModel:
    point = {name: LEVERS[name].to_sample(value, base) for name, value in values.items()}
    for name, x in point.items():
        lo, hi = LEVERS[name].bounds()
        assert lo <= x <= hi, name  # a value the design could sample
    return MigrationModel(sensitivity.scenario_at(base, point))


def through_optimize(base: Scenario, values: dict) -> MigrationModel:
    params = {}
    for name, value in values.items():
        lever = LEVERS[name]
        params[name] = lever.format(value) if lever.choices else lever.to_number(value, base)
        if not lever.choices and lever.domain.integer:
            params[name] = int(params[name])
    policy = optimize.suggest(optuna.trial.FixedTrial(params), base, names=tuple(values))
    return MigrationModel(optimize.policy_scenario(base, policy))


TOOLS = {"view": through_view, "sensitivity": through_sensitivity, "optimize": through_optimize}


def test_every_policy_lever_has_a_case_here():
    assert set(CASES) == {lever.name for lever in of_kind(POLICY)}


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("name", CASES)
def test_every_lever_set_through_every_tool_reaches_the_running_model_unchanged(base, tool, name):
    value, companions = CASES[name]
    model = TOOLS[tool](base, {name: value, **companions})
    observed = in_model(model, name)
    assert observed == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value)


@pytest.mark.parametrize("name", CASES)
def test_compare_reads_back_every_lever_as_set(base, name):
    value, companions = CASES[name]
    scenario = set_levers(base, {name: value, **companions}).model_copy(update={"name": "changed"})
    assert read_levers(scenario)[name] == value
    row = next(line for line in compare.lever_table([base, scenario]) if line.startswith(f"| {LEVERS[name].label} |"))
    assert row.endswith(f"| **{LEVERS[name].format(value)}** |")  # shown, and marked as differing


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("capacity", [5e6, 10**6.5])  # the tops of optimize's and sensitivity's old ranges
def test_review_capacity_above_the_hiring_ceiling_is_not_cut_on_the_directive_day(base, tool, capacity):
    """Issue #11: sensitivity and optimize cut any capacity above capacity_max (2e6) to 2e6 on day 12."""
    model = TOOLS[tool](base, {"review_capacity": capacity})
    assert in_model(model, "review_capacity") == pytest.approx(capacity, rel=1e-12)


def test_sensitivity_and_optimize_explore_the_registry_ranges():
    prob = sensitivity.problem()
    for name, bounds in zip(prob["names"], prob["bounds"]):
        assert tuple(bounds) == LEVERS[name].bounds()
    assert prob["bounds"][prob["names"].index("review_capacity")] == pytest.approx([np.log10(3e4), np.log10(5e6)])
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1)).ask()
    optimize.suggest(trial, small(agents=AGENTS))
    dists = trial.distributions
    assert set(dists) == set(optimize.LEVERS)
    assert (dists["review_capacity"].low, dists["review_capacity"].high, dists["review_capacity"].log) == (3e4, 5e6, True)
    assert (dists["translation_start"].low, dists["translation_start"].high) == LEVERS["translation_start"].search


# ---------------------------------------------------------------------------------------------- any calendar
def shifted(scenario: Scenario, days: int) -> Scenario:
    """The same scenario a number of days later: start, end and every dated event move together."""

    def move(node):
        if isinstance(node, dict):
            return {k: move(v) for k, v in node.items()}
        if isinstance(node, list):
            return [move(v) for v in node]
        if isinstance(node, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", node):
            return (dt.date.fromisoformat(node) + dt.timedelta(days=days)).isoformat()
        return node

    return validate(move(scenario_to_dict(scenario)), source=f"{scenario.name} shifted by {days} days")


NUMBERS = {  # every policy lever as a number (dates: days after the scenario's start)
    "ban_date": 30,
    "outage_hours": 100,
    "store_return_date": 52,
    "translation_start": 20,
    "translation_quality": 0.5,
    "real_name_scope": 1,  # new_accounts
    "real_name_start": 25,
    "review_capacity": 3e6,
    "cross_feed_visibility": 0.3,
}


def test_levers_apply_to_a_scenario_a_year_later_with_the_same_effect(base):
    later = shifted(base, 365)  # 1 Jan 2026 to 1 Mar 2026
    assert later.start_date == dt.date(2026, 1, 1)
    a, b = set_numbers(base, NUMBERS), set_numbers(later, NUMBERS)
    assert b.platform.translation.start == dt.date(2026, 1, 21) and b.timeline.tiktok_outages[0].start == dt.date(2026, 1, 31)
    for name, value in read_levers(a).items():
        expected = value + dt.timedelta(days=365) if isinstance(value, dt.date) else value
        assert read_levers(b)[name] == expected, name
    models = [MigrationModel(a), MigrationModel(b)]
    for _ in range(40):
        for m in models:
            m.step()
    for column in ("us_rednote_dau", "us_rednote_signups", "reviews", "accounts_banned"):
        np.testing.assert_array_equal(*(np.asarray(m.datacollector.model_vars[column]) for m in models))
    assert models[0].regulator.capacity == models[1].regulator.capacity == 3e6


def test_a_lever_on_a_later_calendar_is_checked_against_that_calendar(base):
    later = shifted(base, 365)
    with pytest.raises(LeverError, match=r"2025-01-25 is before the scenario starts \(2026-01-01\)"):
        set_levers(later, {"translation_start": "2025-01-25"})


# ---------------------------------------------------------------------------------------------- bad values
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"translation_start": 400.0}, "Translation for everyone from: 2026-02-05 is after the scenario ends (2025-03-01)"),
        ({"review_capacity": -5.0}, "Moderation: reviews per day: -5 is out of range; allowed: a number from 0 to 1e+09"),
        ({"real_name_scope": 7.0}, "Real-name verification: 7 is not a choice number; allowed: 0 to 3"),
        ({"ban_date": -3.0}, "Ban: TikTok goes dark on (date): 2024-12-29 is before the scenario starts (2025-01-01)"),
    ],
)
def test_bad_numbers_are_one_line_errors_naming_lever_value_and_range(base, values, message):
    with pytest.raises(LeverError) as err:
        set_numbers(base, values)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"translation_start": "soon"}, "Translation for everyone from: 'soon' is not a date like 2025-01-01"),
        ({"translation_quality": True}, "Translation quality (0-1): True is not a number; allowed: a number from 0 to 1"),
        ({"walled_garden": 3}, "Walled-garden international feed: 3 is not a choice; allowed: off, on"),
        ({"walled_garden": "on", "cross_feed_visibility": 0.3}, "Walled garden: reach of foreign posts (0-1): set it or"),
        ({"ban_dat": "2025-02-01"}, "unknown lever 'ban_dat'; allowed: ban_date, "),
        ({"store_return_date": dt.date(2025, 1, 5)}, "is not after TikTok leaves the stores (2025-01-18)"),
    ],
)
def test_bad_values_are_one_line_errors(base, values, message):
    with pytest.raises(LeverError) as err:
        set_levers(base, values)
    assert message in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------- couplings
def test_a_longer_ban_keeps_tiktok_out_of_the_stores_until_it_works_again(base):
    s = set_levers(base, {"outage_hours": 40 * 24})  # dark from 18 Jan 22:30 for 40 days
    assert s.timeline.app_store_removals[0].returned == dt.date(2025, 2, 27)
    assert set_levers(base, {"outage_hours": 24}).timeline.app_store_removals[0].returned == dt.date(2025, 2, 13)
    assert set_levers(base, {"outage_hours": None}).timeline.app_store_removals[0].returned is None  # forever
    explicit = set_levers(base, {"outage_hours": 40 * 24, "store_return_date": "2025-02-01"})
    assert explicit.timeline.app_store_removals[0].returned == dt.date(2025, 2, 1)  # set by hand: kept


def test_levers_that_cannot_apply_are_errors_by_hand_and_skipped_by_the_search(base):
    with pytest.raises(LeverError, match="Real-name verification from: verification is off"):
        set_levers(base, {"real_name_start": dt.date(2025, 1, 20)})
    s = optimize.policy_scenario(base, {"real_name_scope": "none", "real_name_start": dt.date(2025, 1, 20)})
    assert s.platform.real_name.start is None
    assert read_levers(s)["real_name_start"] is NOT_APPLICABLE
