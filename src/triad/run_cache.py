"""A rerun with nothing changed: recognise it in a second and leave the outputs as they are.

Every fit is cached by its own key (:mod:`triad.fitting`), but a main job that reads all
of them back still recomputes the audit, the replication, every table, figure and the
report: minutes of work that give the same bytes.  After each complete run
:func:`record_run` writes ``results/run_inputs.json``: a fingerprint of everything that
determines the outputs (the run's options, the respondent file's bytes, the study's data
and model folders, triad's own source files and the versions of the libraries it calls)
and the SHA-256 of every output file.  :func:`unchanged_run` compares a new run against
it; when the fingerprint is the same and every output file is still there, byte for byte,
and no fit had failed, the run is answered from the record (``triad run --force``
recomputes anyway).

This module imports only the standard library, so the check costs no PyMC import.
"""

import csv
import hashlib
import json
import time
from importlib import metadata
from pathlib import Path

from triad.atomic import write_text

__all__ = ["RECORD", "fingerprint", "note_in_log", "record_run", "unchanged_run"]

RECORD = "run_inputs.json"
# The libraries whose versions can change an output (numbers, figures, report).
_LIBRARIES = ("arviz", "arviz-base", "arviz-stats", "arviz-plots", "bambi", "jax", "jinja2",
              "matplotlib", "numpy", "numpyro", "nutpie", "pandas", "pingouin", "pymc",
              "pyreadstat", "pytensor", "scipy", "statsmodels", "xarray")
# Produced by a run but not outputs of it: caches with their own keys, the log, temporaries.
_NOT_OUTPUTS = ("fits", "handoff", "cache", "run.log", RECORD)


def _hash_tree(digest, root: Path, label: str) -> None:
    if not root.exists():
        digest.update(f"{label}: absent\n".encode())
        return
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        rel = path.name if root.is_file() else path.relative_to(root).as_posix()
        digest.update(f"{label}/{rel}:".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def fingerprint(options: dict, data: Path | None) -> str:
    """SHA-256 of everything that determines a main job's outputs.

    Parameters
    ----------
    options : dict
        The run's options that change what is computed (not ``jobs``, ``verbosity`` or
        a scheduler address, which only change how).
    data : Path, optional
        The respondent file (None: the study's embedded default, part of its data folder).
    """
    import triad
    from triad.paths import data_dir, models_dir

    digest = hashlib.sha256()
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    digest.update(json.dumps(versions, sort_keys=True).encode())
    _hash_tree(digest, Path(triad.__file__).parent, "triad")
    _hash_tree(digest, data_dir(), "data")
    _hash_tree(digest, models_dir(), "models")
    if data is not None:
        _hash_tree(digest, Path(data), "respondents")
    return digest.hexdigest()


def _outputs(out: Path) -> dict[str, str]:
    """SHA-256 of every output file of a run under ``out`` (results/ and figures/)."""
    found = {}
    for folder in (out / "results", out / "figures"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(out)
            if not path.is_file() or (len(rel.parts) > 1 and rel.parts[0] == "results" and
                                      rel.parts[1] in _NOT_OUTPUTS) or ".tmp" in path.name:
                continue
            found[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _fit_folders(out: Path) -> list[str]:
    """Return the stored fits the tables were made from (``diagnostics.csv``, ``fit_folder``)."""
    table = out / "results" / "tables" / "diagnostics.csv"
    if not table.is_file():
        return []
    with open(table, newline="") as handle:
        return sorted({row["fit_folder"] for row in csv.DictReader(handle)
                       if row.get("fit_folder")})


def record_run(out: Path, key: str, record: dict, exit_code: int) -> None:
    """Write ``results/run_inputs.json`` after a complete run (not after a failed fit).

    A run whose fit failed is not recorded (the next run must fit it again), nor one
    that wrote no ``results/run.json``.
    """
    if (record.get("steps", {}).get("models", {}).get("fits_failed")
            or not (out / "results" / "run.json").is_file()):
        (out / "results" / RECORD).unlink(missing_ok=True)
        return
    write_text(out / "results" / RECORD, json.dumps({
        "fingerprint": key, "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "exit_code": exit_code, "outputs": _outputs(out),
        "fit_folders": _fit_folders(out)}, indent=1) + "\n")


def unchanged_run(out: Path, key: str) -> dict | None:
    """Return the stored record of the last run if nothing changed since, else None.

    Nothing changed: the same fingerprint, every output file present with the same
    SHA-256 and no other output file beside them, every fit folder still there.
    """
    path = out / "results" / RECORD
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    outputs = stored.get("outputs", {})
    if (stored.get("fingerprint") != key or "results/run.json" not in outputs
            or _outputs(out) != outputs):
        return None
    if not all((Path(f) / "fit.json").is_file() for f in stored.get("fit_folders", [])):
        return None
    return stored


def note_in_log(out: Path, text: str) -> None:
    """Append a timestamped line to ``results/run.log`` (the log keeps every run)."""
    with open(out / "results" / "run.log", "a") as handle:
        # the format of triad.progress.run_log's lines
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        handle.write(f"{stamp}.{int(now % 1 * 1000):03d} INFO    {text}\n")
