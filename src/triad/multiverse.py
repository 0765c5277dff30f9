"""The multiverse of analytic choices: variant specs and the robustness of each claim.

Variants are declared in ``models/multiverse/variants.toml`` and derived from each
Gaussian respondent-level spec they apply to (likelihood, residual SD, pooling,
prior scale).  Together with the specs that are variants of their own (Student-t,
ordinal logit/probit, summary statistics) they form the universes in which every
claim's Bayesian conclusion is re-read with the one rule of :mod:`triad.decisions`
(``higher``/``lower``: the 95% HDI excludes 0; ``equivalent``: it lies inside the ROPE;
else ``undecided``).

A claim's robustness is the share of the *other* universes (the primary model is not
counted) that reach the primary model's conclusion, among those whose sampler gates
passed and that LOO does not clearly reject.  A universe is LOO-rejected when, on the
same observations, its elpd is more than 4 and more than 2 standard errors below the
best model's (``loo_compare.csv``); it is shown, flagged, but not counted.
"""

import copy
import fnmatch
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from triad.gaps import GAPS_LABEL, gap_universes
from triad.likelihoods import likelihood
from triad.paths import models_dir
from triad.specs import ModelSpec, SpecError, read_toml, spec_from_raw

__all__ = ["Variant", "variants_file", "load_variants", "derive_spec", "multiverse_specs",
           "resolve_spec", "data_cells_spec", "universe_label", "claim_universes",
           "loo_rejected", "DATA_CELLS",
           "robustness_columns", "ROBUSTNESS_COLUMNS", "FRAGILE_BELOW"]

# Default: a claim is called fragile when fewer than this share of the other universes
# reach its conclusion (``--robust-share``).
FRAGILE_BELOW = 0.8
# LOO clearly rejects a universe: elpd below the best by more than this and 2 SE.
LOO_REJECT_ELPD = 4.0
# The variant name of a summary spec fitted to the respondent file's own cells.
DATA_CELLS = "data_cells"
_VARIANT_KEYS = {"name", "label", "axis", "why", "applies_to", "exclude", "family",
                 "sigma_formula", "priors", "prior_scale", "sampler", "missing_age",
                 "disc", "thresholds", "noncentered"}
# Changes that only an ordinal spec has; a variant making them applies to ordinal specs.
_ORDINAL_CHANGES = ("disc", "thresholds")
ROBUSTNESS_COLUMNS = ["universes", "universes_agree", "robustness", "robust",
                      "universes_failed_gates", "universes_loo_rejected",
                      "universes_other_data", "paper_support_share", "dissenting_universes"]


@dataclass(frozen=True)
class Variant:
    """One analytic choice applied to base specs."""

    name: str
    label: str
    axis: str
    why: str
    applies_to: tuple
    exclude: tuple
    changes: dict
    path: Path

    def applies(self, spec: ModelSpec) -> bool:
        """Whether this variant is derived from ``spec``.

        Variants of ``disc`` or ``thresholds`` apply to ordinal specs, the others to
        Gaussian respondent specs.
        """
        ordinal = any(k in self.changes for k in _ORDINAL_CHANGES)
        family_fits = spec.ordinal if ordinal else spec.family == "gaussian"
        if spec.variant or spec.data != "respondent" or not family_fits:
            return False
        if spec.name in self.exclude:
            return False
        return any(fnmatch.fnmatchcase(spec.name, g) for g in self.applies_to)


def variants_file() -> Path:
    """Return the path of the declared variants, ``models/multiverse/variants.toml``."""
    return models_dir() / "multiverse" / "variants.toml"


def load_variants(path: str | Path | None = None) -> list[Variant]:
    """Load and validate the variant declarations.

    Raises
    ------
    SpecError
        Naming the file and the key (``variant[i].key``) of the first problem.
    """
    if path is None and not variants_file().is_file():
        return []  # a study without a multiverse (e.g. a new study's skeleton)
    path = Path(path) if path is not None else variants_file()
    raw = read_toml(path)
    if set(raw) - {"variant"}:
        raise SpecError(path, sorted(set(raw) - {"variant"})[0], "only [[variant]] tables")
    out, seen = [], set()
    for i, v in enumerate(raw.get("variant", [])):
        where = f"variant[{i}]"
        unknown = sorted(set(v) - _VARIANT_KEYS)
        if unknown:
            raise SpecError(path, f"{where}.{unknown[0]}", "unknown key; allowed: "
                            + ", ".join(sorted(_VARIANT_KEYS)))
        for key in ("name", "label", "axis", "why", "applies_to"):
            if not v.get(key):
                raise SpecError(path, f"{where}.{key}", "missing")
        if not str(v["name"]).replace("_", "").isalnum() or v["name"] in seen:
            raise SpecError(path, f"{where}.name", f"{v['name']!r}: letters, digits and _ only, "
                                                   "unique")
        seen.add(v["name"])
        scale = v.get("prior_scale", 1.0)
        if not isinstance(scale, int | float) or isinstance(scale, bool) or scale <= 0:
            raise SpecError(path, f"{where}.prior_scale", "a positive number")
        if not isinstance(v.get("sampler", {}), dict):
            raise SpecError(path, f"{where}.sampler", "a table of sampler settings")
        changes = {k: v[k] for k in ("family", "sigma_formula", "priors", "prior_scale",
                                     "sampler", "missing_age", "noncentered", *_ORDINAL_CHANGES)
                   if k in v}
        out.append(Variant(v["name"], v["label"], v["axis"], v["why"],
                           tuple(v["applies_to"]), tuple(v.get("exclude", ())), changes, path))
    return out


def _scaled(prior: dict, f: float) -> dict:
    """Return a prior ``f`` times as wide (scale parameters; nested hyperpriors too)."""
    p = dict(prior)
    dist = p["dist"]
    for key in ("sigma", "beta", "lam"):
        if key not in p:
            continue
        value = p[key]
        if isinstance(value, dict):
            p[key] = _scaled(value, f)
        elif key == "sigma" and dist in ("Normal", "HalfNormal", "StudentT", "HalfStudentT",
                                         "LogNormal"):
            if dist == "LogNormal":
                continue  # a LogNormal's sigma is a log-scale shape; its scale is exp(mu)
            p[key] = value * f if not isinstance(value, list) else [x * f for x in value]
        elif key in ("beta", "lam") and dist in ("Gamma", "Exponential"):
            p[key] = value / f
    if dist == "LogNormal" and not isinstance(p.get("mu"), dict):
        p["mu"] = p.get("mu", 0.0) + math.log(f)
    return p


def derive_spec(base: ModelSpec, variant: Variant) -> ModelSpec:
    """Apply ``variant`` to ``base`` and validate the result like a spec file."""
    raw = copy.deepcopy(read_toml(base.path))
    raw["name"] = f"{base.name}~{variant.name}"
    raw["description"] = f"{raw['description']}\n\nMultiverse variant '{variant.name}': " \
                         f"{variant.why}."
    ch = variant.changes
    if "family" in ch:
        raw["family"] = ch["family"]
    if "missing_age" in ch:  # validated with the spec (triad.specs.MISSING_AGE)
        raw["missing_age"] = ch["missing_age"]
    if "sigma_formula" in ch:
        if ch["sigma_formula"]:
            raw["sigma_formula"] = ch["sigma_formula"]
        else:
            raw.pop("sigma_formula", None)
            raw["priors"] = {k: p for k, p in raw["priors"].items()
                             if not k.startswith("sigma/")}
    if "prior_scale" in ch:
        raw["priors"] = {k: {**_scaled(p, ch["prior_scale"]),
                             "why": f"{p['why']} (x {ch['prior_scale']:g}: {variant.name})"}
                         for k, p in raw["priors"].items()}
    for key in _ORDINAL_CHANGES:
        if key in ch:
            raw[key] = ch[key]
    if "noncentered" in ch:  # validated with the spec (a list only for the PyMC ordinal model)
        raw["noncentered"] = ch["noncentered"]
    if raw.get("disc") != "rater":  # one latent SD: no discrimination to give a prior
        raw["priors"].pop("disc", None)
    for term, prior in ch.get("priors", {}).items():
        raw["priors"][term] = prior
    # a variant may need a longer run than its base (validated like a spec's [sampler])
    raw["sampler"] = {**raw["sampler"], **ch.get("sampler", {})}
    digest = hashlib.sha256(base.path.read_bytes() + json.dumps(
        {"variant": variant.name, "changes": ch}, sort_keys=True).encode()).hexdigest()
    try:
        return spec_from_raw(raw, base.path, variant=variant.name, content_sha256=digest)
    except SpecError as exc:
        raise SpecError(variant.path, f"variant {variant.name!r} on {base.name}",
                        str(exc)) from None


def multiverse_specs(specs: list[ModelSpec], variants: list[Variant] | None = None, *,
                     data=None) -> list[ModelSpec]:
    """Every variant spec derived from ``specs`` (the bases themselves not included).

    A variant that changes only how missing ages are handled (``missing_age``) is derived
    only where ``data`` (a respondent file, path or :class:`~triad.readers.RespondentData`)
    has a row without an age among its base spec's rows: elsewhere it would fit its base
    again and count as a second, agreeing universe.
    """
    variants = load_variants() if variants is None else variants
    out = []
    for s in specs:
        for v in variants:
            if v.applies(s) and (set(v.changes) - {"missing_age", "sampler"}
                                 or _ages_missing(s, data)):
                out.append(derive_spec(s, v))
    return out


def _ages_missing(spec: ModelSpec, data) -> bool:
    """Whether a row of ``spec``'s model on ``data`` has no age (False without data)."""
    if data is None:
        return False
    from triad.modeldata import model_frame
    from triad.readers import RespondentData, read_respondents

    data = data if isinstance(data, RespondentData) else read_respondents(data)
    return bool(model_frame(data, spec).frame["age_missing"].to_numpy().any())


def data_cells_spec(base: ModelSpec) -> ModelSpec:
    """Return the summary-statistic spec fitted to the respondent file's own cells.

    The published cells describe the study's respondents, not a user's file: with a
    respondent file, the summary universe of a claim is this fit, not the published one.
    """
    import dataclasses

    digest = hashlib.sha256((base.sha256 + DATA_CELLS).encode()).hexdigest()
    return dataclasses.replace(base, name=f"{base.name}~{DATA_CELLS}", variant=DATA_CELLS,
                               content_sha256=digest)


def resolve_spec(path: str | Path, variant: str = "") -> ModelSpec:
    """Load a spec file, or the named variant of it (used by worker processes)."""
    from triad.specs import load_spec

    base = load_spec(path)
    if not variant:
        return base
    if variant == DATA_CELLS and base.data == "summary":
        return data_cells_spec(base)
    found = [v for v in load_variants() if v.name == variant]
    if not found:
        raise SpecError(variants_file(), "variant", f"no variant named {variant!r}")
    return derive_spec(base, found[0])


def universe_label(model: str, family: str, variant: str = "", labels: dict | None = None,
                   primary: bool = False) -> str:
    """Column label of a universe in the claims x universes grid."""
    if variant == DATA_CELLS:
        return "summary statistics (the file's cells)"
    if not variant and model in gap_universes():
        return GAPS_LABEL
    lik = likelihood(family)
    if variant:
        label = (labels or {}).get(variant, variant)
        # the same variant of the logit and the probit model: two universes
        return f"{lik.universe}, {label}" if lik.ordinal else label
    if family == "gaussian":
        return lik.universe if primary else model
    return lik.universe


def loo_rejected(compared: pd.DataFrame) -> set[str]:
    """Models that LOO clearly rejects against the best one on the same observations.

    ``compared`` is :func:`triad.sensitivity.loo_compare` output (``elpd_diff`` <= 0 is
    each model's elpd minus the best one's, ``dse`` its standard error).
    """
    if compared.empty:
        return set()
    bad = (compared["elpd_diff"] < -LOO_REJECT_ELPD) & (
        compared["elpd_diff"].abs() > 2 * compared["dse"])
    return set(compared.loc[bad, "model"])


def claim_universes(claim_rows: pd.DataFrame, diag: pd.DataFrame,
                    primary: dict[str, str], rejected: set[str] | None = None) -> pd.DataFrame:
    """Every claim contrast in every universe, with its conclusion and grid label.

    Parameters
    ----------
    claim_rows : DataFrame
        :func:`triad.contrasts.claim_contrasts` rows of every fitted model, with
        ``gates_passed``.
    diag : DataFrame
        One row per model: ``model, family, variant, gates_passed``.
    primary : dict
        Scale -> primary model name (its universe is labelled ``primary``).
    rejected : set of str, optional
        Models LOO clearly rejects (:func:`loo_rejected`).

    Returns
    -------
    DataFrame
        ``claim_rows`` (with their ``conclusion``) plus ``family, variant, universe,
        is_primary, loo_rejected``.
    """
    labels = {v.name: v.label for v in load_variants()}
    info = diag.set_index("model")
    out = claim_rows.copy()
    out["family"] = out["model"].map(info["family"])
    out["variant"] = out["model"].map(info["variant"]).fillna("") if "variant" in info else ""
    out["universe"] = [
        universe_label(m, f, v, labels, primary=primary.get(s) == m)
        for m, f, v, s in zip(out["model"], out["family"], out["variant"], out["scale"],
                              strict=True)]
    out["is_primary"] = [primary.get(s) == m for m, s in zip(out["model"], out["scale"],
                                                              strict=True)]
    out["loo_rejected"] = out["model"].isin(rejected or set())
    # Base Gaussian specs other than a scale's primary are universes of their own too.
    return out


def _supports_paper(concl: str, verdict: str, direction: str) -> bool | None:
    if verdict in ("significant", "implied_significant"):
        want = {"first_higher": "higher", "first_lower": "lower"}.get(direction)
        return concl == want if want else concl in ("higher", "lower")
    if verdict == "not_significant":
        return concl in ("equivalent", "undecided")
    return None


def robustness_columns(claims: pd.DataFrame, universes: pd.DataFrame, *,
                       fragile_below: float = FRAGILE_BELOW) -> pd.DataFrame:
    """Add the robustness columns (:data:`ROBUSTNESS_COLUMNS`) to the claims table.

    The claims table's ``conclusion`` is the primary model's.  ``universes`` counts the
    other universes that compute the claim with passing gates and no LOO rejection;
    ``universes_agree`` those reaching the primary's conclusion; ``robustness`` their
    share; ``robust`` is ``robust``, ``fragile`` (share < ``fragile_below``) or empty
    (no other universe); ``universes_failed_gates`` and ``universes_loo_rejected`` count
    the universes shown but not counted; ``paper_support_share`` is the share of all
    counted universes, primary included, that support the paper's verdict;
    ``dissenting_universes`` names the counted universes that disagree.
    """
    out = claims.copy()
    cols: dict[str, list] = {c: [] for c in ROBUSTNESS_COLUMNS}
    for _, row in out.iterrows():
        u = universes[(universes["claim_id"] == row["claim_id"])
                      & (universes["group_b"].fillna("") == row["group_b"])]
        passed = u["gates_passed"].astype(bool)
        # universes of other data (the published cells when a file is analysed) are shown,
        # not counted: they are not re-analyses of the same respondents
        same = (u["data_source"] == row["data_source"]) if "data_source" in u else (
            pd.Series(True, index=u.index))
        counted = passed & ~u["loo_rejected"].astype(bool) & same
        others = u[counted & (u["model"] != row["bayes_model"])]
        concl = row["conclusion"]
        agree = others["conclusion"] == concl
        support = [_supports_paper(c, row["paper_verdict"], row["direction"])
                   for c in u.loc[counted, "conclusion"]]
        support = [s for s in support if s is not None]
        share = float(agree.mean()) if concl and len(others) else np.nan
        cols["universes"].append(len(others))
        cols["universes_agree"].append(int(agree.sum()) if concl else 0)
        cols["robustness"].append(share)
        cols["robust"].append("" if np.isnan(share) else (
            "fragile" if share < fragile_below else "robust"))
        cols["universes_failed_gates"].append(int((~passed).sum()))
        cols["universes_loo_rejected"].append(int((passed & u["loo_rejected"]).sum()))
        cols["universes_other_data"].append(int((~same).sum()))
        cols["paper_support_share"].append(float(np.mean(support)) if support else np.nan)
        cols["dissenting_universes"].append("; ".join(
            f"{m}: {c}" for m, c in zip(others.loc[~agree, "model"],
                                        others.loc[~agree, "conclusion"], strict=True))
            if concl else "")
    for c in ROBUSTNESS_COLUMNS:
        out[c] = cols[c]
    return out
