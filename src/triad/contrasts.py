"""Named posterior contrasts: the study's questions as differences of group means.

A model supplies posterior draws of the expected score of each of its *units*
(respondent rows, or published cells for the summary model) and a table
describing the units.  A group mean is the weighted mean over the units of a
group (respondents: weight 1, i.e. averaged over the group's observed gender
and age mix, which is what a report's cell mean describes; summary cells:
weight n).  A contrast is the difference of two group means, per sector and
pooled (``sector == 'all'``).

Contrast families are the study's data: its ``contrasts.toml`` (:func:`load_catalogue`)
declares each family as one of four kinds -- ``gap`` (group A minus group B),
``scale_difference`` (one group's scale A minus its scale B, paired), ``sector_differences``
(every pair of sectors per rater>target group) and ``gender_gap`` (one gender minus the
other within a rater group, per target) -- and a spec lists families by name.
"""

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from triad.bayes_factors import BF_COLUMNS, contrast_bayes_factors
from triad.codebook import aggregate_of, pooled_roles, sector_codes
from triad.decisions import decide, fragile

__all__ = ["CONTRAST_COLUMNS", "ContrastFamily", "Selector", "compute_contrasts", "families",
           "known_contrast", "load_catalogue",
           "contrast_pairs", "contrast_draws", "contrast_dataset", "summarise_contrasts",
           "summarise_draws", "claim_contrasts", "claim_dataset", "summarise_claims",
           "CLAIM_CONTRAST_COLUMNS"]

# The decision columns every contrasts/claims table shares (:mod:`triad.decisions`).
DECISION_COLUMNS = ["conclusion", "p_direction_mcse", "ci_low_mcse", "ci_high_mcse",
                    "mc_fragile"]
CONTRAST_COLUMNS = ["contrast", "scale", "sector", "estimand", "n_a", "n_b", "estimate",
                    "ci_low", "ci_high", "ci_prob", "p_direction", "p_rope", "rope",
                    *DECISION_COLUMNS, *BF_COLUMNS, "model", "data_source"]
KINDS = ("gap", "scale_difference", "sector_differences", "gender_gap")


@dataclass(frozen=True)
class ContrastFamily:
    """One family of the study's contrast catalogue (``contrasts.toml``)."""

    name: str
    kind: str
    name_template: str
    a: str = ""
    b: str = ""
    group: str = ""
    scale_a: str = ""
    scale_b: str = ""
    rater: str = ""
    targets: tuple = ()
    genders: tuple = ()


_NEEDS = {"gap": ("a", "b"), "scale_difference": ("group", "scale_a", "scale_b"),
          "sector_differences": (), "gender_gap": ("rater", "targets", "genders")}


def load_catalogue(path: str | Path | None = None) -> dict[str, ContrastFamily]:
    """Return the study's contrast families by name (``contrasts.toml``), in file order.

    Raises
    ------
    ValueError
        Naming the file and the entry of the first family that cannot be used.
    """
    from triad.paths import data_dir

    return _catalogue(Path(path) if path is not None else data_dir() / "contrasts.toml")


@cache  # per file: a process that changes its study reads the other study's catalogue
def _catalogue(path: Path) -> dict[str, ContrastFamily]:
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    out = {}
    for i, entry in enumerate(raw.get("family", [])):
        where = f"{path}: family[{i}]"
        kind = entry.get("kind")
        if "name" not in entry or kind not in KINDS or "name_template" not in entry:
            raise ValueError(f"{where}: needs name, name_template and kind (one of "
                             f"{', '.join(KINDS)})")
        missing = [k for k in _NEEDS[kind] if not entry.get(k)]
        if missing:
            raise ValueError(f"{where} ({entry['name']}): kind {kind!r} needs "
                             f"{', '.join(missing)}")
        known = set(ContrastFamily.__dataclass_fields__)
        out[entry["name"]] = ContrastFamily(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()
               if k in known})
    return out


def families() -> tuple[str, ...]:
    """Return the names of the current study's contrast families, in catalogue order."""
    return tuple(load_catalogue())


def known_contrast(name: str) -> bool:
    """Whether ``name`` is a contrast family specs may list."""
    return name in load_catalogue()


@dataclass(frozen=True)
class Selector:
    """Which units form a group: rater (role or 'professional'), target, scale, sector, gender."""

    rater: str
    target: str
    scale: str
    sector: str = "all"
    gender: str | None = None

    def mask(self, units: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the units in this group."""
        m = units["role"].isin(pooled_roles(self.rater)) & (units["target"] == self.target)
        m &= units["scale"] == self.scale
        if self.sector != "all":
            m &= units["sector"] == self.sector
        if "partition" in units.columns:
            # Summary models hold sector cells and gender cells of the same people: a group
            # defined by gender uses the gender cells only, any other group the sector cells.
            m &= units["partition"] == ("gender" if self.gender else "sector")
            if self.gender:
                m &= units["gender"] == self.gender
        elif self.gender:
            m &= units["gender"] == self.gender
        return m.to_numpy()


def contrast_pairs(family: str, scale: str, units: pd.DataFrame) -> list[tuple]:
    """Expand a family into (name, sector label, selector A, selector B) for a model's units.

    Only pairs whose two groups both have units in the model are returned.
    """
    fam = load_catalogue()[family]
    sectors = sector_codes()
    out = []

    def split(group: str) -> tuple[str, str]:
        rater, target = group.split(">", 1)
        return rater, target

    def add(name: str, sector: str, sa: Selector, sb: Selector) -> None:
        if sa.mask(units).any() and sb.mask(units).any():
            out.append((name, sector, sa, sb))

    def per_sector(name: str, a: tuple, b: tuple, gender_a=None, gender_b=None) -> None:
        for sector in ("all", *sectors):
            add(name, sector, Selector(*a, scale=scale, sector=sector, gender=gender_a),
                Selector(*b, scale=scale, sector=sector, gender=gender_b))

    template = fam.name_template
    if fam.kind == "gap":
        per_sector(template.format(scale=scale, family=family), split(fam.a), split(fam.b))
    elif fam.kind == "scale_difference" and scale == fam.scale_a:
        rater, target = split(fam.group)
        for sector in ("all", *sectors):
            add(template.format(scale=scale, family=family), sector,
                Selector(rater, target, fam.scale_a, sector),
                Selector(rater, target, fam.scale_b, sector))
    elif fam.kind == "sector_differences":
        present = {(r, t) for r, t in zip(units["role"], units["target"], strict=True)}
        for rater, target in sorted({(aggregate_of(r), t) for r, t in present}):
            name = template.format(scale=scale, family=family, rater=rater, target=target)
            for i, s1 in enumerate(sectors):
                for s2 in sectors[i + 1:]:
                    add(name, f"{s1}-{s2}", Selector(rater, target, scale, s1),
                        Selector(rater, target, scale, s2))
    elif fam.kind == "gender_gap":
        first, second = fam.genders
        for target in fam.targets:
            per_sector(template.format(scale=scale, family=family, rater=fam.rater,
                                       target=target),
                       (fam.rater, target), (fam.rater, target), first, second)
    return out


def _group_mean(draws: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w = weights[mask]
    return draws[:, mask] @ w / w.sum()


def compute_contrasts(
    draws: np.ndarray,
    units: pd.DataFrame,
    families: list[str] | tuple[str, ...],
    *,
    model: str,
    data_source: str,
    prior_draws: np.ndarray | None = None,
    ci_prob: float = 0.95,
    rope: float = 0.1,
) -> pd.DataFrame:
    """Compute every contrast of the listed families.

    Parameters
    ----------
    draws : ndarray, shape (n_draws, n_units)
        Posterior draws of each unit's expected score.
    units : DataFrame
        One row per unit: ``role, target, scale, sector, gender`` and ``weight``
        (plus ``partition`` for summary models).
    families : list of str
        Contrast families (:data:`FAMILIES`).
    model, data_source : str
        Copied into the output.
    prior_draws : ndarray, optional
        Prior draws of the same quantities; gives a Savage-Dickey BF10 at 0.
    ci_prob : float
        Probability of the highest-density interval.
    rope : float
        Half-width of the region of practical equivalence around 0 (points).

    Returns
    -------
    DataFrame
        Columns :data:`CONTRAST_COLUMNS` (no Bayes factor: it needs the pooled SD that a
        fit stores with its draws).
    """
    post, prior = contrast_dataset(draws, units, families, prior_draws=prior_draws)
    return summarise_contrasts(post, prior, model=model, data_source=data_source,
                               ci_prob=ci_prob, rope=rope)


def contrast_dataset(draws: np.ndarray, units: pd.DataFrame, families, *,
                     prior_draws: np.ndarray | None = None, chains: int = 1,
                     suffix: str = "") -> tuple[xr.DataArray, xr.DataArray | None]:
    """Posterior (and prior) draws of every contrast, as stored in a fit file.

    Returns
    -------
    post : DataArray, dims (chain, draw, contrast)
        One column per contrast; coordinates ``name``, ``scale``, ``sector``, ``n_a``,
        ``n_b`` along ``contrast`` (whose labels are ``name@sector``).
    prior : DataArray, dims (chain, draw, contrast), or None
    """
    rows, cols, prior_cols = [], [], []
    for name, scale, sector, diff, prior, (n_a, n_b) in contrast_draws(
            draws, units, families, prior_draws=prior_draws, sizes=True):
        rows.append((name + suffix, scale, sector, n_a, n_b))
        cols.append(diff)
        prior_cols.append(prior)
    coords = {"contrast": [f"{r[0]}@{r[2]}#descriptive" for r in rows]}
    coords.update({key: ("contrast", [r[i] for r in rows]) for i, key in enumerate(
        ("name", "scale", "sector", "n_a", "n_b"))})
    coords["estimand"] = ("contrast", ["descriptive"] * len(rows))
    post = _as_draws(cols, draws.shape[0], chains, coords, "contrast")
    prior = None if prior_draws is None else _as_draws(prior_cols, prior_draws.shape[0], 1,
                                                       coords, "contrast")
    return post, prior


def _as_draws(columns: list[np.ndarray], n_samples: int, chains: int, coords: dict,
              dim: str) -> xr.DataArray:
    values = np.stack(columns, axis=-1) if columns else np.empty((n_samples, 0))
    return xr.DataArray(values.reshape(chains, n_samples // chains, values.shape[-1]),
                        dims=("chain", "draw", dim), coords=coords)


def summarise_draws(post: xr.DataArray, prior: xr.DataArray | None, *, ci_prob: float,
                    rope: float | np.ndarray, dim: str,
                    sd_scale: np.ndarray | None = None) -> pd.DataFrame:
    """Estimate, HDI, p_direction, P(ROPE), the conclusion and BF10 of each draw column.

    ``post`` has dims (chain, draw, ``dim``); ``rope`` is a half-width (scalar, or one per
    column; NaN gives no P(ROPE)).  ``sd_scale`` (one per column: the pooled within-group
    SD) puts the Bayes factor's Cauchy(0, 0.707) prior on the standardised contrast
    (:mod:`triad.bayes_factors`); without it there is no BF10.
    """
    post = post.transpose("chain", "draw", dim)
    if post.sizes[dim] == 0:  # e.g. a study with no claims on this model's scales
        return pd.DataFrame(columns=["estimate", "ci_low", "ci_high", "ci_prob",
                                     "p_direction", "p_rope", "rope", "conclusion",
                                     *DECISION_COLUMNS[1:], *BF_COLUMNS])
    values = post.to_numpy().reshape(-1, post.sizes[dim])
    hdi = az.hdi(post, prob=ci_prob, dim=["chain", "draw"]).transpose(dim, ...).to_numpy()
    side = np.sign(np.median(values, axis=0))
    side[side == 0] = 1.0
    rope = np.broadcast_to(np.asarray(rope, dtype=float), (values.shape[1],))
    p_rope = np.where(np.isnan(rope), np.nan, np.mean(np.abs(values) <= rope, axis=0))
    same_side = (np.sign(post) == xr.DataArray(side, dims=dim)).astype(float)
    # Monte Carlo SEs (autocorrelation-aware, ArviZ): of p_direction, and of each HDI end
    # as the quantile of the draws it sits at; 1-chain prior draws have none.
    mc_pd = np.asarray(az.mcse(same_side, method="mean")) if post.sizes["chain"] > 1 else (
        np.full(values.shape[1], np.nan))
    mc_ends = np.full(hdi.shape, np.nan)
    if post.sizes["chain"] > 1:
        for j in range(values.shape[1]):
            for e in (0, 1):
                q = float(np.clip(np.mean(values[:, j] <= hdi[j, e]), 0.001, 0.999))
                mc_ends[j, e] = float(az.mcse(post.isel({dim: j}), method="quantile", prob=q))
    conclusion = decide(hdi[:, 0], hdi[:, 1], rope)
    out = pd.DataFrame({
        "estimate": values.mean(axis=0), "ci_low": hdi[:, 0], "ci_high": hdi[:, 1],
        "ci_prob": ci_prob, "p_direction": np.mean(np.sign(values) == side, axis=0),
        "p_rope": p_rope, "rope": rope, "conclusion": conclusion,
        "p_direction_mcse": mc_pd, "ci_low_mcse": mc_ends[:, 0], "ci_high_mcse": mc_ends[:, 1],
        "mc_fragile": fragile(conclusion, hdi[:, 0], hdi[:, 1], mc_ends[:, 0], mc_ends[:, 1],
                              rope)})
    if sd_scale is None:
        return out.assign(**{c: np.nan for c in BF_COLUMNS})
    pv = None if prior is None else prior.transpose("chain", "draw", dim).to_numpy().reshape(
        -1, prior.sizes[dim])
    bf = contrast_bayes_factors(post.to_numpy(), pv, np.asarray(sd_scale, dtype=float))
    return pd.concat([out, bf[BF_COLUMNS].reset_index(drop=True)], axis=1)


def rope_widths(post: xr.DataArray, *, rope: float | None = None, rope_sd: float = 0.1
                ) -> np.ndarray:
    """ROPE half-width of each column: ``rope`` points, else the scale's MID, else SD-based.

    The default is ``rope_sd`` x the pooled within-group SD of the contrast's scale (0.1
    SD: a negligible standardised effect, Kruschke 2018), or the minimal important
    difference the codebook declares for the scale (coordinate ``mid``).
    """
    n = post.sizes[post.dims[-1]]
    if rope is not None:
        return np.full(n, float(rope))
    sd = np.asarray(post["sd_pooled"].to_numpy(), dtype=float) if "sd_pooled" in post.coords \
        else np.full(n, np.nan)
    mid = np.asarray(post["mid"].to_numpy(), dtype=float) if "mid" in post.coords else (
        np.full(n, np.nan))
    return np.where(np.isnan(mid), rope_sd * sd, mid)


def summarise_contrasts(post: xr.DataArray, prior: xr.DataArray | None, *, model: str,
                        data_source: str, ci_prob: float = 0.95, rope: float | None = None,
                        rope_sd: float = 0.1) -> pd.DataFrame:
    """Summarise stored contrast draws as the contrasts table (:data:`CONTRAST_COLUMNS`).

    ``rope`` (points) overrides the default ROPE of :func:`rope_widths`.  Latent-scale
    contrasts (names ending ``_latent``) get no P(ROPE): the ROPE is in scale points.
    """
    latent = np.char.endswith(post["name"].to_numpy().astype(str), "_latent")
    stats = summarise_draws(post, prior, ci_prob=ci_prob, dim="contrast",
                            rope=np.where(latent, np.nan,
                                          rope_widths(post, rope=rope, rope_sd=rope_sd)),
                            sd_scale=_sd_scale(post))
    meta = pd.DataFrame({"contrast": post["name"].to_numpy(), "scale": post["scale"].to_numpy(),
                         "sector": post["sector"].to_numpy(),
                         "estimand": post["estimand"].to_numpy() if "estimand" in post.coords
                         else "descriptive",
                         "n_a": post["n_a"].to_numpy(), "n_b": post["n_b"].to_numpy()})
    out = pd.concat([meta, stats], axis=1).assign(model=model, data_source=data_source)
    return out[CONTRAST_COLUMNS]


def group_size(units: pd.DataFrame, mask: np.ndarray) -> int:
    """Respondents behind a group of units (summary cells: the sum of their n)."""
    if "respondent" in units.columns:
        return int(units.loc[mask, "respondent"].nunique())
    return int(units.loc[mask, "weight"].sum())


def contrast_draws(draws: np.ndarray, units: pd.DataFrame, families, *,
                   prior_draws: np.ndarray | None = None, sizes: bool = False):
    """Yield ``(name, scale, sector, posterior draws, prior draws or None)`` per contrast.

    With ``sizes`` each tuple ends with ``(n_a, n_b)``, the groups' respondent counts.
    """
    weights = units["weight"].to_numpy(dtype=float)
    catalogue = load_catalogue()
    for family in families:
        fam = catalogue[family]
        for scale in sorted(set(units["scale"])):
            for name, sector, sa, sb in contrast_pairs(family, scale, units):
                ma, mb = sa.mask(units), sb.mask(units)
                diff = _group_mean(draws, weights, ma) - _group_mean(draws, weights, mb)
                prior = None if prior_draws is None else (
                    _group_mean(prior_draws, weights, ma) - _group_mean(prior_draws, weights, mb))
                # a difference of two scales is reported on the pair ("a-b")
                scale_of = (f"{fam.scale_a}-{fam.scale_b}"
                            if fam.kind == "scale_difference" else sa.scale)
                out = (name, scale_of, sector, diff, prior)
                yield (*out, (group_size(units, ma), group_size(units, mb))) if sizes else out


CLAIM_CONTRAST_COLUMNS = ["claim_id", "scale", "group_a", "group_b", "estimate", "ci_low",
                          "ci_high", "p_direction", "p_rope", "rope", *DECISION_COLUMNS,
                          *BF_COLUMNS, "model", "data_source"]


def group_selector(group: str, scale: str) -> Selector:
    """Return the units of a group key (``rater>target@sector[#gender]``) on ``scale``."""
    from triad.published import parse_group_key

    g = parse_group_key(group)
    return Selector(g["role"], g["target"] or "", scale, g["sector"], g["gender"])


def claim_contrasts(
    draws: np.ndarray, units: pd.DataFrame, claims: pd.DataFrame, *, model: str,
    data_source: str, prior_draws: np.ndarray | None = None, ci_prob: float = 0.95,
    rope: float = 0.1,
) -> pd.DataFrame:
    """Bayesian contrast for every pair a claim compares (first group vs each other).

    Only claims whose scale and groups the model's units cover are computed; groups
    are the claims registry's group keys (e.g. ``youth>professional@residential``).
    """
    post, prior = claim_dataset(draws, units, claims, prior_draws=prior_draws)
    return summarise_claims(post, prior, model=model, data_source=data_source,
                            ci_prob=ci_prob, rope=rope)


def claim_dataset(draws: np.ndarray, units: pd.DataFrame, claims: pd.DataFrame, *,
                  prior_draws: np.ndarray | None = None, chains: int = 1
                  ) -> tuple[xr.DataArray, xr.DataArray | None]:
    """Posterior (and prior) draws of every claim pair, dims (chain, draw, pair)."""
    from triad.published import claim_groups

    weights = units["weight"].to_numpy(dtype=float)
    rows, cols, prior_cols = [], [], []
    for _, claim in claims.iterrows():
        if claim["kind"] != "difference" or claim["scale"] not in set(units["scale"]):
            continue
        groups = [g for g, _ in claim_groups(claim)]
        first = group_selector(groups[0], claim["scale"]).mask(units)
        if not first.any():
            continue
        for other in groups[1:]:
            mask = group_selector(other, claim["scale"]).mask(units)
            if not mask.any():
                continue
            rows.append((claim["claim_id"], claim["scale"], groups[0], other))
            cols.append(_group_mean(draws, weights, first) - _group_mean(draws, weights, mask))
            if prior_draws is not None:
                prior_cols.append(_group_mean(prior_draws, weights, first)
                                  - _group_mean(prior_draws, weights, mask))
    coords = {"pair": [f"{r[0]}:{r[2]}:{r[3]}" for r in rows]}
    coords.update({key: ("pair", [r[i] for r in rows]) for i, key in enumerate(
        ("claim_id", "scale", "group_a", "group_b"))})
    post = _as_draws(cols, draws.shape[0], chains, coords, "pair")
    prior = None if prior_draws is None else _as_draws(prior_cols, prior_draws.shape[0], 1,
                                                       coords, "pair")
    return post, prior


def summarise_claims(post: xr.DataArray, prior: xr.DataArray | None, *, model: str,
                     data_source: str, ci_prob: float = 0.95, rope: float | None = None,
                     rope_sd: float = 0.1) -> pd.DataFrame:
    """Summarise stored claim-pair draws (:data:`CLAIM_CONTRAST_COLUMNS`)."""
    stats = summarise_draws(post, prior, ci_prob=ci_prob, dim="pair",
                            rope=rope_widths(post, rope=rope, rope_sd=rope_sd),
                            sd_scale=_sd_scale(post))
    meta = pd.DataFrame({k: post[k].to_numpy() for k in
                         ("claim_id", "scale", "group_a", "group_b")})
    out = pd.concat([meta, stats], axis=1).assign(model=model, data_source=data_source)
    return out[CLAIM_CONTRAST_COLUMNS]


def _sd_scale(post: xr.DataArray) -> np.ndarray | None:
    return post["sd_pooled"].to_numpy().astype(float) if "sd_pooled" in post.coords else None
