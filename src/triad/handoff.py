"""A validated respondent file handed to the fits of a run: read once, stored as parquet.

The main job reads and validates the respondent file once (:func:`triad.readers.
read_respondents`).  Its fits run in this process, in spawned worker processes or on a
Dask cluster; rather than each of them reading and validating the file again, they get
the validated data: the wide table, the quarantine list and the covariates as parquet
files, and the rest (the file's path, counts, notes) as JSON, in a folder of the run's
results named by the file's content hash.  A fit's cache key is still the file's bytes
(the stored path), so a fit from the handed data is the fit from the file.

The handed data hold respondent ids, which no output of a run may (``triad.privacy``):
the folder is a temporary (``<hash>.tmp<pid>``) that the run removes when its fits are
done (:func:`release`), and that the next run's sweep removes if a killed run left it.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from triad.atomic import write_text
from triad.readers import RespondentData

__all__ = ["hand_off", "is_handoff", "release", "take_over"]

_META = "respondents.json"
_TABLES = ("wide", "quarantine", "covariates")


def hand_off(data: RespondentData, results: str | Path) -> Path:
    """Store validated respondent data for the run's fits; return its folder.

    The folder is ``<results>/handoff/<hash>.tmp<pid>`` (the first 16 hex digits of the
    file's SHA-256, this process's id); a folder already there for the same file is
    reused.
    """
    digest = hashlib.sha256(Path(data.path).read_bytes()).hexdigest()[:16]
    folder = Path(results) / "handoff" / f"{digest}.tmp{os.getpid()}"
    if (folder / _META).is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in _TABLES:
        getattr(data, name).to_parquet(folder / f"{name}.parquet", index=False)
    meta = {"path": str(data.path), "ignored_columns": list(data.ignored_columns),
            "counts": data.counts, "data_source": data.data_source, "notes": data.notes,
            "sha256": digest,
            # parquet reads text back as pandas' string dtype: the reader's object columns
            # (codes, with None where missing) are restored as they were
            "object_columns": {name: [c for c, t in getattr(data, name).dtypes.items()
                                      if t == np.dtype(object)] for name in _TABLES}}
    write_text(folder / _META, json.dumps(meta, indent=1) + "\n")  # last: marks complete
    return folder


def release(folder: str | Path | None) -> None:
    """Remove handed data (their respondent ids must not stay among the run's outputs)."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def is_handoff(path: str | Path | None) -> bool:
    """Whether ``path`` is a folder written by :func:`hand_off`."""
    return path is not None and (Path(path) / _META).is_file()


def take_over(folder: str | Path) -> RespondentData:
    """Load the respondent data a run handed to its fits (:func:`hand_off`)."""
    folder = Path(folder)
    meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    tables = {}
    for name in _TABLES:
        table = pd.read_parquet(folder / f"{name}.parquet")
        for column in meta["object_columns"][name]:
            table[column] = table[column].astype(object).where(table[column].notna(), None)
        tables[name] = table
    return RespondentData(path=Path(meta["path"]), ignored_columns=meta["ignored_columns"],
                          counts=meta["counts"], data_source=meta["data_source"],
                          notes=meta["notes"], **tables)
