"""Named posterior contrasts: the study's questions as differences of group means.

A model supplies posterior draws of the expected score of each of its *units*
(respondent rows, or published cells for the summary model) and a table
describing the units.  A group mean is the weighted mean over the units of a
group (respondents: weight 1, i.e. averaged over the group's observed gender
and age mix, which is what a report's cell mean describes; summary cells:
weight n).  A contrast is the difference of two group means, per sector and
pooled (``sector == 'all'``).

Contrast families (a spec lists them; output names are prefixed with the scale):

``gap_youth_vs_professional``
    youths' rating of professionals minus professionals' rating about youths
    (professional = social worker in ambulatory/residential care, teacher in
    special education).
``gap_parent_vs_professional``, ``gap_youth_vs_parent``
    likewise.
``professional_youth_vs_parent``
    professionals about youths minus about parents (paired: same people).
``belangrijk_minus_lukt``
    professionals' importance minus accomplishment (paired).
``sector_differences``
    every pair of sectors, per rater>target group in the model.
``gender_gap_professionals``
    male minus female professionals, per target.
"""

from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd

from triad.codebook import PROFESSIONAL_ROLES, SECTORS, roles_of

__all__ = ["CONTRAST_COLUMNS", "FAMILIES", "Selector", "compute_contrasts", "known_contrast",
           "contrast_pairs", "contrast_draws", "claim_contrasts", "CLAIM_CONTRAST_COLUMNS"]

CONTRAST_COLUMNS = ["contrast", "scale", "sector", "n_a", "n_b", "estimate", "ci_low", "ci_high",
                    "ci_prob", "p_direction", "p_rope", "rope", "bf10", "model", "data_source"]
FAMILIES = ("gap_youth_vs_professional", "gap_parent_vs_professional", "gap_youth_vs_parent",
            "professional_youth_vs_parent", "belangrijk_minus_lukt", "sector_differences",
            "gender_gap_professionals")


def known_contrast(name: str) -> bool:
    """Whether ``name`` is a contrast family specs may list."""
    return name in FAMILIES


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
        roles = ((*PROFESSIONAL_ROLES, "professional") if self.rater == "professional"
                 else (self.rater,))
        m = units["role"].isin(roles) & (units["target"] == self.target)
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
    """Expand a family into (name, sector label, selector A, selector B) for a model's units."""
    out = []
    present = {(r, t) for r, t in zip(units["role"], units["target"], strict=True)}

    def has(rater: str, target: str) -> bool:
        roles = roles_of(rater)
        return any((r, target) in present for r in roles)

    def per_sector(name: str, a: tuple, b: tuple, gender_a=None, gender_b=None) -> None:
        for sector in ("all", *SECTORS):
            sa = Selector(*a, scale=scale, sector=sector, gender=gender_a)
            sb = Selector(*b, scale=scale, sector=sector, gender=gender_b)
            if sa.mask(units).any() and sb.mask(units).any():
                out.append((name, sector, sa, sb))

    name = f"{scale}_{family}"
    if family == "gap_youth_vs_professional" and has("youth", "professional") and has(
            "professional", "youth"):
        per_sector(name, ("youth", "professional"), ("professional", "youth"))
    elif family == "gap_parent_vs_professional" and has("parent", "professional") and has(
            "professional", "parent"):
        per_sector(name, ("parent", "professional"), ("professional", "parent"))
    elif family == "gap_youth_vs_parent" and has("youth", "professional") and has(
            "parent", "professional"):
        per_sector(name, ("youth", "professional"), ("parent", "professional"))
    elif family == "professional_youth_vs_parent" and has("professional", "youth") and has(
            "professional", "parent"):
        per_sector(name, ("professional", "youth"), ("professional", "parent"))
    elif family == "belangrijk_minus_lukt" and scale == "belangrijk":
        for sector in ("all", *SECTORS):
            sa = Selector("professional", "self", "belangrijk", sector)
            sb = Selector("professional", "self", "lukt", sector)
            if sa.mask(units).any() and sb.mask(units).any():
                out.append(("belangrijk_minus_lukt", sector, sa, sb))
    elif family == "sector_differences":
        groups = sorted({("professional" if r in PROFESSIONAL_ROLES else r, t)
                         for r, t in present})
        for rater, target in groups:
            for i, s1 in enumerate(SECTORS):
                for s2 in SECTORS[i + 1:]:
                    sa = Selector(rater, target, scale, s1)
                    sb = Selector(rater, target, scale, s2)
                    if sa.mask(units).any() and sb.mask(units).any():
                        out.append((f"{scale}_sector_diff_{rater}_about_{target}",
                                    f"{s1}-{s2}", sa, sb))
    elif family == "gender_gap_professionals":
        for target in ("youth", "parent", "self"):
            if has("professional", target):
                per_sector(f"{scale}_gender_gap_professionals_about_{target}",
                           ("professional", target), ("professional", target), "male", "female")
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
        Half-width of the region of practical equivalence around 0.

    Returns
    -------
    DataFrame
        Columns :data:`CONTRAST_COLUMNS`.
    """
    rows = []
    for name, scale, sector, diff, prior, (n_a, n_b) in contrast_draws(
            draws, units, families, prior_draws=prior_draws, sizes=True):
        low, high = az.hdi(diff, hdi_prob=ci_prob)
        side = np.sign(np.median(diff)) or 1.0
        rows.append({
            "contrast": name, "scale": scale, "sector": sector, "n_a": n_a, "n_b": n_b,
            "estimate": float(np.mean(diff)),
            "ci_low": float(low), "ci_high": float(high), "ci_prob": ci_prob,
            "p_direction": float(np.mean(np.sign(diff) == side)),
            "p_rope": float(np.mean(np.abs(diff) <= rope)), "rope": rope,
            "bf10": _savage_dickey(diff, prior) if prior is not None else np.nan,
            "model": model, "data_source": data_source,
        })
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)


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
    for family in families:
        for scale in sorted(set(units["scale"])):
            for name, sector, sa, sb in contrast_pairs(family, scale, units):
                ma, mb = sa.mask(units), sb.mask(units)
                diff = _group_mean(draws, weights, ma) - _group_mean(draws, weights, mb)
                prior = None if prior_draws is None else (
                    _group_mean(prior_draws, weights, ma) - _group_mean(prior_draws, weights, mb))
                out = (name, sa.scale if name != "belangrijk_minus_lukt" else "belangrijk-lukt",
                       sector, diff, prior)
                yield (*out, (group_size(units, ma), group_size(units, mb))) if sizes else out


CLAIM_CONTRAST_COLUMNS = ["claim_id", "scale", "group_a", "group_b", "estimate", "ci_low",
                          "ci_high", "p_direction", "p_rope", "bf10", "model", "data_source"]


def _selector(group: str, scale: str) -> Selector:
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
    from triad.published import claim_groups

    weights = units["weight"].to_numpy(dtype=float)
    rows = []
    for _, claim in claims.iterrows():
        if claim["kind"] != "difference" or claim["scale"] not in set(units["scale"]):
            continue
        groups = [g for g, _ in claim_groups(claim)]
        first = _selector(groups[0], claim["scale"]).mask(units)
        if not first.any():
            continue
        for other in groups[1:]:
            mask = _selector(other, claim["scale"]).mask(units)
            if not mask.any():
                continue
            diff = _group_mean(draws, weights, first) - _group_mean(draws, weights, mask)
            low, high = az.hdi(diff, hdi_prob=ci_prob)
            side = np.sign(np.median(diff)) or 1.0
            bf10 = np.nan
            if prior_draws is not None:
                bf10 = _savage_dickey(diff, _group_mean(prior_draws, weights, first)
                                      - _group_mean(prior_draws, weights, mask))
            rows.append({"claim_id": claim["claim_id"], "scale": claim["scale"],
                         "group_a": groups[0], "group_b": other, "estimate": float(diff.mean()),
                         "ci_low": float(low), "ci_high": float(high),
                         "p_direction": float(np.mean(np.sign(diff) == side)),
                         "p_rope": float(np.mean(np.abs(diff) <= rope)), "bf10": bf10,
                         "model": model, "data_source": data_source})
    return pd.DataFrame(rows, columns=CLAIM_CONTRAST_COLUMNS)


def _savage_dickey(posterior: np.ndarray, prior: np.ndarray) -> float:
    """BF10 = prior density / posterior density at 0 (Savage-Dickey), by ArviZ.

    NaN when the prior draws cannot carry a density estimate (constant or not finite);
    inf when no posterior draw lies on the other side of 0.
    """
    prior = prior[np.isfinite(prior)]
    posterior = posterior[np.isfinite(posterior)]
    if prior.size < 100 or np.ptp(prior) == 0 or np.ptp(posterior) == 0:
        return np.nan
    if not posterior.min() < 0 < posterior.max():
        # No draw on the far side of 0: the posterior density there is below what a KDE can
        # resolve (ArviZ then extrapolates a boundary value and returns a small, wrong BF).
        return np.inf
    idata = az.from_dict(posterior={"d": posterior[None, :]}, prior={"d": prior[None, :]})
    return float(az.bayes_factor(idata, var_name="d", ref_val=0)["BF10"])
