"""Correctness oracle: a one-object-per-agent Mesa model of the same rules (tests/oracle_model.py,
written from docs/ODD.md with plain loops) gives the same distributions of outcomes as the vectorized
MigrationModel. Seeds are fixed, so the comparison is deterministic."""

from __future__ import annotations

import numpy as np

from sim.model import MigrationModel
from tests.conftest import small
from tests.oracle_model import OracleModel

RUNS = 12
"""Cross-cultural ties are heavy-tailed (a few creators draw most follows): with 8 runs a seed set can leave a
3.7-SE gap (seeds 0-7 at parameter set 2025.4; 24 runs of the model before and after the change of random
numbers agreed within 2 SE)."""
METRICS = ["us_rednote_dau", "us_rednote_signups", "cross_cultural_ties", "posts_removed", "us_tiktok_dau"]


def test_vectorized_model_and_object_oracle_agree_in_distribution():
    s = small(agents=6000, days=30)
    oracle = {k: [] for k in METRICS}
    vector = {k: [] for k in METRICS}
    for run in range(RUNS):
        o = OracleModel(s, run)
        o.run()
        m = MigrationModel(s, run)
        m.run()
        for k in METRICS:
            oracle[k].append(sum(o.series[k]))
            vector[k].append(sum(m.datacollector.model_vars[k]))
    for k in METRICS:
        a, b = np.array(oracle[k]), np.array(vector[k])
        assert not np.array_equal(a, b)  # independent random numbers: only distributions can agree
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean()) < 3.5 * se, (k, a.mean(), b.mean(), se)
        # and no gross scale error, beyond what the noise of rare events (a few removed posts a run) allows
        assert abs(a.mean() / b.mean() - 1) < 0.35 + 2 * se / b.mean(), k
