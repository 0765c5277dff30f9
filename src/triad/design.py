"""Design simulation for a next survey wave: respondents per cell for a target assurance.

For a two-group contrast per sector (default: the Inspraak gap, youths about professionals
minus professionals about youths, in each of the three sectors) and effect sizes drawn from
the posterior of a fitted model, find the number of respondents per cell ``n`` such that
the *assurance* ``P(conclusion is higher or lower) >= .8``: the probability, over the
posterior uncertainty about the cell means and SDs and over the sampling of a new wave of
``n`` youths and ``n`` professionals per sector, that the new wave's analysis reaches a
directional conclusion under triad's one decision rule (:func:`triad.decisions.decide`:
its 95% HDI excludes zero).

Analysis of a simulated wave (closed form).  Each group's scores are normal with unknown
mean and SD; with the reference prior ``p(mu, sigma) ~ 1/sigma`` per group the posterior
of a group mean is ``xbar + s / sqrt(n) * t_(n-1)``, and that of the difference of two
means is the Behrens-Fisher distribution.  Welch and Satterthwaite approximate it by a
shifted, scaled t: ``delta | data ~ (xbar_a - xbar_b) + se * t_nu`` with
``se^2 = s_a^2/n_a + s_b^2/n_b`` and
``nu = se^4 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1))``.  Hence
``P(delta > 0 | data) = F_nu(t)`` with Welch's ``t = (xbar_a - xbar_b) / se``; the 95% HDI
of this symmetric posterior is ``xbar_a - xbar_b +- t_(.975, nu) se``, which excludes zero
exactly when the two-sided Welch p-value is ``< .05`` (``|t| > t_(.975, nu)``).
``tests/test_design.py`` checks the approximation against the exact Behrens-Fisher
posterior by Monte Carlo.  The new wave is analysed on its own (no borrowing from the
earlier wave or across sectors), so the assurance is that of a stand-alone analysis.

Simulation.  A wave's sufficient statistics are drawn directly (exact for normal data):
``xbar ~ N(mu, sd^2 / n)``, ``s^2 ~ sd^2 chi2_(n-1) / (n-1)``, from the same uniform and
normal variates for every ``n`` (common random numbers: the curve over ``n`` is smooth and
the result for one ``n`` does not depend on the rest of the grid).  ``assurance`` counts a
confident result in either direction (as ``p_direction`` in ``contrasts.csv`` does);
``assurance_correct`` only one in the direction of the simulating draw's true difference.
``mc_se`` is the Monte Carlo standard error (posterior draws are treated as independent).
"""

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from triad.assurance import (
    DEFAULT_GRID,
    DRAW_COLUMNS,
    TABLE_COLUMNS,
    behrens_fisher_p_direction,
    design_draws,
    design_family,
    design_table,
    required_n,
    simulate_assurance,
    welch_p_direction,
)
from triad.assurance import study_design as study_design  # for triad.pipeline; not in __all__
from triad.atomic import write_csv, write_text
from triad.decisions import CI_PROB
from triad.progress import RunConsole

__all__ = ["DEFAULT_GRID", "DRAW_COLUMNS", "TABLE_COLUMNS", "welch_p_direction",
           "behrens_fisher_p_direction", "design_draws", "simulate_assurance",
           "design_table", "required_n", "assurance_figure", "run_design",
           "design_summary_for_report"]


# --------------------------------------------------------------------------- figure


def assurance_figure(table: pd.DataFrame, out: str | Path, *, target: float = 0.8,
                     name: str = "design_assurance", lang: str = "en",
                     data_source: str | None = None) -> Path:
    """Assurance against respondents per cell, one line per sector, with the target.

    Parameters
    ----------
    table : DataFrame
        :func:`simulate_assurance` output (one contrast).
    out : path
        Folder; PNG (300 dpi), PDF, SVG and the drawn table as CSV are written, at
        single-column width in the journal style (:mod:`triad.style`).
    target : float
        Horizontal reference line.
    name : str
        File stem.
    lang : {"en", "nl"}
        Words of sectors and contrasts (:mod:`triad.labels`) and of the axes.
    data_source : str, optional
        Source of the posterior the effect sizes were drawn from (the footnote; synthetic
        is said in bold).

    Returns
    -------
    Path
        The PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from triad.figures import LABELS, OKABE_ITO, add_footnote, footnote_height_mm, save, wrap_text
    from triad.labels import contrast_label, sector_label
    from triad.style import SINGLE_MM, figure_size, journal_style

    text = LABELS[lang]
    source = data_source or "simulated (next-wave design)"
    with journal_style():
        fig, ax = plt.subplots(figsize=figure_size("single", 78 + footnote_height_mm(
            SINGLE_MM, source, lang)))
        markers = "osD^v"
        for k, (sector, part) in enumerate(table.groupby("sector", sort=False)):
            part = part.sort_values("n_per_cell")
            colour = OKABE_ITO[(4, 0, 2, 5, 6)[k % 5]]
            ax.errorbar(part["n_per_cell"], part["assurance"], yerr=1.96 * part["mc_se"],
                        marker=markers[k % 5], ms=3, lw=1, capsize=1.5, color=colour,
                        label=sector_label(sector, lang))
        ax.axhline(target, color="black", lw=0.6, ls="--")
        ax.set_xscale("log", base=2)
        grid = sorted(table["n_per_cell"].unique())
        ax.set_xticks(grid, [str(n) for n in grid])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(text["per_cell"])
        ax.set_ylabel(text["assurance"])
        names = sorted(table["contrast"].unique())
        ax.set_title(wrap_text("; ".join(contrast_label(c, None, lang) for c in names),
                           SINGLE_MM - 8), fontsize=7)
        ax.legend(loc="lower right")
        add_footnote(fig, source, lang)
        data = table.assign(sector_label=[sector_label(s, lang) for s in table["sector"]],
                            contrast_label=[contrast_label(c, None, lang)
                                            for c in table["contrast"]],
                            data_source=source)
        return save(fig, Path(out), name, data)


# --------------------------------------------------------------------------- storage


def run_design(
    source,
    out: str | Path,
    n_grid: Sequence[int] = DEFAULT_GRID,
    *,
    target: float = 0.8,
    family: str | None = None,
    scale: str | None = None,
    data=None,
    n_draws: int | None = None,
    reps: int = 10,
    ci_prob: float = CI_PROB,
    seed: int = 20240601,
    jobs: int = 1,
    scheduler: str | None = None,
    record: dict | None = None,
    progress: RunConsole | None = None,
) -> dict:
    """Compute and store a design study (``scripts/design.py``'s job).

    Writes ``assurance.csv`` (:data:`TABLE_COLUMNS`), ``required_n.csv``
    (:func:`required_n`), the figure (PNG, PDF) and ``design.json`` (settings, timing,
    library versions, the required n) to ``out``.

    Parameters
    ----------
    source : FitResult or DataFrame
        As in :func:`design_table`.
    out : path
    n_grid, target, family, scale, data, n_draws, reps, ci_prob, seed, jobs, scheduler
        As in :func:`design_table` and :func:`required_n`.
    record : dict, optional
        Extra fields for the JSON record (e.g. the command).
    progress : triad.progress.RunConsole, optional
        Where the simulation's progress is shown; default standard error (verbosity 1),
        so that ``triad design --format csv`` keeps standard output to its table.

    Returns
    -------
    dict
        ``table``, ``required`` (DataFrames), ``paths`` and ``record``.
    """
    import json

    from triad.versions import library_versions

    start = time.perf_counter()
    if isinstance(source, pd.DataFrame):
        draws, model, data_source = source, None, None
    else:
        draws = design_draws(source, family=family, scale=scale, data=data, n_draws=n_draws,
                             seed=seed)
        model, data_source = source.spec.name, source.record.get("data_source")
    drawn = time.perf_counter()
    timings: dict = {}
    table = design_table(draws, n_grid, n_draws=n_draws, reps=reps, ci_prob=ci_prob,
                         seed=seed, jobs=jobs, scheduler=scheduler,
                         progress=progress if progress is not None else RunConsole.stderr())
    timings["simulate_seconds"] = round(time.perf_counter() - drawn, 2)
    timings["draws_seconds"] = round(drawn - start, 2)
    required = required_n(table, target)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"assurance": out / "assurance.csv", "required": out / "required_n.csv",
             "record": out / "design.json"}
    for key, frame in (("assurance", table), ("required", required)):
        write_csv(paths[key], frame)
    paths["figure"] = assurance_figure(table, out, target=target, data_source=data_source)
    full = {**(record or {}), "model": model, "data_source": data_source,
            "family": design_family(family),
            "grid": [int(n) for n in n_grid], "target": target, "ci_prob": ci_prob,
            "decision": "the HDI excludes 0 (triad.decisions)",
            "n_draws": int(table["n_draws"].iloc[0]), "reps": reps, "seed": seed,
            "jobs": jobs, "scheduler": scheduler,
            "analysis": "Welch-Satterthwaite t posterior (reference prior) per simulated wave",
            "timings": {**timings, "wall_seconds": round(time.perf_counter() - start, 2)},
            "versions": library_versions(("triad", "numpy", "scipy", "pandas", "pymc",
                                          "bambi", "arviz")),
            "required_n": required.replace({np.nan: None}).to_dict(orient="records")}
    write_text(paths["record"], json.dumps(full, indent=2, default=str) + "\n")
    return {"table": table, "required": required, "paths": paths, "record": full}


def design_summary_for_report(folder: str | Path) -> pd.DataFrame:
    """Read a stored design study (``run_design``'s folder) for the report.

    Parameters
    ----------
    folder : path
        Holds ``required_n.csv`` and ``assurance.csv``.

    Returns
    -------
    DataFrame
        One row per contrast and sector: ``contrast, sector, target, n_per_cell,
        assurance, status`` plus ``assurance_at_max`` (at the largest n in the grid) and
        ``max_n``; empty when the folder holds no result.
    """
    folder = Path(folder)
    if not (folder / "required_n.csv").is_file():
        return pd.DataFrame()
    required = pd.read_csv(folder / "required_n.csv")
    table = pd.read_csv(folder / "assurance.csv")
    last = table.sort_values("n_per_cell").groupby(["contrast", "sector"]).tail(1)
    last = last[["contrast", "sector", "n_per_cell", "assurance"]].rename(
        columns={"n_per_cell": "max_n", "assurance": "assurance_at_max"})
    return required.merge(last, on=["contrast", "sector"], how="left")
