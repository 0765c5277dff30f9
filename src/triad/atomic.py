"""Write files so that no reader ever sees half of one, and say clearly when a write fails.

Every table, text and fit folder triad writes is written under a temporary name beside
its final name and renamed when complete (``os.replace`` is atomic on one file system).
Readers only ever open final names, so a killed run or a full disk leaves either the
previous complete file or none.  A temporary left by a killed run is never read and is
removed by :func:`sweep_stale` at the start of the next run.

A failed write raises :class:`triad.errors.OutputError` with one line naming the file and
the reason (``disk full`` for ``ENOSPC``/``EDQUOT``), after removing the temporary.
"""

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from triad.errors import OutputError

if TYPE_CHECKING:  # pandas stays out of the light modules that import this one
    import pandas as pd

__all__ = ["check_writable", "is_disk_full", "low_space", "replace_atomically", "sweep_stale",
           "write_csv", "write_error", "write_text"]

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(exc: BaseException | None) -> OSError | None:
    """Return the full-disk (or quota) ``OSError`` that ``exc`` is or came from, else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def low_space(path: str | Path, margin: int = 16 * 2**20) -> bool:
    """Tell whether the file system of ``path`` has less than ``margin`` bytes free.

    Some writers (netCDF/HDF5) report a full disk as a generic error, not as ``ENOSPC``.
    """
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free < margin
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    if exc.errno in DISK_FULL:
        return "disk full (" + os.strerror(exc.errno) + ")"
    return os.strerror(exc.errno) if exc.errno else str(exc)


def write_error(exc: OSError, path: str | Path) -> OutputError:
    """Return the one-line error for a failed write of ``path`` (exit code 4)."""
    return OutputError(f"cannot write {path}: {_reason(exc)}", exit_code=4)


def _tmp(path: Path) -> Path:
    # the pid keeps two processes writing the same file from sharing a temporary
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def replace_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` and rename ``tmp`` to ``path`` once it returned.

    Parameters
    ----------
    path : path
        The final name.
    write : callable
        Writes the complete file to the path it is given.

    Returns
    -------
    Path

    Raises
    ------
    triad.errors.OutputError
        If the write or the rename failed (the temporary is removed first).
    """
    path = Path(path)
    tmp = _tmp(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # the sweep of the next run removes it
        if isinstance(exc, OSError):
            raise write_error(exc, path) from exc
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_csv(path: str | Path, frame: "pd.DataFrame") -> Path:
    """Write ``frame`` as CSV without its index to ``path`` atomically."""
    return replace_atomically(path, lambda tmp: frame.to_csv(tmp, index=False))


def sweep_stale(roots: Iterable[str | Path]) -> list[Path]:
    """Remove temporaries a killed run left under ``roots``; return what was removed.

    Temporary files end in ``.tmp`` (or, for figures, hold ``.tmp.`` in a dot-name); a
    fit folder's temporary is ``<key>.tmp<pid>`` beside it.  Nothing reads them, so this
    only frees space.  A temporary whose name holds the id of a live process (another run
    writing into the same folder) is left alone; two such runs are still not supported.
    """
    removed = []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for path in root.rglob("*.tmp*"):
            name = path.name
            stale = (name.endswith(".tmp") or (name.startswith(".") and ".tmp." in name)
                     or (path.is_dir() and name.rsplit(".tmp", 1)[1].isdigit()))
            if not stale or not path.exists() or _writer_alive(name):
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _writer_alive(name: str) -> bool:
    """Whether a temporary's name holds the id of another live process (its writer)."""
    found = re.search(r"\.(\d+)\.tmp$|\.tmp(\d+)$", name)
    if not found:
        return False
    pid = int(found.group(1) or found.group(2))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal
        return True
    return True


def _blocking_file(folder: Path) -> Path | None:
    """Return the first part of ``folder``'s path that exists and is not a folder."""
    for part in [*reversed(folder.parents), folder]:
        if part.exists() and not part.is_dir():
            return part
    return None


def check_writable(folders: Iterable[str | Path]) -> None:
    """Create ``folders`` and write a probe file in each; refuse with one line if not.

    A probe, not ``os.access``: it also catches a read-only file system, a full disk and
    runs as root, where permission bits do not stop writes.

    Raises
    ------
    triad.errors.OutputError
        With exit code 2, naming the folder and the reason.
    """
    for folder in folders:
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".triad-probe-", suffix=".tmp")
            try:
                os.write(fd, b"triad")
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            blocker = _blocking_file(folder)
            why = (f"{blocker} is a file, not a folder" if blocker is not None
                   else _reason(exc))
            raise OutputError(f"cannot write to {folder}: {why}", exit_code=2) from None
