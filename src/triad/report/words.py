"""Codes in words: groups, contrasts, scales and sectors (:mod:`triad.labels`), claims."""

import math
from functools import cache

import pandas as pd

from triad.report.texts import GROUP_KEY, MINUS, TEXT


@cache
def group_words(key: str, lang: str) -> str:
    """Return a group key in words (:func:`triad.labels.group_label`, cached)."""
    from triad.labels import group_label

    return group_label(key, lang)


@cache
def contrast_words(name: str, sector: str | None, lang: str) -> str:
    """Return a contrast in words (:func:`triad.labels.contrast_label`, cached)."""
    from triad.labels import contrast_label

    return contrast_label(name, sector, lang)


@cache
def scale_words(code: str, lang: str) -> str:
    """Return a scale, or a paired contrast's two scales, in words (cached)."""
    from triad.labels import scale_label

    if "-" in code:  # a paired contrast's two scales (``belangrijk-lukt``)
        return f" {MINUS} ".join(scale_label(part, lang) for part in code.split("-"))
    return scale_label(code, lang)


@cache
def sector_words(code: str, lang: str) -> str:
    """Return a sector in words (:func:`triad.labels.sector_label`, cached)."""
    from triad.labels import sector_label

    return sector_label(code, lang)


def in_words(text, lang: str = "en") -> str:
    """Replace every group key inside ``text`` by its words (``youth>professional@all``)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return GROUP_KEY.sub(lambda m: group_words(m.group(), lang), str(text))


def claim_words(row: pd.Series, lang: str) -> str:
    """Name a claim's comparison in words (a rater and target both groups share, once).

    ``C15 Bond, youths about professionals: ambulatory/day care vs residential``.
    """
    from triad.published import parse_group_key

    t = TEXT[lang]
    keys = [row.get(c) for c in ("group_a", "group_b")
            if isinstance(row.get(c), str) and row.get(c)]
    scale = scale_words(str(row.get("scale", "")), lang)
    try:
        parts = [parse_group_key(k) for k in keys]
    except ValueError:
        parts = []
    if len(parts) == 2 and all(parts[0][k] == parts[1][k] for k in ("role", "target",
                                                                        "gender")):
        sector = sector_words(parts[0]["sector"], lang)
        who = group_words(keys[0], lang).replace(f", {sector}", "", 1)
        where = f" {t['vs']} ".join(sector_words(p["sector"], lang) for p in parts)
        return f"{row['claim_id']} {scale}, {who}: {where}"
    return f"{row['claim_id']} {scale}: " + f" {t['vs']} ".join(
        in_words(k, lang) for k in keys)
