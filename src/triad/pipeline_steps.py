"""The main job's larger steps: fitting every model, the design study, the figures.

:func:`models_step` fits every selected spec and its multiverse variants (in worker
processes, on Dask or inline; a fit that fails is reported, the others complete) and
writes the model tables, the claim-by-claim comparison, the multiverse grid, the prior
sensitivity and the LOO comparison; :func:`design_step` runs the study's design
simulation for a next wave; :func:`cached_figures` redraws the figures only when their
inputs changed.  :func:`triad.pipeline.run_all` runs them in order.
"""

import hashlib
import json
import time
from functools import lru_cache
from pathlib import Path

import pandas as pd
from rich.console import Console

from triad.atomic import write_csv, write_text
from triad.design import study_design
from triad.handoff import hand_off, is_handoff, release, take_over
from triad.paths import default_data
from triad.progress import RunConsole, quiet
from triad.readers import RespondentData, read_respondents
from triad.runner import run_jobs

__all__ = ["cached_figures", "console", "design_step", "models_step", "write_table",
           "write_text_file"]

console = Console()


def write_table(frame: pd.DataFrame, path: Path, guard=None) -> None:
    """Write a table as CSV, small groups suppressed by ``guard`` first."""
    # Small groups are suppressed before anything reaches the disk (triad.privacy).
    if guard is not None:
        frame = guard.apply(path.name, frame)
    # Write to a temporary name first so an interrupted run never leaves half a table.
    write_csv(path, frame)


def write_text_file(text: str, path: Path) -> None:
    """Write a text file under a temporary name and rename it when complete."""
    write_text(path, text)


def _fit_one(spec_path: str, variant: str, data: str | None, results: str, quick: bool,
             backend: str, cores: int | None) -> dict:
    """Fit one spec or multiverse variant (in a worker process or inline)."""
    from triad.fitting import fit
    from triad.multiverse import DATA_CELLS, resolve_spec

    spec = resolve_spec(spec_path, variant)
    start = time.perf_counter()
    own_data = spec.data == "respondent" or variant == DATA_CELLS
    if own_data and is_handoff(data):  # the run's validated file, read once
        data = _handed(data)
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


@lru_cache(maxsize=2)  # a worker process fits several models from the same file
def _handed(folder: str) -> RespondentData:
    return take_over(folder)


def _check_spec_covariates(specs: list, data) -> None:
    """Refuse the run before any fit when a spec uses a covariate the file has no column for.

    ``data``: the run's validated respondent data, or a file (read only when some
    respondent spec uses a declared covariate).
    """
    from triad.modeldata import check_covariates
    from triad.specs import spec_covariates

    using = [s for s in specs if s.data == "respondent" and spec_covariates(s)]
    if not using:
        return
    loaded = data if isinstance(data, RespondentData) else read_respondents(
        data if data is not None else default_data())
    for spec in using:
        check_covariates(loaded, spec)  # TriadInputError: file, spec, column (exit 2)


def models_step(data: Path | None, results: Path, tables: Path, replication: pd.DataFrame, *,
                quick: bool, pattern: str, backend: str, jobs: int,
                data_tests: pd.DataFrame | None = None, scheduler: str | None = None,
                multiverse: bool = True, guard=None, robust_share: float = 0.8,
                say: RunConsole | None = None, loaded: RespondentData | None = None) -> dict:
    """Fit every selected spec (and its multiverse variants); write the model tables.

    ``loaded``: the run's respondent file, already read and validated (from ``data``); it
    is handed to the fits as stored data (:mod:`triad.handoff`) instead of being read
    again by every fit.
    """
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
        specs += multiverse_specs(specs, data=loaded if loaded is not None else respondent_file)
        if respondent_file is not None:
            specs += [data_cells_spec(s) for s in specs if s.data == "summary" and not s.variant]
            data = respondent_file
    _check_spec_covariates(specs, loaded if loaded is not None else data)
    handed = hand_off(loaded, results) if loaded is not None and data is not None else None
    parallel = jobs > 1 or scheduler is not None
    tasks = [(s.name, (str(s.path), s.variant, str(handed or data) if data else None,
                       str(results), quick, backend, 1 if parallel else None)) for s in specs]
    start = time.perf_counter()
    import pymc  # noqa: F401 (its import sets its logger to INFO: quieted below)

    # with Dask the progress learns the cluster's threads once connected
    try:
        with say.progress(len(tasks), "fits", min(jobs, len(tasks))) as progress, \
                quiet("pymc"):
            done, failures = run_jobs(tasks, _fit_one, jobs=jobs, scheduler=scheduler,
                                      progress=progress, describe=_done_info)
    finally:
        release(handed)  # the handed data hold respondent ids: not an output
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
        write_table(pd.DataFrame(failed_rows), tables / "diagnostics.csv")
        for name in _MODEL_TABLES:
            (tables / name).unlink(missing_ok=True)
        return {**summary, "gates_failed": []}
    diag = pd.DataFrame([o["diagnostics"] for o in outputs])
    diag["fit_status"], diag["failure"] = "ok", ""
    contrasts = pd.concat([o["contrasts"] for o in outputs], ignore_index=True)
    contrasts["quick"] = quick
    write_table(pd.concat([diag, pd.DataFrame(failed_rows)], ignore_index=True) if failed_rows
                else diag, tables / "diagnostics.csv")
    write_table(contrasts, tables / "contrasts.csv", guard)
    write_table(pd.concat([o["cell_means"] for o in outputs], ignore_index=True),
                tables / "posterior_cell_means.csv", guard)
    write_table(pd.concat([o["ppc"] for o in outputs], ignore_index=True), tables / "ppc.csv",
                guard)
    write_table(pd.concat([o["ppc_cells"] for o in outputs], ignore_index=True),
                tables / "ppc_cells.csv", guard)
    write_table(pd.concat([o["rope_curve"] for o in outputs],
                          ignore_index=True).assign(quick=quick),
                tables / "rope_sensitivity.csv", guard)
    claim_rows = pd.concat([o["claims"] for o in outputs], ignore_index=True)
    compared = _loo_comparison(outputs, diag, quick)
    universes = claim_universes(claim_rows, diag, primary_models(diag, claim_rows),
                               rejected=loo_rejected(compared))
    claims = claims_table(replication, claim_rows, diag, quick=quick, data_tests=data_tests,
                          universes=universes, fragile_below=robust_share)
    if guard is not None:
        claims = guard.apply("claims.csv", claims)
    write_table(claims, tables / "claims.csv")
    _write_sensitivity(outputs, universes, compared, tables, quick, guard)
    write_text_file(claims_markdown(claims) + "\n", tables / "claims.md")
    write_text_file(claims_latex(claims), tables / "claims.tex")
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


def design_step(loaded, results: Path, *, quick: bool, pattern: str, backend: str,
                jobs: int, scheduler: str | None, say: RunConsole | None = None) -> dict:
    """Simulate the design for a next wave (study.toml ``[design]``; cached by fit and settings).

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
    write_table(universes, tables / "multiverse.csv", guard)
    sens = pd.concat([o["sensitivity"] for o in outputs], ignore_index=True)
    sens["quick"] = quick
    write_table(sens, tables / "prior_sensitivity.csv")
    write_table(compared, tables / "loo_compare.csv")


def _loo_comparison(outputs: list[dict], diag: pd.DataFrame, quick: bool) -> pd.DataFrame:
    """PSIS-LOO comparison of the stored fits within identical observations.

    Each fit stored its PSIS-LOO (``loo.csv`` and the numbers in its diagnostics); the
    comparison is made from those, so a run reads no fit's log-likelihood draws again.
    """
    from triad.sensitivity import loo_compare, stored_loo

    compared = loo_compare({
        d["model"]: (stored_loo(pd.read_csv(Path(d["fit_folder"]) / "loo.csv"), d),
                     d["loo_data_key"])
        for d in (o["diagnostics"] for o in outputs)})
    # LOO of a fit whose sampler gates failed is not a finding either: flagged, not dropped
    compared["gates_passed"] = compared["model"].map(
        dict(zip(diag["model"], diag["gates_passed"], strict=True)))
    compared["quick"] = quick
    return compared


def cached_figures(tables: Path, folder: Path, stamp: Path, lang: str, draw) -> list[Path]:
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
    write_text_file(json.dumps({"key": key, "figures": [str(p) for p in figures]}) + "\n", stamp)
    return figures
