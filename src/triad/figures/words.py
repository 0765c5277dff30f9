"""Words of the figures: their own phrases and the names of groups, models and quantities.

The phrases of the figures themselves are :data:`LABELS`; the study's words (groups,
scales, sectors, contrasts, models) come from :mod:`triad.labels`.
"""

import re
from functools import cache

from triad.codebook import load_codebook, sector_codes
from triad.labels import contrast_label, group_label, scale_label, sector_label, term

# The phrases of the figures themselves; the study's words (groups, scales, sectors,
# contrasts, models) come from triad.labels.
LABELS = {
    "en": {"bayes": "Bayesian 95% HDI", "freq": "Welch t 95% CI (published tables)",
           "paired": "difference of published means (paired: no CI)",
           "difference": "Difference (scale points)",
           "synthetic": "Bayesian intervals from SYNTHETIC data reconstructed from the "
                        "published tables - not findings about the study.",
           "data": "Data: {source}.", "observed": "observed", "replicated": "replicated",
           "replicated_ci": "replicated (mean, 95% interval)",
           "replicated_draws": "replicated (50 posterior draws)",
           "vs": "vs", "answer": "Answer (1-5)", "frequency": "Number of answers",
           "density": "Density",
           "score": "Scale score", "alpha": "Cronbach's alpha",
           "reported": "range reported in the paper", "published": "published",
           "published_ci": "published mean, 95% CI", "posterior": "posterior mean, 95% HDI",
           "rope": "ROPE (negligible difference)",
           "higher": "A higher (95% HDI > 0)", "lower": "A lower (95% HDI < 0)",
           "equivalent": "equivalent (ROPE)", "undecided": "undecided",
           "gates": "sampler gates failed", "pale": "pale: sampler gates failed",
           "robustness": "% = share of the other universes agreeing with the primary",
           "rope_width": "ROPE half-width (pooled within-group SDs)",
           "p_rope": "P(ROPE)", "needed": "0.95", "page": "page {k} of {n}",
           "sbc": "SBC {model}: ECDF of the PIT values minus uniform, simultaneous {prob} "
                  "band (Bonferroni; {shown} of {total} quantities, outside the band first, "
                  "then smallest chi-square p)",
           "chi2": "chi-square p = {p:.3f}", "ecdf_out": "outside the band",
           "ecdf_in": "inside the band", "assurance": "Assurance P(95% HDI excludes 0)",
           "per_cell": "Respondents per cell (each group)"},
    "nl": {"bayes": "Bayesiaans 95%-HDI", "freq": "Welch-t 95%-BI (gepubliceerde tabellen)",
           "paired": "verschil van gepubliceerde gemiddelden (gepaard: geen BI)",
           "difference": "Verschil (schaalpunten)",
           "synthetic": "Bayesiaanse intervallen uit SYNTHETISCHE data, gereconstrueerd uit de "
                        "gepubliceerde tabellen - geen bevindingen over het onderzoek.",
           "data": "Data: {source}.", "observed": "geobserveerd",
           "replicated": "gerepliceerd", "vs": "vs", "answer": "Antwoord (1-5)",
           "replicated_ci": "gerepliceerd (gemiddelde, 95%-interval)",
           "replicated_draws": "gerepliceerd (50 posterieure trekkingen)",
           "frequency": "Aantal antwoorden", "density": "Dichtheid",
           "score": "Schaalscore", "alpha": "Cronbachs alfa",
           "reported": "bereik gerapporteerd in het rapport", "published": "gepubliceerd",
           "published_ci": "gepubliceerd gemiddelde, 95%-BI",
           "posterior": "posterieur gemiddelde, 95%-HDI",
           "rope": "ROPE (verwaarloosbaar verschil)",
           "higher": "A hoger (95%-HDI > 0)", "lower": "A lager (95%-HDI < 0)",
           "equivalent": "equivalent (ROPE)", "undecided": "onbeslist",
           "gates": "samplercontroles mislukt", "pale": "bleek: samplercontroles mislukt",
           "robustness": "% = aandeel van de andere universa eens met het primaire model",
           "rope_width": "ROPE-halfbreedte (gepoolde SD's binnen groepen)",
           "p_rope": "P(ROPE)", "needed": "0,95", "page": "pagina {k} van {n}",
           "sbc": "SBC {model}: ECDF van de PIT-waarden min uniform, simultane {prob}-band "
                  "(Bonferroni; {shown} van {total} grootheden, buiten de band eerst, dan "
                  "kleinste chi-kwadraat-p)",
           "chi2": "chi-kwadraat p = {p:.3f}", "ecdf_out": "buiten de band",
           "ecdf_in": "binnen de band",
           "assurance": "Zekerheid P(95%-HDI sluit 0 uit)",
           "per_cell": "Respondenten per cel (per groep)"},
}


def phrase(lang: str, key: str) -> str:
    """Return the figures' phrase for ``key`` in ``lang`` (the key itself when none)."""
    return LABELS[lang].get(key, key)


def group_words(rater: str, target: str | None, lang: str) -> str:
    """Name a rater group about a target group in words, without a sector.

    ``youth``, ``professional`` -> ``youths about professionals`` (no sector).
    """
    words = group_label(f"{rater}>{target or ''}@all", lang)
    return words.removesuffix(f", {sector_label('all', lang)}")


def pair_label(a: str, b: str, lang: str) -> str:
    """Name two group keys as one phrase, their common part said once.

    ``youth>professional@ambulatory_daycare`` and ``youth>professional@residential`` ->
    ``youths about professionals: ambulatory/day care - residential``.
    """
    if not isinstance(b, str) or not b:
        return group_label(a, lang)
    pa, pb = group_label(a, lang).split(", "), group_label(b, lang).split(", ")
    if len(pa) != len(pb):
        return f"{', '.join(pa)} \u2212 {', '.join(pb)}"
    common = [x for x, y in zip(pa, pb, strict=True) if x == y]
    da = [x for x, y in zip(pa, pb, strict=True) if x != y]
    db = [y for x, y in zip(pa, pb, strict=True) if x != y]
    head = f"{', '.join(common)}: " if common else ""
    return f"{head}{', '.join(da)} \u2212 {', '.join(db)}"


def model_words(model: str, lang: str = "en", family: str | None = None,
                scales: tuple | list | None = None) -> str:
    """Name a model in words: its scales and its family (``Bond: normal model``).

    Parameters
    ----------
    model : str
        Spec name, or ``name~variant`` for a multiverse variant.
    family, scales : optional
        Read from the spec (``models/``) when not given.
    """
    base, _, variant = model.partition("~")
    if family is None or scales is None:
        spec = _spec(base)
        family = family or (spec.family if spec else None)
        scales = scales if scales is not None else (spec.scales if spec else ())
    scales = list(scales or [])
    if len(scales) > 3:
        what = ""
    else:
        what = " & ".join(scale_label(s, lang) for s in scales)
    text = term("families", family, lang) if family else model
    text = f"{what}: {text}" if what else text[:1].upper() + text[1:]
    if variant:
        text += f" ({term('universes', _variant_label(variant), lang)})"
    return text


@cache
def _spec(name: str):
    from triad.specs import load_specs

    try:
        found = [s for s in load_specs(pattern=f"{name}.toml") if s.name == name]
    except (OSError, ValueError):
        return None
    return found[0] if found else None


@cache
def _variant_label(variant: str) -> str:
    from triad.multiverse import DATA_CELLS, load_variants

    if variant == DATA_CELLS:
        return "summary statistics (the file's cells)"
    try:
        return {v.name: v.label for v in load_variants()}.get(variant, variant)
    except (OSError, ValueError):
        return variant


def quantity_words(quantity: str, lang: str = "en") -> str:
    """Name an SBC quantity (a model parameter or ``contrast[sector]``) in words."""
    match = re.fullmatch(r"(?P<name>[^\[]+)\[(?P<inside>.*)\]", quantity)
    name, inside = (match["name"], match["inside"]) if match else (quantity, "")
    words = contrast_label(name, inside or None, lang)
    if words != name and not words.startswith(f"{name} ("):
        return words
    parts = []
    for token in re.split(r"[|:]", inside) if inside else []:
        if "@" in token:
            parts.append(group_label(token, lang))
        elif ">" in token:
            rater, target = token.split(">", 1)
            parts.append(group_words(rater, target, lang))
        elif token in load_codebook().scales:
            parts.append(scale_label(token, lang))
        elif token in sector_codes():
            parts.append(sector_label(token, lang))
        elif token in (*load_codebook().roles, *load_codebook().aggregates):
            parts.append(group_words(token, None, lang))
        elif token in load_codebook().genders:
            parts.append(load_codebook().genders[token][f"label_{lang}"])
        else:
            parts.append(term("parameters", token, lang).replace("_", " "))
    head = term("parameters", name, lang)
    return f"{head}: {', '.join(parts)}" if parts else head
