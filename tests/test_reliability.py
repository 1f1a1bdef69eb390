"""Issue 15: outputs are never lost or clobbered, hostile input is refused quickly, failures are one line.

Output safety (marker, refusals, --overwrite), a kill at every rename of the final write, stale
leftovers, corrupt checkpoints, a full disk (a small tmpfs, where the machine allows mounting one),
workers that must not outlive their parent, and property-based malformed arguments for every command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import cli, staging
from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT, SCENARIOS

RUN = [sys.executable, str(ROOT / "run.py")]
TINY = ["--agents", "1000", "--days", "6", "--runs", "1", "--quiet"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# --------------------------------------------------------------------------------------------------
# Output safety
# --------------------------------------------------------------------------------------------------
def test_a_folder_the_user_made_is_refused_before_any_work(tmp_path, capsys):
    docs = tmp_path / "mydocs"
    docs.mkdir()
    (docs / "thesis.txt").write_text("x")
    assert main([str(SCENARIOS / "historical_2025.yaml"), *TINY, "--out", str(docs)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "is not empty and is not a result of this tool" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydocs"] and (docs / "thesis.txt").read_text() == "x"
    # not even --overwrite replaces something this tool did not write
    assert main([str(SCENARIOS / "historical_2025.yaml"), *TINY, "--out", str(docs), "--overwrite"]) == 2
    assert (docs / "thesis.txt").read_text() == "x"


def test_an_empty_folder_is_used_and_an_earlier_result_is_replaced_only_when_asked(tmp_path, capsys):
    out = tmp_path / "res"
    out.mkdir()
    args = [str(SCENARIOS / "no_ban.yaml"), *TINY, "--out", str(out)]
    assert main(args) == 0 and staging.read_marker(out)["command"] == "run"
    before = (out / "timeseries.csv").read_text()
    assert main(args) == 0  # the same command again: the same options, replaced without asking
    assert (out / "timeseries.csv").read_text() == before
    assert main([*args, "--seed", "3"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "holds an earlier result made with other options (seed 20250113 -> 3" in line and "--overwrite" in line
    assert (out / "timeseries.csv").read_text() == before
    assert main([*args, "--seed", "3", "--overwrite"]) == 0
    assert (out / "timeseries.csv").read_text() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no leftovers


def test_the_default_output_folder_is_not_silently_replaced_with_other_options(tmp_path, monkeypatch, capsys):
    """Issue 16: a run with other options goes to a folder named after what differs; nothing is replaced."""
    monkeypatch.chdir(tmp_path)
    args = [str(SCENARIOS / "no_ban.yaml"), *TINY]
    assert main(args) == 0
    first = tmp_path / "results" / "no_ban-runs1-agents1000-days6"
    assert json.loads((first / "summary.json").read_text())["end_date"] == "2025-01-06"
    assert main([*args[:-1], "--days", "7"]) == 0
    second = tmp_path / "results" / "no_ban-runs1-agents1000-days7"
    assert json.loads((second / "summary.json").read_text())["end_date"] == "2025-01-07"
    assert json.loads((first / "summary.json").read_text())["end_date"] == "2025-01-06"


@pytest.mark.parametrize(
    "name",
    ["''", "/some/abs/path", "../x", '"a\\0b"', "x" * 300, ".hidden", "a/b", '"a\\nb"'],
    ids=["empty", "absolute", "dotdot", "nul", "long", "hidden", "slash", "newline"],
)
def test_scenario_names_must_be_plain_file_names(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: {name}\n")
    assert main([str(path), *TINY]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{path}: name: must be a plain file name" in line and len(line) < 400
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize("where", ["root", "under_a_file", "a_file", "symlink"])
def test_impossible_output_places_are_refused_before_any_work(where, tmp_path, capsys, monkeypatch):
    (tmp_path / "f").write_text("keep")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    out = {
        "root": "/",
        "under_a_file": str(tmp_path / "f" / "x"),
        "a_file": str(tmp_path / "f"),
        "symlink": str(tmp_path / "link"),
    }
    from sim.model import MigrationModel

    def no_model(*args, **kwargs):
        raise AssertionError("a model was built before the output place was checked")

    monkeypatch.setattr(MigrationModel, "__init__", no_model)  # refused before any run (serial: in this process)
    for command in (["compare", str(SCENARIOS / "no_ban.yaml"), str(SCENARIOS / "permanent_ban.yaml")], []):
        argv = [*command, *([] if command else [str(SCENARIOS / "no_ban.yaml")]), *TINY, "--serial", "--out", out[where]]
        assert main(argv) == 2
        assert "argument --out" in one_error_line(capsys.readouterr().err)
    assert (tmp_path / "f").read_text() == "keep" and not any((tmp_path / "real").iterdir())


def test_a_read_only_folder_is_refused_before_any_work(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(ro)], capture_output=True).returncode:
        pytest.skip("cannot mount a read-only file system here")
    try:
        for argv in ([str(SCENARIOS / "no_ban.yaml"), *TINY], ["optimize", "--trials", "2", "--agents", "1000"]):
            assert main([*argv, "--out", str(ro / "x")]) == 2
            assert "is not writable" in one_error_line(capsys.readouterr().err)
    finally:
        subprocess.run(["umount", str(ro)], check=True)


# --------------------------------------------------------------------------------------------------
# A kill at every rename; stale leftovers
# --------------------------------------------------------------------------------------------------
KILL_AT = """
import os, sys
from sim import staging
count = 0
real = staging._rename
def rename(src, dst):
    global count
    count += 1
    if count == int(os.environ["KILL_AT"]):
        os._exit(9)
    real(src, dst)
staging._rename = rename
from sim.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_at_every_rename_leaves_the_old_or_the_new_result_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "res"
    old_args = [str(SCENARIOS / "no_ban.yaml"), *TINY, "--out", str(out)]
    new_args = [*old_args, "--seed", "5", "--overwrite"]
    assert main(old_args) == 0
    old = (out / "timeseries.csv").read_text()
    assert main([*old_args, "--seed", "5", "--out", str(tmp_path / "expected")]) == 0
    new = (tmp_path / "expected" / "timeseries.csv").read_text()
    renames = 4  # the run's checkpoint, the marker, the earlier result out of the way, the new one in
    for k in range(1, renames + 2):
        proc = subprocess.run([sys.executable, "-c", KILL_AT, *new_args], env={**ENV, "KILL_AT": str(k)}, cwd=tmp_path)
        assert proc.returncode == (9 if k <= renames else 0), k
        # the earlier result or the new one is in place, whole (or it waits in .old for the next run)
        if out.exists():
            assert (out / "timeseries.csv").read_text() in (old, new) and staging.read_marker(out)
        else:
            assert k == renames and len(list(tmp_path.glob(".res.old-*"))) == 1
        staging.recover(out)  # what the next run does first
        assert (out / "timeseries.csv").read_text() == (new if k > renames else old), k
        assert not list(tmp_path.glob(".res.old-*")) and not list(tmp_path.glob(".res.partial-*")), k
        if k <= renames:  # start again from the earlier result
            assert main(old_args + ["--overwrite"]) == 0


def test_stale_leftovers_of_dead_writers_are_restored_or_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    out = tmp_path / "res"
    assert main([str(SCENARIOS / "no_ban.yaml"), *TINY, "--out", str(out)]) == 0
    earlier = (out / "timeseries.csv").read_text()
    out.rename(tmp_path / f".res.old-{pid}")  # killed between the two renames
    (tmp_path / f".res.partial-{pid}").mkdir()  # killed while writing
    (tmp_path / f".res.partial-{pid}" / "timeseries.csv").write_text("half")
    live = tmp_path / f".res.partial-{os.getppid()}"  # a live process's staging folder is left alone
    live.mkdir()
    assert main([str(SCENARIOS / "no_ban.yaml"), *TINY, "--out", str(out), "--seed", "4"]) == 2  # refused, but recovered
    assert (out / "timeseries.csv").read_text() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["res", live.name])


def test_a_corrupt_checkpoint_is_recomputed_not_fatal(tmp_path, capsys):
    from sim.ensemble import fingerprint, run_one, save_checkpoint

    s = load_scenario(SCENARIOS / "no_ban.yaml", overrides={"agents": 1000, "days": 6})
    saved = tmp_path / ".r.runs"
    save_checkpoint(saved, s, run_one(s, 0))
    save_checkpoint(saved, s, run_one(s, 1))
    path = saved / f"{fingerprint(s)}-run00001.npz"
    path.write_bytes(path.read_bytes()[:300])  # truncated by a kill or a full disk
    (saved / f".{fingerprint(s)}-run00002.npz.partial-999999999").write_bytes(b"junk")
    args = [str(SCENARIOS / "no_ban.yaml"), "--agents", "1000", "--days", "6", "--runs", "3", "--serial"]
    assert main([*args, "--out", str(tmp_path / "r"), "--resume"]) == 0
    assert "resuming: 1 of 3 runs were saved" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "fresh"), "--quiet"]) == 0
    assert (tmp_path / "r" / "timeseries.csv").read_text() == (tmp_path / "fresh" / "timeseries.csv").read_text()


# --------------------------------------------------------------------------------------------------
# Failures during the work
# --------------------------------------------------------------------------------------------------
def test_a_full_disk_ends_with_one_line_and_the_command_to_resume(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small file system here")
    try:
        small = [str(SCENARIOS / "no_ban.yaml"), "--agents", "1000", "--days", "4", "--runs", "1", "--quiet", "--serial"]
        first = subprocess.run([*RUN, *small, "--out", str(disk / "a")], capture_output=True, text=True, env=ENV)
        assert first.returncode == 0, first.stderr
        kept = {p: p.read_bytes() for p in (disk / "a").rglob("*") if p.is_file()}
        big = [*small[:3], "--days", "120", "--runs", "3", "--quiet", "--serial", "--out", str(disk / "b")]
        proc = subprocess.run([*RUN, *big], capture_output=True, text=True, env=ENV)
        assert proc.returncode == 1
        line = one_error_line(proc.stderr)
        assert "No space left on device" in line and "--resume" in line
        assert {p: p.read_bytes() for p in (disk / "a").rglob("*") if p.is_file()} == kept  # earlier result intact
        assert not (disk / "b").exists() and not list(disk.glob(".b.partial-*"))
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_workers_and_the_resource_tracker_do_not_outlive_a_killed_parent(tmp_path):
    import psutil

    args = [str(SCENARIOS / "historical_2025.yaml"), "--agents", "20000", "--days", "150", "--runs", "4", "--quiet"]
    proc = subprocess.Popen([*RUN, *args, "--out", str(tmp_path / "o")], env=ENV, cwd=tmp_path)
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 60
    while time.time() < deadline and len(parent.children()) < 3:  # two workers and the resource tracker
        time.sleep(0.1)
    children = parent.children(recursive=True)
    assert len(children) >= 2
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, as an OOM killer or a user would
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.cmdline()[:3] for p in alive]


def test_an_unreachable_scheduler_is_one_line_within_seconds(tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    code = main([str(SCENARIOS / "no_ban.yaml"), *TINY[:-3], "--runs", "2", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--out", str(tmp_path / "o")])  # fmt: skip
    assert code == 2 and time.perf_counter() - started < 15
    assert "argument --scheduler: no Dask scheduler answered" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o").exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", str(SCENARIOS / "no_ban.yaml"), str(SCENARIOS / "permanent_ban.yaml")],
        ["validate"],
        ["sensitivity"],
        ["optimize"],
        ["calibrate", str(SCENARIOS / "historical_2025.yaml"), "--fit-file", "fit.yaml"],
        [str(SCENARIOS / "no_ban.yaml")],
    ],
    ids=lambda a: a[0] if a[0] in cli.COMMANDS else "run",
)
def test_every_command_refuses_a_model_too_big_for_memory_at_once(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    started = time.perf_counter()
    assert main([*argv, "--agents", "200000000"]) == 2
    assert time.perf_counter() - started < 5
    assert "argument --agents: 200,000,000 agents need about" in one_error_line(capsys.readouterr().err)
    assert not any(tmp_path.rglob("*"))


def test_the_memory_estimate_counts_follows():
    from sim import memory

    base = load_scenario(SCENARIOS / "historical_2025.yaml", overrides={"agents": 1_000_000})
    dense = base.model_copy(update={"network": base.network.model_copy(update={"us_mean_following": 500.0})})
    assert memory.estimate_bytes(1_000_000, memory.follows_per_agent(base)) < 0.8 * 1024**3
    assert memory.estimate_bytes(1_000_000, memory.follows_per_agent(dense)) > 3.4 * 1024**3  # measured 3.4 GB


# --------------------------------------------------------------------------------------------------
# Validated values the model can run; hostile files
# --------------------------------------------------------------------------------------------------
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("timeline:\n  tiktok_outages:\n    - {start: 2025-01-18, hours: .inf}\n", "hours: must be <= 1000000"),
        ("timeline:\n  tiktok_outages:\n    - {start: 2025-01-18, hours: 1e12}\n", "hours: must be <= 1000000"),
        ("timeline:\n  tiktok_outages:\n    - {start: 2025-01-18, hours: 1e300}\n", "hours: must be <= 1000000"),
        ("timeline:\n  tiktok_outages:\n    - {start: 9999-12-31, hours: 5}\n", "start: must be a calendar date from 1900-01-01"),
        ("start_date: 9999-12-01\nend_date: 9999-12-30\n", "start_date: must be a calendar date from 1900-01-01"),
        ("agents: 60000\nnetwork: {kind: complete}\n", "network.kind: 'complete' is for limit checks of at most 5,000"),
        ("seed: 1\nseed: 2\n", "line 3: invalid YAML (duplicate key 'seed')"),
        ('"bad\\x1b[31m\\nkey": 1\n', "bad\\x1b[31m\\nkey: unknown key"),
        ("junk:\n" + textwrap.indent(BOMB, "  "), "invalid YAML (the document expands to more than 100,000 values"),
        ("junk:\n" + textwrap.indent(BOMB, "  ") + "description: *i\n", "expands to more than 100,000 values"),
        ("junk:\n" + textwrap.indent(BOMB, "  ") + "timeline:\n  news: *i\n", "expands to more than 100,000 values"),
        ("extends: bomb.yaml\n", "bomb.yaml: invalid YAML (the document expands to more than 100,000 values"),
        ("extends: /dev/zero\n", "extends: not a regular file (a device, pipe or socket): /dev/zero"),
        ("extends: /\n", "extends: a folder, not a scenario file: /"),
    ],
)
def test_values_the_model_cannot_run_and_hostile_files_are_refused_quickly(text, expected, tmp_path, capsys):
    (tmp_path / "bomb.yaml").write_text("name: b\n" + BOMB)
    path = tmp_path / "s.yaml"
    path.write_text("name: x\n" + text)
    started = time.perf_counter()
    assert main([str(path), "--days", "6", "--runs", "1", "--out", str(tmp_path / "o")]) == 2  # the file's own size
    assert time.perf_counter() - started < 5
    line = one_error_line(capsys.readouterr().err)
    assert expected in line and len(line) < 700, line
    assert not (tmp_path / "o").exists()


def test_scenario_files_must_be_small_regular_files(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text("name: x\ndescription: " + "a" * 2_000_000 + "\n")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    cases = [("/dev/zero", "not a regular file"), (str(fifo), "not a regular file"), (str(tmp_path), "a folder"),
             (str(big), "larger than the 1,000,000-byte limit")]  # fmt: skip
    for path, expected in cases:
        started = time.perf_counter()
        assert main([path, *TINY]) == 2
        assert time.perf_counter() - started < 3 and expected in one_error_line(capsys.readouterr().err)


def test_summary_json_is_strict_json_with_null_for_undefined_retention(tmp_path):
    out = tmp_path / "o"
    assert main([str(SCENARIOS / "no_ban.yaml"), *TINY, "--out", str(out)]) == 0

    def refuse(name):
        raise AssertionError(f"bare {name} in summary.json")

    summary = json.loads((out / "summary.json").read_text(), parse_constant=refuse)
    assert summary["metrics"]["retention_day90"]["median"] is None and summary["per_run"][0]["retention_day90"] is None


def test_serial_runs_equal_parallel_runs_and_defaults_work_from_any_folder(tmp_path, monkeypatch):
    args = [str(SCENARIOS / "no_ban.yaml"), "--agents", "1000", "--days", "6", "--runs", "2", "--quiet"]
    assert main([*args, "--serial", "--out", str(tmp_path / "s")]) == 0
    assert main([*args, "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "s" / "timeseries.csv").read_text() == (tmp_path / "p" / "timeseries.csv").read_text()
    monkeypatch.chdir(tmp_path)  # not the repository: the default scenario is found anyway
    assert (
        main(["optimize", "--trials", "2", "--runs-per-trial", "1", "--agents", "1000", "--days", "92", "--serial", "--quiet"])
        == 0
    )
    assert (tmp_path / "results" / "optimize" / "optimize.md").exists()


# --------------------------------------------------------------------------------------------------
# calibrate: one set, resumable
# --------------------------------------------------------------------------------------------------
CAL = [
    str(SCENARIOS / "historical_2025.yaml"),
    "--method",
    "search",
    "--budget",
    "2",
    "--runs-per-point",
    "1",
    "--agents",
    "1000",
    "--serial",
    "--quiet",
]


def test_calibrate_resumes_and_writes_the_fit_and_report_as_one_set(tmp_path, monkeypatch, capsys):
    import sim.calibration

    fit, report = tmp_path / "fit.yaml", tmp_path / "report"
    where = ["--fit-file", str(fit), "--report", str(report)]
    real = sim.calibration.fit_document

    def killed(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.calibration, "fit_document", killed)
    assert main(["calibrate", *CAL, *where]) == 130
    assert "--resume" in capsys.readouterr().err and not fit.exists() and not report.exists()
    monkeypatch.setattr(sim.calibration, "fit_document", real)
    assert main(["calibrate", *CAL[:-1], *where, "--resume"]) == 0
    assert "evaluations were reused" in capsys.readouterr().err
    assert main(["calibrate", *CAL, "--fit-file", str(tmp_path / "fresh.yaml"), "--report", str(tmp_path / "r2")]) == 0
    body = fit.read_text().split("\n", 1)[1]  # all but the line naming the command
    assert body == (tmp_path / "fresh.yaml").read_text().split("\n", 1)[1]  # resumed equals uninterrupted
    assert (report / "fit.yaml").read_text() == fit.read_text() and not (report / cli.PENDING_FIT).exists()

    # killed between the report's swap and the fit file's: the next calibrate completes the set first
    fit.unlink()
    (report / cli.PENDING_FIT).write_text(f"{fit}\n")
    cli.finish_calibration(report)
    assert fit.read_text() == (report / "fit.yaml").read_text() and not (report / cli.PENDING_FIT).exists()

    # a fit file calibrate did not write is never replaced; its own, with other options, only with --overwrite
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n")
    assert main(["calibrate", *CAL, "--fit-file", str(mine), "--report", str(tmp_path / "r3")]) == 2
    assert "was not written by calibrate" in one_error_line(capsys.readouterr().err) and mine.read_text() == "name: mine\n"
    assert main(["calibrate", *CAL, "--seed", "1", *where]) == 2
    assert "other options" in one_error_line(capsys.readouterr().err)


# --------------------------------------------------------------------------------------------------
# Property-based: malformed arguments of every command are refused with one line before any work
# --------------------------------------------------------------------------------------------------
class Reached(Exception):
    """The command got past every check and asked for an executor: the work would start here."""


FLAG_VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "abc", "", "1e3", "99999999999999999999", "nan", "\x00", "tcp://x", "/", "."]),
    st.text(max_size=8),
)
FLAGS = ["--runs", "--seed", "--agents", "--days", "--workers", "--scheduler", "--out", "--budget", "--runs-per-point",
         "--samples", "--method", "--trials", "--runs-per-trial", "--scenario", "--port", "--fit-file", "--report",
         "--serial", "--overwrite", "--resume", "--quiet", "--bogus"]  # fmt: skip
COMMAND_HEADS = [[], ["compare"], ["validate"], ["sensitivity"], ["optimize"], ["calibrate"]]
SCENARIO_ARGS = st.sampled_from([str(SCENARIOS / "no_ban.yaml"), "nope.yaml", "/dev/zero", "", "-", "scenarios"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    head=st.sampled_from(COMMAND_HEADS),
    positional=st.lists(SCENARIO_ARGS, max_size=3),
    flags=st.lists(st.tuples(st.sampled_from(FLAGS), FLAG_VALUES), max_size=4),
)
def test_random_arguments_of_every_command_are_refused_with_one_line_or_reach_the_work(
    head, positional, flags, tmp_path_factory, monkeypatch, capsys
):
    where = tmp_path_factory.mktemp("args")
    monkeypatch.chdir(where)

    def reached(*_a, **_k):
        raise Reached

    monkeypatch.setattr(cli, "executor", reached)
    argv = [*head, *positional]
    for flag, value in flags:
        argv += [flag] if flag in ("--serial", "--overwrite", "--resume", "--quiet") else [flag, value]
    capsys.readouterr()
    try:
        code = main(argv)
    except Reached:
        code = None
    err = capsys.readouterr().err
    if code is not None:
        assert code == 2, (argv, err)
        one_error_line(err)
    assert not [p for p in where.rglob("*") if not p.name.startswith(".")] or code is None


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "name: x",
                "name: x",
                "seed: 1",
                "&a [1, 2]",
                "*a",
                "k: &b {x: 1}",
                "j: *b",
                "<<: *b",
                "\x1b",
                "\t",
                "extends: /dev/zero",
                "extends: .",
                "'\\0': 1",
                "agents: 1e400",
                "start_date: 0001-01-01",
            ]
        ),  # fmt: skip
        max_size=8,
    ).map("\n".join)
)
def test_hostile_scenario_text_loads_or_fails_with_one_short_line(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("hostile") / "s.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert "\n" not in str(exc) and len(str(exc)) <= 400
