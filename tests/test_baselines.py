"""Exact regression baselines: a few short runs whose key series must not move.

The behaviour tests have tolerances wide enough for a refactor that shifts every number by a few per
cent to pass them; these do not. Each case is a shipped scenario at a small size, run once; its daily
series of the `KEY_SERIES` and its headline metrics are stored in ``tests/baselines.json`` together with
the parameter-set version (`sim.params.PARAMETER_SET_VERSION`) they were made with, and compared to a
relative tolerance of 1e-9 (float64 sums of float32 state: exact on one machine, a hair of room for
another BLAS).

Changing these numbers is a deliberate act. When a change to the model is meant to move them, regenerate
the file and say why (the reason is stored in the file and goes in the commit message):

    python tests/test_baselines.py --update --why "exodus: daily use as a choice (issue 12)"
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: python tests/test_baselines.py --update
    sys.path.insert(0, str(ROOT))

from sim.ensemble import run_one  # noqa: E402
from sim.params import PARAMETER_SET_VERSION  # noqa: E402
from tests.conftest import small  # noqa: E402

BASELINE_FILE = Path(__file__).with_name("baselines.json")
RTOL = 1e-9

CASES: dict[str, dict] = {
    # case: arguments of tests.conftest.small (scenario, agents, days) and the run index
    "historical_2025": {"name": "historical_2025", "agents": 6000, "days": 75, "run": 0},
    "strict_real_name": {"name": "strict_real_name", "agents": 6000, "days": 40, "run": 1},
    "walled_garden": {"name": "walled_garden", "agents": 6000, "days": 40, "run": 2},
}
KEY_SERIES = (
    "us_rednote_dau",
    "us_rednote_signups",
    "us_rednote_reactivations",
    "us_tiktok_dau",
    "us_other_dau",
    "cn_views_of_us_posts",
    "cn_hashtag_views",
    "cn_welcoming_share",
    "cross_cultural_ties",
    "complaints",
    "posts_held",
    "posts_removed",
    "review_backlog",
    "review_capacity",
    "accounts_banned",
    "wrongful_bans",
    "accounts_blocked_unverified",
)


def compute(case: str) -> dict:
    """The stored content of one case: its key series and headline metrics."""
    spec = CASES[case]
    result = run_one(small(spec["name"], agents=spec["agents"], days=spec["days"]), run=spec["run"])
    return {
        "series": {k: [float(v) for v in result.series[k]] for k in KEY_SERIES},
        "metrics": {k: (None if not np.isfinite(v) else float(v)) for k, v in sorted(result.metrics.items())},
    }


def load() -> dict:
    return json.loads(BASELINE_FILE.read_text())


def _close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return abs(actual - expected) <= RTOL * max(abs(expected), 1.0)


def _check(case: str) -> None:
    stored = load()
    assert stored["parameter_set"] == PARAMETER_SET_VERSION, (
        f"baselines were made with parameter set {stored['parameter_set']}, the code is {PARAMETER_SET_VERSION}: "
        "regenerate them (python tests/test_baselines.py --update --why ...)"
    )
    expected, actual = stored["cases"][case], compute(case)
    for name, values in expected["series"].items():
        bad = [d for d, (a, e) in enumerate(zip(actual["series"][name], values)) if not _close(a, e)]
        assert not bad, (
            f"{case}: {name} moved from day {bad[0]} on: {actual['series'][name][bad[0]]!r} vs stored {values[bad[0]]!r}"
        )
    for name, value in expected["metrics"].items():
        assert _close(actual["metrics"][name], value), f"{case}: {name} = {actual['metrics'][name]!r} vs stored {value!r}"


def test_baseline_historical_2025():
    _check("historical_2025")


def test_baseline_strict_real_name():
    _check("strict_real_name")


def test_baseline_walled_garden():
    _check("walled_garden")


def test_baselines_cover_every_case_and_nothing_else():
    stored = load()["cases"]
    assert set(stored) == set(CASES)
    assert all(set(c["series"]) == set(KEY_SERIES) for c in stored.values())


def test_the_baseline_check_catches_a_small_shift(monkeypatch):
    """Counts one part in a million larger (the US population scaled by 1 + 1e-6) must fail the comparison."""
    original = small

    def nudged(*args, **kwargs):
        s = original(*args, **kwargs)
        population = s.population.model_copy(update={"us_people": s.population.us_people * (1 + 1e-6)})
        return s.model_copy(update={"population": population})

    monkeypatch.setitem(globals(), "small", nudged)
    with pytest.raises(AssertionError, match="moved from day|vs stored"):
        _check("strict_real_name")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate tests/baselines.json (a deliberate act: say why).")
    parser.add_argument("--update", action="store_true", required=True, help="recompute and write every case")
    parser.add_argument("--why", required=True, help="why the numbers change (stored in the file)")
    args = parser.parse_args(argv)
    doc = {
        "parameter_set": PARAMETER_SET_VERSION,
        "generated": dt.date.today().isoformat(),
        "why": args.why,
        "cases": {case: compute(case) for case in CASES},
    }
    BASELINE_FILE.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {BASELINE_FILE} ({len(CASES)} cases, parameter set {PARAMETER_SET_VERSION})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
