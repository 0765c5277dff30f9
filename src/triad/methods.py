"""A methods section authors can paste: ``results/methods.md`` and ``results/methods.tex``.

Everything in the text comes from the model specs and the run's results folder:
``run.json`` (data source and hash, quick flag, versions), ``tables/diagnostics.csv``
(every fit and its sampler gates), ``tables/contrasts.csv`` (ROPE, interval
probability, estimand), ``tables/claims.csv`` (multiplicity), the specs (formulas,
priors with their ``why``, sampler settings, seeds) and the library's own constants
(gates, decision rule, contrast conventions), so the text cannot drift from the code.
The text follows the Bayesian Analysis Reporting Guidelines (Kruschke 2021) and ends
with a checklist mapping each BARG item (:data:`BARG_ITEMS`) to the section covering it.
"""

import json
import math
import re
from pathlib import Path

import jinja2
import pandas as pd

from triad.atomic import write_text
from triad.likelihoods import LIKELIHOODS
from triad.missingness import methods_text
from triad.multiplicity import as_text, decision_rule, multiplicity, multiplicity_note, truthy
from triad.specs import ModelSpec
from triad.versions import library_versions

__all__ = ["BARG_ITEMS", "ESTIMANDS", "SECTIONS", "decision_rule", "methods_context",
           "methods_latex", "methods_markdown", "multiplicity", "multiplicity_note",
           "tex_escape", "write_methods"]

TEMPLATES = Path(__file__).parent / "templates"

# Section key -> heading, in the order of the generated text.
SECTIONS = {
    "aims": "Aims and approach",
    "data": "Data",
    "models": "Models",
    "priors": "Prior distributions",
    "computation": "Computation",
    "convergence": "Convergence gates and how each fit met them",
    "estimands": "Estimands and contrasts",
    "posterior": "Posterior summaries and predictive checks",
    "decisions": "Decision rule and ROPE",
    "multiplicity": "Multiplicity",
    "sensitivity": "Sensitivity analyses",
    "reproducibility": "Reproducibility",
}

# Kruschke, J. K. (2021). Bayesian Analysis Reporting Guidelines. Nature Human Behaviour
# 5, 1282-1291 (Table 1): a preamble and six steps with lettered items.  Each item is
# mapped to the section of the generated text that covers it and how ("status").
BARG_ITEMS = [
    {"id": "P.A", "step": "Preamble", "item": "Why Bayesian", "section": "aims",
     "status": "covered", "how": "why a Bayesian multilevel analysis (partial pooling, "
                                 "posterior probabilities of each contrast)"},
    {"id": "P.B", "step": "Preamble", "item": "Goals of the analysis", "section": "aims",
     "status": "covered", "how": "each model's stated purpose (its spec's description)"},
    {"id": "1.A", "step": "1. Explain the model", "item": "Data variables",
     "section": "data", "status": "covered",
     "how": "data source, response and predictors of every formula"},
    {"id": "1.B", "step": "1. Explain the model", "item": "Likelihood function and parameters",
     "section": "models", "status": "covered",
     "how": "family (likelihood), mean and residual-SD formulas, multilevel structure"},
    {"id": "1.C", "step": "1. Explain the model", "item": "Prior distribution",
     "section": "priors", "status": "covered",
     "how": "every prior with its written justification"},
    {"id": "1.D", "step": "1. Explain the model", "item": "Formal specification",
     "section": "models", "status": "covered",
     "how": "the Bambi/lme4 formulas and the spec files with their hashes"},
    {"id": "1.E", "step": "1. Explain the model", "item": "Prior predictive check",
     "section": "posterior", "status": "partly",
     "how": "prior and prior-predictive draws are stored with every fit; contrasts carry a "
            "Savage-Dickey BF10 against their prior draws"},
    {"id": "2.A", "step": "2. Report details of the computation", "item": "Software",
     "section": "computation", "status": "covered",
     "how": "library versions, sampler backend"},
    {"id": "2.B", "step": "2. Report details of the computation",
     "item": "MCMC chain convergence", "section": "convergence", "status": "covered",
     "how": "maximum R-hat over every parameter, per fit, against the gate"},
    {"id": "2.C", "step": "2. Report details of the computation",
     "item": "MCMC chain resolution (ESS)", "section": "convergence", "status": "covered",
     "how": "minimum bulk and tail ESS over every parameter, divergences, per fit"},
    {"id": "2.D", "step": "2. Report details of the computation", "item": "If not MCMC",
     "section": "computation", "status": "not applicable",
     "how": "every fit is MCMC (NUTS)"},
    {"id": "3.A", "step": "3. Describe the posterior distribution",
     "item": "Posterior predictive check", "section": "posterior", "status": "covered",
     "how": "posterior predictive checks per model (ppc table)"},
    {"id": "3.B", "step": "3. Describe the posterior distribution",
     "item": "Summary of the posterior of the variables of interest", "section": "posterior",
     "status": "covered", "how": "posterior mean, HDI, p_direction, P(ROPE) of each contrast"},
    {"id": "3.C", "step": "3. Describe the posterior distribution",
     "item": "Bayes factors and posterior model probabilities", "section": "posterior",
     "status": "partly", "how": "Savage-Dickey BF10 reported per contrast, not used for "
                                "decisions; no posterior model probabilities"},
    {"id": "4.A", "step": "4. Report decisions and their criteria",
     "item": "ROPE (decision rule for parameters)", "section": "decisions",
     "status": "covered", "how": "the decision rule, the ROPE and the interval probability"},
    {"id": "4.B", "step": "4. Report decisions and their criteria",
     "item": "Bayes factor / posterior model probability decisions", "section": "decisions",
     "status": "not applicable", "how": "no decision uses a Bayes factor"},
    {"id": "4+", "step": "4. Report decisions and their criteria",
     "item": "Multiplicity (added by triad; not a lettered BARG item)",
     "section": "multiplicity",
     "status": "covered", "how": "conclusions drawn and their expected number of sign errors"},
    {"id": "5.A", "step": "5. Report sensitivity analysis",
     "item": "Sensitivity to the prior (and other analytic choices)", "section": "sensitivity",
     "status": "covered", "how": "multiverse of analytic variants, priors half/twice as wide, "
                                 "power-scaling prior sensitivity"},
    {"id": "5.B", "step": "5. Report sensitivity analysis",
     "item": "Sensitivity of decisions", "section": "sensitivity", "status": "covered",
     "how": "each claim's conclusion re-read in every universe (robustness share)"},
    {"id": "6.A", "step": "6. Make it reproducible", "item": "Posterior distribution available",
     "section": "reproducibility", "status": "covered",
     "how": "every fit's posterior draws stored (fit.nc, ArviZ DataTree)"},
    {"id": "6.B", "step": "6. Make it reproducible", "item": "Code, data and seeds",
     "section": "reproducibility", "status": "covered",
     "how": "command, spec and data hashes, seeds, versions"},
]

# Estimand definitions (a contrasts.csv ``estimand`` column names which were computed).
ESTIMANDS = {
    "descriptive": "as-sampled difference of the group averages of the fitted values (each "
                   "group's own covariate mix, as a report's cell mean describes it)",
    "adjusted": "counterfactual difference: the compared covariate is switched for every "
                "unit while its cell and other covariates (such as age) are kept, and the "
                "predictions are averaged",
    "standardised": "the per-stratum differences pooled over the strata with stated weights",
}

FAMILY_TEXT = {family: entry.methods for family, entry in LIKELIHOODS.items()}

def _latent_scales(spec) -> str:
    """Describe an ordinal model's latent scales (``disc``, ``thresholds``) in words."""
    if not spec.ordinal:
        return ""
    disc = ("discrimination (1 / latent SD) by rater group, the professionals' fixed at 1"
            if spec.disc == "rater" else "one latent SD for all rater groups")
    cuts = ("thresholds by rater group" if spec.thresholds == "rater" else
            "thresholds shared by the rater groups")
    return f"; {disc}; {cuts}"


# BARG items whose coverage depends on a table of the run: item id -> table.
_NEEDS_TABLE = {"3.A": "ppc", "5.A": "prior_sensitivity", "5.B": "multiverse",
                "4+": "claims"}


def _status_in_run(item: dict, has: dict) -> dict:
    """Downgrade an item to 'not in this run' when the table that covers it is missing."""
    table = _NEEDS_TABLE.get(item["id"])
    if table is None or has.get(table, False):
        return {}
    return {"status": "not in this run", "how": f"{item['how']} (no {table} table in this run)"}


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()


def _parameterisation(noncentered: bool | tuple) -> str:
    """Describe the group effects' parameterisation in words (a spec's ``noncentered``)."""
    if isinstance(noncentered, bool):
        return "non-centred" if noncentered else "centred"
    return f"non-centred: {', '.join(noncentered)}; the others centred"


def _prior_text(prior: dict) -> str:
    params = ", ".join(f"{k}={_prior_text(v) if isinstance(v, dict) else v}"
                       for k, v in prior.items() if k not in ("dist", "why"))
    return f"{prior['dist']}({params})"


def _contrast_conventions() -> dict[str, str]:
    """Contrast family -> its definition, read from :mod:`triad.contrasts`' docstring."""
    import triad.contrasts

    out: dict[str, str] = {}
    names: list[str] = []
    for line in (triad.contrasts.__doc__ or "").splitlines():
        if line.startswith("``"):
            names = re.findall(r"``(\w+)``", line)
            for n in names:
                out[n] = ""
        elif line.startswith("    ") and names:
            for n in names:
                out[n] = (out[n] + " " + line.strip()).strip()
        else:
            names = []
    return out


def _number(value, fmt: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else format(v, fmt)


def _fit_versions(diag: pd.DataFrame) -> dict:
    """Library versions recorded in the fits' ``fit.json`` (when the fit folders exist)."""
    found: dict[str, set] = {}
    for folder in diag.get("fit_folder", pd.Series([], dtype=object)).dropna():
        path = Path(str(folder)) / "fit.json"
        if path.is_file():
            for k, v in json.loads(path.read_text()).get("versions", {}).items():
                found.setdefault(k, set()).add(str(v))
    return {k: ", ".join(sorted(v)) for k, v in found.items()}


def methods_context(results: Path, specs: list[ModelSpec]) -> dict:
    """Collect every value the methods templates render (from the specs and ``results``)."""
    import triad.contrasts
    from triad.fitting import ESS_STOPPING, GATES, MAX_TREEDEPTH, MODEL_LIBRARIES, sampler_args
    from triad.multiverse import load_variants
    from triad.sampling import DENSE_MAX_SIZE

    results = Path(results)
    tables = results / "tables"
    run = json.loads((results / "run.json").read_text()) if (results / "run.json").is_file() \
        else {}
    diag = _read_csv(tables / "diagnostics.csv")
    contrasts = _read_csv(tables / "contrasts.csv")
    claims = _read_csv(tables / "claims.csv")
    quick = bool(run.get("steps", {}).get("models", {}).get("quick", False)) or (
        "quick" in diag and truthy(diag["quick"]).any())
    data = run.get("data") or {}
    sources = sorted(set(diag["data_source"].dropna().astype(str))) if "data_source" in diag \
        else []
    synthetic = data.get("source") == "synthetic" or "synthetic" in sources

    def unique(frame: pd.DataFrame, col: str) -> list:
        if col not in frame:
            return []
        return sorted(pd.to_numeric(frame[col], errors="coerce").dropna().unique().tolist())

    ropes, cis = unique(contrasts, "rope"), unique(contrasts, "ci_prob")
    rule = decision_rule(cis[0] if len(cis) == 1 else None)
    if "estimand" in contrasts:
        used = sorted(set(contrasts["estimand"].dropna().astype(str)))
    else:
        used = []
    definitions = {**ESTIMANDS, **getattr(triad.contrasts, "ESTIMANDS", {})}
    estimands = [{"name": e, "definition": definitions.get(e, "(no definition recorded)")}
                 for e in (used or ["descriptive"])]
    conventions = _contrast_conventions()
    by_model = {str(r["model"]): r for _, r in diag.iterrows()} if "model" in diag else {}
    models = []
    for spec in specs:
        args = sampler_args(spec, quick)
        response = spec.formula.split("~", 1)[0].strip()
        models.append({
            "name": spec.name, "description": " ".join(spec.description.split()),
            "data": spec.data, "family": spec.family,
            "likelihood": FAMILY_TEXT.get(spec.family, spec.family) + _latent_scales(spec),
            "formula": spec.formula,
            "sigma_formula": spec.sigma_formula, "response": response,
            "predictors": sorted(set(re.findall(r"[A-Za-z_]\w*",
                                                spec.formula.split("~", 1)[1]))),
            "parameterisation": _parameterisation(spec.noncentered), "level": spec.level,
            "rows": list(spec.rows), "scales": list(spec.scales),
            "contrasts": [{"name": c, "definition": conventions.get(c, "")}
                          for c in spec.contrasts],
            "priors": [{"term": t, "prior": _prior_text(p), "why": str(p["why"]).strip()}
                       for t, p in spec.priors.items()],
            "sampler": {**{k: args[k] for k in ("draws", "tune", "chains", "target_accept",
                                                "seed", *ESS_STOPPING) if k in args},
                        "dense_mass": bool(args.get("dense_mass"))},
            "sha256": spec.sha256, "path": spec.path.name,
            "fitted": spec.name in by_model,
        })
    fits = []
    for model, r in by_model.items():
        passed = bool(truthy(pd.Series([r.get("gates_passed")])).iloc[0])
        reason = r.get("gates_failed")
        fits.append({
            "model": model, "backend": str(r.get("backend", "") or ""),
            "r_hat_max": _number(r.get("r_hat_max"), ".3f"),
            "ess_bulk_min": _number(r.get("ess_bulk_min"), ".0f"),
            "ess_tail_min": _number(r.get("ess_tail_min"), ".0f"),
            "draws": _number(r.get("draws"), ".0f"),
            "divergences": _number(r.get("divergences"), ".0f"),
            "seconds": _number(r.get("seconds"), ".1f"), "passed": passed,
            "status": "passed" if passed else "FAILED" + (
                f" ({reason})" if isinstance(reason, str) and reason.strip() else ""),
        })
    failed = [f["model"] for f in fits if not f["passed"]]
    versions = {k: v for k, v in run.get("versions", {}).items() if v is not None}
    for k, v in _fit_versions(diag).items():
        versions.setdefault(k, v)
    # without stored fit records: the sampling stack installed in this (the run's) process
    for k, v in library_versions(MODEL_LIBRARIES).items():
        if v is not None:
            versions.setdefault(k, v)
    variants = [{"name": v.name, "label": v.label, "axis": v.axis, "why": v.why}
                for v in load_variants()]
    n_variant_fits = int(as_text(diag["variant"]).ne("").sum()) if "variant" in diag else 0
    mult = multiplicity(claims) if len(claims) and "conclusion" in claims else None
    has = {name: (tables / f"{name}.csv").is_file() for name in (
        "ppc", "prior_sensitivity", "loo_compare", "multiverse", "claims")}
    checklist = [{**item, **_status_in_run(item, has),
                  "heading": SECTIONS[item["section"]],
                  "number": list(SECTIONS).index(item["section"]) + 1} for item in BARG_ITEMS]
    return {
        "sections": SECTIONS, "number": {k: i + 1 for i, k in enumerate(SECTIONS)},
        "synthetic": synthetic, "quick": quick, "data": data,
        "data_file": Path(data["path"]).name if data.get("path") else "",
        "sources": sources, "privacy": run.get("privacy"), "models": models, "fits": fits,
        "failed": failed, "gates": GATES, "max_treedepth": MAX_TREEDEPTH,
        "stopping": ESS_STOPPING, "versions": versions, "dense_max_size": DENSE_MAX_SIZE,
        "any_dense": any(m["sampler"].get("dense_mass") for m in models),
        "backends": sorted({f["backend"] for f in fits if f["backend"]}),
        "ropes": ropes, "cis": cis,
        "rope_text": ", ".join(f"+-{r:g}" for r in ropes) if ropes else "(not recorded)",
        "ci_prob": rule["ci_prob"], "rule": rule,
        "estimands": estimands, "estimand_column": bool(used),
        "variants": variants, "variant_fits": n_variant_fits,
        "has": has,
        "multiplicity": mult, "multiplicity_note": multiplicity_note(claims) if mult else "",
        "checklist": checklist,
        "missing_age": methods_text(specs),
    }


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%",
        "&": r"\&", "#": r"\#", "$": r"\$", "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}", "|": r"\textbar{}", "<": r"\textless{}",
        ">": r"\textgreater{}"}
_TEX_RE = re.compile("|".join(re.escape(k) for k in _TEX))


def tex_escape(value) -> str:
    """Escape text for LaTeX: backslash, braces, ``_ % & # $ ~ ^ | < >``."""
    return _TEX_RE.sub(lambda m: _TEX[m.group()], str(value))


def _environment(latex: bool) -> jinja2.Environment:
    options = dict(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                   autoescape=False)
    if latex:
        # LaTeX is full of braces and percent signs: other delimiters for Jinja.
        options.update(block_start_string="\\BLOCK{", block_end_string="}",
                       variable_start_string="\\VAR{", variable_end_string="}",
                       comment_start_string="\\#{", comment_end_string="}")
    env = jinja2.Environment(**options)  # Markdown and LaTeX: no HTML escaping
    env.filters["md"] = _md_cell
    env.filters["tex"] = tex_escape
    env.filters["texttt"] = lambda v: r"\texttt{" + tex_escape(v) + "}"
    env.filters["pct"] = lambda v: f"{float(v):.0%}"
    return env


def methods_markdown(results: Path, specs: list[ModelSpec]) -> str:
    """Render the methods section as Markdown.

    Parameters
    ----------
    results : Path
        The run's ``results/`` folder (``run.json`` and ``tables/`` inside).
    specs : list of ModelSpec
        The model specs of the run.

    Returns
    -------
    str
    """
    return _environment(False).get_template("methods.md.j2").render(
        **methods_context(results, specs))


def methods_latex(results: Path, specs: list[ModelSpec]) -> str:
    """Render the methods section as a LaTeX fragment (``booktabs``, ``longtable``).

    Parameters
    ----------
    results : Path
        The run's ``results/`` folder (``run.json`` and ``tables/`` inside).
    specs : list of ModelSpec
        The model specs of the run.

    Returns
    -------
    str
    """
    return _environment(True).get_template("methods.tex.j2").render(
        **methods_context(results, specs))


def write_methods(results: Path, specs: list[ModelSpec]) -> dict[str, Path]:
    """Write ``methods.md`` and ``methods.tex`` into ``results`` (temporary name, then rename).

    Returns
    -------
    dict
        ``{"md": path, "tex": path}``.
    """
    results = Path(results)
    texts = {"md": methods_markdown(results, specs), "tex": methods_latex(results, specs)}
    out = {}
    for ext, text in texts.items():
        out[ext] = write_text(results / f"methods.{ext}", text)
    return out
