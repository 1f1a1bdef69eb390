"""Bad input: every malformed scenario or argument gives one line naming the key, exit status 2."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.params import Scenario, iter_parameters
from sim.scenario import ScenarioError, load_scenario, scenario_to_dict, set_path, validate
from tests.conftest import ROOT, SCENARIOS

BAD_SCENARIOS = [
    ("name: x\nagnets: 5000\n", "agnets: unknown key; allowed here: name,"),
    ("name: x\nplatform:\n  translation:\n    qualty: 0.5\n", "platform.translation.qualty: unknown key"),
    ("name: x\nseed: abc\n", "seed: must be a whole number"),
    ("name: x\nagents: true\n", "agents: must be a whole number"),
    ("name: x\nplatform:\n  translation:\n    quality: 1.5\n", "platform.translation.quality: must be <= 1"),
    ("name: x\nus_users:\n  peer_influence: '0.3'\n", "us_users.peer_influence: must be a number"),
    ("name: x\nstart_date: 2025-03-01\nend_date: 2025-02-01\n", "end_date: must be after start_date"),
    ("name: x\nstart_date: 2025-13-01\n", "start_date: must be a calendar date"),
    (
        "name: x\ntimeline:\n  app_store_removals:\n    - {removed: 2025-02-01, returned: 2025-01-01}\n",
        "timeline.app_store_removals[0].returned: must be after removed",
    ),
    (
        "name: x\ntimeline:\n  enforcement_pauses:\n    - {start: 2025-02-01, until: 2025-01-01}\n",
        "timeline.enforcement_pauses[0].until: must be after start",
    ),
    ("name: x\nplatform:\n  real_name:\n    scope: all_foreign\n", "platform.real_name.start: is required"),
    ("name: x\nplatform:\n  real_name:\n    start: 2025-01-20\n", "platform.real_name.scope: is 'none' but start is set"),
    ("name: x\nnetwork:\n  kind: grid\n", "network.kind: must be one of 'communities', 'random' or 'complete'"),
    (
        "name: x\ntimeline:\n  news:\n    - {date: 2025-01-10, event: hearing}\n",
        "timeline.news[0].salience: required key is missing",
    ),
    ("name: x\ntimeline:\n  news: {date: 2025-01-10}\n", "timeline.news: must be a list"),
    (
        "name: x\ntimeline:\n  tiktok_outages:\n    - {start: 2025-01-18, hours: 0}\n",
        "timeline.tiktok_outages[0].hours: must be >= 0.01",
    ),
    ("name: x\nplatform: 3\n", "platform: must be a mapping with keys translation"),
    ("name: x\npopulation:\n  us_rednote_dau: 5.0e6\n", "population.us_rednote_dau: must not exceed us_rednote_accounts"),
    ("name: x\nstart_date: 2025-01-01\nend_date: 2029-01-01\n", "end_date: the horizon must be at most three years"),
    ("seed: 3\n", "name: required key is missing"),
    ("name: x\n1: 2\n", "1: keys must be text"),
    ("- a\n- b\n", "the document must be a mapping"),
    ("", "the file is empty"),
    ("name: x\nseed: [1, 2\n", "invalid YAML"),
    ("name: x\n  bad indent: 1\n", "invalid YAML"),
    ("extends: does_not_exist.yaml\nname: x\n", "extends: file not found"),
    ("extends: 3\nname: x\n", "extends: must be the path of another scenario file"),
]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("text", "expected"), BAD_SCENARIOS)
def test_malformed_scenario_is_one_line_exit_2_naming_the_key(text, expected, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    code, stdout, err = run_cli([str(path), "--out", str(out)], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}: ") and expected in lines[0], lines[0]
    assert "Traceback" not in err and not out.exists()


def test_circular_extends_is_reported(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    code, _, err = run_cli([str(tmp_path / "a.yaml")], capsys)
    assert code == 2 and "extends: circular inheritance" in err


BAD_ARGUMENTS = [
    (["--runs", "0"], "--runs: must be a whole number from 1"),
    (["--runs", "two"], "--runs: must be a whole number from 1"),
    (["--agents", "5"], "--agents: must be a whole number from 100"),
    (["--days", "-1"], "--days: must be a whole number from 2"),
    (["--days", "1"], "--days: must be a whole number from 2 to 1098 (got '1')"),
    (["--days", "5000"], "--days: must be a whole number from 2 to 1098"),
    (["--seed", "-3"], "--seed: must be a whole number from 0"),
    (["--workers", "0"], "--workers: must be a whole number from 1"),
    (["--bogus"], "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize(("extra", "expected"), BAD_ARGUMENTS)
def test_bad_argument_is_one_line_exit_2(extra, expected, tmp_path, capsys):
    code, _, err = run_cli([str(SCENARIOS / "historical_2025.yaml"), "--out", str(tmp_path / "o"), *extra], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "o").exists()


def test_missing_scenario_file_and_missing_argument(tmp_path, capsys):
    code, _, err = run_cli([str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "nope.yaml: file not found" in err
    code, _, err = run_cli([], capsys)
    assert code == 2 and "the following arguments are required: scenario" in err


def test_out_must_not_be_a_file(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    code, _, err = run_cli(
        [str(SCENARIOS / "no_ban.yaml"), "--out", str(target), "--agents", "500", "--days", "2", "--runs", "1"], capsys
    )
    assert code == 2 and "--out" in err and target.read_text() == "keep me"


def test_real_entry_point_prints_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nplatform:\n  walled_garden:\n    enabled: 'yes'\n")
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}: platform.walled_garden.enabled: must be true or false (got 'yes')"


# --------------------------------------------------------------------------------------------------
# Property-based: random documents give a Scenario or a clean ScenarioError, never anything else
# --------------------------------------------------------------------------------------------------
KEYS = sorted({part for path, _ in iter_parameters() for part in path.replace("[]", "").split(".")} | {"extends", "x"})
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_validate_or_fail_cleanly(doc):
    try:
        scenario = validate(doc, source="random.yaml")
    except ScenarioError as exc:
        message = str(exc)
        assert message.startswith("random.yaml: ") and "\n" not in message
    else:
        assert isinstance(scenario, Scenario)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_random_text_files_load_or_fail_cleanly(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert "\n" not in str(exc)


LEAVES = [path for path, info in iter_parameters() if "[]" not in path and info.annotation in (float, int, bool)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(LEAVES), scalars)
def test_corrupting_one_parameter_names_that_parameter(path, value):
    doc = scenario_to_dict(load_scenario(SCENARIOS / "historical_2025.yaml"))
    set_path(doc, path, value)
    try:
        validate(doc, source="h.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith(f"h.yaml: {path}: ") or str(exc).startswith("h.yaml: population."), str(exc)


# --------------------------------------------------------------------------------------------------
# Good input
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_validates_and_round_trips(path: Path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    again = validate(yaml.safe_load(yaml.safe_dump(scenario_to_dict(scenario))), source="round trip")
    assert again == scenario


def test_extends_merges_mappings_and_replaces_lists():
    base = load_scenario(SCENARIOS / "historical_2025.yaml")
    child = load_scenario(SCENARIOS / "early_translation.yaml")
    assert child.platform.translation.start == dt.date(2025, 1, 13)
    assert child.platform.translation.quality == base.platform.translation.quality  # merged, not replaced
    assert child.timeline == base.timeline
    assert load_scenario(SCENARIOS / "no_ban.yaml").timeline.news == []  # lists replace


def test_command_line_overrides():
    s = load_scenario(SCENARIOS / "historical_2025.yaml", overrides={"seed": 5, "agents": 1000, "days": 10})
    assert (s.seed, s.agents, s.days, s.end_date) == (5, 1000, 10, dt.date(2025, 1, 10))


def test_default_historical_runs_from_1_january_to_30_june():
    s = load_scenario(SCENARIOS / "historical_2025.yaml")
    assert s.start_date == dt.date(2025, 1, 1) and s.end_date >= dt.date(2025, 6, 30)


def test_scenario_file_text_is_readable_example():
    text = textwrap.dedent((SCENARIOS / "strict_real_name.yaml").read_text())
    assert "extends: historical_2025.yaml" in text


def test_workers_and_scheduler_are_exclusive_and_the_address_is_checked(capsys):
    code, _, err = run_cli([str(SCENARIOS / "no_ban.yaml"), "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], capsys)
    assert code == 2 and "not allowed with argument" in err
    code, _, err = run_cli([str(SCENARIOS / "no_ban.yaml"), "--scheduler", "localhost"], capsys)
    assert code == 2 and "--scheduler: must be a Dask scheduler address like tcp://" in err


def test_a_model_too_big_for_memory_is_refused_with_the_largest_size_that_fits(tmp_path, capsys, monkeypatch):
    from sim import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * 1024**3)
    code, _, err = run_cli(
        [str(SCENARIOS / "no_ban.yaml"), "--agents", "5000000", "--runs", "1", "--out", str(tmp_path / "o")], capsys
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--agents: 5,000,000 agents need about" in err and "the largest size that fits is about" in err
    fits = int(err.split("fits is about ")[1].split(" agents")[0].replace(",", ""))
    follows = memory.follows_per_agent(load_scenario(SCENARIOS / "no_ban.yaml"))  # the largest of the posterior's draws
    assert follows > memory.DEFAULT_FOLLOWS_PER_AGENT
    assert memory.check_fits(fits, available=2 * 1024**3, follows_each=follows) is None
    assert memory.check_fits(fits * 2, available=2 * 1024**3, follows_each=follows)
    assert not (tmp_path / "o").exists()


def test_view_arguments_are_checked_before_anything_starts(tmp_path, capsys):
    """``run.py view``: a bad port, a bad scenario file or a port in use is one line, exit 2, no server."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nagnets: 3\n")
    cases = [
        (["--port", "abc"], "run.py view: argument --port: must be a whole number from 1 to 65535 (got 'abc')"),
        (["--port", "70000"], "argument --port: must be a whole number from 1 to 65535"),
        (["--scenario", str(tmp_path / "nope.yaml")], "nope.yaml: file not found"),
        (["--scenario", str(bad)], f"{bad}: agnets: unknown key"),
    ]
    for extra, expected in cases:
        code, _, err = run_cli(["view", *extra], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli(["view", "--port", str(port)], capsys)
    assert code == 2 and f"argument --port: {port} is already in use on 127.0.0.1; choose another port" in err


def test_a_shipped_scenario_copied_elsewhere_still_finds_what_it_extends(tmp_path):
    import shutil

    copy = tmp_path / "mine.yaml"
    shutil.copy(SCENARIOS / "historical_2025.yaml", copy)
    assert load_scenario(copy) == load_scenario(SCENARIOS / "historical_2025.yaml")
    (tmp_path / "other.yaml").write_text("extends: no_such_parent.yaml\nname: other\n")
    with pytest.raises(ScenarioError, match="extends"):
        load_scenario(tmp_path / "other.yaml")


@pytest.mark.parametrize(
    "args, expected",
    [(["--targets", "no-such-revision"], "--targets: 'no-such-revision' is not a commit"),
     (["--before", "no-such-revision"], "--before: 'no-such-revision' is not a commit"),
     (["--before", "HEAD", "--repeat", "0"], "--repeat: must be at least 1"),
     (["--big"], "--big: only with --targets REF")],
)  # fmt: skip
def test_the_benchmark_refuses_a_revision_it_cannot_find_with_exit_2(args, expected):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_scale.py"), *args], capture_output=True, text=True)
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr
