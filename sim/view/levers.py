"""What the browser view's inputs mean: each lever is text (or a choice) that changes one part of a scenario.

A blank lever keeps the scenario's own value, so every scenario file can be explored as written and one
lever at a time. Bad input never reaches the model: `apply_levers` raises `LeverError` with one line that
names the lever, what was given and what is allowed, and the view shows that line.

The ban levers edit the scenario's first TikTok outage and first app-store removal (its ban); a scenario's
later outages (the April ban of ``delayed_ban``) and all dated news stay as written. Moving the ban date
moves that outage and that store removal together by the same number of days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.params import Scenario
from sim.scenario import ScenarioError, load_scenario, scenario_to_dict, validate

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
AS_SCENARIO = "as in scenario"
MAX_VIEW_AGENTS = 2_000_000
NEW_BAN_HOURS = None  # a ban added to a scenario without one lasts for good unless an outage length is given


class LeverError(ValueError):
    """Lever values the view cannot use: ``messages``, one line each (lever, value, what is allowed)."""

    def __init__(self, *messages: str) -> None:
        self.messages = list(messages)
        super().__init__("\n".join(messages))


@dataclass(frozen=True)
class Lever:
    name: str  # keyword of `ViewModel`
    label: str  # what the view shows
    help: str  # what it does and what it accepts
    choices: tuple[str, ...] = ()  # a fixed list (a drop-down); empty: free text


LEVERS: tuple[Lever, ...] = (
    Lever("ban_date", "Ban: TikTok goes dark on (date)", "YYYY-MM-DD, or 'none' for no ban; moves the outage and the app-store removal together"),
    Lever("outage_hours", "Ban: hours TikTok stays dark", "a number of hours, or 'forever'"),
    Lever("store_return_date", "Ban: TikTok back in app stores on", "YYYY-MM-DD after the ban date, or 'never'"),
    Lever("translation_start", "Translation for everyone from", "YYYY-MM-DD, or 'never' (also ends the grey test)"),
    Lever("translation_quality", "Translation quality (0-1)", "share of the language barrier translation removes, 0 to 1"),
    Lever("real_name_scope", "Real-name verification", "who must verify with mainland credentials",
          (AS_SCENARIO, "none", "new_accounts", "all_foreign")),
    Lever("real_name_start", "Real-name verification from", "YYYY-MM-DD (needed when verification is required)"),
    Lever("review_capacity", "Moderation: reviews per day", "manual reviews per day at the start (real posts), 0 to 1e9"),
    Lever("walled_garden", "Walled-garden international feed", "a separate feed for foreign users", (AS_SCENARIO, "off", "on")),
    Lever("agents", "Agents", f"total simulated users, 1000 to {MAX_VIEW_AGENTS:,}"),
    Lever("seed", "Seed", "master seed, a whole number from 0"),
)  # fmt: skip
LEVER_NAMES = tuple(lever.name for lever in LEVERS)


def scenario_choices(extra: str | Path | None = None) -> list[str]:
    """Scenario files the view offers: every file in scenarios/ (by name) and ``extra`` (by path)."""
    names = sorted(p.name for p in SCENARIO_DIR.glob("*.yaml"))
    if extra is not None and Path(extra).resolve().parent != SCENARIO_DIR:
        names.append(str(Path(extra).resolve()))
    return names


def scenario_path(choice: str) -> Path:
    """The file behind a picker entry (a name in scenarios/ or a path)."""
    path = Path(choice)
    return path if path.is_absolute() else SCENARIO_DIR / path


def load_base(choice: str) -> Scenario:
    """The scenario file as written (a `ScenarioError` names the file and key if it is bad)."""
    path = scenario_path(choice)
    if not path.is_file():
        raise ScenarioError(f"{choice}: no such scenario file")
    return load_scenario(path)


def apply_levers(base: Scenario, values: dict[str, Any]) -> Scenario:
    """``base`` with the non-blank levers applied, validated. `LeverError` lists every bad value: first each
    lever that is bad on its own (a date out of range, text for a number, ...); if there are none, each
    bad combination (a store return before the ban, verification without a date, ...)."""
    unknown = set(values) - set(LEVER_NAMES)
    if unknown:
        raise LeverError(f"unknown lever {sorted(unknown)[0]!r}; allowed: {', '.join(LEVER_NAMES)}")
    given = changed_levers(values)
    errors = [message for name in given for message in _errors(_check_one, base, given, name)]
    if errors:  # every lever that is bad on its own, at once
        raise LeverError(*errors)
    doc = scenario_to_dict(base)
    for group in (_apply_ban, _apply_translation, _apply_real_name):  # combinations: each group's error, at once
        errors += _errors(group, base, doc, given)
    if errors:
        raise LeverError(*errors)
    platform = doc["platform"]
    if "review_capacity" in given:
        capacity = _number(given, "review_capacity", 0.0, 1e9)
        moderation = platform["moderation"]
        moderation["review_capacity"] = capacity
        moderation["capacity_max"] = max(capacity, moderation["capacity_max"])  # hiring never lowers it
    if "walled_garden" in given:
        platform["walled_garden"]["enabled"] = _choice(given, "walled_garden") == "on"
    if "agents" in given:
        doc["agents"] = int(_number(given, "agents", 1000, MAX_VIEW_AGENTS, whole=True))
    if "seed" in given:
        doc["seed"] = int(_number(given, "seed", 0, 2**63 - 1, whole=True))
    try:
        return validate(doc, source=f"{base.name} with the view's levers")
    except ScenarioError as exc:  # a combination the schema rejects (e.g. a store return before the removal)
        raise LeverError(str(exc)) from None


def changed_levers(values: dict[str, Any]) -> dict[str, str]:
    """The levers that change something (not blank, not 'as in scenario'), as stripped text."""
    return {k: _text(v) for k, v in values.items() if _text(v) not in ("", AS_SCENARIO)}


SPECIAL_WORDS = {"ban_date": "none", "outage_hours": "forever", "store_return_date": "never", "translation_start": "never"}
DATE_LEVERS = ("ban_date", "store_return_date", "translation_start", "real_name_start")
NUMBER_LEVERS = {"outage_hours": (0.01, 3 * 366 * 24, False, "or 'forever'"), "translation_quality": (0.0, 1.0, False, ""),
                 "review_capacity": (0.0, 1e9, False, ""), "agents": (1000, MAX_VIEW_AGENTS, True, ""),
                 "seed": (0, 2**63 - 1, True, "")}  # fmt: skip


def _check_one(base: Scenario, given: dict[str, str], name: str) -> None:
    """`LeverError` if lever ``name`` is bad on its own (whatever the other levers say)."""
    if given[name].lower() == SPECIAL_WORDS.get(name):
        return
    if name in DATE_LEVERS:
        _date(base, given, name, extra=f"or '{SPECIAL_WORDS[name]}'" if name in SPECIAL_WORDS and name != "ban_date" else "")
    elif name in NUMBER_LEVERS:
        lo, hi, whole, extra = NUMBER_LEVERS[name]
        _number(given, name, lo, hi, whole=whole, extra=extra)
    else:
        _choice(given, name)


def _errors(check, *args) -> list[str]:
    try:
        check(*args)
    except LeverError as exc:
        return exc.messages
    return []


def describe(scenario: Scenario) -> list[str]:
    """The lever values a scenario actually uses, one short line each (what the view shows as 'this run')."""
    tl, pf = scenario.timeline, scenario.platform
    if tl.tiktok_outages:
        first = tl.tiktok_outages[0]
        length = "for good" if first.hours is None else f"for {first.hours:g} h"
        hour, minute = divmod(round(first.start_hour * 60), 60)
        ban = f"TikTok dark from {_fmt(first.start)} {hour:02d}:{minute:02d} {length}"
        if len(tl.tiktok_outages) > 1:
            ban += f" (+{len(tl.tiktok_outages) - 1} later outage(s) as in the file)"
    else:
        ban = "no TikTok outage"
    if tl.app_store_removals:
        store = tl.app_store_removals[0]
        back = "never back" if store.returned is None else f"back {_fmt(store.returned)}"
        ban += f"; out of the app stores {_fmt(store.removed)}, {back}"
    tr = pf.translation
    translation = "no translation" if tr.start is None else f"translation from {_fmt(tr.start)}, quality {tr.quality:.2f}"
    real_name = "no real-name verification" if pf.real_name.scope == "none" else (
        f"real-name verification of {pf.real_name.scope.replace('_', ' ')} from {_fmt(pf.real_name.start)}"
    )  # fmt: skip
    garden = "walled garden on" if pf.walled_garden.enabled else "one shared feed"
    return [
        f"Ban: {ban}",
        f"Platform: {translation}; {real_name}; {garden}; {pf.moderation.review_capacity:,.0f} reviews/day at first",
        f"Model: {scenario.agents:,} agents, seed {scenario.seed}, {_fmt(scenario.start_date)} to {_fmt(scenario.end_date)}",
    ]


# --------------------------------------------------------------------------------------------------
def _apply_ban(base: Scenario, doc: dict, given: dict[str, str]) -> None:
    timeline = doc["timeline"]
    outages, stores = timeline["tiktok_outages"], timeline["app_store_removals"]
    if "ban_date" in given:
        if given["ban_date"].lower() == "none":
            for name in ("outage_hours", "store_return_date"):
                if name in given:
                    raise LeverError(f"{_label(name)}: there is no ban to change (ban date is 'none'); leave it blank")
            timeline["tiktok_outages"], timeline["app_store_removals"] = [], []
            return
        day = _date(base, given, "ban_date")
        if outages:
            offset = day - dt.date.fromisoformat(outages[0]["start"])
            outages[0]["start"] = day.isoformat()
            if stores:
                stores[0]["removed"] = _shift(stores[0]["removed"], offset)
                stores[0]["returned"] = stores[0]["returned"] and _shift(stores[0]["returned"], offset)
        else:
            outages.append({"start": day.isoformat(), "start_hour": 0.0, "hours": NEW_BAN_HOURS})
        if not stores:
            stores.append({"removed": outages[0]["start"], "returned": None})
    if "outage_hours" in given:
        if not outages:
            raise LeverError(f"{_label('outage_hours')}: {base.name} has no ban; set a ban date first")
        text = given["outage_hours"]
        outages[0]["hours"] = (
            None if text.lower() == "forever" else _number(given, "outage_hours", 0.01, 3 * 366 * 24, extra="or 'forever'")
        )
    if "store_return_date" in given:
        if not stores:
            raise LeverError(f"{_label('store_return_date')}: {base.name} has no app-store removal; set a ban date first")
        if given["store_return_date"].lower() == "never":
            stores[0]["returned"] = None
        else:
            back = _date(base, given, "store_return_date", extra="or 'never'")
            removed = dt.date.fromisoformat(stores[0]["removed"])
            if back <= removed:
                raise LeverError(
                    f"{_label('store_return_date')}: {back} is not after TikTok leaves the stores ({removed}); "
                    "allowed: a later date, or 'never'"
                )
            stores[0]["returned"] = back.isoformat()


def _apply_translation(base: Scenario, doc: dict, given: dict[str, str]) -> None:
    translation = doc["platform"]["translation"]
    if "translation_start" in given:
        if given["translation_start"].lower() == "never":
            translation["start"] = translation["grey_test_start"] = None
        else:
            start = _date(base, given, "translation_start", extra="or 'never'")
            translation["start"] = start.isoformat()
            grey = translation["grey_test_start"]
            if grey is not None and dt.date.fromisoformat(grey) > start:
                translation["grey_test_start"] = None  # a grey test after the launch means nothing
    if "translation_quality" in given:
        translation["quality"] = _number(given, "translation_quality", 0.0, 1.0)


def _apply_real_name(base: Scenario, doc: dict, given: dict[str, str]) -> None:
    real_name = doc["platform"]["real_name"]
    if "real_name_scope" in given:
        real_name["scope"] = _choice(given, "real_name_scope")
    if "real_name_start" in given:
        real_name["start"] = _date(base, given, "real_name_start").isoformat()
    if real_name["scope"] == "none":
        if "real_name_start" in given:
            raise LeverError(f"{_label('real_name_start')}: verification is off; choose who must verify, or leave the date blank")
        real_name["start"] = None
    elif real_name["start"] is None:
        raise LeverError(
            f"{_label('real_name_start')}: required when {real_name['scope'].replace('_', ' ')} must verify; "
            f"allowed: a date from {_fmt(base.start_date)} to {_fmt(base.end_date)}"
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def lever_label(name: str) -> str:
    """The label the view shows for lever ``name``."""
    return next(lever.label for lever in LEVERS if lever.name == name)


_label = lever_label


def _fmt(day: dt.date | None) -> str:
    return "-" if day is None else day.strftime("%d %b %Y").lstrip("0")


def _shift(iso: str, offset: dt.timedelta) -> str:
    return (dt.date.fromisoformat(iso) + offset).isoformat()


def _date(base: Scenario, given: dict[str, str], name: str, extra: str = "") -> dt.date:
    text = given[name]
    allowed = f"allowed: a date from {base.start_date} to {base.end_date}{(', ' + extra) if extra else ''}"
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise LeverError(f"{_label(name)}: {text!r} is not a date like {base.start_date}; {allowed}") from None
    if day < base.start_date:
        raise LeverError(f"{_label(name)}: {day} is before the scenario starts ({base.start_date}); {allowed}")
    if day > base.end_date:
        raise LeverError(f"{_label(name)}: {day} is after the scenario ends ({base.end_date}); {allowed}")
    return day


def _number(given: dict[str, str], name: str, lo: float, hi: float, *, whole: bool = False, extra: str = "") -> float:
    text = given[name].replace(",", "").replace("_", "")
    kind = "a whole number" if whole else "a number"
    allowed = f"allowed: {kind} from {lo:g} to {hi:g}{(' ' + extra) if extra else ''}"
    try:
        value = float(text)
    except ValueError:
        raise LeverError(f"{_label(name)}: {given[name]!r} is not a number; {allowed}") from None
    if not lo <= value <= hi or (whole and value != int(value)):
        raise LeverError(f"{_label(name)}: {given[name]} is out of range; {allowed}")
    return value


def _choice(given: dict[str, str], name: str) -> str:
    lever = next(lever for lever in LEVERS if lever.name == name)
    value = given[name]
    if value not in lever.choices:
        raise LeverError(f"{lever.label}: {value!r} is not a choice; allowed: {', '.join(lever.choices)}")
    return value
