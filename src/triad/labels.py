"""Words for codes: group keys, contrasts, scales and sectors in English or Dutch.

Figures, terminal tables and the report name groups in words, never in internal codes
(``youth>professional@all#male``).  The words are data: the codebook's labels for
scales, roles, sectors and genders, and the study's ``labels.toml`` (plurals,
aggregate groups, connecting words and one template per contrast family).  A code
without a label is returned unchanged, so a new study without a label file still
renders, in codes.
"""

import re
import tomllib
from functools import cache
from pathlib import Path

from triad.codebook import load_codebook
from triad.paths import data_dir

__all__ = ["LANGS", "contrast_label", "group_label", "label_table", "scale_label",
           "sector_label", "term"]

LANGS = ("en", "nl")


def _file() -> dict:
    return _labels_file(data_dir() / "labels.toml")


@cache  # per study folder
def _labels_file(path: Path) -> dict:
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _check(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")


def _words(lang: str) -> dict:
    return _file().get(lang, {}).get("words", {})


def term(section: str, key: str, lang: str = "en") -> str:
    """Return the words for ``key`` in a section of the label file (``families``, ...).

    ``term("families", "t", "nl")`` -> ``Student-t-model``; a key the file does not list
    is returned unchanged.
    """
    _check(lang)
    return _file().get(lang, {}).get(section, {}).get(key, key)


def scale_label(scale: str, lang: str = "en") -> str:
    """Return the codebook's name of a scale (``opvoed`` -> ``Parenting competence``)."""
    _check(lang)
    found = load_codebook().scales.get(scale)
    return getattr(found, f"label_{lang}") if found is not None else scale


def sector_label(sector: str, lang: str = "en") -> str:
    """Return a sector's name; ``all`` and ``a-b`` sector pairs are named too."""
    _check(lang)
    if sector in ("all", "", None):
        return _words(lang).get("all_sectors", "all")
    sectors = load_codebook().sectors
    if sector not in sectors and "-" in sector:
        a, b = sector.split("-", 1)
        return f"{sector_label(a, lang)} - {sector_label(b, lang)}"
    entry = sectors.get(sector)
    return entry[f"label_{lang}"] if entry else sector


def _group_word(code: str | None, lang: str) -> str:
    """Plural name of a role or target group (``professional`` -> ``professionals``)."""
    if not code:
        return ""
    words = _file().get(lang, {}).get("groups", {})
    if code in words:
        return words[code]
    entry = load_codebook().roles.get(code)
    return entry[f"label_{lang}"] if entry else code


def group_label(key: str, lang: str = "en") -> str:
    """Name a group key in words.

    ``youth>professional@residential`` -> ``youths about professionals, residential``;
    ``professional>youth@all#male`` -> ``professionals about youths, all sectors, men``.
    A string that is not a group key is returned unchanged.
    """
    _check(lang)
    from triad.published import parse_group_key

    try:
        part = parse_group_key(key)
    except ValueError:
        return key
    words = _words(lang)
    text = _group_word(part["role"], lang)
    if part["target"]:
        text += f" {words.get('about', 'about')} {_group_word(part['target'], lang)}"
    text += f", {sector_label(part['sector'], lang)}"
    if part["gender"]:
        text += f", {words.get(part['gender'], part['gender'])}"
    return text


def contrast_label(name: str, sector: str | None = None, lang: str = "en") -> str:
    """Name a contrast in words from the study's contrast templates.

    Parameters
    ----------
    name : str
        The contrast's name as in ``contrasts.csv`` (e.g. ``inspraak_gap_youth_vs_professional``).
    sector : str, optional
        Its sector (``all``, one sector, or ``a-b`` for sector differences); appended
        in words unless the template already uses the two sectors.
    lang : {"en", "nl"}
    """
    _check(lang)
    for entry in _file().get("contrasts", []):
        match = re.match(entry["pattern"], name)
        if match is None or lang not in entry:
            continue
        fields = match.groupdict()
        values = {"scale": scale_label(fields.get("scale", ""), lang),
                  "scale_b": scale_label(fields.get("scale_b", ""), lang),
                  "rater": _group_word(fields.get("rater"), lang),
                  "target": _group_word(fields.get("target"), lang)}
        pair = (sector or "").split("-", 1) if sector and "-" in sector else None
        if pair:
            values["sector_a"], values["sector_b"] = (sector_label(s, lang) for s in pair)
        else:
            values["sector_a"] = values["sector_b"] = sector_label(sector or "all", lang)
        text = entry[lang].format(**values)
        if sector is not None and not pair and "{sector_a}" not in entry[lang]:
            text += f" ({sector_label(sector, lang)})"
        return text
    return name if sector is None else f"{name} ({sector_label(sector, lang)})"


def label_table(codes, kind: str, lang: str = "en") -> dict:
    """Map every code of ``kind`` (group, contrast, scale, sector) to its words."""
    fn = {"group": group_label, "contrast": contrast_label, "scale": scale_label,
          "sector": sector_label}[kind]
    return {c: fn(c, lang=lang) for c in dict.fromkeys(codes)}
