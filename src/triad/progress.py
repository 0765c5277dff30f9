"""Live progress of a run on the terminal, plain lines elsewhere, and the run log.

:class:`RunConsole` is where a run reports: on a terminal its messages go through rich
and a :class:`RunProgress` shows a live display (overall bar with done/total, elapsed
time and an ETA from the measured wall times of the finished jobs, one line per running
job; results printed in the order they finish, failures in red at once).  Off a
terminal (CI, pipes, files) every event is one plain line.  Verbosity 0 prints only
warnings, failures and the final line; 1 adds steps and jobs; 2 adds per-job details.

Whatever the verbosity, every message also goes to the ``triad.run`` logger, which
:func:`run_log` writes with timestamps to ``results/run.log``.
"""

import contextlib
import datetime
import logging
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

__all__ = ["RunConsole", "RunProgress", "clock", "quiet", "run_log", "timed"]

log = logging.getLogger("triad.run")
# A library's records go nowhere unless a run (run_log) or the user adds a handler, and
# never to logging's last-resort stderr handler (they are printed by RunConsole already).
logging.getLogger("triad").addHandler(logging.NullHandler())


def clock(seconds: float | None) -> str:
    """Format seconds as ``h:mm:ss`` (``-:--:--`` when unknown)."""
    if seconds is None:
        return "-:--:--"
    return str(datetime.timedelta(seconds=max(0, round(seconds))))


def timed(fn, *args):
    """Return ``(seconds, fn(*args))``: a job's own wall time, for the ETA (picklable)."""
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def _plain(markup: str) -> str:
    return Text.from_markup(markup).plain


class _QuietFileHandler(logging.FileHandler):
    """A file handler that stops quietly when its disk is full.

    The run itself reports a full disk as one error line; logging's default would print
    a traceback for every record it cannot write.
    """

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging API)
        self.failed = True


@contextlib.contextmanager
def run_log(path: str | Path) -> Iterator[Path]:
    """Write every ``triad`` log record of the block, timestamped, to ``path``.

    Parameters
    ----------
    path : path
        The log file (``results/run.log``).  Appended to: the log of a run that failed
        stays beside the log of the rerun (each run starts with a ``triad run`` line).
    """
    path = Path(path)
    try:
        handler = _QuietFileHandler(path, mode="a", encoding="utf-8")
    except OSError as exc:
        from triad.atomic import write_error

        raise write_error(exc, path) from exc
    handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)-7s "
                                           "%(message)s", "%Y-%m-%d %H:%M:%S"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger("triad")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)


@contextlib.contextmanager
def quiet(*names: str, level: int = logging.WARNING) -> Iterator[None]:
    """Raise the loggers ``names`` to ``level`` for the block.

    PyMC's informational lines ("Sampling: [...]") would break the live display.  Import
    the library first: PyMC sets its logger to INFO when it is imported.
    """
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, old in saved.items():
            logging.getLogger(name).setLevel(old)


class RunConsole:
    """Where a run reports: the console (by verbosity) and the ``triad.run`` log.

    Parameters
    ----------
    verbosity : int
        0 quiet (warnings, failures and the final line), 1 normal, 2 verbose.
    console : rich.console.Console, optional
        Default: standard output.  A live display is used only on a terminal.
    """

    def __init__(self, verbosity: int = 1, console: Console | None = None) -> None:
        self.verbosity = int(verbosity)
        self.console = console if console is not None else Console()
        self.live = self.console.is_terminal and self.verbosity >= 1

    def print(self, markup: str) -> None:
        """Print rich markup: wrapped on a terminal, one unwrapped line elsewhere."""
        self.console.print(markup, soft_wrap=not self.console.is_terminal, highlight=False)

    def say(self, markup: str, level: int = 1) -> None:
        """Log ``markup`` and print it when the verbosity is at least ``level``."""
        (log.debug if level >= 2 else log.info)(_plain(markup))
        if self.verbosity >= level:
            self.print(markup)

    def warn(self, markup: str) -> None:
        """Log and always print a warning (bold red)."""
        log.warning(_plain(markup))
        self.print(f"[bold red]{markup}[/]")

    def final(self, markup: str) -> None:
        """Log and always print the last line of a run."""
        log.info(_plain(markup))
        self.print(markup)

    @classmethod
    def stderr(cls, verbosity: int = 1) -> "RunConsole":
        """Report on standard error: progress beside a command's tables on stdout."""
        return cls(verbosity, Console(stderr=True))

    def progress(self, total: int, what: str = "fits", workers: int = 1) -> "RunProgress":
        """Return a :class:`RunProgress` that reports here."""
        return RunProgress(self, total, what, workers)


class _Bar(BarColumn):
    """The overall bar; a running job's line shows no bar (its progress is unknown)."""

    def render(self, task) -> Text:
        return Text("") if task.fields.get("job") else super().render(task)


class _CountColumn(ProgressColumn):
    def render(self, task) -> Text:
        if task.fields.get("job"):
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total or 0)}", style="progress.download")


class _EtaColumn(ProgressColumn):
    """Remaining time from the measured per-job times (not rich's speed estimate)."""

    def render(self, task) -> Text:
        if task.fields.get("job"):
            return Text("")
        deadline = task.fields.get("deadline")
        left = None if deadline is None else deadline - time.monotonic()
        return Text(f"ETA {clock(left)}", style="progress.remaining")


class RunProgress:
    """Progress of ``total`` independent jobs (fits, simulations) run by ``workers``.

    Use as a context manager.  Named jobs report :meth:`start`, :meth:`done`,
    :meth:`failed` (and :meth:`retry`); anonymous work (a chunk of simulations) reports
    :meth:`advance`.  Thread-safe: Dask reports starts from its own thread.

    The ETA is the median wall time of the finished jobs (those read from a cache
    excluded while others exist) x the jobs left / the workers.
    """

    def __init__(self, out: RunConsole, total: int, what: str = "fits",
                 workers: int = 1) -> None:
        self.out, self.total, self.what = out, int(total), what
        self.workers = max(1, int(workers))
        self.finished = 0
        self.failures: dict[str, str] = {}
        self.running: dict[str, float] = {}
        self._times: list[float] = []
        self._cached: list[float] = []
        self._lock = threading.RLock()
        self._bar: Progress | None = None
        self._overall = None
        self._tasks: dict[str, int] = {}
        self._done_names: set[str] = set()
        self._eta: float | None = None

    # ------------------------------------------------------------------ context
    def __enter__(self) -> "RunProgress":
        self.started = time.perf_counter()
        log.info("%s: %d to run, %d worker(s)", self.what, self.total, self.workers)
        if self.out.live:
            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), _Bar(),
                _CountColumn(), TimeElapsedColumn(), _EtaColumn(),
                console=self.out.console, transient=True, refresh_per_second=4)
            self._bar.start()
            self._overall = self._bar.add_task(f"[bold]{escape(self.what)}[/]",
                                               total=self.total, deadline=None)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        seconds = time.perf_counter() - self.started
        line = (f"{self.what}: {self.finished - len(self.failures)} of {self.total} done "
                f"in {clock(seconds)}")
        if self.failures:
            self.out.warn(line + f", {len(self.failures)} FAILED: "
                          + "; ".join(f"{escape(n)} ({escape(r)})"
                                      for n, r in self.failures.items()))
        else:
            self.out.say(line)

    # ------------------------------------------------------------------ ETA
    def eta(self) -> float | None:
        """Seconds left, from the median wall time of the finished jobs (None: unknown).

        The median for every job not started, the median less its elapsed time (at
        least 0) for every running job, the sum divided by the workers.
        """
        times = self._times or self._cached
        if not times:
            return None
        typical, now = statistics.median(times), time.perf_counter()
        running = sum(max(typical - (now - t0), 0.0) for t0 in self.running.values())
        queued = max(self.total - self.finished - len(self.running), 0)
        return (running + typical * queued) / self.workers

    def _count(self) -> str:
        width = len(str(self.total))
        return f"[{self.finished:>{width}}/{self.total}]"

    def _update(self) -> None:
        self._eta = self.eta()
        if self._bar is not None:
            deadline = None if self._eta is None else time.monotonic() + self._eta
            self._bar.update(self._overall, completed=self.finished, deadline=deadline)

    def _drop(self, name: str) -> float | None:
        started = self.running.pop(name, None)
        task = self._tasks.pop(name, None)
        if task is not None and self._bar is not None:
            self._bar.remove_task(task)
        return None if started is None else time.perf_counter() - started

    # ------------------------------------------------------------------ events
    def start(self, name: str) -> None:
        """Report that a job began (on some worker)."""
        with self._lock:
            if name in self.running or name in self._done_names:
                return  # a late start event of a job already finished
            self.running[name] = time.perf_counter()
            log.info("%s start", name)
            if self._bar is not None:
                self._tasks[name] = self._bar.add_task(f"  {escape(name)}", total=None,
                                                      job=True)
            elif self.out.verbosity >= 1:
                self.out.print(f"{self._count()} {escape(name)}: started")

    def done(self, name: str, seconds: float | None = None, *, ok: bool = True,
             status: str = "ok", cached: bool = False, detail: str = "") -> None:
        """Report a finished job; ``ok`` False shows ``status`` in red (e.g. failed gates).

        Parameters
        ----------
        name : str
        seconds : float, optional
            Its wall time (default: since :meth:`start`).
        ok : bool
            False: ``status`` is shown in red (the job ran, but its result is flagged).
        status : str
            Short outcome, e.g. ``gates ok``.
        cached : bool
            Read from a cache (its time does not enter the ETA while others exist).
        detail : str
            Shown at verbosity 2 (R-hat, ESS, ...).
        """
        with self._lock:
            since = self._drop(name)
            seconds = since if seconds is None else seconds
            self.finished += 1
            self._done_names.add(name)
            if seconds is not None:
                (self._cached if cached else self._times).append(float(seconds))
            self._update()
            took = "" if seconds is None else f"{seconds:.1f} s"
            took += " (cached)" if cached else ""
            text = f"{name}: {took}, {status}" if took else f"{name}: {status}"
            log.info("%s done: %s%s%s", name, f"{took}, {status}" if took else status,
                     f"; {detail}" if detail else "",
                     f"; ETA {clock(self._eta)}" if self.finished < self.total else "")
            if self.out.verbosity >= 1 or not ok:
                shown = escape(text) if ok else f"[bold red]{escape(text)}[/]"
                if self.out.verbosity >= 2 and detail:
                    shown += f" [dim]({escape(detail)})[/]"
                if self._bar is None and self.finished < self.total:
                    shown += f"; ETA {clock(self._eta)}"
                self.out.print(f"{self._count()} {shown}")

    def failed(self, name: str, reason: str) -> None:
        """Report a failed job: in red at once, whatever the verbosity."""
        with self._lock:
            self._drop(name)
            self.finished += 1
            self._done_names.add(name)
            self.failures[name] = reason
            self._update()
            log.error("%s FAILED: %s", name, reason)
            self.out.print(f"{self._count()} [bold red]{escape(name)}: FAILED: "
                           f"{escape(reason)}[/]")

    def retry(self, name: str, reason: str) -> None:
        """Report that a job is run again (its worker was lost)."""
        with self._lock:
            self._drop(name)
            log.warning("%s retried: %s", name, reason)
            self.out.print(f"{self._count()} [yellow]{escape(name)}: {escape(reason)}; "
                           "retried[/]")

    def advance(self, n: int = 1, seconds: float | None = None, note: str = "") -> None:
        """``n`` anonymous jobs finished in ``seconds`` of one worker's time in all."""
        with self._lock:
            self.finished += n
            if seconds is not None and n > 0:
                self._times.extend([seconds / n] * n)
            self._update()
            eta = f"; ETA {clock(self._eta)}" if self.finished < self.total else ""
            log.info("%s: %d/%d%s%s", self.what, self.finished, self.total,
                     f" ({note})" if note else "", eta)
            if self._bar is None and self.out.verbosity >= 1:
                self.out.print(f"{self._count()} {escape(self.what)}"
                               f"{': ' + escape(note) if note else ''}{eta}")
