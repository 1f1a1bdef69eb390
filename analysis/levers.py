"""Policy levers and uncertain behavioural parameters as named numeric factors.

A factor maps one number to changes in a scenario, so that sensitivity analysis (SALib) and policy
search (optuna) can vary "translation start" or "ban length" like any parameter. Behavioural factors
scale or shift the calibrated value of the base scenario.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sim.params import Scenario
from sim.scenario import deep_merge, scenario_to_dict, validate

SURGE_DAY = dt.date(2025, 1, 13)


@dataclass(frozen=True)
class Factor:
    name: str
    lower: float
    upper: float
    kind: str  # "lever" (a platform or US policy) or "behaviour" (an uncertain parameter)
    description: str
    apply: Callable[[Scenario, float, dict], None]  # writes into the scenario document (dict)


def _set(doc: dict, path: str, value) -> None:
    node = doc
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _translation_start(s: Scenario, v: float, doc: dict) -> None:
    _set(doc, "platform.translation.start", _iso(SURGE_DAY + dt.timedelta(days=round(v))))
    _set(doc, "platform.translation.grey_test_start", None)


def _ban_length(s: Scenario, v: float, doc: dict) -> None:
    """TikTok dark from 22:30 on 18 Jan for v days (the stores follow: back when TikTok is)."""
    hours = max(v * 24.0, 0.5)
    doc["timeline"]["tiktok_outages"] = [{"start": "2025-01-18", "start_hour": 22.5, "hours": hours}]
    back = dt.date(2025, 1, 18) + dt.timedelta(days=max(round(v), 1))
    doc["timeline"]["app_store_removals"] = [{"removed": "2025-01-18", "returned": _iso(max(back, dt.date(2025, 2, 13)))}]


def _scale(path: str) -> Callable[[Scenario, float, dict], None]:
    def apply(s: Scenario, v: float, doc: dict) -> None:
        node = s
        for part in path.split("."):
            node = getattr(node, part)
        _set(doc, path, float(node) * v)

    return apply


def _shift(path: str) -> Callable[[Scenario, float, dict], None]:
    def apply(s: Scenario, v: float, doc: dict) -> None:
        node = s
        for part in path.split("."):
            node = getattr(node, part)
        _set(doc, path, float(node) + v)

    return apply


def _direct(path: str, transform: Callable[[float], float] = float) -> Callable[[Scenario, float, dict], None]:
    return lambda s, v, doc: _set(doc, path, transform(v))


FACTORS: dict[str, Factor] = {
    f.name: f
    for f in [
        Factor("ban_length_days", 0.5, 180.0, "lever", "days TikTok stays dark from 18 Jan (180 = for the whole horizon)", _ban_length),
        Factor("translation_start_day", 0.0, 45.0, "lever", "days after 13 Jan that translation reaches everyone", _translation_start),
        Factor("translation_quality", 0.3, 1.0, "lever", "share of the language barrier translation removes", _direct("platform.translation.quality")),
        Factor("review_capacity_log10", 4.5, 6.5, "lever", "log10 of manual reviews per day", _direct("platform.moderation.review_capacity", lambda v: 10**v)),
        Factor("cross_feed_visibility", 0.05, 1.0, "lever", "reach of foreign posts among Chinese users (walled garden < 1)",
               lambda s, v, doc: (_set(doc, "platform.walled_garden.enabled", v < 0.999), _set(doc, "platform.walled_garden.cross_visibility", v))),
        Factor("peer_influence_x", 0.5, 2.0, "behaviour", "peer influence, times its calibrated value", _scale("us_users.peer_influence")),
        Factor("join_salience_rate_x", 0.5, 2.0, "behaviour", "news-driven joining, times its calibrated value", _scale("us_users.join_salience_rate")),
        Factor("habit_shift", -1.0, 1.0, "behaviour", "utility constant of staying, plus this", _shift("us_users.habit")),
        Factor("w_language", 1.0, 4.0, "behaviour", "utility weight of language friction", _direct("us_users.w_language")),
        Factor("w_tiktok", 0.5, 3.0, "behaviour", "utility weight of a working TikTok", _direct("us_users.w_tiktok")),
        Factor("w_engagement", 0.2, 2.0, "behaviour", "utility weight of replies received", _direct("us_users.w_engagement")),
    ]
}  # fmt: skip


def apply_factors(base: Scenario, values: dict[str, float]) -> Scenario:
    """The base scenario with factor values applied (validated: a bad value is a clear error)."""
    doc = scenario_to_dict(base)
    for name, value in values.items():
        FACTORS[name].apply(base, float(value), doc)
    return validate(doc, source=f"{base.name} with {', '.join(f'{k}={v:.3g}' for k, v in values.items())}")


def with_levers(base: Scenario, changes: dict) -> Scenario:
    """The base scenario with a nested mapping of changes merged in."""
    return validate(deep_merge(scenario_to_dict(base), changes), source=f"{base.name} (policy)")
