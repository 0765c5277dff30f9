"""The HTML report ``results/report.html``, rendered from a jinja2 template.

The report opens with a one-screen summary (headline contrasts as a table and a figure,
what replicates and what does not, the fragile claims, the sampler gates), then one
section per table of the run, the figures, the generated methods section and the
provenance.  Everything comes from the run's ``results/`` folder and the figure list
the pipeline passes in; the template is ``templates/report.html.j2``.

Reading rules the template relies on:

* no silent truncation: every table links its full CSV, says how many of its rows it
  shows and why, and shows long tables as a first page of :data:`PAGE_ROWS` rows with
  the rest in collapsed ``<details>`` pages (no JavaScript needed);
* groups, contrasts, scales and sectors are named in words (:mod:`triad.labels`),
  also inside free text such as audit messages;
* probabilities print with 3 decimals, ``> .999`` and ``< .001`` beyond
  (:func:`fmt_p`), estimates with 2 decimals and a sign (:func:`fmt_est`), intervals
  as ``[a, b]`` (:func:`fmt_ci`), Bayes factors by :func:`triad.bayes_factors.format_bf`;
* a statistic blanked by small-cell protection prints as ``suppressed`` with the rule.

Figures are embedded (the file stays self-contained) as 256-colour copies of the
PNGs, which are about a third of the size of the 300 dpi originals; each figure links
its full-resolution PNG, PDF, SVG and data CSV beside it.
"""

import base64
import io
import json
import math
import os
import re
from functools import cache
from pathlib import Path

import jinja2
import pandas as pd

__all__ = ["PAGE_ROWS", "HEADLINE_MAX", "TEXT", "fmt_ci", "fmt_est", "fmt_num", "fmt_p",
           "in_words", "render_report", "table_view", "write_report"]

PAGE_ROWS = 50
HEADLINE_MAX = 12
# A group key as the tables write it: role>target@sector, optionally #gender.
GROUP_KEY = re.compile(r"\b[a-z_]+>[a-z_]*@[a-z_]+(?:-[a-z_]+)?(?:#[a-z]+)?")
MINUS = "\u2212"  # a real minus sign: reads better than a hyphen next to digits

def _sbc_of_this_study(folder: Path) -> bool:
    """Whether an SBC run checked this study's specs (the committed run is the shipped one's)."""
    from triad.paths import models_dir

    decision = folder / "decision.csv"
    if not decision.is_file():
        return True
    models = pd.read_csv(decision)["model"].astype(str)
    return bool(len(models)) and all((models_dir() / f"{m}.toml").is_file() for m in models)


def _study_title(lang: str) -> str:
    """Return the study's title from its ``study.toml`` (``title_nl`` in Dutch if given)."""
    from triad.paths import study_settings

    settings = study_settings()
    name = settings.get("name", "the study")
    return settings.get(f"title_{lang}") or settings.get("title") or name


TEXT = {
    "en": {
        "title": "triad re-analysis of {study}",
        "summary": "Summary", "contrasts": "Contrasts", "claims": "Claim by claim",
        "replication": "Replication of the claims from the published tables",
        "cells": "Cell means", "audit": "Audit of the report", "reliability": "Reliability",
        "correlations": "Printed correlations recomputed from the respondent file",
        "diagnostics": "Sampler diagnostics",
        "sensitivity": "Sensitivity: multiverse, priors, LOO, SBC, design",
        "ppc": "Posterior predictive checks", "figures": "Figures", "methods": "Methods",
        "provenance": "Provenance",
        "nav": ["Contrasts", "Claims", "Replication", "Cell means", "Audit", "Reliability",
                "Diagnostics", "Sensitivity", "PPC", "Figures", "Methods", "Provenance"],
        "synthetic": "SYNTHETIC DATA: the respondent-level results in this report come from a "
                     "data set reconstructed from the published tables, not from the study's "
                     "respondents. They show what the models do with data that reproduce the "
                     "tables; they are not findings about the study.",
        "quick": "QUICK RUN: few draws per model (a smoke run); intervals are rough and the "
                 "results are not findings.",
        "gates_failed": "Sampler gates FAILED for {n} fit(s): {models}. Their contrasts are "
                        "not findings.",
        "headline": "Headline contrasts",
        "headline_cols": ["contrast", "estimand", "estimate", "95% HDI", "p_direction",
                          "conclusion", "model"],
        "rule_label": "Decision rule",
        "headline_note": "Each scale's primary model (Gaussian, no multiverse variant), the "
                         "first contrast its spec names, across all sectors, descriptive "
                         "estimand: {shown} of the {total} contrasts of the primary models; "
                         "all in the section Contrasts.",
        "replicates": "What replicates and what does not",
        "from_tables": "Significance claims re-tested from the published tables",
        "bayes_vs_paper": "Bayesian conclusion against the paper",
        "not_replicated": "Not replicated",
        "from_tables_short": "not significant from the tables",
        "depends": "depends on the test",
        "fragile": "Fragile claims",
        "fragile_note": "a conclusion that fewer than {share} of the other analytic universes "
                        "reach (the multiverse of likelihoods, pooling and priors)",
        "no_fragile": "None: every claim's conclusion is reached by at least {share} of the "
                      "other universes.",
        "gates": "Sampler gates",
        "gates_rule": "R-hat \u2264 1.01, bulk and tail ESS \u2265 400, no divergences",
        "fits_passed": "{passed} of {n} fits passed",
        "worst_rhat": "worst R-hat", "min_ess": "minimum bulk / tail ESS",
        "divergences": "divergences", "failed_fits": "failed",
        "all_rows": "All {n} rows.",
        "first_page": "Showing rows 1\u2013{page} of {n}; rows {next}\u2013{n} in the collapsed "
                      "pages below.",
        "subset": "{n} of the {total} rows of the CSV: {scope}.",
        "full_table": "Full table", "rows": "rows", "page": "Rows {a}\u2013{b} of {n}",
        "suppressed": "suppressed",
        "suppressed_note": "\u201csuppressed\u201d: a statistic of a group with fewer than "
                           "{min_cell} respondents, blanked by small-cell protection "
                           "(--min-cell).",
        "none": "none", "yes": "yes", "no": "no",
        "not_a_finding": "not a finding (sampler gates failed)",
        "and_more": "and {n} more in the section {section}",
        "figure_data": "data", "full_resolution": "full resolution",
        "shown_in": "shown in the section",
        "methods_note": "The generated methods section (results/methods.md; methods.tex beside "
                        "it), included as written.",
        "no_table": "Not in this run ({name} was not written).",
        "vs": "vs", "paper": "paper", "here": "here",
    },
    "nl": {
        "title": "triad-heranalyse van {study}",
        "summary": "Samenvatting", "contrasts": "Contrasten", "claims": "Claim voor claim",
        "replication": "Replicatie van de claims uit de gepubliceerde tabellen",
        "cells": "Celgemiddelden", "audit": "Controle van het rapport",
        "reliability": "Betrouwbaarheid", "diagnostics": "Samplerdiagnostiek",
        "correlations": "Gepubliceerde correlaties herberekend uit het respondentbestand",
        "sensitivity": "Gevoeligheid: multiversum, priors, LOO, SBC, design",
        "ppc": "Posterior-predictieve controles", "figures": "Figuren",
        "methods": "Methoden", "provenance": "Herkomst",
        "nav": ["Contrasten", "Claims", "Replicatie", "Celgemiddelden", "Controle",
                "Betrouwbaarheid", "Diagnostiek", "Gevoeligheid", "PPC", "Figuren",
                "Methoden", "Herkomst"],
        "synthetic": "SYNTHETISCHE DATA: de resultaten op respondentniveau in dit rapport komen "
                     "uit een dataset die uit de gepubliceerde tabellen is gereconstrueerd, "
                     "niet uit de respondenten van het onderzoek. Het zijn geen bevindingen "
                     "over het onderzoek.",
        "quick": "SNELLE RUN: weinig trekkingen per model; intervallen zijn grof en de "
                 "resultaten zijn geen bevindingen.",
        "gates_failed": "Samplercontroles MISLUKT voor {n} fit(s): {models}. Hun contrasten "
                        "zijn geen bevindingen.",
        "headline": "Belangrijkste contrasten",
        "headline_cols": ["contrast", "estimand", "schatting", "95%-HDI", "p_direction",
                          "conclusie", "model"],
        "rule_label": "Beslisregel",
        "headline_note": "Per schaal het primaire model (Gaussisch, geen multiversumvariant), "
                         "het eerste contrast dat zijn specificatie noemt, over alle sectoren, "
                         "beschrijvende estimand: {shown} van de {total} contrasten van de "
                         "primaire modellen; alle in de sectie Contrasten.",
        "replicates": "Wat repliceert en wat niet",
        "from_tables": "Significantieclaims opnieuw getoetst uit de gepubliceerde tabellen",
        "bayes_vs_paper": "Bayesiaanse conclusie tegenover het rapport",
        "not_replicated": "Niet gerepliceerd",
        "from_tables_short": "niet significant uit de tabellen",
        "depends": "hangt af van de toets",
        "fragile": "Fragiele claims",
        "fragile_note": "een conclusie die minder dan {share} van de andere analytische "
                        "universums bereikt (het multiversum van likelihoods, pooling en "
                        "priors)",
        "no_fragile": "Geen: elke conclusie wordt door minstens {share} van de andere "
                      "universums bereikt.",
        "gates": "Samplercontroles",
        "gates_rule": "R-hat \u2264 1,01, bulk- en staart-ESS \u2265 400, geen divergenties",
        "fits_passed": "{passed} van {n} fits geslaagd",
        "worst_rhat": "hoogste R-hat", "min_ess": "laagste bulk- / staart-ESS",
        "divergences": "divergenties", "failed_fits": "mislukt",
        "all_rows": "Alle {n} rijen.",
        "first_page": "Rijen 1\u2013{page} van {n}; rijen {next}\u2013{n} in de ingeklapte "
                      "pagina's hieronder.",
        "subset": "{n} van de {total} rijen van de CSV: {scope}.",
        "full_table": "Volledige tabel", "rows": "rijen", "page": "Rijen {a}\u2013{b} van {n}",
        "suppressed": "onderdrukt",
        "suppressed_note": "\u201conderdrukt\u201d: een statistiek van een groep met minder dan "
                           "{min_cell} respondenten, weggelaten door de bescherming van kleine "
                           "cellen (--min-cell).",
        "none": "geen", "yes": "ja", "no": "nee",
        "not_a_finding": "geen bevinding (samplercontroles mislukt)",
        "and_more": "en {n} meer in de sectie {section}",
        "figure_data": "data", "full_resolution": "volledige resolutie",
        "shown_in": "getoond in de sectie",
        "methods_note": "De gegenereerde methodesectie (results/methods.md; methods.tex "
                        "ernaast), ongewijzigd opgenomen.",
        "no_table": "Niet in deze run ({name} is niet geschreven).",
        "vs": "vs", "paper": "rapport", "here": "hier",
    },
}

# Column headers in words; a column not listed shows its name with spaces.
HEADERS = {
    "en": {"n_ab": "n (first / second)", "ci": "95% HDI", "p_direction": "p_direction",
           "p_rope": "P(ROPE)", "bf10": "BF10", "n_a": "n (first)", "n_b": "n (second)",
           "group_a": "first group",
           "group_b": "second group", "r_hat_max": "max R-hat", "ess_bulk_min": "min bulk ESS",
           "ess_tail_min": "min tail ESS", "bayes_ci": "Bayesian 95% HDI",
           "summary_model_ci": "summary model 95% HDI", "alpha_ci": "alpha 95% CI"},
    "nl": {"n_ab": "n (eerste / tweede)", "ci": "95%-HDI", "p_rope": "P(ROPE)", "bf10": "BF10",
           "n_a": "n (eerste)", "n_b": "n (tweede)", "group_a": "eerste groep",
           "group_b": "tweede groep",
           "contrast": "contrast", "estimate": "schatting", "conclusion": "conclusie",
           "scale": "schaal", "sector": "sector", "model": "model", "group": "groep",
           "r_hat_max": "hoogste R-hat", "ess_bulk_min": "laagste bulk-ESS",
           "ess_tail_min": "laagste staart-ESS", "bayes_ci": "Bayesiaans 95%-HDI",
           "summary_model_ci": "95%-HDI samenvattingsmodel", "alpha_ci": "alpha 95%-BI"},
}

# Figure captions by name prefix; figures are taken from the list the pipeline passes
# (their names and number change), so an unknown name gets its name in words.
CAPTIONS = {
    "forest_contrasts": "Named contrasts: the Bayesian 95% HDI with the ROPE band, beside the "
                        "paper's summary-based (Welch t) estimate.",
    "forest_claims": "Forest plot: the Bayesian HDI and the Welch t CI from the published "
                     "tables for each claim's comparison.",
    "cell_means": "Cell means per sector and group: posterior mean and HDI beside the "
                  "published mean.",
    "ppc": "Posterior predictive check",
    "rope_sensitivity": "P(ROPE) against the ROPE width.",
    "scale_difference": "Scale A minus scale B within the same respondents (paired), per "
                        "sector.",
    "reliability": "Cronbach's alpha with its CI against the range the report gives.",
    "multiverse": "Claims x universes: each claim's conclusion in every analytic universe.",
}

# Figure name prefix -> the section that shows it (others go under Figures).
PLACES = {"ppc": "ppc", "cell_means": "cells", "forest_claims": "claims",
          "forest_contrasts": "contrasts", "reliability": "reliability",
          "rope_sensitivity": "contrasts", "multiverse": "sensitivity",
          "scale_difference": "contrasts"}

CSS = """
body{font-family:system-ui,sans-serif;max-width:1180px;margin:.6em auto;padding:0 1em;
color:#222;line-height:1.3}
h1{font-size:1.3em;margin:.1em 0} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:2em;font-size:1.25em} h3{font-size:1.02em;margin:1em 0 .3em}
nav{font-size:.8em;margin:.1em 0 .4em} nav a{margin-right:.8em}
table{border-collapse:collapse;font-size:.78em;margin:.3em 0}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right;white-space:nowrap;
font-variant-numeric:tabular-nums} td.sup{color:#888;font-style:italic}
.scroll{overflow-x:auto} td.long{min-width:15em}
.banner{background:#fde7d9;border:2px solid #D55E00;padding:.4em .7em;font-weight:bold;
margin:.3em 0;font-size:.88em} .fail{color:#b00;font-weight:bold} .ok{color:#1a7f37}
img{max-width:100%;margin:.3em 0} .note,.count{font-size:.82em;color:#555;margin:.3em 0}
details{margin:.2em 0} summary{cursor:pointer;font-size:.82em;color:#0072B2}
#summary h2{margin:.5em 0 .3em} #summary h3{margin:.3em 0 .2em}
#summary table.headline{font-size:.82em;width:100%} #summary td{padding:1px 6px}
.boxes{display:grid;grid-template-columns:1.6fr 1.25fr .85fr;gap:1.2em;
font-size:.84em} .boxes p{margin:.2em 0} .boxes ul{margin:.1em 0;padding-left:1.1em}
.forest{max-width:640px}
pre{white-space:pre-wrap;font-size:.8em}
.methods table{font-size:.75em;display:block;overflow-x:auto}
.methods h3{font-size:1em} .methods h4{font-size:.95em}
figure{margin:1em 0} figcaption{font-size:.82em;color:#444}
"""

# After load, the title records how many figures decoded, so a headless browser can check it.
SCRIPT = """window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.title = document.title + ' [figures ' + ok + '/' + imgs.length + ']';
});"""


# ------------------------------------------------------------------ number formatting
def _float(value) -> float | None:
    """Return ``value`` as a finite-or-infinite float, None when blank or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def fmt_p(value) -> str:
    """Format a probability for reading: 3 decimals, ``> .999`` and ``< .001`` beyond.

    ``0.9996`` prints ``> .999`` (never ``1``), ``0.97812`` prints ``.978``, ``0.0004``
    prints ``< .001``; blank or non-numeric values print as they are.
    """
    x = _float(value)
    if x is None:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) \
            else str(value)
    if x > 0.999:
        return "> .999"
    if x < 0.001:
        return "< .001"
    return f"{x:.3f}".removeprefix("0")


def fmt_est(value, digits: int = 2) -> str:
    """Format an estimate with a sign: ``+0.21``, ``\u22120.05``, ``0.00``."""
    x = _float(value)
    if x is None:
        return ""
    text = f"{abs(x):.{digits}f}"
    if float(text) == 0:
        return text
    return ("+" if x > 0 else MINUS) + text


def _signed(x: float, digits: int = 2) -> str:
    text = f"{abs(x):.{digits}f}"
    return (MINUS + text) if x < 0 and float(text) != 0 else text


def fmt_ci(low, high, digits: int = 2) -> str:
    """Format an interval as ``[a, b]`` (blank when either end is missing)."""
    a, b = _float(low), _float(high)
    if a is None or b is None:
        return ""
    return f"[{_signed(a, digits)}, {_signed(b, digits)}]"


def fmt_num(value) -> str:
    """Format a number for reading: whole numbers as integers, else 2-3 significant places."""
    x = _float(value)
    if x is None:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) \
            else str(value)
    if math.isinf(x):
        return "\u221e" if x > 0 else MINUS + "\u221e"
    if x == int(x) and abs(x) < 1e15:
        return _signed(x, 0)
    if abs(x) >= 100:
        return _signed(x, 0)
    if abs(x) >= 10:
        return _signed(x, 1)
    if abs(x) >= 0.01:
        return _signed(x, 2)
    return f"{x:.2g}".replace("-", MINUS)


def _fmt_bf(value) -> str:
    from triad.bayes_factors import format_bf

    x = _float(value)
    # Bayes factors print as '> 1000' / '< 1/1000' beyond those bounds, never 'inf'
    return "" if x is None else format_bf(x)


def _fmt_pct(value) -> str:
    x = _float(value)
    return "" if x is None else f"{x:.0%}"


# ------------------------------------------------------------------ words for codes
@cache
def _group(key: str, lang: str) -> str:
    from triad.labels import group_label

    return group_label(key, lang)


@cache
def _contrast(name: str, sector: str | None, lang: str) -> str:
    from triad.labels import contrast_label

    return contrast_label(name, sector, lang)


@cache
def _scale(code: str, lang: str) -> str:
    from triad.labels import scale_label

    if "-" in code:  # a paired contrast's two scales (``belangrijk-lukt``)
        return f" {MINUS} ".join(scale_label(part, lang) for part in code.split("-"))
    return scale_label(code, lang)


@cache
def _sector(code: str, lang: str) -> str:
    from triad.labels import sector_label

    return sector_label(code, lang)


def in_words(text, lang: str = "en") -> str:
    """Replace every group key inside ``text`` by its words (``youth>professional@all``)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return GROUP_KEY.sub(lambda m: _group(m.group(), lang), str(text))


def _claim_words(row: pd.Series, lang: str) -> str:
    """Name a claim's comparison in words (a rater and target both groups share, once).

    ``C15 Bond, youths about professionals: ambulatory/day care vs residential``.
    """
    from triad.published import parse_group_key

    t = TEXT[lang]
    keys = [row.get(c) for c in ("group_a", "group_b")
            if isinstance(row.get(c), str) and row.get(c)]
    scale = _scale(str(row.get("scale", "")), lang)
    try:
        parts = [parse_group_key(k) for k in keys]
    except ValueError:
        parts = []
    if len(parts) == 2 and all(parts[0][k] == parts[1][k] for k in ("role", "target",
                                                                        "gender")):
        sector = _sector(parts[0]["sector"], lang)
        who = _group(keys[0], lang).replace(f", {sector}", "", 1)
        where = f" {t['vs']} ".join(_sector(p["sector"], lang) for p in parts)
        return f"{row['claim_id']} {scale}, {who}: {where}"
    return f"{row['claim_id']} {scale}: " + f" {t['vs']} ".join(
        in_words(k, lang) for k in keys)


# ------------------------------------------------------------------ tables
def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _bool(value, lang: str) -> str:
    if isinstance(value, str):
        value = {"true": True, "false": False}.get(value.strip().lower(), value)
    if isinstance(value, bool):
        return TEXT[lang]["yes"] if value else TEXT[lang]["no"]
    return _text(value)


# column -> format; a column not listed is text (group keys replaced by words) or a number
FORMATS = {
    "p_direction": "p", "p_rope": "p", "p": "p", "anova_p": "p", "pair_p_min": "p",
    "pair_p_max": "p", "summary_p": "p", "data_test_p": "p", "ppp": "p", "p_value": "p",
    "estimate": "est", "bayes_estimate": "est", "summary_model_estimate": "est",
    "elpd_diff": "num", "bf10": "bf", "bf10_half": "bf", "bf10_double": "bf",
    "robustness": "pct", "paper_support_share": "pct", "assurance": "p",
    "assurance_at_max": "p", "weight": "p", "r_hat_max": "rhat", "rope": "num3",
    "scale": "scale",
    "sector": "sector", "contrast": "contrast", "group": "group", "group_a": "group",
    "group_b": "group", "paper_verdict": "code", "direction": "code",
}
# (low, high) column pairs printed as one interval column
INTERVALS = {"ci": ("ci_low", "ci_high"), "bayes_ci": ("bayes_ci_low", "bayes_ci_high"),
             "summary_model_ci": ("summary_model_ci_low", "summary_model_ci_high"),
             "alpha_ci": ("alpha_ci_low", "alpha_ci_high"),
             "effect_ci": ("effect_ci_low", "effect_ci_high")}


# (first, second) group sizes printed as one column
PAIRS = {"n_ab": ("n_a", "n_b")}


def _column(frame: pd.DataFrame, col: str, lang: str) -> tuple[list[str], bool]:
    """Format one column for reading; return the texts and whether it is numeric."""
    if col in PAIRS:
        a, b = PAIRS[col]
        return [f"{fmt_num(x)} / {fmt_num(y)}" if _float(x) is not None else ""
                for x, y in zip(frame[a], frame[b], strict=True)], True
    if col in INTERVALS:
        low, high = INTERVALS[col]
        return [fmt_ci(a, b) for a, b in zip(frame[low], frame[high], strict=True)], True
    values = frame[col].tolist()
    kind = FORMATS.get(col)
    # posterior predictive p-values (ppc_cells.csv: ppp, ppp_mean, ...) and test p-values
    if kind is None and (col.startswith("ppp") or col.endswith("_p") or col == "p_value"):
        kind = "p"
    if kind == "p":
        return [fmt_p(v) for v in values], True
    if kind == "est":
        return [fmt_est(v) for v in values], True
    if kind == "bf":
        return [_fmt_bf(v) for v in values], True
    if kind == "pct":
        return [_fmt_pct(v) for v in values], True
    if kind in ("rhat", "num3"):
        return [f"{x:.3f}" if (x := _float(v)) is not None else "" for v in values], True
    if kind == "code":  # a code such as implied_significant, in words
        return [_text(v).replace("_", " ") for v in values], False
    if kind == "scale":
        return [_scale(v, lang) if isinstance(v, str) and v else "" for v in values], False
    if kind == "sector":
        return [_sector(v, lang) if isinstance(v, str) and v else "" for v in values], False
    if kind == "contrast":
        sectors = frame["sector"].tolist() if "sector" in frame else [None] * len(frame)
        return [_contrast(v, s if isinstance(s, str) and s else None, lang)
                if isinstance(v, str) else "" for v, s in zip(values, sectors, strict=True)], \
            False
    series = frame[col]
    if pd.api.types.is_bool_dtype(series):
        return [_bool(v, lang) for v in values], False
    if pd.api.types.is_numeric_dtype(series):
        return [fmt_num(v) for v in values], True
    return [in_words(v, lang) if not isinstance(v, bool) else _bool(v, lang)
            for v in values], False


def _header(col: str, lang: str) -> str:
    return HEADERS[lang].get(col) or HEADERS["en"].get(col) or col.replace("_", " ")


def table_view(frame: pd.DataFrame, columns: list[str] | None = None, *, lang: str = "en",
               csv: str | None = None, total: int | None = None, scope: str = "",
               min_cell: int | None = None, page_rows: int = PAGE_ROWS) -> dict:
    """Format a table for the template: every row, in pages, with its count and CSV link.

    Parameters
    ----------
    frame : DataFrame
        The rows to show (all of them are rendered; none is dropped).
    columns : list of str, optional
        Columns in order; an entry of :data:`INTERVALS` joins a low/high pair.  Columns
        missing from ``frame`` are skipped.  Default: every column.
    lang : {"en", "nl"}
    csv : str, optional
        Relative link to the full table.
    total : int, optional
        Rows of the full table when ``frame`` is a stated subset of it.
    scope : str
        Which rows the subset holds (said with the count).
    min_cell : int, optional
        The small-cell threshold, for the note on suppressed statistics.
    page_rows : int
        Rows per page: the first page is open, the others collapsed.

    Returns
    -------
    dict
        ``headers``, ``numeric``, ``pages`` (each ``rows``, ``first``, ``last``,
        ``label``), ``count`` (the sentence saying what is shown), ``csv``,
        ``csv_name``, ``total``, ``suppressed`` (note or "").
    """
    t = TEXT[lang]
    frame = frame.reset_index(drop=True)
    if columns is None:
        columns = [c for c in frame.columns if c != "suppressed"]
    joined = INTERVALS | PAIRS
    columns = [c for c in columns if c in frame.columns
               or (c in joined and set(joined[c]) <= set(frame.columns))]
    texts, numeric = [], []
    for col in columns:
        values, is_num = _column(frame, col, lang)
        texts.append(values)
        numeric.append(is_num)
    suppressed = (frame["suppressed"].astype(str).str.lower().eq("true").tolist()
                  if "suppressed" in frame else [False] * len(frame))
    # a text column of long entries gets a minimum width (else it wraps a word a line)
    classes = ["num" if is_num else ("long" if max(map(len, values), default=0) > 50 else "")
               for values, is_num in zip(texts, numeric, strict=True)]
    rows = []
    for i in range(len(frame)):
        cells = []
        for j in range(len(columns)):
            text = texts[j][i]
            if suppressed[i] and text == "":
                cells.append((t["suppressed"], "sup"))
            else:
                cells.append((text, classes[j]))
        rows.append(cells)
    n = len(rows)
    pages = [{"rows": rows[a:a + page_rows], "first": a + 1, "last": min(a + page_rows, n),
              "label": t["page"].format(a=a + 1, b=min(a + page_rows, n), n=n)}
             for a in range(0, max(n, 1), page_rows)]
    total = n if total is None else int(total)
    if n < total:
        count = t["subset"].format(n=n, total=total, scope=scope)
    else:
        count = f"{scope[:1].upper()}{scope[1:]}. " if scope else ""
        if n <= page_rows:
            count += t["all_rows"].format(n=n)
    if n > page_rows:
        count += (" " if count else "") + t["first_page"].format(page=page_rows, n=n,
                                                                 next=page_rows + 1)
    return {"headers": [_header(c, lang) for c in columns], "numeric": numeric,
            "pages": pages, "count": count, "csv": csv,
            "csv_name": csv.rsplit("/", 1)[-1] if csv else "", "total": total, "n": n,
            "suppressed": t["suppressed_note"].format(min_cell=min_cell or "N")
            if any(suppressed) else ""}


# ------------------------------------------------------------------ reading the run
def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()


def _rel(path: Path, start: Path) -> str:
    """Return a link from the report's folder to ``path`` (relative, forward slashes)."""
    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


def _str(series: pd.Series, blank: str = "") -> pd.Series:
    """Return a column as strings, missing values as ``blank``.

    An all-empty column is read as float, where ``fillna("")`` is refused.
    """
    return series.astype(object).where(series.notna(), blank).astype(str)


def _truthy(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower().isin(("true", "1", "yes"))


def _variants(diag: pd.DataFrame) -> set[str]:
    """Models that are multiverse variants (a non-empty ``variant``, or ``~`` in the name)."""
    if diag.empty:
        return set()
    variant = _str(diag["variant"]) if "variant" in diag else \
        pd.Series("", index=diag.index)
    return set(diag.loc[variant.ne("") | diag["model"].str.contains("~"), "model"])


def _primary(diag: pd.DataFrame, contrasts: pd.DataFrame) -> list[str]:
    """Each scale's primary model in scale order (:func:`triad.claims.primary_models`).

    Without a Gaussian respondent model (a run of the summary model alone) every model
    that is not a multiverse variant counts.
    """
    from triad.claims import primary_models

    if contrasts.empty or "model" not in contrasts:
        return []
    if "scale" not in contrasts:
        contrasts = contrasts.assign(scale=contrasts["model"])
    variants = _variants(diag)
    found = {}
    if not diag.empty and {"family", "data_source"} <= set(diag.columns):
        d = diag.copy()
        d["variant"] = _str(d["variant"]) if "variant" in d else ""
        rows = contrasts[contrasts["model"].isin(d["model"])][["model", "scale"]]
        found = primary_models(d, rows)
    order = list(dict.fromkeys(contrasts["scale"]))
    if found:
        return list(dict.fromkeys(found[s] for s in order if s in found))
    if "model" not in contrasts:
        return []
    return [m for m in dict.fromkeys(contrasts["model"]) if m not in variants]


def _gates_failed(diag: pd.DataFrame) -> list[str]:
    if diag.empty or "gates_passed" not in diag:
        return []
    return diag.loc[~_truthy(diag["gates_passed"]), "model"].tolist()


# ------------------------------------------------------------------ summary
def _interval_svg(rows: list[dict]) -> dict:
    """Add to each headline row a small inline SVG of its HDI on a common axis through 0."""
    ends = [v for r in rows for v in (r["low"], r["high"]) if v is not None] + [0.0]
    lo, hi = min(ends), max(ends)
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    width = 150

    def x(v: float) -> float:
        return round((v - lo) / (hi - lo) * width, 1)

    for r in rows:
        if r["low"] is None or r["high"] is None:
            r["svg"] = None
            continue
        decided = r["conclusion"] in ("higher", "lower")
        r["svg"] = {"width": width, "zero": x(0.0), "a": x(r["low"]), "b": x(r["high"]),
                    "m": x(r["est"]) if r["est"] is not None else None,
                    "colour": "#0072B2" if decided else "#999999"}
    return {"low": _signed(lo), "high": _signed(hi)}


def _headline(contrasts: pd.DataFrame, diag: pd.DataFrame, lang: str) -> dict:
    """Pick each primary model's first named contrast at sector ``all`` (descriptive)."""
    t = TEXT[lang]
    primary = _primary(diag, contrasts)
    if not primary:
        return {"rows": [], "note": "", "axis": None}
    pool = contrasts[contrasts["model"].isin(primary)]
    if "sector" in pool:
        pool = pool[_str(pool["sector"], "all").eq("all")]
    if "estimand" in pool:
        pool = pool[_str(pool["estimand"], "descriptive").eq("descriptive")]
    pool = pool[~pool["contrast"].str.endswith("_latent")]
    failed = set(_gates_failed(diag))
    picked = [pool[pool["model"] == m].iloc[0] for m in primary if (pool["model"] == m).any()]
    rows = []
    for row in picked[:HEADLINE_MAX]:
        suppressed = str(row.get("suppressed", "")).lower() == "true"
        conclusion = _text(row.get("conclusion"))
        rows.append({
            "contrast": _contrast(row["contrast"], None, lang),
            "estimand": _text(row.get("estimand", "descriptive")),
            "estimate": t["suppressed"] if suppressed else fmt_est(row["estimate"]),
            "ci": t["suppressed"] if suppressed else fmt_ci(row["ci_low"], row["ci_high"]),
            "p_direction": t["suppressed"] if suppressed else fmt_p(row.get("p_direction")),
            "conclusion": t["not_a_finding"] if row["model"] in failed else (
                t["suppressed"] if suppressed else conclusion),
            "model": row["model"], "est": _float(row["estimate"]),
            "low": None if suppressed else _float(row["ci_low"]),
            "high": None if suppressed else _float(row["ci_high"])})
    axis = _interval_svg(rows)
    total = len(contrasts[contrasts["model"].isin(primary)])
    note = t["headline_note"].format(shown=len(rows), total=total)
    if len(picked) > HEADLINE_MAX:
        note += " " + t["and_more"].format(n=len(picked) - HEADLINE_MAX,
                                           section=t["contrasts"])
    return {"rows": rows, "note": note, "axis": axis}


def _agreement_kind(text: str) -> str:
    """Sort a claims.csv ``agreement`` sentence into agrees / not / no evidence / other."""
    if text.startswith("agrees"):
        return "agrees"
    if text.startswith(("not confirmed", "opposite direction", "no difference shown",
                        "differs")):
        return "does not"
    if text.startswith("no evidence"):
        return "no evidence either way"
    return "not compared"


def _replication_summary(rep: pd.DataFrame, claims: pd.DataFrame, lang: str,
                         published: pd.DataFrame) -> dict:
    """Count what replicates (from the tables, and Bayesian); list the claims that do not."""
    from triad.replication import replication_summary

    t = TEXT[lang]
    out = {"tables": [], "bayes": [], "not": [], "depends": [], "summary": pd.DataFrame()}
    text_col = "quote_nl" if lang == "nl" else "summary_en"
    words = dict(zip(published["claim_id"], published[text_col], strict=True)) \
        if len(published) else {}
    if len(rep):
        summary = replication_summary(rep)
        out["summary"] = summary
        counts = summary["replicates"].value_counts()
        out["tables"] = [(k, int(counts.get(k, 0))) for k in
                         ("yes", "no", "depends on test", "n/a") if counts.get(k, 0)]
        for _, r in summary[summary["replicates"].eq("no")].iterrows():
            out["not"].append({"claim_id": r["claim_id"], "how": t["from_tables_short"],
                               "what": in_words(words.get(r["claim_id"], ""), lang)})
        # mixed verdicts (some pairwise tests agree, some do not) are named, not spelled out
        out["depends"] = summary.loc[summary["replicates"].eq("depends on test"),
                                     "claim_id"].tolist()
    if len(claims) and "agreement" in claims:
        kinds = _str(claims["agreement"]).map(_agreement_kind)
        counts = kinds.value_counts()
        out["bayes"] = [(k, int(counts.get(k, 0))) for k in
                        ("agrees", "does not", "no evidence either way", "not compared")
                        if counts.get(k, 0)]
        for _, r in claims[kinds.eq("does not")].iterrows():
            out["not"].append({
                "claim_id": r["claim_id"], "how": "",
                "what": _claim_words(r, lang).removeprefix(str(r["claim_id"]) + " ")
                + f" ({t['paper']}: {_text(r.get('paper_verdict')).replace('_', ' ')}; "
                f"{t['here']}: {_text(r.get('conclusion'))})"})
    return out


def _fragile(claims: pd.DataFrame, share: float, lang: str) -> list[dict]:
    if claims.empty or "robust" not in claims:
        return []
    rows = claims[_str(claims["robust"]).eq("fragile")].sort_values(
        ["robustness", "claim_id"])
    return [{"what": _claim_words(r, lang), "conclusion": _text(r.get("conclusion")),
             "robustness": _fmt_pct(r.get("robustness")),
             "agree": f"{int(r['universes_agree'])}/{int(r['universes'])}"
             if _float(r.get("universes")) is not None
             and _float(r.get("universes_agree")) is not None else ""}
            for _, r in rows.iterrows()]


def _gates(diag: pd.DataFrame) -> dict | None:
    if diag.empty:
        return None
    failed = _gates_failed(diag)

    def worst(col: str, largest: bool):
        if col not in diag or diag[col].dropna().empty:
            return None, ""
        i = diag[col].idxmax() if largest else diag[col].idxmin()
        return diag.loc[i, col], diag.loc[i, "model"]

    rhat, rhat_model = worst("r_hat_max", True)
    bulk, bulk_model = worst("ess_bulk_min", False)
    tail, _ = worst("ess_tail_min", False)
    return {"n": len(diag), "passed": len(diag) - len(failed), "failed": failed,
            "rhat": f"{rhat:.3f}" if rhat is not None else "", "rhat_model": rhat_model,
            "bulk": fmt_num(round(bulk)) if bulk is not None else "", "bulk_model": bulk_model,
            "tail": fmt_num(round(tail)) if tail is not None else "",
            "divergences": int(diag["divergences"].fillna(0).sum())
            if "divergences" in diag else None}


# ------------------------------------------------------------------ figures
def _embed(path: Path) -> str:
    """Return a data URI of a 256-colour copy of a PNG (about a third of the 300 dpi file)."""
    data = path.read_bytes()
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            im.load()
            flat = Image.new("RGB", im.size, (255, 255, 255))  # transparency onto white
            flat.paste(im, mask=im.getchannel("A") if im.mode in ("RGBA", "LA") else None)
            buf = io.BytesIO()
            # figures use a handful of palette colours and anti-aliasing: 256 colours
            # keep them indistinguishable at screen size
            flat.quantize(256, method=Image.Quantize.FASTOCTREE).save(buf, "PNG")
        if buf.tell() < len(data):
            data = buf.getvalue()
    except (ImportError, OSError, ValueError):
        pass  # an unreadable or odd PNG is embedded as it is
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _caption(stem: str, lang: str) -> str:
    for prefix, text in CAPTIONS.items():
        if stem.startswith(prefix):
            if prefix == "ppc":
                return f"{text}: {stem.removeprefix('ppc_')}."
            return text
    return stem.replace("_", " ").capitalize() + "."


def _figure(path: Path, base: Path, lang: str) -> dict:
    """One embedded figure with links to its full-resolution files and its data CSV."""
    links = []
    for ext, label in ((".png", "PNG"), (".pdf", "PDF"), (".svg", "SVG"), (".csv", "CSV")):
        other = path.with_suffix(ext)
        if other.is_file():
            links.append({"href": _rel(other, base), "label": label})
    return {"id": "fig-" + re.sub(r"[^A-Za-z0-9_-]", "-", path.stem), "name": path.stem,
            "src": _embed(path), "caption": _caption(path.stem, lang), "links": links}


# ------------------------------------------------------------------ methods
def _methods_html(path: Path) -> str | None:
    """Render the generated ``methods.md`` as HTML, headings one level below the report's."""
    if not path.is_file():
        return None
    from markdown_it import MarkdownIt

    # html off: spec descriptions and prior justifications are text, never markup
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(path.read_text(encoding="utf-8"))
    # the file's own '# Methods' is the report's section heading already
    if tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        tokens = tokens[3:]
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(int(tok.tag[1]) + 1, 6)}"
    return md.renderer.render(tokens, md.options, {})


# ------------------------------------------------------------------ sections
def _robust_share(run: dict) -> float:
    from triad.multiverse import FRAGILE_BELOW

    return float(run.get("robust_share", FRAGILE_BELOW))


def _fits(diag: pd.DataFrame) -> pd.DataFrame:
    """Seeds, sampler settings and hashes of every fit (its ``fit.json``)."""
    rows = []
    for _, d in diag.iterrows():
        folder = d.get("fit_folder")
        record = Path(str(folder)) / "fit.json" if isinstance(folder, str) else None
        if record is None or not record.is_file():
            continue
        fit = json.loads(record.read_text())
        sampler = fit.get("sampler", {})
        rows.append({"model": fit.get("model"), "seed": fit.get("seed"),
                     "backend": fit.get("backend"), "chains": sampler.get("chains"),
                     "tune": sampler.get("tune"), "draws": sampler.get("draws"),
                     "target_accept": sampler.get("target_accept"),
                     "spec_sha256": str(fit.get("spec_sha256", ""))[:12],
                     "data_sha256": str(fit.get("data_sha256", ""))[:12]})
    return pd.DataFrame(rows)


def report_context(results: Path, figures: list[Path], out: Path, lang: str = "en") -> dict:
    """Everything the template shows, read from a run's ``results/`` folder.

    Parameters
    ----------
    results : Path
        The run's ``results/`` folder (``tables/``, ``run.json``, ``methods.md`` inside).
    figures : list of Path
        The run's PNG figures (the list :func:`triad.figures.all_figures` returns).
    out : Path
        Where the HTML goes: links to tables and figures are relative to its folder.
    lang : {"en", "nl"}

    Returns
    -------
    dict
    """
    from triad.decisions import CI_PROB, RULE_TEXT

    if lang not in TEXT:
        raise ValueError(f"lang must be one of {', '.join(TEXT)}, not {lang!r}")
    t = {**TEXT[lang], "title": TEXT[lang]["title"].format(study=_study_title(lang))}
    results, out = Path(results), Path(out)
    base = out.parent
    tables = results / "tables"
    run = json.loads((results / "run.json").read_text()) \
        if (results / "run.json").is_file() else {}
    min_cell = (run.get("privacy") or {}).get("min_cell")

    def read(name: str) -> pd.DataFrame:
        return _read(tables / name)

    def link(name: str) -> str | None:
        return _rel(tables / name, base) if (tables / name).is_file() else None

    def view(name: str, frame: pd.DataFrame, columns=None, scope: str = "",
             total: int | None = None) -> dict:
        return table_view(frame, columns, lang=lang, csv=link(name), scope=scope,
                          total=total, min_cell=min_cell)

    diag, claims, contrasts = read("diagnostics.csv"), read("claims.csv"), read("contrasts.csv")
    rep = read("replication.csv")
    variants = _variants(diag)
    share = _robust_share(run)
    source = (run.get("data") or {}).get("source", "")
    quick = bool(run.get("steps", {}).get("models", {}).get("quick")) or (
        "quick" in diag and _truthy(diag["quick"]).any())
    failed = _gates_failed(diag)
    ctx = {"lang": lang, "t": t, "css": CSS, "script": SCRIPT, "run": run,
           "synthetic": source == "synthetic", "quick": quick, "failed": failed,
           "gates_failed_text": t["gates_failed"].format(n=len(failed),
                                                         models=", ".join(failed)),
           "rule": RULE_TEXT.format(ci=CI_PROB), "share": f"{share:.0%}"}

    # --- the summary
    from triad.published import load_claims

    ctx["headline"] = _headline(contrasts, diag, lang) if len(contrasts) else \
        {"rows": [], "note": "", "axis": None}
    ctx["replicates"] = _replication_summary(rep, claims, lang, load_claims())
    ctx["fragile"] = _fragile(claims, share, lang)
    ctx["gates"] = _gates(diag)
    fig_paths = [Path(p) for p in figures if Path(p).is_file()]
    # the headline figure: the first page of the named-contrasts forest plot
    forest = next((p for p in fig_paths if p.stem.startswith("forest_contrasts")),
                  next((p for p in fig_paths if p.stem.startswith("forest")), None))
    ctx["headline_figure"] = _figure(forest, base, lang) if forest else None

    # --- contrasts
    ctx["contrasts"] = None
    if len(contrasts):
        shown = contrasts[~contrasts["model"].isin(variants)]
        ctx["contrasts"] = view(
            "contrasts.csv", shown,
            ["contrast", "estimand", "n_ab", "estimate", "ci", "p_direction", "p_rope",
             "conclusion", "mc_fragile", "bf10", "model", "data_source", "gates_passed"],
            scope="the models without multiverse variants (the variants' rows are read "
                  "in the section " + t["sensitivity"] + ")" if len(shown) < len(contrasts)
            else "", total=len(contrasts))
        ctx["ropes"] = _ropes(contrasts, lang)

    # --- claims and replication
    ctx["multiplicity"] = ""
    ctx["claims"] = view("claims.csv", claims, [
        "claim_id", "scale", "group_a", "group_b", "paper_values", "paper_verdict",
        "summary_p", "data_test_p", "bayes_estimate", "bayes_ci", "p_direction",
        "conclusion", "robustness", "agreement", "data_source"]) if len(claims) else None
    if len(claims) and "conclusion" in claims:
        from triad.methods import multiplicity_note

        ctx["multiplicity"] = multiplicity_note(claims)
    summary = ctx["replicates"]["summary"]
    ctx["replication"] = table_view(
        summary, ["claim_id", "scale", "summary_en", "paper_verdict", "anova_p",
                  "pair_p_min", "pair_p_max", "replicates"], lang=lang,
        csv=link("replication.csv"), total=len(summary),
        scope="one row per claim (replication.csv has one row per test)") \
        if len(summary) else None

    # --- cell means
    cells = read("cells.csv")
    ctx["respondents"] = None
    if len(cells) and "table" in cells:
        # the sample table: the count-only rows (no scale)
        t1 = cells[cells["scale"].isna()].pivot_table(index="role", columns="sector",
                                                    values="n", aggfunc="first")
        t1 = t1.reset_index()
        t1["role"] = [_group(f"{r}>@all", lang).split(",")[0] for r in t1["role"]]
        t1.columns = [c if c == "role" else _sector(c, lang) for c in t1.columns]
        ctx["respondents"] = table_view(t1, lang=lang, csv=link("cells.csv"),
                                        total=len(cells), scope="the report's sample table "
                                        "(respondents per role and sector)")
    means = read("posterior_cell_means.csv")
    ctx["cell_means"] = None
    if len(means) and {"role", "target", "sector", "model"} <= set(means.columns):
        from triad.published import group_key

        shown = means[~means["model"].isin(variants)].copy()
        shown["group"] = [group_key(r, t_ if isinstance(t_, str) else None, s,
                                    g if isinstance(g, str) and g else None)
                          for r, t_, s, g in zip(shown["role"], shown["target"],
                                                 shown["sector"],
                                                 shown.get("gender", [None] * len(shown)),
                                                 strict=True)]
        ctx["cell_means"] = view(
            "posterior_cell_means.csv", shown,
            ["scale", "group", "n", "mean", "ci", "model", "data_source", "gates_passed"],
            scope="the models without multiverse variants" if len(shown) < len(means)
            else "", total=len(means))

    # --- audit
    audit = read("audit.csv")
    ctx["audit"] = None
    if len(audit) and "severity" in audit:
        counts = audit["severity"].value_counts()
        ctx["audit_counts"] = [(k, int(v)) for k, v in counts.items()]
        bad = audit[audit["severity"] != "ok"]
        ctx["audit"] = view("audit.csv", bad, ["check", "tables", "scale", "groups",
                                               "reported", "expected", "severity",
                                               "message"],
                            scope="the checks that are not ok", total=len(audit))

    # --- reliability and diagnostics
    rel = read("reliability.csv")
    ctx["reliability"] = view("reliability.csv", rel, [
        "scale", "role", "target", "sector", "n", "n_items", "alpha", "alpha_ci", "omega",
        "reported", "reported_low", "reported_high", "within_reported",
        "data_source"]) if len(rel) else None
    corr = read("correlations.csv")
    ctx["correlations"] = view("correlations.csv", corr, [
        "corr_id", "variable_x", "variable_y", "group", "printed_r", "r", "ci_low", "ci_high",
        "n", "within_rounding", "data_source"]) if len(corr) else None
    ctx["diagnostics"] = view("diagnostics.csv", diag, [
        "model", "family", "data_source", "backend", "r_hat_max", "ess_bulk_min",
        "ess_tail_min", "divergences", "gates_passed", "gates_failed", "psens_prior_max",
        "psens_likelihood_max", "psens_flagged", "pareto_k_max", "pareto_k_bad",
        "wall_seconds"]) if len(diag) else None

    # --- multiverse and sensitivity
    ctx.update(_sensitivity_context(tables, results, claims, diag, view, base, lang))

    # --- posterior predictive checks
    ppc_cells = read("ppc_cells.csv")
    ctx["ppc_cells"] = None
    if len(ppc_cells):
        flag = _truthy(ppc_cells["flagged"]) if "flagged" in ppc_cells else \
            pd.Series(False, index=ppc_cells.index)
        if "model" in ppc_cells:
            # the primary models' cells; the variants' are in the CSV
            flag &= ~ppc_cells["model"].astype(str).str.contains("~", regex=False)
        ctx["ppc_flagged_n"] = int(flag.sum())
        ctx["ppc_cells"] = view("ppc_cells.csv", ppc_cells[flag],
                                [c for c in ppc_cells.columns if c not in ("flagged",)],
                                scope="the flagged cells of the primary models",
                                total=len(ppc_cells))
    # --- figures, each shown once: beside the section it belongs to, or under Figures;
    # the Figures section lists them all with where they are
    placed: dict[str, list] = {}
    index = []
    for p in fig_paths:
        where = "summary" if p == forest else next(
            (sec for prefix, sec in PLACES.items() if p.stem.startswith(prefix)), "figures")
        fig = ctx["headline_figure"] if p == forest else _figure(p, base, lang)
        if p != forest:
            placed.setdefault(where, []).append(fig)
        index.append({"id": fig["id"], "name": p.stem, "caption": fig["caption"],
                      "section": where, "section_name": t.get(where, where)})
    ctx["placed"], ctx["figure_index"] = placed, index

    # --- methods and provenance
    ctx["methods"] = _methods_html(results / "methods.md")
    ctx["data"] = run.get("data")
    if ctx["data"]:
        ctx["data_file"] = Path(ctx["data"].get("path", "")).name
    ctx["privacy"] = run.get("privacy")
    ctx["versions"] = run.get("versions", {})
    fits = _fits(diag) if len(diag) and "fit_folder" in diag else pd.DataFrame()
    ctx["fits"] = table_view(fits, lang=lang, scope="from each fit's fit.json") \
        if len(fits) else None
    ctx["steps"] = run.get("steps", {})
    return ctx


def _ropes(contrasts: pd.DataFrame, lang: str) -> str:
    """``Alliance \u00b10.063, ...``: each scale's ROPE half-width (descriptive rows)."""
    if not {"rope", "scale"} <= set(contrasts.columns):
        return ""
    estimand = contrasts.get("estimand", pd.Series("descriptive", index=contrasts.index))
    ropes = contrasts[estimand.eq("descriptive")].dropna(subset=["rope"])
    per_scale = ropes.groupby("scale", sort=False)["rope"].first()
    return ", ".join(f"{_scale(k, lang)} \u00b1{v:.3f}" for k, v in per_scale.items())


def _sensitivity_context(tables: Path, results: Path, claims: pd.DataFrame,
                         diag: pd.DataFrame, view, base: Path, lang: str) -> dict:
    """Multiverse robustness, prior sensitivity, LOO, SBC and the design study."""
    from triad.design import design_summary_for_report
    from triad.multiverse import LOO_REJECT_ELPD
    from triad.paths import repo_root
    from triad.sbc import sbc_summary_for_report
    from triad.sensitivity import PSENS_THRESHOLD

    ctx = {"loo_reject": f"{LOO_REJECT_ELPD:g}", "psens_threshold": f"{PSENS_THRESHOLD:g}"}
    grid = tables / "multiverse.csv"
    universes = pd.read_csv(grid, usecols=lambda c: c == "universe") if (
        grid.is_file() and grid.stat().st_size) else pd.DataFrame()
    ctx["universes"] = sorted(universes["universe"].dropna().astype(str).unique()) if (
        "universe" in universes) else []
    ctx["robustness"] = None
    if len(claims) and "robustness" in claims:
        shown = claims[_str(claims["conclusion"]).ne("")].sort_values(
            ["robustness", "claim_id"])
        ctx["robust_counts"] = [(k, int(v)) for k, v in shown["robust"].value_counts().items()]
        ctx["robustness"] = view("claims.csv", shown, [
            "claim_id", "scale", "group_a", "group_b", "paper_verdict", "conclusion",
            "universes", "universes_agree", "robustness", "robust", "universes_failed_gates",
            "universes_loo_rejected", "paper_support_share", "dissenting_universes"],
            scope="the claims with a Bayesian conclusion, least robust first",
            total=len(claims))
    ctx["psens"] = view("diagnostics.csv", diag, [
        "model", "psens_prior_max", "psens_likelihood_max", "psens_flagged",
        "psens_flagged_contrasts", "gates_passed"]) \
        if len(diag) and "psens_prior_max" in diag else None
    sens = _read(tables / "prior_sensitivity.csv")
    ctx["psens_flagged"] = None
    if len(sens):
        flagged = sens[_str(sens["diagnosis"]).ne("") & sens["kind"].eq("contrast")]
        ctx["psens_flagged"] = view("prior_sensitivity.csv", flagged,
                                    scope="the flagged contrasts", total=len(sens))
    loo = _read(tables / "loo_compare.csv")
    ctx["loo"] = view("loo_compare.csv", loo.drop(columns=["data_key"], errors="ignore")) \
        if len(loo) else None
    # a run of scripts/sbc.py into this results folder wins over the committed full run
    folder = next((f for f in (results / "sbc", repo_root() / "bench" / "sbc")
                   if (f / "uniformity.csv").is_file() and _sbc_of_this_study(f)), None)
    ctx["sbc"] = None
    if folder is not None:
        ctx["sbc"] = {"folder": str(folder), "table": table_view(
            sbc_summary_for_report(folder), lang=lang,
            csv=_rel(folder / "uniformity.csv", base),
            scope="one row per model (uniformity.csv has one row per quantity)",
            total=len(_read(folder / "uniformity.csv"))),
            "figures": [_figure(p, base, lang) for p in sorted(folder.glob("*.png"))]}
    design = results / "design"
    summary = design_summary_for_report(design)
    ctx["design"] = None
    if not summary.empty:
        record = json.loads((design / "design.json").read_text())
        png = design / "design_assurance.png"
        ctx["design"] = {"record": record, "table": table_view(
            summary, lang=lang, csv=_rel(design / "required_n.csv", base)
            if (design / "required_n.csv").is_file() else None),
            "figure": _figure(png, base, lang) if png.is_file() else None}
    return ctx


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("triad", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fmt_p=fmt_p, fmt_est=fmt_est, fmt_ci=fmt_ci, fmt_num=fmt_num,
                       bf=_fmt_bf, pct=_fmt_pct, in_words=in_words)
    return env


def render_report(results: Path, figures: list[Path], out: Path, lang: str = "en") -> str:
    """Render the report's HTML (see :func:`write_report`) without writing it."""
    ctx = report_context(results, figures, out, lang)
    return _environment().get_template("report.html.j2").render(**ctx)


def write_report(results: Path, figures: list[Path], out: Path, lang: str = "en") -> Path:
    """Write ``report.html`` from a run's tables and figures.

    Parameters
    ----------
    results : Path
        The run's ``results/`` folder (``tables/``, ``run.json`` and ``methods.md`` inside).
    figures : list of Path
        The PNG figures to embed (the list :func:`triad.figures.all_figures` returns);
        each may have ``.pdf``, ``.svg`` and ``.csv`` files beside it, which are linked.
    out : Path
        The HTML file to write; links to tables and figures are relative to its folder.
    lang : {"en", "nl"}

    Returns
    -------
    Path
    """
    out = Path(out)
    text = render_report(results, figures, out, lang)
    # written under a temporary name and renamed, so an interrupted run leaves no half file
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
