"""The report's fixed words and page furniture: headings, column headers, captions, style.

:data:`TEXT` holds every heading and sentence of the report in English and Dutch,
:data:`HEADERS` the column headers in words, :data:`CAPTIONS` and :data:`PLACES` the
figures' captions and sections; :data:`CSS` and :data:`SCRIPT` go into the page as they are.
"""

import re

PAGE_ROWS = 50
HEADLINE_MAX = 12
# A group key as the tables write it: role>target@sector, optionally #gender.
GROUP_KEY = re.compile(r"\b[a-z_]+>[a-z_]*@[a-z_]+(?:-[a-z_]+)?(?:#[a-z]+)?")
MINUS = "\u2212"  # a real minus sign: reads better than a hyphen next to digits
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
           "ess_tail_min": "min tail ESS", "draws": "draws per chain",
           "bayes_ci": "Bayesian 95% HDI", "summary_model_ci": "summary model 95% HDI",
           "alpha_ci": "alpha 95% CI"},
    "nl": {"n_ab": "n (eerste / tweede)", "ci": "95%-HDI", "p_rope": "P(ROPE)", "bf10": "BF10",
           "n_a": "n (eerste)", "n_b": "n (tweede)", "group_a": "eerste groep",
           "group_b": "tweede groep",
           "contrast": "contrast", "estimate": "schatting", "conclusion": "conclusie",
           "scale": "schaal", "sector": "sector", "model": "model", "group": "groep",
           "r_hat_max": "hoogste R-hat", "ess_bulk_min": "laagste bulk-ESS",
           "ess_tail_min": "laagste staart-ESS", "draws": "trekkingen per keten",
           "bayes_ci": "Bayesiaans 95%-HDI",
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
