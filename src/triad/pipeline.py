"""The main job (``scripts/fit_all.py``): every step that exists, on one data set.

Steps: audit and claim replication of the published tables; for a respondent file
(default: the embedded synthetic data set) validation, scale scores summarised per
published cell and reliability; then every model spec in ``models/`` is fitted
(cached), and the contrasts, diagnostics and a claim-by-claim comparison are
written.  Outputs go to ``OUT/results/`` (git-ignored) with a run record and a run
log (``run.log``).  Respondent-level rows are never written to ``results/tables``.

Faults: a fit whose worker process dies (killed, out of memory) or that raises is
reported failed with the reason; the other fits complete, their tables are written, the
failed fits are marked in ``diagnostics.csv`` and ``run.json`` and :func:`exit_status`
gives :data:`EXIT_FIT_FAILED`.  A rerun reads the stored fits from the cache and fits
only what is missing.  An unwritable ``--out`` is refused before anything runs, and a
full disk stops the run with one :class:`triad.errors.OutputError`; every file is written
under a temporary name and renamed when complete, so nothing half-written is read later.

The larger steps (fitting every model, the design study, the figures) are in
:mod:`triad.pipeline_steps`.
"""

import functools
import hashlib
import json
import logging
import os
import time
from pathlib import Path

from triad.atomic import check_writable, is_disk_full, sweep_stale, write_error
from triad.audit import SEVERITIES, audit_markdown, audit_published
from triad.cells import cells_from_scores
from triad.design import study_design
from triad.errors import OutputError
from triad.fitting import DEFAULT_BACKEND
from triad.paths import default_data, default_out
from triad.pipeline_steps import (
    cached_figures,
    console,
    design_step,
    models_step,
    write_table,
    write_text_file,
)
from triad.privacy import DEFAULT_MIN_CELL, SmallCellGuard
from triad.progress import RunConsole, run_log
from triad.readers import read_respondents
from triad.reliability import reliability_table
from triad.replication import (
    replicate_claims,
    replicate_correlations,
    replication_markdown,
    replication_summary,
)
from triad.scores import scale_scores
from triad.versions import library_versions

__all__ = ["EXIT_FIT_FAILED", "EXIT_GATES_FAILED", "EXIT_OK", "EXIT_REFUSED",
           "EXIT_WRITE_FAILED", "exit_status", "run_all"]

log = logging.getLogger("triad.run")

# Exit codes of the main job (scripts/fit_all.py, `triad run`), documented in the README.
EXIT_OK = 0
EXIT_GATES_FAILED = 1   # --strict and a sampler gate failed
EXIT_REFUSED = 2        # refused before running: input file, spec, option, unwritable --out
EXIT_FIT_FAILED = 3     # a fit failed (worker died or it raised); the others' tables written
EXIT_WRITE_FAILED = 4   # an output could not be written (disk full): the run stopped
_VERSIONED = ("triad", "numpy", "pandas", "scipy", "statsmodels", "pingouin", "pyreadstat")


def _versions() -> dict:
    return library_versions(_VERSIONED)


def exit_status(record: dict, strict: bool = False) -> int:
    """Return the exit code of a finished run.

    :data:`EXIT_FIT_FAILED` if a fit failed, else :data:`EXIT_GATES_FAILED` if ``strict``
    and a sampler gate failed, else :data:`EXIT_OK`.
    """
    models = record.get("steps", {}).get("models", {})
    if models.get("fits_failed"):
        return EXIT_FIT_FAILED
    if strict and models.get("gates_failed"):
        return EXIT_GATES_FAILED
    return EXIT_OK


def run_all(data: Path | None = None, out: Path | None = None, *, strict: bool = False,
            quick: bool = False, models: str = "*.toml", backend: str = DEFAULT_BACKEND,
            jobs: int = 1, fit_models: bool = True, lang: str = "en",
            scheduler: str | None = None, multiverse: bool = True,
            min_cell: int | None = None, robust_share: float = 0.8,
            verbosity: int = 1) -> dict:
    """Run every available step and write the tables.

    Parameters
    ----------
    data : Path, optional
        A respondent file; default the embedded synthetic data set (if present).
    out : Path, optional
        Root of the output tree; default the repository root (``results/`` there).
    strict : bool
        Refuse answer-level problems in the respondent file; the record's
        ``gates_failed`` lists models whose sampler gates failed (the script exits 1).
    quick : bool
        Few draws per model (outputs say ``quick``).
    models : str
        Glob of spec files in ``models/``.
    backend : str
        Sampler backend for every model.
    jobs : int
        Models fitted in parallel processes.
    fit_models : bool
        False skips the Bayesian models (audit, replication and data steps only).
    lang : {"en", "nl"}
        Language of figure labels and report headings.
    scheduler : str, optional
        Address of a running Dask distributed scheduler (``tcp://host:port``): models are
        fitted on its workers instead of local processes.
    multiverse : bool
        Also fit the multiverse variants (``models/multiverse/variants.toml``) of the
        selected specs; claims.csv gets the robustness columns either way.
    min_cell : int, optional
        Small-cell protection: statistics of groups with fewer respondents are
        suppressed in every table, figure and the report.  Default 5 for a respondent
        file, off (0) for the embedded synthetic data set, which describes nobody.
    robust_share : float
        A claim is called fragile when fewer than this share of the other universes reach
        its primary conclusion.
    verbosity : int
        0 prints only warnings, failures and the final line; 1 (default) each step and
        fit as it starts and finishes (a live display on a terminal); 2 also per-step
        timings and each fit's R-hat, ESS and folder.  ``results/run.log`` gets
        everything, with timestamps, whatever the verbosity.

    Returns
    -------
    dict
        The run record also written to ``results/run.json``; its
        ``steps.models.fits_failed`` lists failed fits (:func:`exit_status`).

    Raises
    ------
    triad.errors.TriadInputError
        If the respondent file is refused.
    triad.errors.OutputError
        If ``out`` cannot be written (exit code 2, before anything runs) or a write
        failed during the run, e.g. a full disk (exit code 4).
    """
    out = Path(out) if out is not None else default_out()
    results = out / "results"
    # Refuse an unwritable --out at once, not after the first hour of fitting.
    check_writable([out, results / "tables", out / "figures"])
    sweep_stale([results, out / "figures"])
    say = RunConsole(verbosity, console)
    start = time.perf_counter()
    with run_log(results / "run.log"):
        log.info("triad run started: out=%s data=%s models=%s quick=%s backend=%s "
                 "jobs=%s scheduler=%s multiverse=%s verbosity=%s", out, data, models,
                 quick, backend, jobs, scheduler, multiverse, verbosity)
        try:
            record = _run(data, out, say, strict=strict, quick=quick, models=models,
                          backend=backend, jobs=jobs, fit_models=fit_models, lang=lang,
                          scheduler=scheduler, multiverse=multiverse, min_cell=min_cell,
                          robust_share=robust_share)
        except OutputError as exc:
            log.error("run stopped: %s", exc)
            raise
        except Exception as exc:
            full = is_disk_full(exc)
            if full is None:
                log.exception("run stopped")
                raise
            error = write_error(full, full.filename or results)
            log.error("run stopped: %s", error)
            raise error from exc
        log.info("run finished in %.1f s, exit status %d", time.perf_counter() - start,
                 exit_status(record, strict))
    return record


def _run(data: Path | None, out: Path, say: RunConsole, *, strict: bool, quick: bool,
         models: str, backend: str, jobs: int, fit_models: bool, lang: str,
         scheduler: str | None, multiverse: bool, min_cell: int | None,
         robust_share: float) -> dict:
    """Run the steps of :func:`run_all` (which sets up the checks and the run log)."""
    tables = out / "results" / "tables"
    record: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "versions": _versions(),
                    "robust_share": robust_share, "steps": {}}

    start = time.perf_counter()
    findings = audit_published()
    write_table(findings, tables / "audit.csv")
    write_text_file(audit_markdown(findings) + "\n", tables / "audit.md")
    counts = findings["severity"].value_counts().reindex(list(SEVERITIES), fill_value=0)
    record["steps"]["audit"] = {"seconds": round(time.perf_counter() - start, 3),
                                **{k: int(v) for k, v in counts.items()}}
    say.say("[bold]audit[/] of the published tables: " + ", ".join(
        f"{k} {v}" for k, v in counts.items()))
    say.say(f"audit: {record['steps']['audit']['seconds']:.1f} s", level=2)

    start = time.perf_counter()
    replication = replicate_claims()
    write_table(replication, tables / "replication.csv")
    write_text_file(replication_markdown(replication) + "\n", tables / "replication.md")
    summary = replication_summary(replication)
    tested = summary[summary["paper_verdict"] != "descriptive"]
    verdicts = tested["replicates"].value_counts()
    record["steps"]["replication"] = {"seconds": round(time.perf_counter() - start, 3),
                                      "claims": len(summary), "with_verdict": len(tested),
                                      **{k: int(v) for k, v in verdicts.items()}}
    say.say(f"[bold]replication[/] from summary statistics: {len(tested)} claims with a "
            "significance verdict: " + ", ".join(f"{k} {v}" for k, v in verdicts.items()))
    say.say(f"replication: {record['steps']['replication']['seconds']:.1f} s", level=2)

    data = Path(data) if data is not None else default_data()
    loaded = data_tests = guard = None
    if data is None:
        say.say("no respondent file given and no embedded synthetic data set found: "
                "respondent-level steps skipped")
    else:
        start = time.perf_counter()
        loaded = read_respondents(data, strict=strict)
        digest = hashlib.sha256(Path(data).read_bytes()).hexdigest()
        record["data"] = {"path": str(data), "sha256": digest, "source": loaded.data_source,
                          **loaded.counts}
        # What was quarantined and why, by line and column of the input file: no
        # respondent ids or answers in outputs (`triad validate --quarantine` shows them).
        write_table(loaded.quarantine.drop(columns=["respondent_id", "value"], errors="ignore"),
                    out / "results" / "quarantine.csv")
        scores = scale_scores(loaded.wide)
        threshold = min_cell if min_cell is not None else (
            0 if loaded.data_source == "synthetic" else DEFAULT_MIN_CELL)
        guard = SmallCellGuard(scores, threshold)
        record["privacy"] = {"min_cell": threshold, "active": guard.active}
        cells = cells_from_scores(scores, decimals=None)
        cells.insert(0, "data_source", loaded.data_source)
        write_table(cells, tables / "cells.csv", guard)
        data_tests = replicate_claims(cells, data_source=loaded.data_source, scores=scores)
        data_tests.insert(0, "data_source", loaded.data_source)
        write_table(data_tests, tables / "anova.csv", guard)
        rel = reliability_table(loaded.wide)
        rel.insert(0, "data_source", loaded.data_source)
        write_table(rel, tables / "reliability.csv", guard)
        write_table(replicate_correlations(scores, loaded.data_source),
                    tables / "correlations.csv", guard)
        record["steps"]["respondent_data"] = {"seconds": round(time.perf_counter() - start, 3)}
        label = " [bold yellow](SYNTHETIC data, not the study's)[/]" if (
            loaded.data_source == "synthetic") else ""
        say.say(f"[bold]data[/] {data}{label}: {loaded.counts['respondents']} "
                f"respondents, {loaded.counts['quarantined']} answers quarantined; "
                "cell summaries and reliability written")
        say.say(f"respondent data: {record['steps']['respondent_data']['seconds']:.1f} s",
                level=2)
    if fit_models:
        record["steps"]["models"] = models_step(
            data if data is not None else None, out / "results", tables, replication,
            quick=quick, pattern=models, backend=backend, jobs=jobs, data_tests=data_tests,
            scheduler=scheduler, multiverse=multiverse, guard=guard,
            robust_share=robust_share, say=say, loaded=loaded)
        if loaded is not None:
            failed = {f["model"] for f in record["steps"]["models"]["fits_failed"]}
            design_model = study_design().get("model")
            if design_model in failed:
                record["steps"]["design"] = {"skipped": f"the {design_model} fit failed"}
                say.warn(f"design for a next wave skipped: the {design_model} fit failed")
            else:
                record["steps"]["design"] = design_step(
                    loaded, out / "results", quick=quick, pattern=models, backend=backend,
                    jobs=jobs, scheduler=scheduler, say=say)
    if guard is not None:
        record["privacy"]["suppressed"] = guard.notes
        write_table(guard.summary(), tables / "suppression.csv")
    write_text_file(json.dumps(record, indent=2, default=str) + "\n", out / "results" / "run.json")
    if fit_models:
        # methods.md/.tex from the specs, run.json and the model tables (read by the report)
        from triad.methods import write_methods
        from triad.specs import load_specs

        found = {s.name: s for g in models.split(",") for s in load_specs(pattern=g.strip())}
        write_methods(out / "results", [found[name] for name in sorted(found)])
    start = time.perf_counter()
    from triad.figures import all_figures
    from triad.predictive_checks import predictive_figures
    from triad.report import write_report

    # the figure groups side by side on two cores (measured on the quick run's tables:
    # 37 s one after the other)
    draw = functools.partial(all_figures, jobs=min(2, os.cpu_count() or 1))
    figures = cached_figures(tables, out / "figures", out / "results" / "figures.json", lang,
                             draw)
    figures += predictive_figures(out / "results", out / "figures", lang)  # per-cell PPC, prior
    report = write_report(out / "results", figures, out / "results" / "report.html", lang)
    record["steps"]["figures_report"] = {"seconds": round(time.perf_counter() - start, 2),
                                         "figures": len(figures)}
    say.say(f"figures and report: {record['steps']['figures_report']['seconds']:.1f} s",
            level=2)
    write_text_file(json.dumps(record, indent=2, default=str) + "\n", out / "results" / "run.json")
    failed = record["steps"].get("models", {}).get("fits_failed", [])
    if failed:
        say.warn(f"{len(failed)} fit(s) FAILED: " + "; ".join(
            f"{f['model']} ({f['reason']})" for f in failed)
            + ". Their rows are missing from the tables; a rerun fits only what is missing.")
    say.final(f"tables in {tables}; {len(figures)} figures in {out / 'figures'}; "
              f"report {report}; log {out / 'results' / 'run.log'}")
    return record
