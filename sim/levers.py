"""The lever registry: every policy lever, run setting and uncertain behavioural factor, declared once.

The browser view (text inputs), ``compare`` (which levers differ), ``sensitivity`` (SALib's numbers),
``optimize`` (optuna's trials) and the notebooks all set and read levers through this module, so a lever
means the same thing everywhere. Each `Lever` says which scenario paths it writes, what values it
allows, how text and numbers map to a value, and what else must move with it (its couplings: raising
the review capacity lifts ``capacity_max`` so that hiring never cuts it; moving the ban moves the store
removal with it).

Dates are never hard-coded: as numbers they are days after the scenario's own ``start_date``, and they
are checked against that scenario's horizon, so every lever applies to any calendar.

A value has the lever's own type (a date, a number, a choice; ``None`` where the lever allows
'none'/'never'/'forever'). Text is parsed; a blank or ``KEEP`` keeps the scenario's value. A bad value
raises `LeverError` with one line naming the lever, the value given and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

from sim.params import Scenario
from sim.scenario import ScenarioError, get_path, scenario_to_dict, set_path, validate

POLICY, RUN, BEHAVIOUR = "policy", "run", "behaviour"  # a lever's kind
KEEP = "as in scenario"  # text that keeps the scenario's value (as does a blank)
NOT_APPLICABLE = "-"  # what `read` gives for a lever the scenario has nothing for (no ban: no outage length)
MAX_AGENTS = 2_000_000  # largest model the view builds


class LeverError(ValueError):
    """A lever value that cannot be used (one line: lever, value, what is allowed)."""


@dataclass
class Edit:
    """A scenario document being changed by levers: the base, its document and every value being set."""

    base: Scenario
    doc: dict[str, Any]
    given: dict[str, Any]


# --------------------------------------------------------------------------------------------------
# Domains: what values a lever allows, and how text and numbers map to them
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dates:
    """Calendar dates within the scenario; as numbers, days after its ``start_date``."""

    none_word: str = ""  # the text for "no date" ('none', 'never'); empty: a date is required
    choices: tuple[str, ...] = ()

    def parse(self, lever: Lever, text: str, base: Scenario) -> dt.date | None:
        if self.none_word and text.lower() == self.none_word:
            return None
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise LeverError(f"{lever.label}: {text!r} is not a date like {base.start_date}; {self.allowed(base)}") from None
        return self.check(lever, day, base)

    def check(self, lever: Lever, value: Any, base: Scenario) -> dt.date | None:
        if value is None and self.none_word:
            return None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise LeverError(f"{lever.label}: {value!r} is not a date; {self.allowed(base)}")
        if value < base.start_date:
            raise LeverError(f"{lever.label}: {value} is before the scenario starts ({base.start_date}); {self.allowed(base)}")
        if value > base.end_date:
            raise LeverError(f"{lever.label}: {value} is after the scenario ends ({base.end_date}); {self.allowed(base)}")
        return value

    def allowed(self, base: Scenario) -> str:
        extra = f", or '{self.none_word}'" if self.none_word else ""
        return f"allowed: a date from {base.start_date} to {base.end_date}{extra}"

    def to_number(self, lever: Lever, value: Any, base: Scenario) -> float:
        if value is None:
            raise LeverError(f"{lever.label}: '{self.none_word}' has no number; numbers are days after the start")
        return float((value - base.start_date).days)

    def from_number(self, lever: Lever, x: float, base: Scenario) -> dt.date:
        return self.check(lever, base.start_date + dt.timedelta(days=round(x)), base)

    def format(self, value: Any) -> str:
        return self.none_word if value is None else value.isoformat()

    unit = "days after the start"
    integer = True


@dataclass(frozen=True)
class Numbers:
    """Numbers from ``lo`` to ``hi`` (whole numbers if ``whole``); ``none_word`` ('forever') for None."""

    lo: float
    hi: float
    whole: bool = False
    none_word: str = ""
    unit: str = ""
    choices: tuple[str, ...] = ()

    def parse(self, lever: Lever, text: str, base: Scenario) -> float | int | None:
        if self.none_word and text.lower() == self.none_word:
            return None
        try:
            value = float(text.replace(",", "").replace("_", ""))
        except ValueError:
            raise LeverError(f"{lever.label}: {text!r} is not a number; {self.allowed()}") from None
        return self._checked(lever, value, text)

    def check(self, lever: Lever, value: Any, base: Scenario) -> float | int | None:
        if value is None and self.none_word:
            return None
        if isinstance(value, bool) or not isinstance(value, Real):
            raise LeverError(f"{lever.label}: {value!r} is not a number; {self.allowed()}")
        return self._checked(lever, float(value), f"{value:g}")

    def _checked(self, lever: Lever, value: float, shown: str) -> float | int:
        if not self.lo <= value <= self.hi or (self.whole and value != int(value)):
            raise LeverError(f"{lever.label}: {shown} is out of range; {self.allowed()}")
        return int(value) if self.whole else value

    def allowed(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"allowed: {kind} from {self.lo:g} to {self.hi:g}" + (f" or '{self.none_word}'" if self.none_word else "")

    def to_number(self, lever: Lever, value: Any, base: Scenario) -> float:
        if value is None:
            raise LeverError(f"{lever.label}: '{self.none_word}' has no number; {self.allowed()}")
        return float(value)

    def from_number(self, lever: Lever, x: float, base: Scenario) -> float | int:
        return self.check(lever, round(x) if self.whole else float(x), base)

    def format(self, value: Any) -> str:
        """Short where that is exact (5e+06), else every digit: the text parses back to the same value."""
        if value is None:
            return self.none_word
        text = f"{value:g}"
        return text if float(text) == value else repr(float(value))

    @property
    def integer(self) -> bool:
        return self.whole


@dataclass(frozen=True)
class Choices:
    """One of a fixed list; ``values`` are what the scenario stores (e.g. off/on -> False/True)."""

    choices: tuple[str, ...]
    values: tuple[Any, ...] = ()
    unit = "choice"
    integer = True

    def _values(self) -> tuple[Any, ...]:
        return self.values or self.choices

    def parse(self, lever: Lever, text: str, base: Scenario) -> Any:
        if text not in self.choices:
            raise LeverError(f"{lever.label}: {text!r} is not a choice; allowed: {', '.join((KEEP, *self.choices))}")
        return self._values()[self.choices.index(text)]

    def check(self, lever: Lever, value: Any, base: Scenario) -> Any:
        if isinstance(value, str):
            return self.parse(lever, value, base)
        if not any(value is v or (type(value) is type(v) and value == v) for v in self._values()):
            raise LeverError(f"{lever.label}: {value!r} is not a choice; allowed: {', '.join(self.choices)}")
        return value

    def to_number(self, lever: Lever, value: Any, base: Scenario) -> float:
        return float(self._values().index(self.check(lever, value, base)))

    def from_number(self, lever: Lever, x: float, base: Scenario) -> Any:
        """Index ``floor(x)`` (so a uniform sample on [0, n] picks each choice equally often)."""
        if not 0 <= x <= len(self.choices):
            raise LeverError(f"{lever.label}: {x:g} is not a choice number; allowed: 0 to {len(self.choices)}")
        return self._values()[min(int(x), len(self.choices) - 1)]

    def format(self, value: Any) -> str:
        return self.choices[self._values().index(value)]


Domain = Dates | Numbers | Choices


# --------------------------------------------------------------------------------------------------
# The lever
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lever:
    name: str
    label: str  # what the view and the reports show
    help: str  # what it does and what it accepts
    kind: str  # POLICY, RUN (model size, seed) or BEHAVIOUR (an uncertain parameter)
    paths: tuple[str, ...]  # scenario paths it writes (the first is the one it is about)
    domain: Domain
    write: Callable[[Edit, Any], None]  # puts a checked value into the document, with its couplings
    read: Callable[[Scenario], Any] | None = None  # the value a scenario uses (None: not readable, e.g. a multiplier)
    search: tuple[float, float] | None = None  # range sensitivity and optimize explore, in `to_number` units
    log: bool = False  # explore on a log scale
    inactive: Callable[[Edit], str | None] | None = None  # why the lever cannot apply to this document, or None

    @property
    def choices(self) -> tuple[str, ...]:
        return self.domain.choices

    def parse(self, text: str, base: Scenario) -> Any:
        return self.domain.parse(self, text.strip(), base)

    def check(self, value: Any, base: Scenario) -> Any:
        return self.domain.check(self, value, base)

    def to_number(self, value: Any, base: Scenario) -> float:
        return self.domain.to_number(self, value, base)

    def from_number(self, x: float, base: Scenario) -> Any:
        return self.domain.from_number(self, x, base)

    def format(self, value: Any) -> str:
        return NOT_APPLICABLE if value is NOT_APPLICABLE else self.domain.format(value)

    # The sampling space of sensitivity analysis: log10 for log levers, [0, n] for choices.
    def bounds(self) -> tuple[float, float]:
        """The range SALib samples (`from_sample` maps a sample to a value)."""
        if isinstance(self.domain, Choices):
            return 0.0, float(len(self.domain.choices))
        lo, hi = self._search()
        return (math.log10(lo), math.log10(hi)) if self.log else (lo, hi)

    def from_sample(self, x: float, base: Scenario) -> Any:
        return self.from_number(float(f"{10**x:.12g}") if self.log else x, base)

    def to_sample(self, value: Any, base: Scenario) -> float:
        x = self.to_number(value, base)
        return math.log10(x) if self.log else x

    def range_text(self) -> str:
        if isinstance(self.domain, Choices):
            return " / ".join(self.domain.choices)
        lo, hi = self._search()
        unit = f" {self.domain.unit}" if self.domain.unit else ""
        return f"{lo:g} - {hi:g}{unit}" + (" (log scale)" if self.log else "")

    def _search(self) -> tuple[float, float]:
        if self.search is None:
            raise LeverError(f"{self.label}: has no search range; it is set by hand only")
        return self.search


# --------------------------------------------------------------------------------------------------
# Writers (couplings live here) and readers
# --------------------------------------------------------------------------------------------------
OUTAGES, STORES = "timeline.tiktok_outages", "timeline.app_store_removals"
NEW_BAN_HOURS = None  # a ban added to a scenario without one lasts for good unless an outage length is given


def _write_ban_date(e: Edit, day: dt.date | None) -> None:
    """Moves the first outage and the first store removal together (by the same number of days)."""
    if day is None:
        set_path(e.doc, OUTAGES, [])
        set_path(e.doc, STORES, [])
        return
    outages, stores = get_path(e.doc, OUTAGES), get_path(e.doc, STORES)
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


def _write_outage_hours(e: Edit, hours: float | None) -> None:
    """Length of the first outage; TikTok is not back in the stores while it is dark (unless the store
    return is set too), so a longer ban delays the store return to the day TikTok works again."""
    outage = get_path(e.doc, OUTAGES)[0]
    outage["hours"] = hours
    stores = get_path(e.doc, STORES)
    if "store_return_date" in e.given or not stores or stores[0]["returned"] is None:
        return
    if hours is None:
        stores[0]["returned"] = None
        return
    start = dt.datetime.combine(dt.date.fromisoformat(outage["start"]), dt.time()) + dt.timedelta(hours=outage["start_hour"])
    back = (start + dt.timedelta(hours=hours)).date()
    if back > dt.date.fromisoformat(stores[0]["returned"]):
        stores[0]["returned"] = back.isoformat()


def _write_store_return(e: Edit, back: dt.date | None) -> None:
    store = get_path(e.doc, STORES)[0]
    if back is not None:
        removed = dt.date.fromisoformat(store["removed"])
        if back <= removed:
            raise LeverError(
                f"{LEVERS['store_return_date'].label}: {back} is not after TikTok leaves the stores ({removed}); "
                "allowed: a later date, or 'never'"
            )
    store["returned"] = None if back is None else back.isoformat()


def _no_ban(what: str) -> Callable[[Edit], str | None]:
    def why(e: Edit) -> str | None:
        if get_path(e.doc, what):
            return None
        if "ban_date" in e.given and e.given["ban_date"] is None:
            return "there is no ban to change (ban date is 'none'); leave it blank"
        kind = "ban" if what == OUTAGES else "app-store removal"
        return f"{e.base.name} has no {kind}; set a ban date first"

    return why


def _write_translation_start(e: Edit, start: dt.date | None) -> None:
    """Launch for everyone; 'never' also ends the grey test, and a grey test after the launch is dropped."""
    set_path(e.doc, "platform.translation.start", None if start is None else start.isoformat())
    grey = get_path(e.doc, "platform.translation.grey_test_start")
    if start is None or (grey is not None and dt.date.fromisoformat(grey) > start):
        set_path(e.doc, "platform.translation.grey_test_start", None)


def _write_real_name_scope(e: Edit, scope: str) -> None:
    set_path(e.doc, "platform.real_name.scope", scope)
    if scope == "none":
        set_path(e.doc, "platform.real_name.start", None)
    elif get_path(e.doc, "platform.real_name.start") is None and "real_name_start" not in e.given:
        raise LeverError(
            f"{LEVERS['real_name_start'].label}: required when {scope.replace('_', ' ')} must verify; "
            f"allowed: a date from {e.base.start_date} to {e.base.end_date}"
        )


def _verification_off(e: Edit) -> str | None:
    if get_path(e.doc, "platform.real_name.scope") == "none":
        return "verification is off; choose who must verify, or leave the date blank"
    return None


def _read_real_name_start(s: Scenario) -> dt.date | str:
    return NOT_APPLICABLE if s.platform.real_name.scope == "none" else s.platform.real_name.start


def _write_review_capacity(e: Edit, capacity: float) -> None:
    """Capacity at the start; hiring after the directive grows it up to ``capacity_max``, which must
    never be below it (else the directive day would cut the lever's value to the old ceiling)."""
    set_path(e.doc, "platform.moderation.review_capacity", capacity)
    ceiling = get_path(e.doc, "platform.moderation.capacity_max")
    set_path(e.doc, "platform.moderation.capacity_max", max(capacity, ceiling))


def _write_visibility(e: Edit, visibility: float) -> None:
    """Reach of foreign posts among Chinese users; below 1 that is a walled-off international feed."""
    if "walled_garden" in e.given:
        raise LeverError(f"{LEVERS['cross_feed_visibility'].label}: set it or '{LEVERS['walled_garden'].label}', not both")
    set_path(e.doc, "platform.walled_garden.enabled", visibility < 1.0)
    set_path(e.doc, "platform.walled_garden.cross_visibility", visibility)


def _read_visibility(s: Scenario) -> float:
    wg = s.platform.walled_garden
    return wg.cross_visibility if wg.enabled else 1.0


def _read_ban_date(s: Scenario) -> dt.date | None:
    return s.timeline.tiktok_outages[0].start if s.timeline.tiktok_outages else None


def _first(items: list, attr: str) -> Any:
    return getattr(items[0], attr) if items else NOT_APPLICABLE


def _put(path: str) -> Callable[[Edit, Any], None]:
    def write(e: Edit, value: Any) -> None:
        set_path(e.doc, path, value.isoformat() if isinstance(value, dt.date) else value)

    return write


def _scaled(path: str) -> Callable[[Edit, Any], None]:
    return lambda e, x: set_path(e.doc, path, float(get_path(e.base, path)) * x)


def _shifted(path: str) -> Callable[[Edit, Any], None]:
    return lambda e, x: set_path(e.doc, path, float(get_path(e.base, path)) + x)


def _shift(iso: str, offset: dt.timedelta) -> str:
    return (dt.date.fromisoformat(iso) + offset).isoformat()


def _reader(path: str) -> Callable[[Scenario], Any]:
    return lambda s: get_path(s, path)


def _policy(name, label, help, paths, domain, write=None, read=None, **kw) -> Lever:  # noqa: A002
    return Lever(name, label, help, POLICY, paths, domain, write or _put(paths[0]), read or _reader(paths[0]), **kw)


def _behaviour(name: str, path: str, lo: float, hi: float, help: str, how: str) -> Lever:  # noqa: A002
    write = {"scale": _scaled, "shift": _shifted, "set": _put}[how](path)
    read = _reader(path) if how == "set" else None  # a multiplier or shift has no value of its own in a scenario
    return Lever(name, name, help, BEHAVIOUR, (path,), Numbers(lo, hi), write, read, (lo, hi))


LEVERS: dict[str, Lever] = {
    lever.name: lever
    for lever in (
        _policy("ban_date", "Ban: TikTok goes dark on (date)",
                "YYYY-MM-DD, or 'none' for no ban; moves the outage and the app-store removal together",
                (OUTAGES, STORES), Dates("none"), _write_ban_date, _read_ban_date,
                search=(0, 120)),
        _policy("outage_hours", "Ban: hours TikTok stays dark",
                "a number of hours, or 'forever'; TikTok stays out of the app stores at least that long",
                (OUTAGES, STORES), Numbers(0.01, 3 * 366 * 24, none_word="forever", unit="hours"), _write_outage_hours,
                lambda s: _first(s.timeline.tiktok_outages, "hours"), search=(12, 180 * 24), inactive=_no_ban(OUTAGES)),
        _policy("store_return_date", "Ban: TikTok back in app stores on", "YYYY-MM-DD after the ban date, or 'never'",
                (STORES,), Dates("never"), _write_store_return, lambda s: _first(s.timeline.app_store_removals, "returned"),
                search=(30, 180), inactive=_no_ban(STORES)),
        _policy("translation_start", "Translation for everyone from", "YYYY-MM-DD, or 'never' (also ends the grey test)",
                ("platform.translation.start", "platform.translation.grey_test_start"), Dates("never"),
                _write_translation_start, search=(12, 72)),
        _policy("translation_quality", "Translation quality (0-1)", "share of the language barrier translation removes, 0 to 1",
                ("platform.translation.quality",), Numbers(0.0, 1.0), search=(0.3, 1.0)),
        _policy("real_name_scope", "Real-name verification", "who must verify with mainland credentials",
                ("platform.real_name.scope", "platform.real_name.start"), Choices(("none", "new_accounts", "all_foreign")),
                _write_real_name_scope),
        _policy("real_name_start", "Real-name verification from", "YYYY-MM-DD (needed when verification is required)",
                ("platform.real_name.start",), Dates(), read=_read_real_name_start, search=(12, 72), inactive=_verification_off),
        _policy("review_capacity", "Moderation: reviews per day", "manual reviews per day at the start (real posts), 0 to 1e9; "
                "hiring after the directive raises it, never lowers it", ("platform.moderation.review_capacity",
                "platform.moderation.capacity_max"), Numbers(0.0, 1e9, unit="reviews/day"), _write_review_capacity,
                search=(3e4, 5e6), log=True),
        _policy("walled_garden", "Walled-garden international feed", "a separate feed for foreign users",
                ("platform.walled_garden.enabled",), Choices(("off", "on"), (False, True))),
        _policy("cross_feed_visibility", "Walled garden: reach of foreign posts (0-1)",
                "share of their normal reach foreign posts keep among Chinese users; below 1 turns the walled garden on",
                ("platform.walled_garden.cross_visibility", "platform.walled_garden.enabled"), Numbers(0.0, 1.0),
                _write_visibility, _read_visibility, search=(0.05, 1.0)),
        Lever("agents", "Agents", f"total simulated users, 1000 to {MAX_AGENTS:,}", RUN, ("agents",),
              Numbers(1000, MAX_AGENTS, whole=True), _put("agents"), _reader("agents")),
        Lever("seed", "Seed", "master seed, a whole number from 0", RUN, ("seed",),
              Numbers(0, 2**63 - 1, whole=True), _put("seed"), _reader("seed")),
        _behaviour("peer_influence_x", "us_users.peer_influence", 0.5, 2.0, "peer influence, times its calibrated value", "scale"),
        _behaviour("join_salience_rate_x", "us_users.join_salience_rate", 0.5, 2.0, "news-driven joining, times its calibrated value", "scale"),
        _behaviour("habit_shift", "us_users.habit", -1.0, 1.0, "utility constant of staying, plus this", "shift"),
        _behaviour("w_language", "us_users.w_language", 1.0, 4.0, "utility weight of language friction", "set"),
        _behaviour("w_tiktok", "us_users.w_tiktok", 0.5, 3.0, "utility weight of a working TikTok", "set"),
        _behaviour("w_engagement", "us_users.w_engagement", 0.2, 2.0, "utility weight of replies received", "set"),
    )
}  # fmt: skip


def of_kind(*kinds: str) -> tuple[Lever, ...]:
    """The levers of the given kinds, in registry order."""
    return tuple(lever for lever in LEVERS.values() if lever.kind in kinds)


# --------------------------------------------------------------------------------------------------
# Setting and reading
# --------------------------------------------------------------------------------------------------
def set_levers(base: Scenario, values: Mapping[str, Any], *, source: str | None = None, lenient: bool = False) -> Scenario:
    """``base`` with the levers in ``values`` set, validated; `LeverError` (one line) on the first bad value.

    A value is text (parsed; blank or `KEEP` keeps the scenario's value) or the lever's own type.
    Levers apply in registry order. A lever that cannot apply (an outage length without a ban, a
    verification date with verification off) is an error, or skipped when ``lenient`` (the numeric
    tools propose such combinations as a matter of course). `lever_errors` lists every bad value instead."""
    edit, given = _edit(base, values, lenient, None)
    shown = ", ".join(f"{n}={LEVERS[n].format(v)}" for n, v in given.items())
    try:
        return validate(edit.doc, source=source or f"{base.name} with {shown or 'no levers'}")
    except ScenarioError as exc:  # a combination the schema rejects
        raise LeverError(str(exc)) from None


def lever_errors(base: Scenario, values: Mapping[str, Any]) -> list[str]:
    """Every reason `set_levers` (not lenient) would refuse ``values``, one line each; empty if it would not.
    First each value that is bad on its own (unknown lever, not parsable, out of range); if there are none,
    each lever that cannot apply or clashes with another (in registry order), then the schema's verdict."""
    errors: list[str] = []
    edit, _ = _edit(base, values, False, errors)
    if not errors:
        try:
            validate(edit.doc, source=f"{base.name} with the levers")
        except ScenarioError as exc:
            errors.append(str(exc))
    return errors


def _edit(base: Scenario, values: Mapping[str, Any], lenient: bool, errors: list[str] | None) -> tuple[Edit, dict]:
    """The document with the levers written, and the checked values. A bad value raises `LeverError`, or
    when ``errors`` is a list is appended to it (and the writing stops after the values bad on their own)."""

    def fail(message: str) -> None:
        if errors is None:
            raise LeverError(message)
        errors.append(message)

    for name in values:
        if name not in LEVERS:
            fail(f"unknown lever {name!r}; allowed: {', '.join(LEVERS)}{suggest(name, LEVERS)}")
    given = {}
    for name, value in values.items():
        if name not in LEVERS:
            continue
        lever = LEVERS[name]
        try:
            if isinstance(value, str):
                if value.strip() in ("", KEEP):
                    continue
                given[name] = lever.parse(value, base)
            else:
                given[name] = lever.check(value, base)
        except LeverError as exc:
            fail(str(exc))
    edit = Edit(base, scenario_to_dict(base), given)
    if errors:
        return edit, given
    for name, lever in LEVERS.items():
        if name not in given:
            continue
        why = lever.inactive(edit) if lever.inactive else None
        if why and lenient:
            continue
        if why:
            fail(f"{lever.label}: {why}")
            continue
        try:
            lever.write(edit, given[name])
        except LeverError as exc:
            fail(str(exc))
    return edit, given


def set_numbers(base: Scenario, numbers: Mapping[str, float]) -> Scenario:
    """``base`` with levers given as numbers (`Lever.from_number`); levers that cannot apply are skipped."""
    return set_levers(base, {n: _lever(n).from_number(float(x), base) for n, x in numbers.items()}, lenient=True)


def set_samples(base: Scenario, samples: Mapping[str, float]) -> Scenario:
    """``base`` with levers given in their sampling space (`Lever.bounds`: log10 for log levers)."""
    return set_levers(base, {n: _lever(n).from_sample(float(x), base) for n, x in samples.items()}, lenient=True)


def read_levers(scenario: Scenario, kinds: tuple[str, ...] = (POLICY,)) -> dict[str, Any]:
    """The value of every readable lever of ``kinds`` that ``scenario`` uses (`NOT_APPLICABLE` where none)."""
    return {lever.name: lever.read(scenario) for lever in of_kind(*kinds) if lever.read is not None}


def _lever(name: str) -> Lever:
    if name not in LEVERS:
        raise LeverError(f"unknown lever {name!r}; allowed: {', '.join(LEVERS)}{suggest(name, LEVERS)}")
    return LEVERS[name]


def check_dates(scenario: Scenario) -> None:
    """`LeverError` if a date the levers read (ban, store return, translation launch, real-name start) lies
    outside the scenario's own horizon: what the view refuses as a lever value, the command line refuses
    in a file (a launch years before the start or after the end is a typo, not a policy)."""
    for lever in of_kind(POLICY):
        if isinstance(lever.domain, Dates) and lever.read is not None:
            value = lever.read(scenario)
            if value is not None and value is not NOT_APPLICABLE:
                try:
                    lever.check(value, scenario)
                except LeverError as exc:
                    raise LeverError(f"{lever.paths[0]}: {exc}") from None


def suggest(word: str, names) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``names``, or an empty string."""
    import difflib

    close = difflib.get_close_matches(word, list(names), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
