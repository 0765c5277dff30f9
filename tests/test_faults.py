"""Faults a run survives: a killed worker, a lost Dask worker, a full disk, an unwritable --out.

Stand-in fits (``tests/_faultjobs.py``) run in real spawned worker processes and on a
real local Dask cluster, so the fault paths are exercised without sampling.  What the
tables say about a failed fit, and that a rerun fits only what is missing, is checked in
``tests/test_pipeline.py`` on the fits that module's run has stored.
"""

import errno
import io
import signal

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

import _faultjobs
import triad.pipeline as pipeline
from triad.atomic import check_writable, sweep_stale
from triad.cli import app
from triad.errors import OutputError
from triad.progress import RunConsole
from triad.runner import run_jobs

JOB = _faultjobs.job


def _console(verbosity: int = 1) -> tuple[RunConsole, io.StringIO]:
    buffer = io.StringIO()
    return RunConsole(verbosity, Console(file=buffer, force_terminal=False, width=200)), buffer


# ------------------------------------------------------------------ worker processes


def test_sigkilled_worker_fails_its_fit_and_the_others_complete(tmp_path):
    folder = str(tmp_path)
    tasks = [("slow", ("slow", "slow", folder)), ("killer", ("killer", "killer", folder)),
             ("b", ("quick", "b")), ("c", ("quick", "c"))]
    out, buffer = _console()
    with out.progress(len(tasks), "fits", 2) as progress:
        results, failures = run_jobs(tasks, JOB, jobs=2, progress=progress)
    # the killed fit fails with the reason; the one running beside it was restarted in a
    # fresh pool and completed, as did those that had not started
    assert sorted(results) == ["b", "c", "slow"]
    assert list(failures) == ["killer"]
    assert failures["killer"].startswith(
        f"worker process died (signal {int(signal.SIGKILL)}, SIGKILL")
    text = buffer.getvalue()
    assert "killer: FAILED: worker process died (signal 9, SIGKILL" in text
    assert "slow: its pool lost a worker; retried" in text
    assert "fits: 3 of 4 done" in text and "1 FAILED" in text


def test_a_raising_fit_fails_alone_and_a_full_disk_stops_the_run():
    out, buffer = _console(verbosity=0)
    tasks = [("a", ("quick", "a")), ("bad", ("raises", "bad")), ("c", ("quick", "c"))]
    with out.progress(len(tasks)) as progress:
        results, failures = run_jobs(tasks, JOB, progress=progress)
    assert sorted(results) == ["a", "c"]
    assert failures == {"bad": "RuntimeError: simulated sampler crash"}
    # verbosity 0: only the failure and the closing warning are printed
    lines = buffer.getvalue().strip().splitlines()
    assert len(lines) == 2 and "bad: FAILED" in lines[0] and "1 FAILED" in lines[1]
    with pytest.raises(OSError) as raised:
        run_jobs([("a", ("quick", "a")), ("full", ("disk_full", "full"))], JOB)
    assert raised.value.errno == errno.ENOSPC


def test_lost_dask_worker_is_retried_once_then_failed(tmp_path):
    import dask
    from distributed import LocalCluster

    # the scheduler gives up on a task at its first dead worker (KilledWorker), so the
    # retry seen here is triad's own
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True,
            dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        out, buffer = _console()
        tasks = [("once", ("die_once", "once", str(tmp_path / "killed"))),
                 ("ok", ("quick", "ok")), ("bad", ("raises", "bad"))]
        with out.progress(len(tasks)) as progress:
            results, failures = run_jobs(tasks, JOB, scheduler=address, progress=progress)
        assert sorted(results) == ["ok", "once"]
        assert failures == {"bad": "RuntimeError: simulated sampler crash"}
        assert "once: worker lost (KilledWorker); retried" in buffer.getvalue()
        # a worker that dies on every try: one retry, then the fit is failed
        with out.progress(1) as progress:
            results, failures = run_jobs([("dies", ("always_dies", "dies"))], JOB,
                                         scheduler=address, progress=progress)
        assert results == {} and failures == {"dies": "worker lost (KilledWorker)"}
        assert "dies: worker lost (KilledWorker); retried" in buffer.getvalue()
        # the nannies restart the killed workers; closing the cluster while a restart is
        # under way fails inside distributed ("can only join a started process")
        cluster.wait_for_workers(2, timeout=60)


# ------------------------------------------------------------------ the command line


def _run(*args: str):
    """``triad run ARGS`` (= scripts/fit_all.py) in this process: patches apply."""
    return CliRunner().invoke(app, ["run", *args])


def test_exit_codes_of_the_main_job(monkeypatch, tmp_path):
    record = {"steps": {"models": {"fits_failed": [{"model": "m", "reason": "x"}],
                                   "gates_failed": ["m"]}}}
    seen = {}
    monkeypatch.setattr(pipeline, "run_all", lambda *a, **k: seen.update(k) or record)
    assert _run("--out", str(tmp_path)).exit_code == 3
    assert seen["verbosity"] == 1
    record["steps"]["models"]["fits_failed"] = []
    assert _run("--out", str(tmp_path)).exit_code == 0
    assert _run("--out", str(tmp_path), "--strict").exit_code == 1
    _run("--out", str(tmp_path), "-q")
    assert seen["verbosity"] == 0
    _run("--out", str(tmp_path), "-v")
    assert seen["verbosity"] == 2
    assert "Exit codes: 0 done" in _run("--help").output


def test_unwritable_out_is_refused_in_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    result = _run("--out", str(blocker / "sub"))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [f"triad: cannot write to {blocker / 'sub'}: {blocker} is a file, "
                     "not a folder"]
    # a read-only folder (permission bits do not stop root: the probe write is mocked)
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(OutputError, match="cannot write to .*: Permission denied") as err:
        check_writable([tmp_path / "ro"])
    assert err.value.exit_code == 2


def test_full_disk_gives_one_line_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    real_to_csv = pd.DataFrame.to_csv

    def full(self, path=None, *args, **kwargs):
        if path is not None and "audit.csv" in str(path):
            with open(path, "w") as handle:  # half a table, then the disk is full
                handle.write("check,tables\nGRIM,")
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_to_csv(self, path, *args, **kwargs)

    tables = tmp_path / "results" / "tables"
    fits = tmp_path / "results" / "fits" / "m"
    fits.mkdir(parents=True)
    # what a killed run leaves: never read, removed by the next run (99999999: no such
    # process; a pid above the kernel's pid_max)
    stale = [tables / "claims.csv.99999999.tmp", tables / "contrasts.csv.tmp",
             fits / "abc.tmp99999999"]
    tables.mkdir(parents=True, exist_ok=True)
    stale[0].write_text("half")
    stale[1].write_text("half")
    stale[2].mkdir()
    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    result = _run("--out", str(tmp_path), "--no-multiverse")
    assert result.exit_code == 4
    assert result.output.strip().splitlines() == [
        f"triad: cannot write {tables / 'audit.csv'}: disk full (No space left on device)"]
    assert "Traceback" not in result.output
    assert not any(p.exists() for p in stale)
    assert sorted(p.name for p in tables.iterdir()) == []  # neither audit.csv nor its tmp
    log = (tmp_path / "results" / "run.log").read_text()
    assert "ERROR   run stopped: cannot write" in log and "disk full" in log
    assert sweep_stale([tmp_path]) == []


# ------------------------------------------------------------------ progress display


def test_progress_eta_plain_lines_and_live_display():
    out, buffer = _console(verbosity=2)
    with out.progress(5, "fits", workers=2) as progress:
        progress.start("a")
        progress.done("a", 10.0, status="gates ok", detail="R-hat 1.001")
        progress.done("b", 30.0, status="gates ok")
        progress.done("c", 0.1, cached=True)
        # median of the sampled fits (cached ones left out) x 2 left / 2 workers
        assert progress.eta() == pytest.approx(20.0)
        progress.done("d", 5.0, ok=False, status="GATES FAILED (R-hat 1.02 > 1.01)")
        progress.failed("e", "worker process died (signal 9, SIGKILL)")
    lines = buffer.getvalue().strip().splitlines()
    assert lines[0] == "[0/5] a: started"
    assert lines[1] == "[1/5] a: 10.0 s, gates ok (R-hat 1.001); ETA 0:00:20"
    assert lines[3] == "[3/5] c: 0.1 s (cached), ok; ETA 0:00:20"
    assert lines[5] == "[5/5] e: FAILED: worker process died (signal 9, SIGKILL)"
    assert lines[6].startswith("fits: 4 of 5 done in 0:00:00, 1 FAILED: e (")
    # on a terminal: a live display, and the results above it as they finish
    buffer = io.StringIO()
    live = RunConsole(1, Console(file=buffer, force_terminal=True, width=100))
    assert live.live
    with live.progress(2, "fits") as progress:
        progress.start("a")
        progress.done("a", 1.0)
        progress.failed("b", "boom")
    text = buffer.getvalue()
    assert "a: 1.0 s, ok" in text and "b: FAILED: boom" in text and "\x1b[" in text


def test_the_sweep_leaves_a_live_writers_temporaries(tmp_path):
    import os

    # another process still writing here (this test's parent: alive while it runs)
    live = tmp_path / f"claims.csv.{os.getppid()}.tmp"
    dead = tmp_path / "claims.csv.99999999.tmp"
    live.write_text("being written")
    dead.write_text("half")
    assert sweep_stale([tmp_path]) == [dead]
    assert live.exists() and not dead.exists()
