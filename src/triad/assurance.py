"""The next wave's assurance: a wave's closed-form analysis, effect sizes, simulation.

The method is described in :mod:`triad.design`, which re-exports the public names here
and stores the result.
"""

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from triad.decisions import CI_PROB, decide
from triad.progress import RunConsole, timed

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


def design_family(family: str | None) -> str:
    """Return ``family``, or when not given the study's ``[design] family``."""
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
    family = design_family(family)
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
