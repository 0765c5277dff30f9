"""The models a spec is fitted with, and sampling them: Bambi, the summary model, PyMC.

:func:`bambi_model` builds a respondent spec's Bambi model (every term's prior from the
spec), :func:`summary_model` the PyMC model of printed cells' n, M and SD, and
:func:`sample_all` samples posterior, prior and posterior predictive of any spec (ordinal
specs with ``disc`` or ``thresholds``: :mod:`triad.ordinal_model`) for
:func:`triad.fitting.fit`.
"""

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from triad import sampling
from triad.likelihoods import likelihood
from triad.modeldata import ModelData
from triad.specs import ModelSpec

__all__ = ["bambi_model", "paired_loadings", "sample_all", "summary_model"]


def _prior(spec_prior: dict, term: str = ""):
    import bambi as bmb

    params = {}
    for k, v in spec_prior.items():
        if k in ("dist", "why"):
            continue
        params[k] = _prior(v) if isinstance(v, dict) else (np.asarray(v, dtype=float)
                                                            if isinstance(v, list) else v)
    if term == "threshold":
        # Cut points of a cumulative model must stay ordered (as Bambi's default prior does).
        from pymc.distributions.transforms import ordered

        params["transform"] = ordered
    return bmb.Prior(spec_prior["dist"], **params)


def _bambi_priors(spec: ModelSpec) -> dict:
    priors: dict = {}
    for term, p in spec.priors.items():
        if "/" in term:  # 'sigma/rater': a term of a distributional parameter's formula
            param, sub = term.split("/", 1)
            priors.setdefault(param, {})[sub] = _prior(p)
        else:
            priors[term] = _prior(p, term)
    return priors


def bambi_model(spec: ModelSpec, frame: pd.DataFrame):
    """Return the Bambi model of a respondent spec on its model frame (the spec's priors)."""
    import bambi as bmb

    from triad.missingness import fitted_spec

    # an age_missing term is not fitted when no age is missing (its column would be 0)
    spec, _ = fitted_spec(spec, frame)
    formula = spec.formula
    lik = likelihood(spec.family)
    if spec.ordinal:
        formula = formula.replace("score", "value", 1) if formula.startswith("score") else formula
        model = bmb.Model(formula, frame, family=lik.bambi_family, link=lik.link,
                          priors=_bambi_priors(spec), noncentered=spec.noncentered)
        _check_priors_cover(spec, model)
        return model
    bf = bmb.Formula(formula, spec.sigma_formula) if spec.sigma_formula else bmb.Formula(formula)
    model = bmb.Model(bf, frame, family=lik.bambi_family, priors=_bambi_priors(spec),
                      noncentered=spec.noncentered)
    _check_priors_cover(spec, model)
    return model


def _check_priors_cover(spec: ModelSpec, model) -> None:
    """Every term must take its prior from the spec, not from Bambi's data-based default."""
    from triad.specs import SpecError

    missing = []
    for param, comp in model.components.items():
        for term in getattr(comp, "terms", {}):
            key = term if param in ("mu", "p") else f"{param}/{term}"
            if key not in spec.priors:
                missing.append(key)
    if missing:
        raise SpecError(spec.path, "priors", "no prior for term(s) " + ", ".join(
            repr(m) for m in missing) + " (every term needs one, with a 'why')")


def _expected(model, idata: xr.DataTree, spec: ModelSpec,
              latent: bool = False, data: pd.DataFrame | None = None) -> np.ndarray:
    """Posterior draws x rows of each row's expected 1-5 score (or latent location).

    ``data``: a modified copy of the model frame (counterfactual predictions).
    """
    from triad.ordinal_model import OrdinalModel

    if isinstance(model, OrdinalModel):  # disc/thresholds by rater: PyMC, not Bambi
        return model.expected(idata, latent=latent, data=data)
    if not spec.ordinal:
        # the expected score is the mean parameter alone: predicting the other
        # distributional parameters too (sigma ~ rater) took 1.6 s a call instead of 0.44 s
        # (metric_alliantie, 8000 draws x 670 rows; ten calls per fit), with the same means
        mean = model.conditional_parameters[model.family.likelihood.parent].predict(
            idata, data=data)
        return mean.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()
    cumulative = "p" in idata["posterior"] and data is None
    if cumulative:
        # prior draws hold PyMC's own deterministic p: the cumulative P(Y <= k), k < K
        post = idata["posterior"]
    else:
        # Bambi's predict gives the K category probabilities
        post = model.predict(idata, kind="response_params", inplace=False,
                             data=data)["posterior"]
    p = post["p"].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()
    if cumulative:
        p = np.diff(p, axis=-1, prepend=0.0, append=1.0)
    if not latent:
        return p @ np.arange(1, p.shape[-1] + 1)
    # P(Y <= 1) = F(threshold_1 - eta)  =>  eta = threshold_1 - F^-1(p_1)
    from scipy import stats

    theta = post["threshold"].stack(sample=("chain", "draw")).transpose(
        "sample", ...).to_numpy()[:, 0]
    p1 = np.clip(p[..., 0], 1e-12, 1 - 1e-12)
    inverse = stats.norm.ppf if spec.family.endswith("probit") else (
        lambda q: np.log(q / (1 - q)))
    return theta[:, None] - inverse(p1)


def summary_model(frame: pd.DataFrame, spec: ModelSpec):
    """Return the PyMC model of printed cells' n, M and SD (exact normal-theory likelihood).

    One partition of the people per likelihood block (issue 15): the sector cells
    (Tables 5-9) and the gender cells (Tables 10-12) describe the same professionals,
    so they share no parameter.  Sector cells are partially pooled around a mean per
    scale x rater>target group with one spread per scale; gender cells get a fixed
    mean each, like the respondent models' ``group_gender`` means.  The joint
    posterior factorises into the two blocks: a contrast uses one block only
    (:meth:`triad.contrasts.Selector.mask`), so every person counts once.

    Paired cells (:mod:`triad.paired`: Belangrijk and Lukt, about youths and about
    parents, same people) have correlated sampling errors, ``Cov = r s_a s_b n_ab /
    (n_a n_b)``.  A latent standard normal per pair carries the shared part: ``M_a =
    mu_a + l_a z + e_a`` with ``l_a = s_a sqrt(|r| n_ab) / n_a`` (sign of r on the
    second member) and ``Var e_a = s_a^2 / n_a - l_a^2``; integrating z out gives the
    bivariate normal exactly.  Unlike conditioning M_b on the observed M_a, this keeps
    the data out of the graph, so prior predictive draws and SBC's data swap stay
    right.
    """
    import pymc as pm
    import pytensor.tensor as pt

    n = frame["n"].to_numpy(dtype=float)
    sector = (frame["partition"] == "sector").to_numpy() if "partition" in frame else (
        np.ones(len(frame), dtype=bool))
    rows_s, rows_g = np.flatnonzero(sector), np.flatnonzero(~sector)
    fs = frame.iloc[rows_s]
    scales = sorted(fs["scale"].unique())
    s_idx = fs["scale"].map({s: i for i, s in enumerate(scales)}).to_numpy()
    # Sector cells are pooled within their scale x rater>target group, around a fixed mean.
    group = fs["scale"] + ":" + fs["rater"] + ">" + fs["target"]
    groups = sorted(group.unique())
    g_idx = group.map({g: i for i, g in enumerate(groups)}).to_numpy()
    labels = frame["cell"] + "|" + frame["scale"]
    pair = frame["pair"].to_numpy(dtype=str) if "pair" in frame else np.full(len(frame), "")
    pairs = sorted(set(pair) - {""})
    p = spec.priors

    def prior(name: str, default: tuple) -> tuple:
        q = p.get(name, {})
        return q.get("dist", default[0]), {k: v for k, v in q.items()
                                           if k not in ("dist", "why")} or default[1]

    coords = {"scale": scales, "group": groups, "cell": labels,
              "sector_cell": labels.iloc[rows_s], "gender_cell": labels.iloc[rows_g],
              "pair": pairs}
    with pm.Model(coords=coords) as model:
        d, kw = prior("group_mean", ("Normal", {"mu": 3.5, "sigma": 1.0}))
        group_mean = getattr(pm, d)("group_mean", dims="group", **kw)
        d, kw = prior("cell_sd", ("HalfNormal", {"sigma": 0.5}))
        cell_sd = getattr(pm, d)("cell_sd", dims="scale", **kw)
        if spec.noncentered:
            z = pm.Normal("cell_z", 0.0, 1.0, dims="sector_cell")
            mu_s = group_mean[g_idx] + cell_sd[s_idx] * z
        else:
            mu_s = pm.Normal("cell_mu", group_mean[g_idx], cell_sd[s_idx], dims="sector_cell")
        mu = pt.zeros(len(frame))
        mu = pt.set_subtensor(mu[rows_s], mu_s)
        if len(rows_g):
            # a fixed mean per gender cell: the group-mean prior, no pooling across genders
            d, kw = prior("group_mean", ("Normal", {"mu": 3.5, "sigma": 1.0}))
            mu = pt.set_subtensor(mu[rows_g], getattr(pm, d)("gender_mean", dims="gender_cell",
                                                             **kw))
        mu = pm.Deterministic("mu", mu, dims="cell")
        d, kw = prior("sigma", ("LogNormal", {"mu": -0.5, "sigma": 0.7}))
        sigma = getattr(pm, d)("sigma", dims="cell", **kw)
        se = sigma / np.sqrt(n)
        loc, scale = mu, se
        if pairs:
            p_idx, loading, resid = paired_loadings(frame)
            pair_z = pm.Normal("pair_z", 0.0, 1.0, dims="pair")
            loc = mu + loading * se * pair_z[p_idx]
            scale = se * resid
        pm.Normal("cell_mean", mu=loc, sigma=scale,
                  observed=frame["mean"].to_numpy(dtype=float), dims="cell")
        # (n-1) s^2 / sigma^2 ~ chi2(n-1)  <=>  s^2 ~ Gamma((n-1)/2, rate=(n-1)/(2 sigma^2)).
        # Paired cells' sample variances correlate too (r^2, 0.24 at r = .49); ignored:
        # they inform sigma, which moves a contrast's SD only at second order.
        pm.Gamma("cell_var", alpha=(n - 1) / 2, beta=(n - 1) / (2 * sigma**2),
                 observed=frame["sd"].to_numpy(dtype=float) ** 2, dims="cell")
    return model


def paired_loadings(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cell's pair, loading on the pair's latent factor and own-error share.

    For the summary model's paired cells (:func:`summary_model`): ``M_a = mu_a + l_a se_a z
    + e_a`` with ``l_a = sign * sqrt(share_a)``, ``sd(e_a) = se_a * resid_a``, ``resid_a =
    sqrt(1 - share_a)`` and ``share_a = |r| n_ab / n_a`` (capped at 0.99: a file's cell whose
    two scores coincide would leave no own error); the sign of r goes on the second member.

    Returns
    -------
    tuple of ndarray
        ``(pair index (0 for unpaired cells), loading (0 unpaired), resid (1 unpaired))``,
        pairs numbered in sorted order of their names.
    """
    n = frame["n"].to_numpy(dtype=float)
    pair = frame["pair"].to_numpy(dtype=str) if "pair" in frame else np.full(len(frame), "")
    pairs = sorted(set(pair) - {""})
    if not pairs:
        return np.zeros(len(frame), dtype=int), np.zeros(len(frame)), np.ones(len(frame))
    p_idx = np.array([pairs.index(x) if x else 0 for x in pair])
    r = frame["pair_r"].to_numpy(dtype=float) * (pair != "")
    share = np.clip(np.abs(r) * frame["pair_n"].to_numpy(dtype=float) / n, 0.0, 0.99)
    second = np.zeros(len(frame), dtype=bool)
    for x in pairs:
        second[np.flatnonzero(pair == x)[1]] = True
    sign = np.where(second & (r < 0), -1.0, 1.0)
    return p_idx, sign * np.sqrt(share), np.sqrt(1.0 - share)


def sample_all(spec: ModelSpec, md: ModelData, args: dict, backend: str,
               n_cores: int | None) -> tuple:
    """Sample posterior, prior and posterior predictive; return them with the units.

    Returns idata, unit draws, prior unit draws, units, latent draws, PyMC model.
    ``latent`` is (posterior, prior) draws of each row's latent location for ordinal
    models, else None.
    """
    import pymc as pm

    with warnings.catch_warnings():
        # Sampler chatter (BLAS advice, "run 4 chains") is replaced by our own gate report.
        warnings.simplefilter("ignore")
        if spec.data == "respondent" and spec.pymc_ordinal:
            from triad.ordinal_model import sample_ordinal

            idata, prior, draws, prior_draws, latent, counterfactual, model = sample_ordinal(
                spec, md.frame, args, backend, n_cores)
            units = md.frame.assign(weight=1.0)
            pm_model = model.model
        elif spec.data == "respondent":
            model = bambi_model(spec, md.frame)
            model.build()
            idata = sampling.sample_posterior(model.backend.model, args, backend, n_cores)
            with model.backend.model:
                prior = pm.sample_prior_predictive(
                    draws=args["prior_draws"] * (4 if spec.ordinal else 1),
                    random_seed=args["seed"])
            draws = _expected(model, idata, spec)
            prior_post = prior["prior"].to_dataset()
            if spec.ordinal:
                # Forward prior draws ignore the 'ordered' transform; the constrained prior is
                # the unconstrained one restricted to ordered cut points, so keep those draws.
                theta = prior_post["threshold"].values
                keep = np.all(np.diff(theta, axis=-1) > 0, axis=-1)[0]
                prior_post = prior_post.isel(draw=np.flatnonzero(keep))
            prior_idata = xr.DataTree.from_dict({"posterior": prior_post})
            prior_draws = _expected(model, prior_idata, spec)
            latent = (_expected(model, idata, spec, latent=True),
                      _expected(model, prior_idata, spec, latent=True)) if spec.ordinal else None
            counterfactual = sampling.counterfactual_draws(
                lambda tree, alt: _expected(model, tree, spec, data=alt), idata, prior_idata,
                spec, md.frame, draws, prior_draws, args["chains"])
            # Per-observation prior deterministics (mu, p) are recomputable and large.
            obs_vars = [v for v in prior["prior"].data_vars
                        if "__obs__" in prior["prior"][v].dims]
            prior["prior"] = xr.DataTree(prior["prior"].to_dataset().drop_vars(obs_vars))
            idata["posterior_predictive"] = xr.DataTree(_posterior_predictive(model, idata,
                                                                              spec, args))
            units = md.frame.assign(weight=1.0)
            pm_model = model.backend.model
        else:
            model = summary_model(md.frame, spec)
            idata = sampling.sample_posterior(model, args, backend, n_cores)
            with model:
                prior = pm.sample_prior_predictive(draws=args["prior_draws"],
                                                   random_seed=args["seed"])
                pp = pm.sample_posterior_predictive(idata, random_seed=args["seed"],
                                                    progressbar=False)
            idata["posterior_predictive"] = xr.DataTree(
                pp["posterior_predictive"].to_dataset().astype("float32"))
            draws = idata["posterior"]["mu"].stack(s=("chain", "draw")).transpose(
                "s", ...).values
            prior_draws = prior["prior"]["mu"].stack(s=("chain", "draw")).transpose(
                "s", ...).values
            units = md.frame.assign(weight=md.frame["n"].astype(float))
            latent = counterfactual = None
            pm_model = model
    for group in ("prior", "prior_predictive", "observed_data"):
        if group in prior.children and group not in idata.children:
            idata[group] = prior[group]
    idata["constant_data"] = xr.DataTree(_constant_data(md.frame, spec))
    return idata, draws, prior_draws, units, latent, pm_model, counterfactual


# The predictors of each observation stored with a fit ('respondent' is the pseudonymous
# code; the file's respondent ids never enter a fit file).
_CONSTANT_COLUMNS = ("respondent", "role", "target", "rater", "sector", "gender", "age_z",
                     "age_missing", "scale", "item", "cell", "n", "mean", "sd", "partition",
                     "pair", "pair_r")


def _constant_data(frame: pd.DataFrame, spec: ModelSpec) -> xr.Dataset:
    """Per-observation predictors, on the observation dimension of the fit's other groups."""
    dim = "__obs__" if spec.data == "respondent" else "cell"
    cols = [c for c in _CONSTANT_COLUMNS if c in frame.columns and not (
        dim == "cell" and c == "cell")]
    coords = ({dim: np.arange(len(frame))} if dim == "__obs__" else
              {dim: (frame["cell"] + "|" + frame["scale"]).to_numpy()})
    data = {c: (dim, frame[c].to_numpy() if frame[c].dtype.kind in "fiub" else
                frame[c].astype(str).to_numpy()) for c in cols}
    return xr.Dataset(data, coords=coords)


def _posterior_predictive(model, idata: xr.DataTree, spec: ModelSpec, args: dict
                          ) -> xr.Dataset:
    """Replicated responses for every posterior draw (float32; ordinal answers int8)."""
    if spec.ordinal:
        # Draw the answers from the category probabilities ourselves: Bambi's probit
        # differences of normal CDFs can come out at -1e-17, which its sampler rejects.
        post = model.predict(idata, kind="response_params", inplace=False)["posterior"]
        p = np.clip(post["p"].transpose("chain", "draw", "__obs__", ...).to_numpy(), 0.0, None)
        cum = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
        u = np.random.default_rng(args["seed"]).random(cum.shape[:-1] + (1,))
        # coded as Bambi codes observed_data: category index 0..K-1 (answer 1..K)
        rep = (u > cum).sum(axis=-1).astype("int8")
        return xr.Dataset({"value": (("chain", "draw", "__obs__"), rep)},
                          coords={"chain": post["chain"], "draw": post["draw"]},
                          attrs={"coding": "category index 0..K-1 (answer 1..K), as "
                                           "observed_data"})
    pred = model.predict(idata, kind="response", inplace=False, random_seed=args["seed"])
    return pred["posterior_predictive"].to_dataset().astype("float32")
