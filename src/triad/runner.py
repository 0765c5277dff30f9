"""Run independent jobs (model fits) serially, in worker processes or on Dask; survive faults.

:func:`run_jobs` runs ``fn(*args)`` for named jobs and reports each start, result and
failure to a :class:`triad.progress.RunProgress` in the order they finish.  Faults:

- a job that raises is failed with the reason (its traceback goes to the run log) and
  the others go on;
- a worker process that dies (SIGKILL, out of memory) breaks a
  ``ProcessPoolExecutor``: the job it ran is failed with the reason ("worker process
  died (signal 9, SIGKILL...)", from the worker's exit code), the jobs that ran beside
  it or had not started go to a fresh pool;
- a Dask worker that is lost (``KilledWorker``, closed connection, cancelled future):
  the job is submitted once more, then failed;
- a full disk (or any :class:`triad.errors.OutputError`) stops everything: nothing
  more could be stored.

This module stays light (no pandas, no PyMC): spawned workers import it first.
"""

import logging
import os
import signal

from triad.atomic import is_disk_full
from triad.errors import OutputError
from triad.progress import RunConsole, RunProgress

__all__ = ["run_jobs"]

log = logging.getLogger("triad.run")


def _nothing(output) -> dict:
    return {}


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _stop_on(exc: BaseException) -> bool:
    """Tell whether ``exc`` stops the run, not one fit: nothing more can be written."""
    return isinstance(exc, OutputError) or is_disk_full(exc) is not None


def run_jobs(tasks: list[tuple[str, tuple]], fn, *, jobs: int = 1,
             scheduler: str | None = None, progress: RunProgress | None = None,
             describe=_nothing) -> tuple[dict, dict]:
    """Run ``fn(*args)`` for every ``(name, args)``; report results in the order they finish.

    Parameters
    ----------
    tasks : list of (str, tuple)
        Unique job names and the arguments of ``fn``.
    fn : callable
        A module-level function (it is pickled to the workers).
    jobs : int
        1: in this process, one after the other; more: that many spawned processes.
    scheduler : str, optional
        A Dask scheduler address: the jobs run on its workers (``jobs`` ignored).
    progress : triad.progress.RunProgress, optional
        Where starts, results and failures are reported; default silent.
    describe : callable
        ``describe(result)`` gives the keyword arguments of
        :meth:`~triad.progress.RunProgress.done` (seconds, ok, status, cached, detail).

    Returns
    -------
    (dict, dict)
        ``{name: result}`` of the completed jobs and ``{name: reason}`` of the failed
        ones.

    Raises
    ------
    triad.errors.OutputError or OSError
        A job could not store its result (a full disk: ``ENOSPC``), re-raised as it came:
        the run cannot go on (:func:`triad.pipeline.run_all` makes it one line).
    """
    if progress is None:
        with RunConsole(0).progress(len(tasks)) as silent:
            return run_jobs(tasks, fn, jobs=jobs, scheduler=scheduler, progress=silent,
                            describe=describe)
    if scheduler is not None:
        return _run_dask(tasks, fn, scheduler, progress, describe)
    if jobs > 1:
        return _run_pool(tasks, fn, jobs, progress, describe)
    results, failures = {}, {}
    for name, args in tasks:
        progress.start(name)
        try:
            results[name] = fn(*args)
        except Exception as exc:
            if _stop_on(exc):
                raise
            log.debug("%s raised", name, exc_info=True)
            failures[name] = _reason(exc)
            progress.failed(name, failures[name])
        else:
            progress.done(name, **describe(results[name]))
    return results, failures


_EVENTS = None  # in a pool worker: the queue its fits report their start on


def _pool_init(events) -> None:
    global _EVENTS
    _EVENTS = events
    # With a handler on the root logger PyMC does not set itself to INFO when imported:
    # its "Sampling: [...]" lines would break the parent's live display; warnings stay.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")


def _pool_call(fn, name: str, args: tuple):
    if _EVENTS is not None:
        _EVENTS.put((name, os.getpid()))
    return fn(*args)


def _drain(events, started: dict) -> list[str]:
    """Read the start reports ``(name, pid)`` of the pool's workers into ``started``."""
    names = []
    while not events.empty():
        name, pid = events.get()
        started[name] = pid
        names.append(name)
    return names


def _death(exitcode: int | None) -> str | None:
    """Say why a pool worker died by itself.

    None when it is alive, exited cleanly, or was terminated (SIGTERM) by the pool after
    another worker died.
    """
    if exitcode is None or exitcode == 0 or exitcode == -signal.SIGTERM:
        return None
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        hint = ": killed, e.g. out of memory" if -exitcode == signal.SIGKILL else ""
        return f"worker process died (signal {-exitcode}, {name}{hint})"
    return f"worker process exited with code {exitcode}"


def _run_pool(tasks: list[tuple[str, tuple]], fn, jobs: int, progress: RunProgress,
              describe) -> tuple[dict, dict]:
    """Spawned worker processes; a pool whose worker died is replaced by a fresh one.

    When a worker dies the pool breaks and every unfinished fit in it fails with
    ``BrokenProcessPool``.  The fit whose worker died by itself (its exit code: a
    signal other than the pool's own SIGTERM) is failed with that reason; the fits that
    were running beside it or had not started go to a fresh pool (at most twice each).
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: JAX (the numpyro backend) deadlocks in a forked child
    ctx = multiprocessing.get_context("spawn")
    order = {name: i for i, (name, _) in enumerate(tasks)}
    todo = dict(tasks)
    restarts = dict.fromkeys(todo, 0)
    results, failures = {}, {}
    idle_breaks = 0
    while todo:
        events = ctx.SimpleQueue()
        started: dict[str, int] = {}
        processes: dict = {}
        broken = False
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx,
                                   initializer=_pool_init, initargs=(events,))
        try:
            futures = {pool.submit(_pool_call, fn, name, args): name
                       for name, args in todo.items()}
            pending = set(futures)
            while pending and not broken:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                # the workers' Process objects, for their exit codes once the pool broke
                processes.update(getattr(pool, "_processes", None) or {})
                # report the results before the starts read with them: a start may be
                # of the fit that took the worker a finished fit freed
                starts = _drain(events, started)
                for fut in sorted(finished, key=lambda f: order[futures[f]]):
                    name = futures[fut]
                    exc = fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        broken = True
                    elif exc is not None and _stop_on(exc):
                        for proc in processes.values():
                            proc.terminate()  # the other fits could not be stored either
                        raise exc
                    elif exc is not None:
                        log.debug("%s raised", name, exc_info=exc)
                        failures[name] = _reason(exc)
                        todo.pop(name)
                        progress.failed(name, failures[name])
                    else:
                        results[name] = fut.result()
                        todo.pop(name)
                        progress.done(name, **describe(results[name]))
                for name in starts:
                    progress.start(name)
        finally:
            # Join the workers only when the pool broke (their exit codes tell which
            # fit died); idle workers of a finished pool exit on their own (their
            # teardown took 10 s and more under load)
            pool.shutdown(wait=broken, cancel_futures=True)
        if not broken:
            continue
        # the broken pool's workers are joined: their exit codes are final
        _drain(events, started)
        deaths = {pid: why for pid, why in ((pid, _death(proc.exitcode))
                                            for pid, proc in processes.items()) if why}
        running = [name for name in started if name in todo]
        culprits = {name: deaths[started[name]] for name in running
                    if started[name] in deaths}
        if not culprits and running and not deaths:
            # which worker died is unknown: every fit that was running is suspect
            culprits = {name: "worker process died" for name in running}
        if not culprits:
            # a worker died before its fit reported the start (or between fits)
            idle_breaks += 1
            if idle_breaks > 2:  # e.g. workers that cannot start: do not loop forever
                why = next(iter(deaths.values()), "worker process died")
                culprits = {name: f"{why}; the pool broke {idle_breaks} times"
                            for name in todo}
        for name, reason in culprits.items():
            failures[name] = reason
            todo.pop(name)
            progress.failed(name, reason)
        for name in [n for n in todo if n in started]:
            restarts[name] += 1
            if restarts[name] > 2:
                failures[name] = "worker processes kept dying beside it"
                todo.pop(name)
                progress.failed(name, failures[name])
            else:
                progress.retry(name, "its pool lost a worker")
        log.info("worker pool broke (%s); %d fit(s) go to a fresh pool",
                 "; ".join(f"{n}: {r}" for n, r in culprits.items()) or "no fit to blame",
                 len(todo))
    return results, failures


def _dask_call(fn, name: str, args: tuple):
    try:
        from distributed import get_worker

        get_worker().log_event("triad-job", {"name": name})
    except Exception:  # progress only
        pass
    return fn(*args)


def _run_dask(tasks: list[tuple[str, tuple]], fn, scheduler: str, progress: RunProgress,
              describe) -> tuple[dict, dict]:
    """Fits on a Dask cluster; a fit whose worker was lost is resubmitted once.

    The scheduler itself reschedules a task whose worker died up to its
    ``distributed.scheduler.allowed-failures`` (default 3) times; when it gives up
    (``KilledWorker``) or the fit's future is lost (connection closed, cancelled), the fit
    is submitted once more, then failed.
    """
    from concurrent.futures import CancelledError

    from distributed import Client, KilledWorker, as_completed
    from distributed.comm.core import CommClosedError

    lost = (KilledWorker, CommClosedError, CancelledError)
    results, failures = {}, {}
    with Client(scheduler, timeout=30) as client:
        progress.workers = max(1, sum(w.get("nthreads", 1) for w in
                                      client.scheduler_info()["workers"].values()))
        client.subscribe_topic("triad-job", lambda event: progress.start(event[1]["name"]))
        futures = {client.submit(_dask_call, fn, name, args, key=f"job-{name}",
                                 pure=False): (name, args, 0) for name, args in tasks}
        queue = as_completed(list(futures))
        for fut in queue:
            name, args, attempt = futures.pop(fut)
            try:
                results[name] = fut.result()
            except lost as exc:
                # KilledWorker's message is a paragraph: the class says it (log has it all)
                log.debug("%s: worker lost: %s", name, exc)
                reason = f"worker lost ({type(exc).__name__})"
                if attempt == 0:
                    progress.retry(name, reason)
                    try:
                        again = client.submit(_dask_call, fn, name, args,
                                              key=f"job-{name}-retry", pure=False)
                    except Exception as submit_error:  # the cluster is gone
                        reason += f"; resubmitting failed ({_reason(submit_error)})"
                    else:
                        futures[again] = (name, args, 1)
                        queue.add(again)
                        continue
                failures[name] = reason
                progress.failed(name, reason)
            except Exception as exc:
                if _stop_on(exc):
                    raise
                log.debug("%s raised", name, exc_info=exc)
                failures[name] = _reason(exc)
                progress.failed(name, failures[name])
            else:
                progress.done(name, **describe(results[name]))
    return results, failures
