"""The main job (``scripts/fit_all.py``): every step that exists, on one data set.

Steps now: audit and claim replication of the published tables; then, for a
respondent file (default: the embedded synthetic data set when present),
validation, scale scores summarised per published cell, and reliability.
Outputs go to ``OUT/results/tables/`` (git-ignored) with a run record beside them.
Respondent-level rows are never written there.
"""

import hashlib
import json
import platform
import time
from importlib import metadata
from pathlib import Path

import pandas as pd
from rich.console import Console

from triad.audit import SEVERITIES, audit_markdown, audit_published
from triad.cells import cells_from_scores
from triad.paths import data_dir, repo_root
from triad.readers import read_respondents
from triad.reliability import reliability_table
from triad.replication import replicate_claims, replication_markdown, replication_summary
from triad.scores import scale_scores

__all__ = ["default_data", "run_all"]

console = Console()
_VERSIONED = ("triad", "numpy", "pandas", "scipy", "statsmodels", "pingouin", "pyreadstat")


def default_data() -> Path | None:
    """Return the embedded synthetic respondent file, or None when it is not there."""
    path = data_dir() / "synthetic" / "respondents.csv"
    return path if path.is_file() else None


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _write(frame: pd.DataFrame, path: Path) -> None:
    # Write to a temporary name first so an interrupted run never leaves half a table.
    tmp = path.with_suffix(path.suffix + ".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)


def _write_text(text: str, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def run_all(data: Path | None = None, out: Path | None = None, *, strict: bool = False) -> dict:
    """Run every available step and write the tables.

    Parameters
    ----------
    data : Path, optional
        A respondent file; default the embedded synthetic data set (if present).
    out : Path, optional
        Root of the output tree; default the repository root (``results/`` there).
    strict : bool
        Refuse answer-level problems in the respondent file.

    Returns
    -------
    dict
        The run record also written to ``results/run.json``.

    Raises
    ------
    triad.errors.TriadInputError
        If the respondent file is refused.
    """
    out = Path(out) if out is not None else repo_root()
    tables = out / "results" / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    record: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "versions": _versions(),
                    "steps": {}}

    start = time.perf_counter()
    findings = audit_published()
    _write(findings, tables / "audit.csv")
    _write_text(audit_markdown(findings) + "\n", tables / "audit.md")
    counts = findings["severity"].value_counts().reindex(list(SEVERITIES), fill_value=0)
    record["steps"]["audit"] = {"seconds": round(time.perf_counter() - start, 3),
                                **{k: int(v) for k, v in counts.items()}}
    console.print("[bold]audit[/] of the published tables: " + ", ".join(
        f"{k} {v}" for k, v in counts.items()))

    start = time.perf_counter()
    replication = replicate_claims()
    _write(replication, tables / "replication.csv")
    _write_text(replication_markdown(replication) + "\n", tables / "replication.md")
    summary = replication_summary(replication)
    tested = summary[summary["paper_verdict"] != "descriptive"]
    verdicts = tested["replicates"].value_counts()
    record["steps"]["replication"] = {"seconds": round(time.perf_counter() - start, 3),
                                      "claims": len(summary), "with_verdict": len(tested),
                                      **{k: int(v) for k, v in verdicts.items()}}
    console.print(f"[bold]replication[/] from summary statistics: {len(tested)} claims with a "
                  "significance verdict: " + ", ".join(f"{k} {v}" for k, v in verdicts.items()))

    data = Path(data) if data is not None else default_data()
    if data is None:
        console.print("no respondent file given and no embedded synthetic data set found: "
                      "respondent-level steps skipped")
    else:
        start = time.perf_counter()
        loaded = read_respondents(data, strict=strict)
        digest = hashlib.sha256(Path(data).read_bytes()).hexdigest()
        record["data"] = {"path": str(data), "sha256": digest, "source": loaded.data_source,
                          **loaded.counts}
        # Respondent ids and rows: for the user fixing the file, not for the paper tables.
        _write(loaded.quarantine, out / "results" / "quarantine.csv")
        scores = scale_scores(loaded.wide)
        cells = cells_from_scores(scores, decimals=None)
        cells.insert(0, "data_source", loaded.data_source)
        _write(cells, tables / "cells.csv")
        rel = reliability_table(loaded.wide)
        rel.insert(0, "data_source", loaded.data_source)
        _write(rel, tables / "reliability.csv")
        record["steps"]["respondent_data"] = {"seconds": round(time.perf_counter() - start, 3)}
        label = " [bold yellow](SYNTHETIC data, not the study's)[/]" if (
            loaded.data_source == "synthetic") else ""
        console.print(f"[bold]data[/] {data}{label}: {loaded.counts['respondents']} "
                      f"respondents, {loaded.counts['quarantined']} answers quarantined; "
                      "cell summaries and reliability written")
    _write_text(json.dumps(record, indent=2) + "\n", out / "results" / "run.json")
    console.print(f"tables in {tables}")
    return record
