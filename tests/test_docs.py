"""Documentation matches the code: the ODD parameter table, the step order, the README's commands."""

from __future__ import annotations

import re

import sim.model
from sim import docs
from sim.model import REPORTERS
from sim.params import iter_parameters
from tests.conftest import ROOT


def test_every_schema_parameter_is_in_the_odd_table():
    text = (ROOT / "docs" / "ODD.md").read_text()
    table = text.split(docs.BEGIN)[1].split(docs.END)[0]
    listed = set(re.findall(r"^\| `([^`]+)` \|", table, flags=re.M))
    expected = {path for path, _ in iter_parameters() if not path.startswith(docs.SKIP_PREFIXES)}
    assert expected - listed == set(), "missing from docs/ODD.md"
    assert listed - expected == set(), "in docs/ODD.md but not in the schema"


def test_odd_parameter_table_is_up_to_date():
    """Run `python -m sim.docs` after changing a default, range, source or the historical fit."""
    text = (ROOT / "docs" / "ODD.md").read_text()
    assert docs.updated_odd(text) == text


def test_odd_and_model_docstring_list_the_same_stages_in_the_same_order():
    stages = ["events", "regulator", "exposure", "decisions", "graph", "recording"]
    model_doc = sim.model.__doc__
    odd = (ROOT / "docs" / "ODD.md").read_text().split("## 3. Process overview")[1].split("## 4.")[0]
    for text in (model_doc, odd):
        positions = [text.find(s) for s in stages]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), stages


def test_readme_documents_the_two_commands_and_the_required_columns():
    readme = (ROOT / "README.md").read_text()
    assert ".venv/bin/python run.py scenarios/historical_2025.yaml" in readme
    assert '.venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest' in readme
    assert (ROOT / ".ci" / "run").read_text().count('.venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest') == 1
    for column in ("us_rednote_dau", "us_rednote_signups", "cross_cultural_ties", "cn_welcoming_share"):
        assert column in readme and column in REPORTERS
