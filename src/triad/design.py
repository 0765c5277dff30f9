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

from triad.decisions import CI_PROB, decide
from triad.progress import RunConsole, timed

__all__ = ["DEFAULT_GRID", "DRAW_COLUMNS", "TABLE_COLUMNS", "welch_p_direction",
           "behrens_fisher_p_direction", "design_draws", "simulate_assurance",
           "design_table", "required_n", "assurance_figure", "run_design",
           "design_summary_for_report"]

DEFAULT_GRID = (5, 10, 20, 40, 80, 160, 320)
DRAW_COLUMNS = ["contrast", "sector", "draw", "mean_a", "sd_a", "mean_b", "sd_b"]
TABLE_COLUMNS = ["contrast", "sector", "n_per_cell", "assurance", "mc_se",
                 "assurance_correct", "mc_se_correct", "true_difference", "n_draws", "reps"]


# --------------------------------------------------------------------------- analysis


def _welch(mean_a, var_a, n_a, mean_b, var_b, n_b):
    va, vb = var_a / n_a, var_b / n_b
    se2 = va + vb
    nu = se2**2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    return (mean_a - mean_b) / np.sqrt(se2), nu


def welch_p_direction(mean_a, sd_a, n_a, mean_b, sd_b, n_b) -> tuple[np.ndarray, np.ndarray]:
    """Posterior ``P(delta > 0)`` and ``p_direction`` of a mean difference (Welch closed form).

    Parameters
    ----------
    mean_a, sd_a, n_a, mean_b, sd_b, n_b : array_like
        Sample means, sample SDs and sizes of two independent groups (broadcast).

    Returns
    -------
    p_positive, p_direction : ndarray
        ``F_nu(t)`` and ``max(F_nu(t), 1 - F_nu(t))`` for Welch's ``t`` and
        Welch-Satterthwaite ``nu`` (the reference-prior posterior, approximately).
    """
    from scipy import stats

    t, nu = _welch(np.asarray(mean_a, float), np.asarray(sd_a, float) ** 2,
                   np.asarray(n_a, float), np.asarray(mean_b, float),
                   np.asarray(sd_b, float) ** 2, np.asarray(n_b, float))
    p = stats.t.cdf(t, nu)
    return p, np.maximum(p, 1 - p)


def behrens_fisher_p_direction(mean_a, sd_a, n_a, mean_b, sd_b, n_b, *, draws: int = 400_000,
                               seed: int = 0) -> tuple[float, float]:
    """Exact reference-prior ``P(delta > 0)`` and ``p_direction`` by Monte Carlo.

    ``mu_g | data = xbar_g + s_g / sqrt(n_g) * T_(n_g - 1)`` independently per group
    (prior ``1/sigma``); the difference's distribution is Behrens-Fisher.

    Parameters
    ----------
    mean_a, sd_a, n_a, mean_b, sd_b, n_b : float
        Summary statistics of one data set.
    draws : int
        Monte Carlo draws.
    seed : int

    Returns
    -------
    p_positive, p_direction : float
    """
    rng = np.random.default_rng(seed)
    delta = (mean_a + sd_a / np.sqrt(n_a) * rng.standard_t(n_a - 1, draws)
             - mean_b - sd_b / np.sqrt(n_b) * rng.standard_t(n_b - 1, draws))
    p = float(np.mean(delta > 0))
    return p, max(p, 1 - p)


# --------------------------------------------------------------------------- draws


def study_design() -> dict:
    """Return the current study's ``[design]`` table of ``study.toml``.

    Its ``model``, ``family`` and ``grid``; {} when the study declares no next-wave design.
    """
    from triad.paths import study_settings

    return dict(study_settings().get("design", {}))


def _family(family: str | None) -> str:
    if family:
        return family
    declared = study_design().get("family")
    if not declared:
        raise ValueError("no contrast family given and the study's study.toml has no "
                         "[design] family")
    return str(declared)


def design_draws(result, *, family: str | None = None,
                 scale: str | None = None, data=None, n_draws: int | None = None,
                 seed: int = 0, covariate_spread: bool = True) -> pd.DataFrame:
    """Posterior draws of the two cell means and SDs of a contrast in each sector.

    Parameters
    ----------
    result : triad.fitting.FitResult
        A fitted (or cached) metric model, e.g. ``metric_inspraak``.
    family : str
        A two-group contrast family of the study's catalogue (a gap between rater
        groups); default the study's ``[design] family``.
    scale : str, optional
        Default the model's first scale.
    data : optional
        The respondent data the model was fitted to (default the embedded synthetic file);
        it supplies the rows each cell mean averages over.
    n_draws : int, optional
        Keep this many posterior draws (a seeded subsample); default all.
    seed : int
    covariate_spread : bool
        True: a cell's SD is that of a new respondent's score, ``sqrt(sigma^2 +
        var(mu over the cell's rows))`` (residual SD plus the spread the age and gender mix
        adds); False: the residual SD ``sigma`` alone.

    Returns
    -------
    DataFrame
        Columns :data:`DRAW_COLUMNS`; group ``a`` is the contrast's first group (youths
        about professionals), ``b`` the second (professionals about youths); one row per
        sector (not ``all``) and posterior draw.
    """
    import warnings

    from triad.contrasts import contrast_pairs
    from triad.fitting import build_model, respondent_data
    from triad.modeldata import model_frame

    spec = result.spec
    if spec.data != "respondent" or spec.ordinal:
        raise ValueError(f"{spec.name}: design draws need a metric respondent model")
    frame = model_frame(respondent_data(data), spec).frame
    units = frame.assign(weight=1.0)
    scale = scale or spec.scales[0]
    family = _family(family)
    pairs = [p for p in contrast_pairs(family, scale, units) if p[1] != "all"]
    if not pairs:
        raise ValueError(f"{spec.name} has no {family} contrast on {scale}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bambi's pandas deprecation notices
        _, model = build_model(spec, frame)  # the Bambi model predicts the cells' mu, sigma
        post = model.predict(result.idata, kind="response_params", inplace=False).posterior
    mu = post["mu"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    sigma = post["sigma"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    if sigma.ndim == 1:
        sigma = np.repeat(sigma[:, None], mu.shape[1], axis=1)
    keep = np.arange(mu.shape[0])
    if n_draws is not None and n_draws < mu.shape[0]:
        keep = np.sort(np.random.default_rng(seed).choice(mu.shape[0], n_draws, replace=False))
    rows = []
    for name, sector, sa, sb in pairs:
        cols = {}
        for g, sel in (("a", sa), ("b", sb)):
            m = sel.mask(units)
            cell_mu = mu[keep][:, m]
            var = np.mean(sigma[keep][:, m] ** 2, axis=1)
            if covariate_spread:
                var = var + cell_mu.var(axis=1)
            cols[f"mean_{g}"] = cell_mu.mean(axis=1)
            cols[f"sd_{g}"] = np.sqrt(var)
        rows.append(pd.DataFrame({"contrast": name, "sector": sector,
                                  "draw": np.arange(len(keep)), **cols}))
    return pd.concat(rows, ignore_index=True)[DRAW_COLUMNS]


# --------------------------------------------------------------------------- simulation


def _assurance_one_n(draws: dict, n: int, reps: int, seed: int, ci_prob: float) -> dict:
    """Assurance for one cell size; ``draws`` arrays are (draws, sectors)."""
    from scipy import stats

    ma, sa, mb, sb = draws["mean_a"], draws["sd_a"], draws["mean_b"], draws["sd_b"]
    shape = (reps, *ma.shape)
    # Common random numbers: the variates depend on the seed only, never on n.
    rng = np.random.default_rng(np.random.SeedSequence([seed]))
    z_a, z_b = rng.standard_normal(shape), rng.standard_normal(shape)
    u_a, u_b = rng.random(shape), rng.random(shape)
    xbar_a = ma + sa / np.sqrt(n) * z_a
    xbar_b = mb + sb / np.sqrt(n) * z_b
    var_a = sa**2 * stats.chi2.ppf(u_a, n - 1) / (n - 1)
    var_b = sb**2 * stats.chi2.ppf(u_b, n - 1) / (n - 1)
    t, nu = _welch(xbar_a, var_a, n, xbar_b, var_b, n)
    se = np.sqrt(var_a / n + var_b / n)
    half = stats.t.ppf(0.5 + ci_prob / 2, nu) * se  # the symmetric posterior's HDI
    conclusion = decide(t * se - half, t * se + half)
    success = (conclusion == "higher") | (conclusion == "lower")
    correct = success & (np.sign(t) == np.sign(ma - mb))
    return {"n": n, "success": success.mean(axis=0), "correct": correct.mean(axis=0)}


def simulate_assurance(
    draws: pd.DataFrame,
    n_grid: Sequence[int] = DEFAULT_GRID,
    *,
    reps: int = 10,
    ci_prob: float = CI_PROB,
    seed: int = 20240601,
    jobs: int = 1,
    scheduler: str | None = None,
    timings: dict | None = None,
    progress: RunConsole | None = None,
) -> pd.DataFrame:
    """Assurance of a directional conclusion for each cell size in ``n_grid``.

    Parameters
    ----------
    draws : DataFrame
        Columns :data:`DRAW_COLUMNS` (e.g. :func:`design_draws`); one row per contrast,
        sector and posterior draw.  A single draw per sector (fixed truth) gives the
        frequentist power of the two-sided Welch test at ``1 - ci_prob``.
    n_grid : sequence of int
        Respondents per cell (the same ``n`` in both groups); each at least 2.
    reps : int
        Simulated waves per posterior draw.
    ci_prob : float
        Probability of the HDI the decision rule uses (:mod:`triad.decisions`).
    seed : int
        Seed of the simulated waves; the same variates serve every ``n``.
    jobs : int
        Local worker processes (spawn) over the grid.
    scheduler : str, optional
        Dask scheduler address (``tcp://host:port``): the grid runs on its workers.
    timings : dict, optional
        Filled with ``wall_seconds``.
    progress : triad.progress.RunConsole, optional
        Shows the cell sizes done, elapsed time and ETA there; default silent.

    Returns
    -------
    DataFrame
        Columns :data:`TABLE_COLUMNS`, one row per contrast x sector x ``n``.
    """
    start = time.perf_counter()
    if min(n_grid) < 2:
        raise ValueError("every n in the grid must be at least 2")
    missing = set(DRAW_COLUMNS) - set(draws.columns)
    if missing:
        raise ValueError(f"draws lack column(s) {sorted(missing)}")
    keys = draws[["contrast", "sector"]].drop_duplicates().to_records(index=False).tolist()
    wide = {}
    for col in ("mean_a", "sd_a", "mean_b", "sd_b"):
        table = draws.pivot_table(index="draw", columns=["contrast", "sector"], values=col,
                                  sort=False)
        if table.isna().any().any():
            raise ValueError("every contrast and sector needs the same posterior draws")
        wide[col] = table[keys].to_numpy()
    args = [(wide, int(n), reps, seed, ci_prob) for n in n_grid]
    out = progress if progress is not None else RunConsole(0)
    results = []  # in the order they finish; the table is sorted below
    with out.progress(len(args), "design: cell sizes", jobs if scheduler is None else 1) as bar:
        if scheduler is not None:
            from distributed import Client, as_completed

            with Client(scheduler, timeout=30) as client:
                futures = [client.submit(timed, _assurance_one_n, *a, key=f"design-n{a[1]}",
                                         pure=False) for a in args]
                for f in as_completed(futures):
                    seconds, r = f.result()
                    results.append(r)
                    bar.advance(1, seconds, note=f"n = {r['n']}")
        elif jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=jobs,
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(timed, _assurance_one_n, *a) for a in args]
                for f in as_completed(futures):
                    seconds, r = f.result()
                    results.append(r)
                    bar.advance(1, seconds, note=f"n = {r['n']}")
        else:
            for a in args:
                seconds, r = timed(_assurance_one_n, *a)
                results.append(r)
                bar.advance(1, seconds, note=f"n = {r['n']}")
    n_draws = wide["mean_a"].shape[0]
    truth = (wide["mean_a"] - wide["mean_b"]).mean(axis=0)
    rows = []
    for r in results:
        for j, (contrast, sector) in enumerate(keys):
            s, c = r["success"][:, j], r["correct"][:, j]
            rows.append({"contrast": contrast, "sector": sector, "n_per_cell": r["n"],
                         "assurance": float(s.mean()), "mc_se": _mc_se(s, reps),
                         "assurance_correct": float(c.mean()),
                         "mc_se_correct": _mc_se(c, reps), "true_difference": float(truth[j]),
                         "n_draws": n_draws, "reps": reps})
    if timings is not None:
        timings["wall_seconds"] = round(time.perf_counter() - start, 2)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS).sort_values(
        ["contrast", "sector", "n_per_cell"], key=_sector_order).reset_index(drop=True)


def _mc_se(per_draw: np.ndarray, reps: int) -> float:
    """Return the standard error of the mean success over draws (each over ``reps`` waves)."""
    m = len(per_draw)
    if m > 1 and per_draw.std() > 0:
        return float(per_draw.std(ddof=1) / np.sqrt(m))
    p = float(per_draw.mean())
    return float(np.sqrt(p * (1 - p) / (m * reps)))


def _sector_order(col: pd.Series) -> pd.Series:
    from triad.codebook import sector_codes

    if col.name == "sector":
        sectors = sector_codes()
        return col.map({s: i for i, s in enumerate(sectors)}).fillna(len(sectors))
    return col


def required_n(table: pd.DataFrame, target: float = 0.8,
               column: str = "assurance") -> pd.DataFrame:
    """Smallest ``n`` per cell in the grid whose assurance reaches ``target``, per sector.

    Parameters
    ----------
    table : DataFrame
        :func:`simulate_assurance` output.
    target : float
    column : {"assurance", "assurance_correct"}

    Returns
    -------
    DataFrame
        ``contrast, sector, target, n_per_cell`` (the grid point; NaN when not reached),
        ``assurance`` at that ``n`` (or at the largest), ``n_interpolated`` (the ``n``
        where the assurance, interpolated linearly in ``log n`` between the grid points
        around the target, reaches it, rounded up; an approximation for choosing between
        grid points), ``status`` (``'reached'`` or ``'not reached in grid'``).
    """
    rows = []
    for (contrast, sector), part in table.groupby(["contrast", "sector"], sort=False):
        part = part.sort_values("n_per_cell")
        n, a = part["n_per_cell"].to_numpy(float), part[column].to_numpy(float)
        above = np.flatnonzero(a >= target)
        interpolated = np.nan
        if len(above):
            i = above[0]
            interpolated = n[i]
            if i > 0 and a[i] > a[i - 1]:
                w = (target - a[i - 1]) / (a[i] - a[i - 1])
                interpolated = float(np.ceil(np.exp(np.log(n[i - 1]) + w * (
                    np.log(n[i]) - np.log(n[i - 1])))))
        hit = part.iloc[above[0]] if len(above) else part.iloc[-1]
        rows.append({"contrast": contrast, "sector": sector, "target": target,
                     "n_per_cell": int(hit["n_per_cell"]) if len(above) else np.nan,
                     "assurance": float(hit[column]), "n_interpolated": interpolated,
                     "status": "reached" if len(above) else "not reached in grid"})
    return pd.DataFrame(rows)


def design_table(
    source,
    n_grid: Sequence[int] = DEFAULT_GRID,
    *,
    family: str | None = None,
    scale: str | None = None,
    data=None,
    n_draws: int | None = None,
    reps: int = 10,
    ci_prob: float = CI_PROB,
    seed: int = 20240601,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: RunConsole | None = None,
) -> pd.DataFrame:
    """Assurance table of a contrast per sector from a fit or from posterior draws.

    Parameters
    ----------
    source : triad.fitting.FitResult or DataFrame
        A fitted metric model (draws via :func:`design_draws`) or the draws themselves
        (columns :data:`DRAW_COLUMNS`).
    n_grid, reps, ci_prob, seed, jobs, scheduler, progress
        As in :func:`simulate_assurance`.
    family, scale, data, n_draws
        As in :func:`design_draws` (ignored for a DataFrame source, except ``n_draws``).

    Returns
    -------
    DataFrame
        :data:`TABLE_COLUMNS`.
    """
    if isinstance(source, pd.DataFrame):
        draws = source
        if n_draws is not None and draws["draw"].nunique() > n_draws:
            ids = np.sort(np.random.default_rng(seed).choice(
                draws["draw"].unique(), n_draws, replace=False))
            draws = draws[draws["draw"].isin(ids)]
    else:
        draws = design_draws(source, family=family, scale=scale, data=data, n_draws=n_draws,
                             seed=seed)
    return simulate_assurance(draws, n_grid, reps=reps, ci_prob=ci_prob, seed=seed,
                              jobs=jobs, scheduler=scheduler, progress=progress)


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
        tmp = paths[key].with_suffix(".csv.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(paths[key])
    paths["figure"] = assurance_figure(table, out, target=target, data_source=data_source)
    full = {**(record or {}), "model": model, "data_source": data_source,
            "family": _family(family),
            "grid": [int(n) for n in n_grid], "target": target, "ci_prob": ci_prob,
            "decision": "the HDI excludes 0 (triad.decisions)",
            "n_draws": int(table["n_draws"].iloc[0]), "reps": reps, "seed": seed,
            "jobs": jobs, "scheduler": scheduler,
            "analysis": "Welch-Satterthwaite t posterior (reference prior) per simulated wave",
            "timings": {**timings, "wall_seconds": round(time.perf_counter() - start, 2)},
            "versions": library_versions(("triad", "numpy", "scipy", "pandas", "pymc",
                                          "bambi", "arviz")),
            "required_n": required.replace({np.nan: None}).to_dict(orient="records")}
    tmp = paths["record"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(full, indent=2, default=str) + "\n")
    tmp.replace(paths["record"])
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
