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
"""

import hashlib
import json
import logging
import time
from pathlib import Path

import pandas as pd
import xarray as xr
from rich.console import Console

from triad.atomic import (
    check_writable,
    is_disk_full,
    sweep_stale,
    write_csv,
    write_error,
    write_text,
)
from triad.audit import SEVERITIES, audit_markdown, audit_published
from triad.cells import cells_from_scores
from triad.design import study_design
from triad.errors import OutputError
from triad.fitting import DEFAULT_BACKEND
from triad.paths import default_data, default_out
from triad.privacy import DEFAULT_MIN_CELL, SmallCellGuard
from triad.progress import RunConsole, quiet, run_log
from triad.readers import read_respondents
from triad.reliability import reliability_table
from triad.replication import (
    replicate_claims,
    replicate_correlations,
    replication_markdown,
    replication_summary,
)
from triad.runner import run_jobs
from triad.scores import scale_scores
from triad.versions import library_versions

__all__ = ["EXIT_FIT_FAILED", "EXIT_GATES_FAILED", "EXIT_OK", "EXIT_REFUSED",
           "EXIT_WRITE_FAILED", "exit_status", "run_all"]

console = Console()
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


def _write(frame: pd.DataFrame, path: Path, guard=None) -> None:
    # Small groups are suppressed before anything reaches the disk (triad.privacy).
    if guard is not None:
        frame = guard.apply(path.name, frame)
    # Write to a temporary name first so an interrupted run never leaves half a table.
    write_csv(path, frame)


def _write_text(text: str, path: Path) -> None:
    write_text(path, text)


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
    _write(findings, tables / "audit.csv")
    _write_text(audit_markdown(findings) + "\n", tables / "audit.md")
    counts = findings["severity"].value_counts().reindex(list(SEVERITIES), fill_value=0)
    record["steps"]["audit"] = {"seconds": round(time.perf_counter() - start, 3),
                                **{k: int(v) for k, v in counts.items()}}
    say.say("[bold]audit[/] of the published tables: " + ", ".join(
        f"{k} {v}" for k, v in counts.items()))
    say.say(f"audit: {record['steps']['audit']['seconds']:.1f} s", level=2)

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
        _write(loaded.quarantine.drop(columns=["respondent_id", "value"], errors="ignore"),
               out / "results" / "quarantine.csv")
        scores = scale_scores(loaded.wide)
        threshold = min_cell if min_cell is not None else (
            0 if loaded.data_source == "synthetic" else DEFAULT_MIN_CELL)
        guard = SmallCellGuard(scores, threshold)
        record["privacy"] = {"min_cell": threshold, "active": guard.active}
        cells = cells_from_scores(scores, decimals=None)
        cells.insert(0, "data_source", loaded.data_source)
        _write(cells, tables / "cells.csv", guard)
        data_tests = replicate_claims(cells, data_source=loaded.data_source, scores=scores)
        data_tests.insert(0, "data_source", loaded.data_source)
        _write(data_tests, tables / "anova.csv", guard)
        rel = reliability_table(loaded.wide)
        rel.insert(0, "data_source", loaded.data_source)
        _write(rel, tables / "reliability.csv", guard)
        _write(replicate_correlations(scores, loaded.data_source),
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
        record["steps"]["models"] = _fit_models(
            data if data is not None else None, out / "results", tables, replication,
            quick=quick, pattern=models, backend=backend, jobs=jobs, data_tests=data_tests,
            scheduler=scheduler, multiverse=multiverse, guard=guard,
            robust_share=robust_share, say=say)
        if loaded is not None:
            failed = {f["model"] for f in record["steps"]["models"]["fits_failed"]}
            design_model = study_design().get("model")
            if design_model in failed:
                record["steps"]["design"] = {"skipped": f"the {design_model} fit failed"}
                say.warn(f"design for a next wave skipped: the {design_model} fit failed")
            else:
                record["steps"]["design"] = _design_step(
                    loaded, out / "results", quick=quick, pattern=models, backend=backend,
                    jobs=jobs, scheduler=scheduler, say=say)
    if guard is not None:
        record["privacy"]["suppressed"] = guard.notes
        _write(guard.summary(), tables / "suppression.csv")
    _write_text(json.dumps(record, indent=2, default=str) + "\n", out / "results" / "run.json")
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

    figures = _cached_figures(tables, out / "figures", out / "results" / "figures.json", lang,
                              all_figures)
    figures += predictive_figures(out / "results", out / "figures", lang)  # per-cell PPC, prior
    report = write_report(out / "results", figures, out / "results" / "report.html", lang)
    record["steps"]["figures_report"] = {"seconds": round(time.perf_counter() - start, 2),
                                         "figures": len(figures)}
    say.say(f"figures and report: {record['steps']['figures_report']['seconds']:.1f} s",
            level=2)
    _write_text(json.dumps(record, indent=2, default=str) + "\n", out / "results" / "run.json")
    failed = record["steps"].get("models", {}).get("fits_failed", [])
    if failed:
        say.warn(f"{len(failed)} fit(s) FAILED: " + "; ".join(
            f"{f['model']} ({f['reason']})" for f in failed)
            + ". Their rows are missing from the tables; a rerun fits only what is missing.")
    say.final(f"tables in {tables}; {len(figures)} figures in {out / 'figures'}; "
              f"report {report}; log {out / 'results' / 'run.log'}")
    return record


def _fit_one(spec_path: str, variant: str, data: str | None, results: str, quick: bool,
             backend: str, cores: int | None) -> dict:
    """Fit one spec or multiverse variant (in a worker process or inline)."""
    from triad.fitting import fit
    from triad.multiverse import DATA_CELLS, resolve_spec

    spec = resolve_spec(spec_path, variant)
    start = time.perf_counter()
    own_data = spec.data == "respondent" or variant == DATA_CELLS
    result = fit(spec, data if own_data else None, quick=quick,
                 backend=backend, out=results, cores=cores)
    d = dict(result.diagnostics)
    d.update(model=spec.name, variant=spec.variant, family=spec.family,
             data_source=result.record["data_source"],
             backend=backend, quick=quick, cached=result.cached,
             wall_seconds=round(time.perf_counter() - start, 2),
             fit_folder=str(result.path))
    return {"diagnostics": d, "contrasts": result.contrasts, "claims": result.claims,
            "cell_means": result.cell_means, "ppc": result.ppc, "ppc_cells": result.ppc_cells,
            "sensitivity": result.sensitivity.assign(model=spec.name),
            "rope_curve": result.rope_curve}


def _check_spec_covariates(specs: list, data: Path | None) -> None:
    """Refuse the run before any fit when a spec uses a covariate the file has no column for.

    The file is read again only when some respondent spec uses a declared covariate.
    """
    from triad.modeldata import check_covariates
    from triad.specs import spec_covariates

    using = [s for s in specs if s.data == "respondent" and spec_covariates(s)]
    if not using:
        return
    loaded = read_respondents(data if data is not None else default_data())
    for spec in using:
        check_covariates(loaded, spec)  # TriadInputError: file, spec, column (exit 2)


def _fit_models(data: Path | None, results: Path, tables: Path, replication: pd.DataFrame, *,
                quick: bool, pattern: str, backend: str, jobs: int,
                data_tests: pd.DataFrame | None = None, scheduler: str | None = None,
                multiverse: bool = True, guard=None, robust_share: float = 0.8,
                say: RunConsole | None = None) -> dict:
    from triad.claims import claims_latex, claims_markdown, claims_table, primary_models
    from triad.multiverse import claim_universes, loo_rejected
    from triad.specs import load_specs

    say = say if say is not None else RunConsole(1, console)
    # comma-separated globs: --models 'summary_cells.toml,metric_opvoed.toml'
    found = {s.name: s for glob in pattern.split(",") for s in load_specs(pattern=glob.strip())}
    specs = [found[name] for name in sorted(found)]
    if multiverse:
        from triad.multiverse import data_cells_spec, multiverse_specs

        # the summary universe of a respondent file is fitted to that file's own cells
        respondent_file = data if data is not None else default_data()
        # (the file tells whether a complete-case universe differs from its base)
        specs += multiverse_specs(specs, data=respondent_file)
        if respondent_file is not None:
            specs += [data_cells_spec(s) for s in specs if s.data == "summary" and not s.variant]
            data = respondent_file
    _check_spec_covariates(specs, data)
    parallel = jobs > 1 or scheduler is not None
    tasks = [(s.name, (str(s.path), s.variant, str(data) if data else None, str(results),
                       quick, backend, 1 if parallel else None)) for s in specs]
    start = time.perf_counter()
    import pymc  # noqa: F401 (its import sets its logger to INFO: quieted below)

    # with Dask the progress learns the cluster's threads once connected
    with say.progress(len(tasks), "fits", min(jobs, len(tasks))) as progress, quiet("pymc"):
        done, failures = run_jobs(tasks, _fit_one, jobs=jobs, scheduler=scheduler,
                                  progress=progress, describe=_done_info)
    # the tables in spec order, whatever order the fits finished in (byte-identical runs)
    outputs = [done[s.name] for s in specs if s.name in done]
    failed_rows = [{"model": s.name, "variant": s.variant, "family": s.family,
                    "backend": backend, "quick": quick, "gates_passed": False,
                    "fit_status": "failed", "failure": failures[s.name]}
                   for s in specs if s.name in failures]
    fits_failed = [{"model": r["model"], "reason": r["failure"]} for r in failed_rows]
    summary = {"seconds": round(time.perf_counter() - start, 2), "models": len(specs),
               "fits_done": len(outputs), "fits_failed": fits_failed, "quick": quick}
    if not outputs:
        # nothing to summarise: record the failures, and leave no earlier run's model
        # tables behind to be read as this run's
        _write(pd.DataFrame(failed_rows), tables / "diagnostics.csv")
        for name in _MODEL_TABLES:
            (tables / name).unlink(missing_ok=True)
        return {**summary, "gates_failed": []}
    diag = pd.DataFrame([o["diagnostics"] for o in outputs])
    diag["fit_status"], diag["failure"] = "ok", ""
    contrasts = pd.concat([o["contrasts"] for o in outputs], ignore_index=True)
    contrasts["quick"] = quick
    _write(pd.concat([diag, pd.DataFrame(failed_rows)], ignore_index=True) if failed_rows
           else diag, tables / "diagnostics.csv")
    _write(contrasts, tables / "contrasts.csv", guard)
    _write(pd.concat([o["cell_means"] for o in outputs], ignore_index=True),
           tables / "posterior_cell_means.csv", guard)
    _write(pd.concat([o["ppc"] for o in outputs], ignore_index=True), tables / "ppc.csv", guard)
    _write(pd.concat([o["ppc_cells"] for o in outputs], ignore_index=True),
           tables / "ppc_cells.csv", guard)
    _write(pd.concat([o["rope_curve"] for o in outputs], ignore_index=True).assign(quick=quick),
           tables / "rope_sensitivity.csv", guard)
    claim_rows = pd.concat([o["claims"] for o in outputs], ignore_index=True)
    compared = _loo_comparison(outputs, diag, quick, cache=results / "fits")
    universes = claim_universes(claim_rows, diag, primary_models(diag, claim_rows),
                               rejected=loo_rejected(compared))
    claims = claims_table(replication, claim_rows, diag, quick=quick, data_tests=data_tests,
                          universes=universes, fragile_below=robust_share)
    if guard is not None:
        claims = guard.apply("claims.csv", claims)
    _write(claims, tables / "claims.csv")
    _write_sensitivity(outputs, universes, compared, tables, quick, guard)
    _write_text(claims_markdown(claims) + "\n", tables / "claims.md")
    _write_text(claims_latex(claims), tables / "claims.tex")
    failed = diag.loc[~diag["gates_passed"].astype(bool), "model"].tolist()
    if failed:
        say.warn(f"GATES FAILED for {', '.join(failed)}: their contrasts are flagged and "
                 "are not findings (see diagnostics.csv)")
    return {**summary, "gates_failed": failed}


# written from the fits; removed when no fit completed
_MODEL_TABLES = ("contrasts.csv", "posterior_cell_means.csv", "ppc.csv", "ppc_cells.csv",
                 "rope_sensitivity.csv", "claims.csv", "claims.md", "claims.tex",
                 "multiverse.csv", "prior_sensitivity.csv", "loo_compare.csv")


# ------------------------------------------------------------------------ running fits


def _done_info(output: dict) -> dict:
    """Say what the progress display shows of a finished fit (from its diagnostics)."""
    d = output.get("diagnostics", {}) if isinstance(output, dict) else {}
    ok = bool(d.get("gates_passed", True))
    status = "gates ok" if ok else f"GATES FAILED ({d.get('gates_failed', '')})"
    detail = ""
    if "r_hat_max" in d:
        detail = (f"R-hat {d['r_hat_max']:.3f}, ESS {d['ess_bulk_min']:.0f}/"
                  f"{d['ess_tail_min']:.0f}, divergences {d['divergences']}, "
                  f"{d.get('fit_folder', '')}")
    return {"seconds": d.get("wall_seconds"), "ok": ok, "status": status,
            "cached": bool(d.get("cached", False)), "detail": detail}


def _design_step(loaded, results: Path, *, quick: bool, pattern: str, backend: str,
                 jobs: int, scheduler: str | None, say: RunConsole | None = None) -> dict:
    """Design simulation for a next wave (study.toml ``[design]``; cached by fit and settings).

    Runs when the study declares a design and its model is among the fitted specs; writes
    ``results/design/``.
    """
    from triad.design import DEFAULT_GRID, run_design
    from triad.fitting import fit
    from triad.specs import load_specs

    design = study_design()
    if not design.get("model"):
        return {"skipped": "the study declares no [design] in study.toml"}
    grid = tuple(int(n) for n in design.get("grid", DEFAULT_GRID))
    specs = [s for glob in pattern.split(",") for s in load_specs(pattern=glob.strip())
             if s.name == design["model"]]
    if not specs:
        return {"skipped": f"{design['model']} not among the fitted models"}
    start = time.perf_counter()
    result = fit(specs[0], loaded, backend=backend, quick=quick, out=results)
    settings = {"fit_key": result.record["key"], "grid": list(grid),
                "n_draws": 400 if quick else None, "reps": 10, "seed": 20240601}
    folder = results / "design"
    stamp = folder / "design.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("settings") == settings:
        return {"seconds": round(time.perf_counter() - start, 2), "cached": True}
    say = say if say is not None else RunConsole(1, console)
    done = run_design(result, folder, grid, family=design.get("family"), data=loaded,
                      n_draws=settings["n_draws"], reps=settings["reps"],
                      seed=settings["seed"], jobs=jobs,
                      scheduler=scheduler,
                      record={"settings": settings, "quick": quick,
                              "gates_passed": bool(result.passed)}, progress=say)
    say.say("[bold]design[/] for a next wave, respondents per cell for assurance .8 "
            f"({design.get('label', design.get('family', ''))}): " + ", ".join(
                f"{r['sector']} {r['n_per_cell']:.0f}" if r["status"] == "reached"
                else f"{r['sector']} >{max(grid)}"
                for _, r in done["required"].iterrows()))
    return {"seconds": round(time.perf_counter() - start, 2), "cached": False}


def _write_sensitivity(outputs: list[dict], universes: pd.DataFrame, compared: pd.DataFrame,
                       tables: Path, quick: bool, guard=None) -> None:
    """Write the multiverse grid, every model's prior sensitivity and the LOO comparisons."""
    universes = universes.assign(quick=quick)
    _write(universes, tables / "multiverse.csv", guard)
    sens = pd.concat([o["sensitivity"] for o in outputs], ignore_index=True)
    sens["quick"] = quick
    _write(sens, tables / "prior_sensitivity.csv")
    _write(compared, tables / "loo_compare.csv")


def _loo_comparison(outputs: list[dict], diag: pd.DataFrame, quick: bool,
                    cache: Path | None = None) -> pd.DataFrame:
    """PSIS-LOO comparison of the stored fits within identical observations.

    ``cache`` (a folder) keeps the comparison of the same stored fits (their folders name
    their keys), so a rerun with nothing changed does not recompute every PSIS-LOO.
    """
    from triad.sensitivity import loo_compare

    folders = {o["diagnostics"]["model"]: str(o["diagnostics"]["fit_folder"]) for o in outputs}
    key = hashlib.sha256(json.dumps(folders, sort_keys=True).encode()).hexdigest()[:16]
    stored = cache / f"loo_compare_{key}.csv" if cache is not None else None
    if stored is not None and stored.is_file():
        compared = pd.read_csv(stored)
    else:
        # Each stored fit.nc holds its float32 log-likelihood: arviz compares the stored fits
        opened = {name: xr.open_datatree(Path(folder) / "fit.nc", engine="netcdf4")
                  for name, folder in folders.items()}
        try:
            compared = loo_compare({name: (dt, o["diagnostics"]["loo_data_key"])
                                    for (name, dt), o in zip(opened.items(), outputs,
                                                             strict=True)})
        finally:
            for dt in opened.values():
                dt.close()
        if stored is not None:
            _write(compared, stored)
            compared = pd.read_csv(stored)  # the same bytes whether computed or read
    # LOO of a fit whose sampler gates failed is not a finding either: flagged, not dropped
    compared["gates_passed"] = compared["model"].map(
        dict(zip(diag["model"], diag["gates_passed"], strict=True)))
    compared["quick"] = quick
    return compared


def _cached_figures(tables: Path, folder: Path, stamp: Path, lang: str, draw) -> list[Path]:
    """Redraw the figures only when their input tables (or the language) changed."""
    import triad.figures
    import triad.style
    from triad.paths import data_dir

    inputs = ["claims.csv", "posterior_cell_means.csv", "ppc.csv", "contrasts.csv",
              "rope_sensitivity.csv", "cells.csv", "diagnostics.csv", "loo_compare.csv",
              "reliability.csv", "correlations.csv", "multiverse.csv", "design.csv"]
    # the drawing code (every module of the package), the words and the style are inputs
    # too: a changed label redraws
    sources = [*sorted(Path(triad.figures.__file__).parent.glob("*.py")),
               triad.style.STYLE_FILE, data_dir() / "labels.toml"]
    digest = hashlib.sha256(lang.encode())
    for path in [tables / name for name in inputs] + sources:
        digest.update(path.read_bytes() if path.is_file() else b"-")
    key = digest.hexdigest()
    if stamp.is_file():
        saved = json.loads(stamp.read_text())
        paths = [Path(p) for p in saved.get("figures", [])]
        if saved.get("key") == key and all(
                p.with_suffix(ext).is_file() for p in paths for ext in (".png", ".pdf", ".svg")):
            return paths
    figures = draw(tables, folder, lang)
    _write_text(json.dumps({"key": key, "figures": [str(p) for p in figures]}) + "\n", stamp)
    return figures
