"""The main job (``scripts/fit_all.py``): every step that exists, on one data set.

Steps: audit and claim replication of the published tables; for a respondent file
(default: the embedded synthetic data set) validation, scale scores summarised per
published cell and reliability; then every model spec in ``models/`` is fitted
(cached), and the contrasts, diagnostics and a claim-by-claim comparison are
written.  Outputs go to ``OUT/results/`` (git-ignored) with a run record.
Respondent-level rows are never written to ``results/tables``.
"""

import hashlib
import json
import time
from pathlib import Path

import pandas as pd
import xarray as xr
from rich.console import Console

from triad.audit import SEVERITIES, audit_markdown, audit_published
from triad.cells import cells_from_scores
from triad.fitting import DEFAULT_BACKEND
from triad.paths import data_dir, default_out
from triad.privacy import DEFAULT_MIN_CELL, SmallCellGuard
from triad.readers import read_respondents
from triad.reliability import reliability_table
from triad.replication import replicate_claims, replication_markdown, replication_summary
from triad.scores import scale_scores
from triad.versions import library_versions

__all__ = ["default_data", "run_all"]

console = Console()
_VERSIONED = ("triad", "numpy", "pandas", "scipy", "statsmodels", "pingouin", "pyreadstat")


def default_data() -> Path | None:
    """Return the embedded synthetic respondent file, or None when it is not there."""
    path = data_dir() / "synthetic" / "respondents.csv"
    return path if path.is_file() else None


def _versions() -> dict:
    return library_versions(_VERSIONED)


def _write(frame: pd.DataFrame, path: Path, guard=None) -> None:
    # Small groups are suppressed before anything reaches the disk (triad.privacy).
    if guard is not None:
        frame = guard.apply(path.name, frame)
    # Write to a temporary name first so an interrupted run never leaves half a table.
    tmp = path.with_suffix(path.suffix + ".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)


def _write_text(text: str, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def run_all(data: Path | None = None, out: Path | None = None, *, strict: bool = False,
            quick: bool = False, models: str = "*.toml", backend: str = DEFAULT_BACKEND,
            jobs: int = 1, fit_models: bool = True, lang: str = "en",
            scheduler: str | None = None, multiverse: bool = True,
            min_cell: int | None = None, robust_share: float = 0.8, verbosity: int = 1) -> dict:
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

    Returns
    -------
    dict
        The run record also written to ``results/run.json``.

    Raises
    ------
    triad.errors.TriadInputError
        If the respondent file is refused.
    """
    out = Path(out) if out is not None else default_out()
    tables = out / "results" / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    record: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "versions": _versions(),
                    "robust_share": robust_share, "steps": {}}

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
    loaded = data_tests = guard = None
    if data is None:
        console.print("no respondent file given and no embedded synthetic data set found: "
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
        record["steps"]["respondent_data"] = {"seconds": round(time.perf_counter() - start, 3)}
        label = " [bold yellow](SYNTHETIC data, not the study's)[/]" if (
            loaded.data_source == "synthetic") else ""
        console.print(f"[bold]data[/] {data}{label}: {loaded.counts['respondents']} "
                      f"respondents, {loaded.counts['quarantined']} answers quarantined; "
                      "cell summaries and reliability written")
    if fit_models:
        record["steps"]["models"] = _fit_models(
            data if data is not None else None, out / "results", tables, replication,
            quick=quick, pattern=models, backend=backend, jobs=jobs, data_tests=data_tests,
            scheduler=scheduler, multiverse=multiverse, guard=guard,
            robust_share=robust_share)
        if loaded is not None:
            record["steps"]["design"] = _design_step(loaded, out / "results", quick=quick,
                                                     pattern=models, backend=backend,
                                                     jobs=jobs, scheduler=scheduler)
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
    _write_text(json.dumps(record, indent=2, default=str) + "\n", out / "results" / "run.json")
    console.print(f"tables in {tables}; {len(figures)} figures in {out / 'figures'}; "
                  f"report {report}")
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


def _fit_models(data: Path | None, results: Path, tables: Path, replication: pd.DataFrame, *,
                quick: bool, pattern: str, backend: str, jobs: int,
                data_tests: pd.DataFrame | None = None, scheduler: str | None = None,
                multiverse: bool = True, guard=None, robust_share: float = 0.8) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    from triad.claims import claims_latex, claims_markdown, claims_table, primary_models
    from triad.multiverse import claim_universes, loo_rejected
    from triad.specs import load_specs

    # comma-separated globs: --models 'summary_cells.toml,metric_opvoed.toml'
    found = {s.name: s for glob in pattern.split(",") for s in load_specs(pattern=glob.strip())}
    specs = [found[name] for name in sorted(found)]
    if multiverse:
        from triad.multiverse import data_cells_spec, multiverse_specs

        specs += multiverse_specs(specs)
        # the summary universe of a respondent file is fitted to that file's own cells
        respondent_file = data if data is not None else default_data()
        if respondent_file is not None:
            specs += [data_cells_spec(s) for s in specs if s.data == "summary" and not s.variant]
            data = respondent_file
    parallel = jobs > 1 or scheduler is not None
    args = [(str(s.path), s.variant, str(data) if data else None, str(results), quick, backend,
             1 if parallel else None) for s in specs]
    start = time.perf_counter()
    outputs = []
    if scheduler is not None:
        from distributed import Client

        with Client(scheduler, timeout=30) as client:
            futures = [client.submit(_fit_one, *a, key=f"fit-{spec.name}", pure=False)
                       for spec, a in zip(specs, args, strict=True)]
            for spec, fut in zip(specs, futures, strict=True):
                outputs.append(fut.result())
                _report(outputs[-1]["diagnostics"], spec.name)
    elif jobs > 1:
        import multiprocessing

        # spawn, not fork: JAX (the numpyro backend) deadlocks in a forked child
        with ProcessPoolExecutor(max_workers=jobs,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_fit_one, *a) for a in args]
            for spec, fut in zip(specs, futures, strict=True):
                outputs.append(fut.result())
                _report(outputs[-1]["diagnostics"], spec.name)
    else:
        for spec, a in zip(specs, args, strict=True):
            console.print(f"fitting {spec.name} ...", end=" ")
            outputs.append(_fit_one(*a))
            _report(outputs[-1]["diagnostics"], spec.name)
    diag = pd.DataFrame([o["diagnostics"] for o in outputs])
    contrasts = pd.concat([o["contrasts"] for o in outputs], ignore_index=True)
    contrasts["quick"] = quick
    _write(diag, tables / "diagnostics.csv")
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
        console.print(f"[bold red]GATES FAILED[/] for {', '.join(failed)}: their contrasts are "
                      "flagged and are not findings (see diagnostics.csv)")
    return {"seconds": round(time.perf_counter() - start, 2), "models": len(specs),
            "gates_failed": failed, "quick": quick}


DESIGN_MODEL = "metric_inspraak"
# 640 per cell: the ambulatory Inspraak gap needs more than 320 on the synthetic default
DESIGN_GRID = (5, 10, 20, 40, 80, 160, 320, 640)


def _design_step(loaded, results: Path, *, quick: bool, pattern: str, backend: str,
                 jobs: int, scheduler: str | None) -> dict:
    """Design simulation for a next wave from the Inspraak model (cached by fit and settings).

    Runs when ``metric_inspraak`` is among the fitted specs; writes ``results/design/``.
    """
    from triad.design import run_design
    from triad.fitting import fit
    from triad.specs import load_specs

    specs = [s for glob in pattern.split(",") for s in load_specs(pattern=glob.strip())
             if s.name == DESIGN_MODEL]
    if not specs:
        return {"skipped": f"{DESIGN_MODEL} not among the fitted models"}
    start = time.perf_counter()
    result = fit(specs[0], loaded, backend=backend, quick=quick, out=results)
    settings = {"fit_key": result.record["key"], "grid": list(DESIGN_GRID),
                "n_draws": 400 if quick else None, "reps": 10, "seed": 20240601}
    folder = results / "design"
    stamp = folder / "design.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("settings") == settings:
        return {"seconds": round(time.perf_counter() - start, 2), "cached": True}
    done = run_design(result, folder, DESIGN_GRID, data=loaded, n_draws=settings["n_draws"],
                      reps=settings["reps"], seed=settings["seed"], jobs=jobs,
                      scheduler=scheduler,
                      record={"settings": settings, "quick": quick,
                              "gates_passed": bool(result.passed)})
    console.print("[bold]design[/] for a next wave, respondents per cell for assurance .8 "
                  "(Inspraak gap): " + ", ".join(
                      f"{r['sector']} {r['n_per_cell']:.0f}" if r["status"] == "reached"
                      else f"{r['sector']} >{max(DESIGN_GRID)}"
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


def _report(d: dict, name: str) -> None:
    status = "ok" if d["gates_passed"] else f"[bold red]GATES FAILED[/] ({d['gates_failed']})"
    console.print(f"{name}: {d['wall_seconds']:.1f} s{' (cached)' if d['cached'] else ''}, "
                  f"R-hat {d['r_hat_max']:.3f}, ESS {d['ess_bulk_min']:.0f}/"
                  f"{d['ess_tail_min']:.0f}, divergences {d['divergences']}: {status}")


def _cached_figures(tables: Path, folder: Path, stamp: Path, lang: str, draw) -> list[Path]:
    """Redraw the figures only when their input tables (or the language) changed."""
    inputs = ["claims.csv", "posterior_cell_means.csv", "ppc.csv", "contrasts.csv",
              "rope_sensitivity.csv",
              "reliability.csv", "multiverse.csv", "design.csv"]
    digest = hashlib.sha256(lang.encode())
    for name in inputs:
        path = tables / name
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
