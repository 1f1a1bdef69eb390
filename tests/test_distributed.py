"""Nothing lost and nothing different: resuming a killed ensemble, and runs on a real Dask cluster."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sim.cli import main
from tests.conftest import ROOT, SCENARIOS

RUN = [sys.executable, str(ROOT / "run.py")]


def test_a_killed_ensemble_resumes_without_loss(tmp_path):
    args = [str(SCENARIOS / "historical_2025.yaml"), "--agents", "30000", "--days", "70", "--runs", "10", "--quiet"]
    out = tmp_path / "killed"
    saved = tmp_path / ".killed.runs"
    proc = subprocess.Popen([*RUN, *args, "--out", str(out)], cwd=tmp_path, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(saved.glob("*.npz"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: the ensemble and its workers
    proc.wait()
    done_before = len(list(saved.glob("*-run*.npz")))
    assert 2 <= done_before < 10, done_before
    assert not out.exists()  # nothing that looks like a finished result
    resumed = subprocess.run([*RUN, *args, "--out", str(out), "--resume"], cwd=tmp_path, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    reused = int(resumed.stderr.split("resuming: ")[1].split(" of ")[0]) if "resuming: " in resumed.stderr else None
    assert reused is None or reused >= 2  # --quiet hides the message; the file count above is the check
    assert not saved.exists()  # saved runs are cleared once the result is complete
    assert main([*args, "--out", str(tmp_path / "uninterrupted")]) == 0
    assert (out / "timeseries.csv").read_text() == (tmp_path / "uninterrupted" / "timeseries.csv").read_text()
    assert (out / "summary.json").read_text() == (tmp_path / "uninterrupted" / "summary.json").read_text()


def test_resume_reports_what_it_reuses(tmp_path, capsys):
    args = [str(SCENARIOS / "no_ban.yaml"), "--agents", "2000", "--days", "10", "--runs", "3", "--out", str(tmp_path / "r")]
    from sim.ensemble import run_one, save_checkpoint
    from sim.scenario import load_scenario

    s = load_scenario(SCENARIOS / "no_ban.yaml", overrides={"agents": 2000, "days": 10})
    save_checkpoint(tmp_path / ".r.runs", s, run_one(s, 1))
    assert main([*args, "--resume"]) == 0
    assert "resuming: 1 of 3 runs were saved" in capsys.readouterr().err
    assert main([*args, "--quiet", "--out", str(tmp_path / "fresh")]) == 0
    assert (tmp_path / "r" / "timeseries.csv").read_text() == (tmp_path / "fresh" / "timeseries.csv").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runs_on_a_dask_cluster_started_as_separate_processes_equal_local_runs(tmp_path):
    dask = str(Path(sys.executable).parent / "dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    worker = subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=tmp_path)  # fmt: skip
    try:
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        args = [str(SCENARIOS / "historical_2025.yaml"), "--agents", "5000", "--days", "30", "--runs", "4", "--quiet"]
        assert main([*args, "--scheduler", address, "--out", str(tmp_path / "cluster")]) == 0
        assert main([*args, "--out", str(tmp_path / "local")]) == 0
        assert (tmp_path / "cluster" / "timeseries.csv").read_text() == (tmp_path / "local" / "timeseries.csv").read_text()
        out = tmp_path / "sens"
        assert main(["sensitivity", "--samples", "2", "--runs-per-point", "1", "--agents", "2000", "--days", "92",
                     "--scheduler", address, "--out", str(out), "--quiet"]) == 0  # fmt: skip
        assert (out / "sensitivity.md").exists()
    finally:
        for proc in (worker, scheduler):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
