"""Stand-in fits for the fault tests: importable in spawned workers, standard library only.

``job(kind, name, *extra)``: ``quick`` returns at once; ``slow`` (first time) runs
until ``killer`` has started, and ``killer`` waits until ``slow`` runs and SIGKILLs its
own worker, so one fit surely runs beside the killed one; ``raises`` raises;
``die_once`` SIGKILLs its worker the first time only, ``always_dies`` every time;
``disk_full`` raises ENOSPC.
"""

import errno
import os
import signal
import time
from pathlib import Path


def _result(name: str, seconds: float = 0.01) -> dict:
    return {"diagnostics": {"model": name, "wall_seconds": seconds, "gates_passed": True,
                            "cached": False}, "pid": os.getpid()}


def _wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while not path.exists() and time.time() < deadline:
        time.sleep(0.02)


def job(kind: str, name: str, *extra):
    """Run the stand-in fit ``kind`` for ``name``."""
    if kind == "quick":
        return _result(name)
    if kind == "slow":  # runs until the killer has started, then a little longer
        folder = Path(extra[0])
        if (folder / "slow-started").exists():
            return _result(name)  # the retry in a fresh pool
        (folder / "slow-started").write_text("")
        _wait_for(folder / "killer-started")
        time.sleep(1)
        return _result(name, 1)
    if kind == "killer":  # kills its own worker while "slow" surely runs on the other
        folder = Path(extra[0])
        _wait_for(folder / "slow-started")
        (folder / "killer-started").write_text("")
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "raises":
        raise RuntimeError("simulated sampler crash\nsecond line")
    if kind == "die_once":
        marker = Path(extra[0])
        if not marker.exists():
            marker.write_text("killed once")
            os.kill(os.getpid(), signal.SIGKILL)
        return _result(name)
    if kind == "always_dies":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "disk_full":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/out/results/fits/x")
    raise ValueError(kind)
