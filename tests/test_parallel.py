"""Parallel and distributed runs equal a serial run; a killed run resumes to the same result."""

import signal
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest

from triad.paths import repo_root
from triad.pipeline import run_all

pytestmark = [pytest.mark.sampling, pytest.mark.slow]
MODELS = "summary_cells.toml,metric_opvoed.toml"
COMPARED = ("contrasts.csv", "claims.csv", "posterior_cell_means.csv", "anova.csv")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tables(out):
    return {name: (out / "results" / "tables" / name).read_bytes() for name in COMPARED}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    run_all(out=out, quick=True, models=MODELS)
    return _tables(out)


def test_jobs_2_equals_serial(serial, tmp_path):
    run_all(out=tmp_path, quick=True, models=MODELS, jobs=2)
    assert _tables(tmp_path) == serial


def test_dask_cluster_equals_serial(serial, tmp_path):
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", str(port),
                                      "--dashboard-address", ":0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        time.sleep(2)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers",
                 "1", "--nthreads", "1", "--dashboard-address", ":0"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            assert len(client.scheduler_info()["workers"]) == 2
        run_all(out=tmp_path, quick=True, models=MODELS, scheduler=address)
        assert _tables(tmp_path) == serial
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_killed_run_resumes_to_the_same_result(serial, tmp_path):
    script = str(repo_root() / "scripts" / "fit_all.py")
    cmd = [sys.executable, script, "--quick", "--jobs", "1", "--models", MODELS, "--out",
           str(tmp_path)]
    fits = tmp_path / "results" / "fits"
    killed_after = []
    for wait_for in (0, 1):  # kill before any fit finished, then after the first one
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            done = list(fits.glob("*/*/fit.json")) if fits.exists() else []
            if len(done) > wait_for or (wait_for == 0 and fits.exists()):
                break
            time.sleep(0.2)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_after.append(wait_for)
        proc.wait()
    assert killed_after, "the run finished before it could be killed"
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _tables(tmp_path) == serial
    assert not list(fits.glob("*/*.tmp*"))
    diag = pd.read_csv(tmp_path / "results" / "tables" / "diagnostics.csv")
    assert len(diag) == 2
