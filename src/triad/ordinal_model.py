"""Cumulative (ordinal) models written in PyMC: discrimination and thresholds by rater.

Bambi's cumulative family gives every respondent one latent scale (one latent SD, one
set of thresholds).  Youths' and professionals' answers spread about twice as widely,
and forcing one latent SD on both distorts ordinal comparisons between informants
(Liddell & Kruschke 2018).  A spec with ``disc = "rater"`` is built here instead, as
brms's ``bf(y ~ ..., disc ~ 0 + rater)``::

    P(y <= k) = F(disc_r * (tau_k - eta))

with ``eta`` the linear predictor of the spec's formula, ``tau`` ordered thresholds
shared by every rater (so the latent means of the raters are on one scale),
``disc_r = exp(log_disc_r)`` the discrimination (1 / latent SD) of rater group ``r``
and the reference rater's fixed at 1 for identification.  ``thresholds = "rater"``
(a multiverse variant) gives each rater group its own thresholds instead; its latent
locations are then not comparable between raters, and only the expected 1-5 scores
are contrasted.

The log-likelihood is computed in log space, so it stays finite where differences of
CDFs underflow (Bambi's probit log-likelihood was -inf for some answers, which made
its LOO NaN): see :func:`log_category_probability`.  Group effects are integer-indexed
(no dense design matrices) and non-centred.  Parameter names follow Bambi's
(``group_gender``, ``1|cell``, ``1|cell_sigma``, ``1|cell_offset``, ``age_z:rater``,
``threshold``) so stored fits, sensitivity and reports read them alike; new are
``log_disc`` (free) and ``disc`` (its exponential), both over the non-reference raters.
The formula's terms are parsed by :mod:`triad.ordinal_terms`.
"""

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from triad import sampling
from triad.ordinal_likelihood import log_category_probability
from triad.ordinal_terms import Term, parse_formula, reference_rater
from triad.specs import ModelSpec, SpecError

__all__ = ["OrdinalModel", "Term", "build", "log_category_probability", "parse_formula",
           "sample_ordinal", "reference_rater"]


CODING = "category index 0..K-1 (answer 1..K), as observed_data"


def _cdf(link: str):
    from scipy import special

    return special.expit if link == "logit" else special.ndtr


def _dist(name: str, prior: dict, dims=None, **kwargs):
    """Create a PyMC variable from a spec prior; nested priors become ``<name>_<param>``."""
    import pymc as pm

    params = {}
    for k, v in prior.items():
        if k in ("dist", "why"):
            continue
        params[k] = _dist(f"{name}_{k}", v) if isinstance(v, dict) else (
            np.asarray(v, dtype=float) if isinstance(v, list) else v)
    return getattr(pm, prior["dist"])(name, dims=dims, **params, **kwargs)


class OrdinalModel:
    """A cumulative model of one spec and model frame (see the module docstring).

    Parameters
    ----------
    spec : ModelSpec
        An ordinal spec with ``disc`` or ``thresholds`` set.
    frame : DataFrame
        Its model frame (:func:`triad.modeldata.model_frame`): ``value`` (ordered
        categorical of the answers) and the formula's variables.
    """

    def __init__(self, spec: ModelSpec, frame: pd.DataFrame) -> None:
        from triad.missingness import fitted_spec

        # an age_missing term is not fitted when no age is missing (its column would be 0)
        spec, _ = fitted_spec(spec, frame)
        self.spec, self.frame = spec, frame
        self.link = spec.family.split("_", 1)[1]
        self.terms = parse_formula(spec)
        self.categories = list(frame["value"].cat.categories)
        self.raters = sorted(frame["rater"].unique())
        self.reference = reference_rater(self.raters)
        self.disc_raters = ([r for r in self.raters if r != self.reference]
                            if spec.disc == "rater" else [])
        self.by_rater = spec.thresholds == "rater"
        self.levels = {t.factor: sorted(frame[t.factor].astype(str).unique())
                       for t in self.terms if t.factor}
        self.dropped = self._reference_levels()
        self.model = self._build()

    # ------------------------------------------------------------------ structure

    def _reference_levels(self) -> dict[str, set]:
        """Levels of fixed factors whose coefficient is 0 (absorbed by the thresholds).

        As Bambi codes a cumulative model: the first fixed factor's first level is the
        reference (the thresholds locate it), later factors drop their first level too.
        With thresholds by rater, each rater's thresholds absorb that rater's location,
        so the first level of each rater's own levels is dropped.
        """
        dropped = {}
        for t in (t for t in self.terms if t.kind == "fixed"):
            levels = self.levels[t.factor]
            if not self.by_rater:
                dropped[t.factor] = {levels[0]}
                continue
            raters = self.frame.groupby(self.frame[t.factor].astype(str))["rater"].unique()
            own = {}
            for level in levels:
                if len(raters[level]) == 1:
                    own.setdefault(raters[level][0], level)
            dropped[t.factor] = set(own.values()) or {levels[0]}
        return dropped

    def _index(self, data: pd.DataFrame, factor: str) -> np.ndarray:
        lookup = {lv: i for i, lv in enumerate(self.levels[factor])}
        idx = data[factor].astype(str).map(lookup)
        if idx.isna().any():
            raise ValueError(f"levels of {factor!r} not in the fitted data: "
                             f"{sorted(set(data.loc[idx.isna(), factor].astype(str)))}")
        return idx.to_numpy(dtype=int)

    def _unit_terms(self) -> tuple[str, pd.DataFrame, set]:
        """Return the unit factor, a frame of its first rows (level order) and the terms hoisted.

        The unit is the group factor with the most levels (the respondent in an
        item-level model), when it has fewer levels than the frame has rows.  A term is
        hoisted when its factor and covariate are constant within each unit, so summing
        it per unit and spreading the sum to the unit's rows gives the same linear
        predictor.
        """
        groups = [t.factor for t in self.terms if t.kind == "group"]
        if not groups:
            return "", self.frame, set()
        unit = max(groups, key=lambda f: len(self.levels[f]))
        codes = self._index(self.frame, unit)
        if len(self.levels[unit]) >= len(self.frame):
            return "", self.frame, set()
        first = np.full(len(self.levels[unit]), -1)
        first[codes[::-1]] = np.arange(len(codes))[::-1]
        unit_frame = self.frame.iloc[first].reset_index(drop=True)
        by_unit = self.frame.groupby(codes, sort=False)
        hoisted = set()
        for t in self.terms:
            columns = [c for c in (t.factor, t.covariate) if c]
            if columns and (by_unit[columns].nunique(dropna=False) <= 1).all(axis=None):
                hoisted.add(t.name)
        return unit, unit_frame, hoisted

    def _rater_index(self, data: pd.DataFrame) -> np.ndarray:
        return data["rater"].map({r: i for i, r in enumerate(self.raters)}).to_numpy(int)

    def _build(self):
        import pymc as pm
        import pytensor.tensor as pt

        frame, spec, priors = self.frame, self.spec, self.spec.priors
        n_cut = len(self.categories) - 1
        coords = {"__obs__": np.arange(len(frame)), "threshold_dim": np.arange(n_cut)}
        for t in self.terms:
            if t.kind == "fixed":
                coords[f"{t.name}_dim"] = [lv for lv in self.levels[t.factor]
                                           if lv not in self.dropped[t.factor]]
            elif t.kind == "group":
                coords[f"{t.factor}__factor_dim"] = self.levels[t.factor]
            elif t.factor:
                coords[f"{t.name}_dim"] = self.levels[t.factor]
        if self.by_rater:
            coords["threshold_rater"] = self.raters
        if self.disc_raters:
            coords["disc_rater"] = self.disc_raters
        y = frame["value"].cat.codes.to_numpy(dtype="int64")
        rater = self._rater_index(frame)
        unit, unit_frame, hoisted = self._unit_terms()
        with pm.Model(coords=coords) as model:
            # terms constant within a unit (a respondent) are summed once per unit and
            # spread to its answers by one gather, not one gather per term: in the
            # gradient every gather over the answers is a scatter-add, slow on CPU
            # (measured, bench/gradient_cost.py, ordinal_inspraak: 13-15% less time per
            # gradient at 1x, 16x and 64x respondents)
            eta = pt.zeros(len(frame))
            eta_unit = pt.zeros(len(unit_frame)) if hoisted else None
            for t in self.terms:
                if t.name in hoisted:
                    eta_unit = eta_unit + self._term(t, unit_frame, priors[t.name],
                                                     create=True)
                else:
                    eta = eta + self._term(t, frame, priors[t.name], create=True)
            if hoisted:
                eta = eta + eta_unit[self._index(frame, unit)]
            mu = np.asarray(priors["threshold"].get("mu", 0.0), dtype=float)
            if mu.shape != (n_cut,) or np.any(np.diff(mu) <= 0):
                # the sampler starts at the prior means; PyMC cannot compute a fit's
                # log-likelihood from a model with explicit initial values
                raise SpecError(spec.path, "priors.threshold.mu", f"a list of {n_cut} "
                                "increasing numbers (one per cut point)")
            dims = ("threshold_rater", "threshold_dim") if self.by_rater else "threshold_dim"
            from pymc.distributions.transforms import ordered

            tau = _dist("threshold", priors["threshold"], dims=dims, transform=ordered)
            # thresholds per observation only with thresholds by rater; shared ones stay a
            # (K-1)-vector and are gathered per answer in the log-likelihood
            tau_obs = tau[rater] if self.by_rater else tau
            scale = pt.ones(len(frame))
            if self.disc_raters:
                log_disc = _dist("log_disc", priors["disc"], dims="disc_rater")
                disc = pm.Deterministic("disc", pt.exp(log_disc), dims="disc_rater")
                # the reference rater's discrimination is 1 (as brms fixes it)
                full = pt.concatenate([pt.ones(1), disc])
                order = [self.reference, *self.disc_raters]
                pos = np.array([order.index(r) for r in self.raters])
                scale = full[pos][rater]
            link = self.link

            def logp(value, eta, scale, tau):
                # only the two cut points around each answer: 2 of the K-1 per answer
                low = pt.clip(value - 1, 0, n_cut - 1)
                high = pt.clip(value, 0, n_cut - 1)
                # picked by one-hot weights, not by indexing: the gradient of a gather is a
                # scatter, slow in JAX on CPU (measured: a third of the logit gradient)
                cats = pt.arange(n_cut)
                t_low = pt.sum(pt.eq(low[:, None], cats) * tau, axis=-1)
                t_high = pt.sum(pt.eq(high[:, None], cats) * tau, axis=-1)
                return log_category_probability(scale * (t_low - eta), scale * (t_high - eta),
                                                pt.gt(value, 0), pt.lt(value, n_cut), link)

            def random(eta, scale, tau, rng=None, size=None):
                cut = scale[..., None] * (tau - eta[..., None])
                u = rng.uniform(size=cut.shape[:-1])
                return (u[..., None] > _cdf(link)(cut)).sum(axis=-1)

            # P(answer <= k) per row: what SBC's contrasts read (as Bambi's own ``p``);
            # per-row deterministics are not stored by a fit
            cut = scale[:, None] * (tau_obs - eta[:, None])
            cdf = pt.sigmoid(cut) if link == "logit" else 0.5 * pt.erfc(-cut / np.sqrt(2.0))
            pm.Deterministic("p", cdf, dims=("__obs__", "threshold_dim"))
            pm.CustomDist("value", eta, scale, tau_obs, logp=logp, random=random,
                          signature="(),(),(k)->()", observed=y, dims="__obs__",
                          dtype="int64")
        return model

    def _term(self, t: Term, data: pd.DataFrame, prior: dict, create: bool = False,
              values: dict | None = None):
        """Return a term's part of eta: a PyTensor graph (``create``) or draws x rows."""
        import pymc as pm

        if t.kind == "fixed":
            keep = [lv for lv in self.levels[t.factor] if lv not in self.dropped[t.factor]]
            coef = (_dist(t.name, prior, dims=f"{t.name}_dim") if create
                    else values[t.name])
            pos = np.array([keep.index(lv) if lv in keep else -1
                            for lv in self.levels[t.factor]])[self._index(data, t.factor)]
            if create:
                import pytensor.tensor as pt

                padded = pt.concatenate([coef, pt.zeros(1)])  # index -1: a dropped level
                return padded[pos]
            padded = np.concatenate([coef, np.zeros((coef.shape[0], 1))], axis=1)
            return padded[:, pos]
        if t.kind == "group":
            idx = self._index(data, t.factor)
            if create:
                dims = f"{t.factor}__factor_dim"
                nc = self.spec.noncentered
                if nc is True or (not isinstance(nc, bool) and t.name in nc):
                    sd = prior["sigma"]
                    sigma = _dist(f"{t.name}_sigma", sd) if isinstance(sd, dict) else sd
                    offset = pm.Normal(f"{t.name}_offset", 0.0, 1.0, dims=dims)
                    effect = pm.Deterministic(t.name, prior.get("mu", 0.0) + offset * sigma,
                                              dims=dims)
                else:
                    effect = _dist(t.name, prior, dims=dims)
                return effect[idx]
            return values[t.name][:, idx]
        x = data[t.covariate].to_numpy(dtype=float)
        if create:
            slope = _dist(t.name, prior, dims=f"{t.name}_dim" if t.factor else None)
            return (slope[self._index(data, t.factor)] if t.factor else slope) * x
        slope = values[t.name]
        return (slope[:, self._index(data, t.factor)] if t.factor else slope[:, None]) * x

    # ------------------------------------------------------------------ draws

    @staticmethod
    def _flat(post: xr.Dataset, name: str) -> np.ndarray:
        v = post[name]
        return v.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()

    def eta(self, post: xr.Dataset, data: pd.DataFrame | None = None) -> np.ndarray:
        """Draws x rows of the linear predictor (the latent location, thresholds aside)."""
        data = self.frame if data is None else data
        values = {t.name: self._flat(post, t.name) for t in self.terms}
        out = np.zeros((next(iter(values.values())).shape[0], len(data)))
        for t in self.terms:
            out += self._term(t, data, self.spec.priors[t.name], values=values)
        return out

    def _cuts(self, post: xr.Dataset, data: pd.DataFrame):
        """Yield draws x rows of each cut point ``disc (tau_k - eta)``."""
        eta = self.eta(post, data)
        tau = self._flat(post, "threshold")
        rater = self._rater_index(data)
        scale = np.ones((eta.shape[0], len(self.raters)))
        if self.disc_raters:
            disc = self._flat(post, "disc")
            for j, r in enumerate(self.disc_raters):
                scale[:, self.raters.index(r)] = disc[:, j]
        scale = scale[:, rater]
        for k in range(len(self.categories) - 1):
            t = tau[:, rater, k] if self.by_rater else tau[:, k:k + 1]
            yield scale * (t - eta)

    def expected(self, tree: xr.DataTree, latent: bool = False,
                 data: pd.DataFrame | None = None) -> np.ndarray | None:
        """Draws x rows of each row's expected 1-5 answer, or (``latent``) its eta.

        ``tree``'s ``posterior`` group holds the draws (prior draws for the prior).
        Latent locations are comparable between raters only with shared thresholds;
        with thresholds by rater ``latent`` gives None.
        """
        post = tree["posterior"].to_dataset()
        data = self.frame if data is None else data
        if latent:
            return None if self.by_rater else self.eta(post, data)
        cdf = _cdf(self.link)
        # E[answer] = 1 + sum_k P(answer > k), one cut point at a time (memory)
        total = np.full((post.sizes["chain"] * post.sizes["draw"], len(data)),
                        float(self.categories[0]))
        for cut in self._cuts(post, data):
            total += 1.0 - cdf(cut)
        return total

    def answers(self, post: xr.Dataset, seed: int) -> np.ndarray:
        """Chain x draw x rows of replicated answers, category index 0..K-1 (int8)."""
        cdf = _cdf(self.link)
        shape = (post.sizes["chain"], post.sizes["draw"], len(self.frame))
        u = np.random.default_rng(seed).random(shape).reshape(shape[0] * shape[1], -1)
        rep = np.zeros(u.shape, dtype="int8")
        for cut in self._cuts(post, self.frame):
            rep += u > cdf(cut)  # P(answer <= k) = F(cut_k)
        return rep.reshape(shape)

    def answer_dataset(self, post: xr.Dataset, seed: int) -> xr.Dataset:
        """:meth:`answers` as the ``posterior_predictive`` / ``prior_predictive`` group."""
        return xr.Dataset({"value": (("chain", "draw", "__obs__"), self.answers(post, seed))},
                          coords={"chain": post["chain"], "draw": post["draw"],
                                  "__obs__": np.arange(len(self.frame))},
                          attrs={"coding": CODING})

    def prior(self, draws: int, seed: int) -> xr.Dataset:
        """Draws of the constrained prior: thresholds ordered (per rater when by rater).

        Forward sampling ignores the ``ordered`` transform; the constrained prior is the
        normal prior restricted to ordered thresholds, so unordered draws are rejected.
        Each rater's thresholds are independent of everything else a priori, so with
        thresholds by rater each rater's accepted draws are paired up in order.
        """
        import pymc as pm

        dims = self.model.named_vars_to_dims
        names = [v.name for v in self.model.free_RVs] + [
            v.name for v in self.model.deterministics
            if "__obs__" not in dims.get(v.name, ())]
        with self.model:
            prior = pm.sample_prior_predictive(draws=draws, random_seed=seed,
                                               var_names=names)["prior"].to_dataset()
        theta = prior["threshold"].values[0]
        ok = np.all(np.diff(theta, axis=-1) > 0, axis=-1)
        if not self.by_rater:
            return prior.isel(draw=np.flatnonzero(ok))
        accepted = [np.flatnonzero(ok[:, r]) for r in range(ok.shape[1])]
        n = min(len(a) for a in accepted)
        picked = np.stack([theta[a[:n], r] for r, a in enumerate(accepted)], axis=1)
        prior = prior.isel(draw=np.arange(n))
        prior["threshold"] = (prior["threshold"].dims, picked[None])
        return prior.assign_coords(draw=np.arange(n))


def build(spec: ModelSpec, frame: pd.DataFrame) -> OrdinalModel:
    """Build the PyMC model of an ordinal spec with ``disc`` or ``thresholds``."""
    return OrdinalModel(spec, frame)


def sample_ordinal(spec: ModelSpec, frame: pd.DataFrame, args: dict, backend: str,
                   cores: int | None) -> tuple:
    """Fit an ordinal spec and return what :func:`triad.fitting.fit` stores.

    Returns
    -------
    tuple
        ``idata`` (posterior, sample_stats, posterior_predictive), ``prior`` (a DataTree
        with prior, prior_predictive and observed_data), expected-score draws x rows
        (posterior, prior), latent (posterior, prior) draws or None, the
        counterfactual contrasts, and the :class:`OrdinalModel`.
    """
    model = build(spec, frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = sampling.sample_posterior(model.model, args, backend, cores)
    # as for Bambi's ordinal models: 4x the draws, since unordered thresholds are rejected
    prior_post = model.prior(args["prior_draws"] * 4, args["seed"])
    y = frame["value"].cat.codes.to_numpy(dtype="int64")
    prior = xr.DataTree.from_dict({
        "prior": prior_post,
        "prior_predictive": model.answer_dataset(prior_post, args["seed"]),
        "observed_data": xr.Dataset({"value": ("__obs__", y)},
                                    coords={"__obs__": np.arange(len(frame))}),
    })
    prior_idata = xr.DataTree.from_dict({"posterior": prior_post})
    draws = model.expected(idata)
    prior_draws = model.expected(prior_idata)
    latent = None if model.by_rater else (model.expected(idata, latent=True),
                                          model.expected(prior_idata, latent=True))
    counterfactual = sampling.counterfactual_draws(
        lambda tree, alt: model.expected(tree, data=alt), idata, prior_idata, spec, frame,
        draws, prior_draws, args["chains"])
    idata["posterior_predictive"] = xr.DataTree(
        model.answer_dataset(idata["posterior"].to_dataset(), args["seed"]))
    return idata, prior, draws, prior_draws, latent, counterfactual, model
