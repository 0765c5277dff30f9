"""Parallel and distributed runs equal a serial run; a killed run resumes to the same result."""

import signal
import socket
import subprocess
import sys
import time

import numpy as np
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


def _draws(out):
    """Every stored posterior draw of the run, by model."""
    import arviz as az

    found = {}
    for nc in sorted((out / "results" / "fits").glob("*/*/fit.nc")):
        post = az.from_netcdf(nc)["posterior"]
        found[nc.parent.parent.name] = {v: post[v].values for v in post.data_vars}
    return found


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    run_all(out=out, quick=True, models=MODELS, multiverse=False)
    return out


def test_jobs_2_equals_serial(serial, tmp_path):
    run_all(out=tmp_path, quick=True, models=MODELS, jobs=2, multiverse=False)
    assert _tables(tmp_path) == _tables(serial)
    one, two = _draws(serial), _draws(tmp_path)
    assert sorted(one) == sorted(two) == ["metric_opvoed", "summary_cells"]
    for model, variables in one.items():
        for name, values in variables.items():
            np.testing.assert_array_equal(values, two[model][name], err_msg=f"{model}.{name}")


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
        run_all(out=tmp_path, quick=True, models=MODELS, scheduler=address, multiverse=False)
        assert _tables(tmp_path) == _tables(serial)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_killed_run_resumes_to_the_same_result(serial, tmp_path):
    script = str(repo_root() / "scripts" / "fit_all.py")
    cmd = [sys.executable, script, "--quick", "--jobs", "1", "--models", MODELS, "--out",
           str(tmp_path), "--no-multiverse"]
    fits = tmp_path / "results" / "fits"
    tables = tmp_path / "results" / "tables"
    killed_at = []

    def reached(point: str, started: float) -> bool:
        done = list(fits.glob("*/*/fit.json")) if fits.exists() else []
        # audit and replication take ~1 s; 4 s in, the first model is being sampled
        return {"first fit running": time.time() - started > 4 and not done,
                "one fit stored": len(done) >= 1,
                "tables being written": (tables / "contrasts.csv").exists()}[point]

    # Kill points: inside the first fit, between the fits, and while tables, figures and
    # the report are written; each rerun resumes from what the killed one had stored.
    for point in ("first fit running", "one fit stored", "tables being written"):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.time()
        deadline = started + 300
        while time.time() < deadline and proc.poll() is None and not reached(point, started):
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_at.append(point)
        proc.wait()
    assert len(killed_at) >= 2, f"the run finished before it could be killed: {killed_at}"
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _tables(tmp_path) == _tables(serial)
    assert not list(fits.glob("*/*.tmp*"))
    diag = pd.read_csv(tmp_path / "results" / "tables" / "diagnostics.csv")
    assert len(diag) == 2
