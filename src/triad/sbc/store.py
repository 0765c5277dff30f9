"""SBC's storage: the result folder, its report summary, runs of several models.

Part of :mod:`triad.sbc`.
"""

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from triad.atomic import write_csv, write_text
from triad.progress import RunConsole
from triad.sbc.figure import ecdf_figures
from triad.sbc.refit import DEFAULT_SBC_BACKEND, run_sbc
from triad.sbc.uniformity import family_decision, sbc_uniformity
from triad.specs import ModelSpec

_VERSIONED = ("triad", "pymc", "pytensor", "bambi", "nutpie", "numba", "numpyro", "jax",
              "arviz", "arviz_stats", "arviz_plots", "numpy", "scipy", "pandas",
              "distributed")


# --------------------------------------------------------------------------- storage


def write_sbc(ranks: pd.DataFrame, out: str | Path, record: dict | None = None, *,
              bins: int | None = None, level: float = 0.01) -> dict:
    """Write ``ranks.csv``, ``uniformity.csv``, ``decision.csv``, the figures, ``sbc.json``.

    Parameters
    ----------
    ranks : DataFrame
        The output of :func:`run_sbc` (several models concatenated).
    out : path
        Folder (created).
    record : dict, optional
        Run record (command, seed, sampler arguments, timings); library versions, the
        uniformity tests and the decision are added.
    bins, level : optional
        As in :func:`sbc_uniformity`.

    Returns
    -------
    dict
        Paths written, by kind.
    """
    from triad.versions import library_versions

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = sbc_uniformity(ranks, bins, level=level)
    decision = family_decision(table)
    paths = {"ranks": out / "ranks.csv", "uniformity": out / "uniformity.csv",
             "decision": out / "decision.csv", "record": out / "sbc.json"}
    for key, frame in (("ranks", ranks), ("uniformity", table), ("decision", decision)):
        write_csv(paths[key], frame)
    paths["figures"] = ecdf_figures(ranks, out, table=table)
    full = dict(record or {})
    full.setdefault("versions", library_versions(_VERSIONED))
    full["uniformity"] = {
        "decides": "simultaneous ECDF band (Säilynoja et al. 2022) of the PIT values "
                   "(rank + U) / n_ranks: arviz_stats.ecdf_utils.ecdf_pit, the envelope of "
                   "arviz_plots.plot_ecdf_pit; a quantity is rejected when its ECDF leaves "
                   "the band",
        "reported": "chi-square of the rank histogram (scipy.stats.chisquare)",
        "bins": bins or "default", "level": level,
        "correction": "bonferroni over the quantities of each model (band probability "
                      "1 - level / m; chi-square p * m < level)",
        "band_simulations": {m: int(s) for m, s in
                             table.groupby("model", sort=False)["ecdf_simulations"].first()
                             .items()}}
    full["decision"] = decision.to_dict(orient="records")
    write_text(paths["record"], json.dumps(full, indent=2, default=str) + "\n")
    return paths


def sbc_summary_for_report(folder: str | Path) -> pd.DataFrame:
    """Read a stored SBC run (``write_sbc``'s folder) as one row per model for the report.

    Parameters
    ----------
    folder : path
        Holds ``uniformity.csv`` (and optionally ``sbc.json``).

    Returns
    -------
    DataFrame
        :func:`family_decision`'s columns plus ``n_ranks``, ``bins``, ``backend``, ``draws``,
        ``thin``, ``seconds`` (wall time of the model's run, when recorded); empty when
        the folder holds no result or one written before the ECDF test.
    """
    folder = Path(folder)
    path = folder / "uniformity.csv"
    if not path.is_file():
        return pd.DataFrame()
    table = pd.read_csv(path)
    if "ecdf_reject" not in table:
        return pd.DataFrame()
    out = family_decision(table)
    first = table.groupby("model", sort=False)[["n_ranks", "bins"]].first()
    out = out.merge(first, left_on="model", right_index=True, how="left")
    record_path = folder / "sbc.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        args = record.get("sampler", {})
        for key in ("backend", "draws", "thin"):
            out[key] = out["model"].map(lambda m, key=key: args.get(m, {}).get(key))
        secs = record.get("timings", {})
        out["seconds"] = out["model"].map(lambda m: secs.get(m, {}).get("wall_seconds"))
    return out


def sbc_models(
    specs: Sequence[ModelSpec],
    n_sims: int | Mapping[str, int],
    out: str | Path,
    *,
    draws: int = 990,
    thin: int = 10,
    tune: int = 300,
    seed: int = 20240601,
    backend: str = DEFAULT_SBC_BACKEND,
    jobs: int = 1,
    scheduler: str | None = None,
    data=None,
    respondent_levels: int | None = 10,
    bins: int | None = None,
    level: float = 0.01,
    command: str = "",
    progress: RunConsole | None = None,
) -> dict:
    """Run SBC for several specs and store the result (``triad sbc``'s job).

    Parameters
    ----------
    specs : sequence of ModelSpec
    n_sims : int or mapping
        Simulations per model (a mapping: by spec name).
    out : path
        Result folder (:func:`write_sbc`).
    draws, thin, tune, seed, backend, jobs, scheduler, data, respondent_levels
        As in :func:`run_sbc`.
    bins, level
        As in :func:`sbc_uniformity`.
    command : str
        The command line, for the record.
    progress : triad.progress.RunConsole, optional
        Where the refits' progress is shown; default standard error (verbosity 1), so that
        ``triad sbc --format csv`` keeps standard output to its table.

    Returns
    -------
    dict
        ``paths`` (from :func:`write_sbc`), ``record`` and ``decision`` (DataFrame).
    """
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    start = time.perf_counter()
    ranks, timings, sims = [], {}, {}
    for spec in specs:
        t: dict = {}
        sims[spec.name] = int(n_sims[spec.name] if isinstance(n_sims, Mapping) else n_sims)
        ranks.append(run_sbc(spec, sims[spec.name], draws=draws, thin=thin, tune=tune,
                             seed=seed, backend=backend, jobs=jobs, scheduler=scheduler,
                             data=data, respondent_levels=respondent_levels, timings=t,
                             progress=progress if progress is not None else
                             RunConsole.stderr()))
        refits = t.pop("refit_seconds")
        t.update(refit_seconds_median=round(float(np.median(refits)), 3),
                 refit_seconds_max=round(float(np.max(refits)), 3),
                 refit_seconds_sum=round(float(np.sum(refits)), 1))
        timings[spec.name] = t
    all_ranks = pd.concat(ranks, ignore_index=True)
    divergent = all_ranks.groupby(["model", "sim"])["divergences"].first()
    record = {
        "command": command, "started": started, "seed": seed, "n_sims": sims,
        "models": [s.name for s in specs], "backend": backend, "jobs": jobs,
        "scheduler": scheduler, "respondent_levels": respondent_levels,
        "sampler": {s.name: {"backend": backend, "chains": 1, "tune": tune, "draws": draws,
                             "thin": thin, "kept_draws": len(range(0, draws, thin)),
                             "target_accept": s.sampler.get("target_accept", 0.9)}
                    for s in specs},
        "simulations_with_divergences": {m: int((d > 0).sum()) for m, d in
                                         divergent.groupby(level="model")},
        "timings": timings, "timings_note": "a process's first refit includes the one-off "
        "compilation of the model (numpyro: JAX; nutpie: numba)", "wall_seconds": None,
    }
    record["wall_seconds"] = round(time.perf_counter() - start, 1)
    paths = write_sbc(all_ranks, out, record, bins=bins, level=level)
    return {"paths": paths, "record": record,
            "decision": family_decision(sbc_uniformity(all_ranks, bins, level=level))}


def combine_runs(folders: Sequence[str | Path], out: str | Path, *, bins: int | None = None,
                 level: float = 0.01, command: str = "") -> dict:
    """Store several SBC runs (folders written by :func:`sbc_models`) as one result.

    Models run separately (other simulation counts or draws per model, one process at a
    time) are tested and drawn together; each run's record is kept under ``runs``.

    Returns
    -------
    dict
        As :func:`sbc_models`.
    """
    ranks, records = [], []
    for folder in map(Path, folders):
        ranks.append(pd.read_csv(folder / "ranks.csv"))
        records.append(json.loads((folder / "sbc.json").read_text()))
    all_ranks = pd.concat(ranks, ignore_index=True)
    if all_ranks.duplicated(["model", "sim", "parameter"]).any():
        raise ValueError("a model occurs in more than one run")
    merged: dict = {"command": command, "runs": [
        {k: r.get(k) for k in ("command", "started", "wall_seconds")} for r in records]}
    for key in ("n_sims", "sampler", "simulations_with_divergences", "timings"):
        merged[key] = {k: v for r in records for k, v in (r.get(key) or {}).items()}
    merged["models"] = [m for r in records for m in r.get("models", [])]
    backends = {r.get("backend") for r in records}
    merged["backend"] = backends.pop() if len(backends) == 1 else sorted(map(str, backends))
    for key in ("seed", "respondent_levels", "timings_note"):
        merged[key] = records[0].get(key)
    merged["wall_seconds"] = round(sum(r.get("wall_seconds") or 0 for r in records), 1)
    paths = write_sbc(all_ranks, out, merged, bins=bins, level=level)
    return {"paths": paths, "record": merged,
            "decision": family_decision(sbc_uniformity(all_ranks, bins, level=level))}
