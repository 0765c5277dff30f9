"""Paper figures at print size: PNG (300 dpi), PDF and SVG, with the numbers drawn as CSV.

Every figure is drawn inside :func:`triad.style.journal_style` at a journal column width
(85 or 174 mm, :func:`triad.style.figure_size`) and at most :data:`~triad.style.MAX_HEIGHT_MM`
tall; a figure with more rows than a page holds is drawn as numbered pages
(``forest_claims_1``, ``forest_claims_2``, ...), never with smaller text.  Text is at least
:data:`~triad.style.MIN_FONT_PT` at print size, PDF fonts are TrueType (Type 42) and SVG
text stays text.  Groups, contrasts, scales, sectors and models are named in words
(:mod:`triad.labels`, English or Dutch), never in codes.  Beside every figure,
``<name>.csv`` holds exactly the numbers drawn, tidy, with the codes, the words and
``data_source``.  A footnote inside the figure names the data source and says in bold when it
is synthetic.

Every function takes tidy tables (the ones ``scripts/fit_all.py`` writes), saves its figure
(or pages) under ``out`` and returns the PNG path(s).
"""

import re
from dataclasses import dataclass, field
from functools import cache, wraps
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures are files, never windows

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.transforms as mtransforms  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402
from scipy import stats  # noqa: E402

from triad.audit import StudyDesign  # noqa: E402
from triad.codebook import load_codebook, sector_codes  # noqa: E402
from triad.contrasts import contrast_pairs, families  # noqa: E402
from triad.labels import (  # noqa: E402
    contrast_label,
    group_label,
    scale_label,
    sector_label,
    term,
)
from triad.published import load_cells  # noqa: E402
from triad.style import (  # noqa: E402
    DOUBLE_MM,
    MAX_HEIGHT_MM,
    MIN_FONT_PT,
    SINGLE_MM,
    STYLE_FILE,
    figure_size,
    journal_style,
)
from triad.summary_tests import ttest_from_summary  # noqa: E402

__all__ = ["OKABE_ITO", "LABELS", "save", "forest_contrasts", "forest_claims",
           "cell_means_plot", "ppc_figures", "rope_sensitivity_plot", "scale_difference_plot",
           "reliability_plot", "multiverse_grid", "all_figures", "figure_pages", "restyle",
           "model_words", "quantity_words", "add_footnote", "footnote_height_mm", "wrap_text"]

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"]
POSTERIOR, SUMMARY, BAND = OKABE_ITO[4], OKABE_ITO[0], "#E4E4E4"
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
_PT_MM = 25.4 / 72
# one line of 7 pt text with matplotlib's default 1.2 line spacing, and a little air
_LINE_MM = MIN_FONT_PT * 1.2 * _PT_MM + 0.25
_ROW_PAD_MM = 1.4
_XAXIS_MM = 2 * _LINE_MM + 5.0  # tick labels and the axis label
_LEGEND_ROW_MM = _LINE_MM + 1.5
_PAD_MM = 5.0  # constrained layout's padding around and between the parts


@cache
def _font() -> str:
    """Return the first installed font of the journal style's list (to measure text)."""
    from matplotlib.font_manager import fontManager

    wanted = matplotlib.rc_params_from_file(STYLE_FILE, use_default_template=False)[
        "font.sans-serif"]
    have = {f.name for f in fontManager.ttflist}
    return next((name for name in wanted if name in have), "DejaVu Sans")


def _styled(draw):
    """Draw inside the journal style, whoever calls (``all_figures`` or a user)."""
    @wraps(draw)
    def inner(*args, **kwargs):
        with journal_style():
            return draw(*args, **kwargs)
    return inner


def _t(lang: str, key: str) -> str:
    return LABELS[lang].get(key, key)


def _variant(frame: pd.DataFrame) -> pd.Series:
    """Rows of multiverse variants (``model~variant``): drawn only in the multiverse grid."""
    return frame["model"].astype(str).str.contains("~", regex=False)


def _source(frame: pd.DataFrame) -> str:
    if "data_source" not in frame or frame.empty:
        return ""
    values = frame["data_source"].dropna().astype(str)
    return "synthetic" if values.eq("synthetic").any() else (values.iloc[0] if len(values)
                                                             else "")


# --------------------------------------------------------------------------- text


@cache
def _text_mm(text: str, size: float = MIN_FONT_PT, bold: bool = False) -> float:
    """Return the printed width (mm) of a one-line text in the journal style's font."""
    prop = FontProperties(family=_font(), size=size, weight="bold" if bold else "normal")
    return TextToPath().get_text_width_height_descent(text, prop, ismath=False)[0] * _PT_MM


def wrap_text(text: str, width_mm: float, size: float = MIN_FONT_PT, bold: bool = False) -> str:
    """Break ``text`` into lines that fit ``width_mm`` at print size (words kept whole)."""
    lines: list[str] = []
    for word in str(text).split(" "):
        if lines and _text_mm(f"{lines[-1]} {word}", size, bold) <= width_mm:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def _lines(text: str) -> int:
    return str(text).count("\n") + 1


def _group_words(rater: str, target: str | None, lang: str) -> str:
    """``youth``, ``professional`` -> ``youths about professionals`` (no sector)."""
    words = group_label(f"{rater}>{target or ''}@all", lang)
    return words.removesuffix(f", {sector_label('all', lang)}")


def _pair_label(a: str, b: str, lang: str) -> str:
    """Two group keys as one phrase, their common part said once.

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


def _common_head(labels: list[str]) -> tuple[str, list[str]]:
    """Split labels into their shared head (cut at ': ' or ' (') and what is left of each.

    The contrast labels of one family differ only in their sectors, so the head names
    the family once and each row names its sectors.
    """
    if len(labels) < 2:
        text = labels[0] if labels else ""
        for sep in (" (", ": "):
            if sep in text:
                head, rest = text.rsplit(sep, 1) if sep == " (" else text.split(sep, 1)
                return head, [rest.removesuffix(")")]
        return text, [""]
    prefix = labels[0]
    for other in labels[1:]:
        n = 0
        while n < min(len(prefix), len(other)) and prefix[n] == other[n]:
            n += 1
        prefix = prefix[:n]
    cut = max(prefix.rfind(": "), prefix.rfind(" ("))
    if cut <= 0:
        return "", labels
    sep = 2
    head = prefix[:cut]
    return head, [lab[cut + sep:].removesuffix(")") for lab in labels]


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
            parts.append(_group_words(rater, target, lang))
        elif token in load_codebook().scales:
            parts.append(scale_label(token, lang))
        elif token in sector_codes():
            parts.append(sector_label(token, lang))
        elif token in (*load_codebook().roles, *load_codebook().aggregates):
            parts.append(_group_words(token, None, lang))
        elif token in load_codebook().genders:
            parts.append(load_codebook().genders[token][f"label_{lang}"])
        else:
            parts.append(term("parameters", token, lang).replace("_", " "))
    head = term("parameters", name, lang)
    return f"{head}: {', '.join(parts)}" if parts else head


def _universe_words(universe: str, lang: str) -> str:
    words = term("universes", universe, lang)
    return model_words(words, lang) if "_" in words else words


# --------------------------------------------------------------------------- saving


def _footnote_text(source: str, lang: str) -> str:
    return _t(lang, "synthetic") if source == "synthetic" else _t(lang, "data").format(
        source=source or "?")


def footnote_height_mm(width_mm: float, source: str, lang: str) -> float:
    """Return the height (mm) the data-source footnote takes at a figure width."""
    text = wrap_text(_footnote_text(source, lang), width_mm - 4, bold=source == "synthetic")
    return _lines(text) * _LINE_MM + 2.0


def add_footnote(fig, source: str, lang: str) -> None:
    """Write the data-source footnote in a band at the bottom that layout keeps free.

    Synthetic data: bold, in vermilion, and it says SYNTHETIC and not findings.
    """
    width_mm, height_mm = (v * 25.4 for v in fig.get_size_inches())
    bold = source == "synthetic"
    text = wrap_text(_footnote_text(source, lang), width_mm - 4, bold=bold)
    band = footnote_height_mm(width_mm, source, lang)
    fig.text(1.5 / width_mm, 1.0 / height_mm, text, ha="left", va="bottom",
             fontsize=MIN_FONT_PT, color=OKABE_ITO[5] if bold else "black",
             fontweight="bold" if bold else "normal")
    engine = fig.get_layout_engine()
    if engine is None or not hasattr(engine, "set") or "rect" not in engine.get():
        fig.set_layout_engine("constrained")
        engine = fig.get_layout_engine()
    engine.set(rect=(0, band / height_mm, 1, 1 - band / height_mm))


def restyle(fig, *, max_pt: float = 8.5) -> None:
    """Bring every text of a figure drawn elsewhere (ArviZ) into [MIN_FONT_PT, max_pt]."""
    for text in fig.findobj(matplotlib.text.Text):
        size = text.get_fontsize()
        if size < MIN_FONT_PT or size > max_pt:
            text.set_fontsize(min(max(size, MIN_FONT_PT), max_pt))
    for ax in fig.axes:
        ax.tick_params(labelsize=MIN_FONT_PT)


def save(fig, out: Path, name: str, data: pd.DataFrame | None = None) -> Path:
    """Save a figure as PNG (300 dpi), PDF and SVG, and its data as CSV; return the PNG.

    The figure is saved at its own size (no ``bbox_inches='tight'``, which would change
    the page size); ``data`` (the numbers drawn) goes to ``<name>.csv``.
    """
    out.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf", "svg"):
        tmp = out / f".{name}.tmp.{ext}"
        # no dates in the files: the same data give byte-identical figures
        metadata = {"Date": None} if ext == "svg" else (
            {"CreationDate": None} if ext == "pdf" else None)
        fig.savefig(tmp, dpi=300 if ext == "png" else None, metadata=metadata)
        tmp.replace(out / f"{name}.{ext}")
    plt.close(fig)
    if data is not None:
        tmp = out / f".{name}.tmp.csv"
        # 6 significant digits: finer than any printed mark, a third of the file
        data.to_csv(tmp, index=False, float_format="%.6g")
        tmp.replace(out / f"{name}.csv")
    return out / f"{name}.png"


def _drop_stale_pages(out: Path, name: str, pages: int) -> None:
    """Remove pages of an earlier, longer run of the same figure (``name_<k>``, k > pages)."""
    for png in out.glob(f"{name}_*.png"):
        k = png.stem.removeprefix(f"{name}_")
        if k.isdigit() and int(k) > pages:
            for ext in ("png", "pdf", "svg", "csv"):
                png.with_suffix(f".{ext}").unlink(missing_ok=True)


# --------------------------------------------------------------------------- pages


@dataclass
class _Block:
    """A titled run of rows: a panel of a forest plot or of the multiverse grid."""

    header: str
    rows: pd.DataFrame  # needs a 'label' column (wrapped text); the rest is data
    group: str = ""  # blocks of one group (a scale) stay on one page when they fit
    heights: list = field(default_factory=list)

    def height(self) -> float:
        return (_lines(self.header) * _LINE_MM + 1.0 if self.header else 0.0) + sum(
            self.heights)


def _row_heights(rows: pd.DataFrame) -> list[float]:
    return [_lines(label) * _LINE_MM + _ROW_PAD_MM for label in rows["label"]]


def _paginate(blocks: list[_Block], budget_mm: float) -> list[list[_Block]]:
    """Fill pages of at most ``budget_mm`` of rows.

    A group (scale) that fits on a page starts a new page unless it fits whole on the
    current one; a group longer than a page follows on and breaks between blocks, a block
    longer than a page between rows.
    """
    pieces: list[_Block] = []
    for block in blocks:
        block.heights = _row_heights(block.rows)
        if block.height() <= budget_mm:
            pieces.append(block)
            continue
        start, used = 0, _lines(block.header) * _LINE_MM + 1.0
        for i, h in enumerate(block.heights):
            if used + h > budget_mm and i > start:
                part = block.rows.iloc[start:i]
                pieces.append(_Block(block.header, part, block.group, block.heights[start:i]))
                start, used = i, _lines(block.header) * _LINE_MM + 1.0
            used += h
        part = block.rows.iloc[start:]
        pieces.append(_Block(block.header, part, block.group, block.heights[start:]))
    pages: list[list[_Block]] = [[]]
    used = 0.0
    groups: dict[str, list[_Block]] = {}
    for piece in pieces:
        groups.setdefault(piece.group, []).append(piece)
    for members in groups.values():
        whole = sum(b.height() for b in members)
        if pages[-1] and used + whole > budget_mm and whole <= budget_mm:
            pages.append([])  # a group that fits on a page is not split across two
            used = 0.0
        for b in members:
            if pages[-1] and used + b.height() > budget_mm:
                pages.append([])
                used = 0.0
            pages[-1].append(b)
            used += b.height()
    return [p for p in pages if p]


def _legend_rows(labels: list[str], width_mm: float) -> tuple[int, int]:
    """Rows and columns a one-line-per-entry legend needs across ``width_mm``."""
    widths = [_text_mm(lab) + 12 for lab in labels]  # handle, padding and spacing
    for cols in range(len(labels), 0, -1):
        rows = int(np.ceil(len(labels) / cols))
        col_w = [max(widths[c::cols]) for c in range(cols)]
        if sum(col_w) <= width_mm - 6:
            return rows, cols
    return len(labels), 1


@dataclass
class _Series:
    """One interval per row: columns of its estimate and ends, legend text and look."""

    est: str
    low: str
    high: str
    label: str
    colour: str
    marker: str
    offset: float  # mm below (+) or above (-) the row's centre
    point_label: str = ""  # legend text of an estimate without interval (open marker)


@_styled
def _forest_pages(blocks: list[_Block], *, name: str, out: Path, lang: str, source: str,
                  xlabel: str, series: list[_Series], band_label: str | None = None,
                  zero: bool = True, width: str = "double",
                  label_mm: float = 62.0) -> list[Path]:
    """Draw blocks of interval rows as numbered pages; return the PNGs.

    Rows need ``label`` and the series' columns; ``band_low``/``band_high`` (a grey band
    behind the row: the ROPE, or a reported range) and ``ok`` (False: drawn pale, the
    sampler gates failed) are optional.
    """
    width_mm = SINGLE_MM if width == "single" else DOUBLE_MM
    plot_mm = width_mm - label_mm - 8
    for block in blocks:
        block.header = wrap_text(block.header, plot_mm, bold=True)
        block.rows = block.rows.assign(label=[wrap_text(x, label_mm) for x in block.rows["label"]])
    handles = [Line2D([], [], color=s.colour, marker=s.marker, ms=3.2, lw=1.2)
               for s in series]
    entries = [s.label for s in series]
    for s in series:
        points = any((b.rows[s.est].notna() & b.rows[s.low].isna()).any() for b in blocks)
        if s.point_label and points:
            handles.append(Line2D([], [], color=s.colour, marker=s.marker, ms=3.2, lw=0,
                                  mfc="white"))
            entries.append(s.point_label)
    if band_label:
        handles.append(Patch(color=BAND, lw=0))
        entries.append(band_label)
    any_failed = any((~b.rows.get("ok", pd.Series(True, index=b.rows.index)).astype(bool)).any()
                     for b in blocks)
    if any_failed:
        handles.append(Line2D([], [], color=POSTERIOR, marker="s", ms=3.2, alpha=0.35))
        entries.append(_t(lang, "pale"))
    legend_rows, legend_cols = _legend_rows(entries, width_mm)
    foot = footnote_height_mm(width_mm, source, lang)
    fixed = foot + _XAXIS_MM + legend_rows * _LEGEND_ROW_MM + 2 * _PAD_MM
    pages = _paginate(blocks, MAX_HEIGHT_MM - fixed - 4)
    xs = pd.concat([b.rows[[c for s in series for c in (s.low, s.high, s.est)]
                           + [c for c in ("band_low", "band_high") if c in b.rows]]
                    for b in blocks]).to_numpy(float)
    xs = xs[np.isfinite(xs)]  # suppressed (small-cell) rows are blank
    lo, hi = (xs.min(), xs.max()) if xs.size else (-1.0, 1.0)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = 0.04 * (hi - lo or 1.0)
    paths = []
    for k, page in enumerate(pages, start=1):
        content = sum(b.height() for b in page)
        fig, ax = plt.subplots(figsize=figure_size(width, min(MAX_HEIGHT_MM,
                                                              content + fixed + 2)))
        ticks, tick_labels, records = [], [], []
        mixed = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
        y = 0.0
        for block in page:
            if block.header:
                ax.text(0.0, y + 0.5, block.header, transform=mixed, ha="left", va="top",
                        fontweight="bold", fontsize=MIN_FONT_PT)
                y += _lines(block.header) * _LINE_MM + 1.0
            if zero:  # through the rows only, not through the header's words
                ax.plot([0, 0], [y, y + sum(block.heights)], color="#777777", lw=0.6,
                        zorder=1)
            for (_, row), h in zip(block.rows.iterrows(), block.heights, strict=True):
                centre = y + h / 2
                if "band_low" in row and pd.notna(row["band_low"]):
                    ax.add_patch(plt.Rectangle((row["band_low"], y),
                                               row["band_high"] - row["band_low"], h,
                                               color=BAND, lw=0, zorder=0))
                alpha = 1.0 if bool(row.get("ok", True)) else 0.35
                for s in series:
                    est = row[s.est]
                    if pd.isna(est):
                        continue
                    yy = centre + s.offset
                    if pd.notna(row[s.low]):
                        ax.plot([row[s.low], row[s.high]], [yy, yy], color=s.colour, lw=1.2,
                                alpha=alpha, solid_capstyle="butt")
                    ax.plot(est, yy, s.marker, color=s.colour, ms=3.2, alpha=alpha,
                            mfc=s.colour if pd.notna(row[s.low]) else "white")
                ticks.append(centre)
                tick_labels.append(row["label"])
                records.append({"page": k, "panel": block.header.replace("\n", " "),
                                **{c: v for c, v in row.items() if c != "label"},
                                "row_label": row["label"].replace("\n", " ")})
                y += h
        ax.set_ylim(y, 0)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_yticks(ticks, tick_labels)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(xlabel)
        fig.legend(handles, entries, loc="outside upper center", ncols=legend_cols)
        add_footnote(fig, source, lang)
        stem = f"{name}_{k}"
        paths.append(save(fig, out, stem, pd.DataFrame(records).assign(figure=stem)))
    _drop_stale_pages(out, name, len(pages))
    return paths


# --------------------------------------------------------------------------- helpers


def _primary(frame: pd.DataFrame, diagnostics: pd.DataFrame | None) -> dict:
    """Scale -> the primary model: the Gaussian respondent model of fewest scales.

    Uses :func:`triad.claims.primary_models` when the run's ``diagnostics.csv`` is at
    hand; without it, any non-variant model not fitted to the published cells.
    """
    rows = frame[~_variant(frame) & frame["data_source"].ne("published")]
    if diagnostics is not None and len(diagnostics) and "family" in diagnostics:
        from triad.claims import primary_models

        # read back from CSV an all-empty variant column is float NaN: make it text
        variant = diagnostics.get("variant", pd.Series("", index=diagnostics.index))
        diag = diagnostics.assign(variant=variant.astype("string").fillna(""))
        diag = diag[diag["model"].isin(set(rows["model"]))]
        if len(diag):
            return primary_models(diag, rows[["model", "scale"]].drop_duplicates())
    out = {}
    for scale, part in rows.groupby("scale"):
        sizes = part.groupby("model")["scale"].nunique()
        all_sizes = rows[rows["model"].isin(sizes.index)].groupby("model")["scale"].nunique()
        out[scale] = sorted(sizes.index, key=lambda m: (all_sizes[m], m))[0]
    return out


def _scale_order(scales) -> list[str]:
    known = list(load_codebook().scales)
    return sorted(set(scales), key=lambda s: (known.index(s) if s in known else len(known), s))


@cache
def _published_units() -> pd.DataFrame:
    """Return the published cells a summary model uses: sector cells and gender cells."""
    from triad.modeldata import summary_tables

    cells = load_cells()
    use = cells[cells["table"].isin(summary_tables()) & cells["scale"].notna()].copy()
    use["partition"] = np.where(use["gender"].notna(), "gender", "sector")
    use = use[use["sector"].ne("all") | use["gender"].notna()]
    return use.reset_index(drop=True)


def _pooled(cells: pd.DataFrame) -> tuple[float, float, float] | None:
    """n, mean and SD of the union of printed cells (within plus between sums of squares)."""
    cells = cells.dropna(subset=["n", "mean", "sd"])
    if cells.empty:
        return None
    n, m, s = (cells[c].to_numpy(float) for c in ("n", "mean", "sd"))
    big = n.sum()
    grand = (n * m).sum() / big
    ss = ((n - 1) * s**2).sum() + (n * (m - grand) ** 2).sum()
    return big, grand, float(np.sqrt(ss / (big - 1))) if big > 1 else float("nan")


@cache
def _summary_contrasts(scale: str) -> dict:
    """(contrast, sector) -> the paper's summary-based estimate of a scale's named contrasts.

    The groups are the contrast's own (:func:`triad.contrasts.contrast_pairs` on the
    published cells); each group's n, mean and SD pool its printed cells.  Independent
    groups: Welch's t interval.  Paired contrasts (the same respondents on both sides:
    same raters, sector and gender) cannot get an interval from summaries: the difference
    of the means only.
    """
    units = _published_units()
    out = {}
    for family in families():
        for name, sector, a, b in contrast_pairs(family, scale, units):
            ga, gb = _pooled(units[a.mask(units)]), _pooled(units[b.mask(units)])
            if ga is None or gb is None:
                continue
            paired = (a.rater, a.sector, a.gender) == (b.rater, b.sector, b.gender)
            if paired:
                out[(name, sector)] = (ga[1] - gb[1], np.nan, np.nan, "paired")
                continue
            try:
                t = ttest_from_summary(*ga, *gb, equal_var=False).iloc[0]
            except ValueError:
                continue
            out[(name, sector)] = (t["diff"], t["ci_low"], t["ci_high"], "welch")
    return out


def _sector_key(sector: str) -> tuple:
    parts = str(sector).split("-")
    order = ["all", *sector_codes()]
    return tuple((order.index(p) if p in order else 9) for p in parts)


# --------------------------------------------------------------------------- figures


@_styled
def forest_contrasts(contrasts: pd.DataFrame, out: Path, lang: str = "en",
                     diagnostics: pd.DataFrame | None = None) -> list[Path]:
    """Forest plot of the named contrasts of each scale's primary model (descriptive).

    Each posterior 95% HDI is drawn over its ROPE band, with the paper's summary-based
    estimate below it (Welch t interval from the published n/M/SD; a paired contrast gets
    the difference of the published means only).  Pages ``forest_contrasts_<k>``.
    """
    if contrasts.empty:
        return []
    desc = contrasts[contrasts.get("estimand", pd.Series("descriptive", index=contrasts.index))
                     .eq("descriptive") & ~contrasts["contrast"].str.endswith("_latent")]
    primary = _primary(desc, diagnostics)
    rows = desc[desc["model"].eq(desc["scale"].map(primary))]
    if rows.empty:
        return []
    blocks = []
    for scale in _scale_order(rows["scale"]):
        part = rows[rows["scale"] == scale]
        for name in part["contrast"].drop_duplicates():
            fam = part[part["contrast"] == name].copy()
            fam = fam.iloc[sorted(range(len(fam)), key=lambda i: _sector_key(
                fam["sector"].iloc[i]))]
            words = [contrast_label(name, s, lang) for s in fam["sector"]]
            head, rest = _common_head(words)
            ref = [_summary_contrasts(scale).get((name, s), (np.nan, np.nan, np.nan, ""))
                   for s in fam["sector"]]
            fam = fam.assign(
                label=rest, contrast_label=words, scale_label=scale_label(scale, lang),
                sector_label=[sector_label(s, lang) for s in fam["sector"]],
                model_label=model_words(str(fam["model"].iloc[0]), lang),
                summary_estimate=[r[0] for r in ref], summary_ci_low=[r[1] for r in ref],
                summary_ci_high=[r[2] for r in ref], summary_method=[r[3] for r in ref],
                band_low=-fam["rope"], band_high=fam["rope"],
                ok=fam.get("gates_passed", pd.Series(True, index=fam.index)).astype(bool))
            keep = ["label", "contrast", "contrast_label", "scale", "scale_label", "sector",
                    "sector_label", "estimand", "model", "model_label", "estimate", "ci_low",
                    "ci_high", "rope", "band_low", "band_high", "conclusion",
                    "summary_estimate", "summary_ci_low", "summary_ci_high", "summary_method",
                    "ok", "data_source"]
            blocks.append(_Block(head, fam[[c for c in keep if c in fam]], scale))
    series = [_Series("estimate", "ci_low", "ci_high", _t(lang, "bayes"), POSTERIOR, "s", -0.9),
              _Series("summary_estimate", "summary_ci_low", "summary_ci_high",
                      _t(lang, "freq"), SUMMARY, "o", 0.9, point_label=_t(lang, "paired"))]
    return _forest_pages(blocks, name="forest_contrasts", out=out, lang=lang,
                         source=_source(rows), xlabel=_t(lang, "difference"), series=series,
                         band_label=_t(lang, "rope"), label_mm=58.0)


@_styled
def forest_claims(claims: pd.DataFrame, out: Path, lang: str = "en") -> list[Path]:
    """Bayesian HDI beside the frequentist (Welch) CI for every tested claim pair.

    One panel per scale, pages ``forest_claims_<k>``; the ROPE band behind each row.
    """
    tested = claims[claims["paper_verdict"].isin(["significant", "implied_significant",
                                                  "not_significant"])
                    & claims["bayes_estimate"].notna()].drop_duplicates(
        ["scale", "group_a", "group_b"])
    if tested.empty:
        return []
    design = StudyDesign(load_cells(), load_codebook())
    blocks = []
    for scale in _scale_order(tested["scale"]):
        part = tested[tested["scale"] == scale]
        recs = []
        for _, r in part.iterrows():
            a, b = design.best(r["group_a"], r["scale"]), design.best(r["group_b"], r["scale"])
            fe = fl = fh = np.nan
            if a is not None and b is not None:
                na = design.population(r["group_a"]) or a["n"]
                nb = design.population(r["group_b"]) or b["n"]
                try:
                    t = ttest_from_summary(na, a["mean"], a["sd"], nb, b["mean"], b["sd"],
                                           equal_var=False).iloc[0]
                    fe, fl, fh = t["diff"], t["ci_low"], t["ci_high"]
                except ValueError:  # a printed SD of 0 or n < 2: no Welch interval
                    pass
            rope = r.get("rope", np.nan)
            recs.append({
                "label": f"{r['claim_id']} {_pair_label(r['group_a'], r['group_b'], lang)}",
                "claim_id": r["claim_id"], "scale": scale,
                "scale_label": scale_label(scale, lang), "group_a": r["group_a"],
                "group_a_label": group_label(r["group_a"], lang), "group_b": r["group_b"],
                "group_b_label": group_label(r["group_b"], lang),
                "paper_verdict": r["paper_verdict"], "model": r.get("bayes_model"),
                "bayes_estimate": r["bayes_estimate"], "bayes_ci_low": r["bayes_ci_low"],
                "bayes_ci_high": r["bayes_ci_high"], "conclusion": r.get("conclusion"),
                "welch_estimate": fe, "welch_ci_low": fl, "welch_ci_high": fh,
                "rope": rope, "band_low": -rope, "band_high": rope,
                "ok": bool(r["gates_passed"]), "data_source": r["data_source"]})
        blocks.append(_Block(scale_label(scale, lang), pd.DataFrame(recs), scale))
    series = [_Series("bayes_estimate", "bayes_ci_low", "bayes_ci_high", _t(lang, "bayes"),
                      POSTERIOR, "s", -0.9),
              _Series("welch_estimate", "welch_ci_low", "welch_ci_high", _t(lang, "freq"),
                      SUMMARY, "o", 0.9)]
    return _forest_pages(blocks, name="forest_claims", out=out, lang=lang,
                         source=_source(tested), xlabel=_t(lang, "difference"),
                         series=series, band_label=_t(lang, "rope"), label_mm=70.0)


@_styled
def cell_means_plot(cell_means: pd.DataFrame, out: Path, lang: str = "en",
                    diagnostics: pd.DataFrame | None = None) -> list[Path]:
    """Cell means per scale, rater group and sector: posterior vs published.

    The primary model's posterior mean with its 95% HDI, and the published mean with its
    95% t interval (from the printed n and SD).  Pages ``cell_means_<k>``.
    """
    if cell_means.empty:
        return []
    rows = cell_means[cell_means.get("gender", pd.Series(np.nan, index=cell_means.index))
                      .isna() & cell_means["sector"].isin(sector_codes())]
    primary = _primary(rows, diagnostics)
    rows = rows[rows["model"].eq(rows["scale"].map(primary))]
    if rows.empty:
        return []
    pub = _published_units()
    pub = pub[pub["partition"] == "sector"]
    roles = list(load_codebook().roles)
    blocks = []
    for scale in _scale_order(rows["scale"]):
        part = rows[rows["scale"] == scale]
        groups = part[["role", "target"]].drop_duplicates()
        groups = groups.iloc[sorted(range(len(groups)), key=lambda i: (
            roles.index(groups["role"].iloc[i]) if groups["role"].iloc[i] in roles else 9,
            str(groups["target"].iloc[i])))]
        for role, target in groups.itertuples(index=False):
            cell = part[(part["role"] == role) & (part["target"] == target)]
            cell = cell.iloc[sorted(range(len(cell)), key=lambda i: _sector_key(
                cell["sector"].iloc[i]))]
            published = []
            for sector in cell["sector"]:
                p = pub[(pub["scale"] == scale) & (pub["role"] == role)
                        & (pub["target"] == target) & (pub["sector"] == sector)]
                got = _pooled(p)
                if got is None or got[0] < 2:
                    published.append((np.nan, np.nan, np.nan, np.nan))
                    continue
                n, m, s = got
                half = stats.t.ppf(0.975, n - 1) * s / np.sqrt(n)
                published.append((n, m, m - half, m + half))
            head = f"{scale_label(scale, lang)}: {_group_words(role, target, lang)}"
            frame = cell.assign(
                label=[sector_label(s, lang) for s in cell["sector"]],
                scale_label=scale_label(scale, lang),
                group_label=_group_words(role, target, lang),
                sector_label=[sector_label(s, lang) for s in cell["sector"]],
                model_label=model_words(str(cell["model"].iloc[0]), lang),
                published_n=[p[0] for p in published],
                published_mean=[p[1] for p in published],
                published_ci_low=[p[2] for p in published],
                published_ci_high=[p[3] for p in published],
                ok=cell.get("gates_passed", pd.Series(True, index=cell.index)).astype(bool))
            keep = ["label", "scale", "scale_label", "role", "target", "group_label", "sector",
                    "sector_label", "model", "model_label", "n", "mean", "ci_low", "ci_high",
                    "published_n", "published_mean", "published_ci_low", "published_ci_high",
                    "ok", "data_source"]
            blocks.append(_Block(head, frame[[c for c in keep if c in frame]], scale))
    series = [_Series("mean", "ci_low", "ci_high", _t(lang, "posterior"), POSTERIOR, "s", -0.9),
              _Series("published_mean", "published_ci_low", "published_ci_high",
                      _t(lang, "published_ci"), SUMMARY, "o", 0.9)]
    return _forest_pages(blocks, name="cell_means", out=out, lang=lang, source=_source(rows),
                         xlabel=_t(lang, "score"), series=series, zero=False, label_mm=40.0)


def _xy(artist) -> np.ndarray:
    if isinstance(artist, Line2D):
        xy = artist.get_xydata()
    elif hasattr(artist, "get_offsets") and len(artist.get_offsets()):
        xy = artist.get_offsets()
    elif hasattr(artist, "get_segments") and artist.get_segments():
        xy = np.concatenate(artist.get_segments())
    else:
        xy = np.empty((0, 2))
    return np.asarray(xy, dtype=float).reshape(-1, 2)


def _look(artist) -> tuple:
    colour = artist.get_color() if isinstance(artist, Line2D) else None
    return type(artist).__name__, str(colour), artist.get_label().startswith("_")


def _drawn(pc, skip=("figure", "plot", "row_index", "col_index", "title", "xlabel",
                     "ylabel", "remove_axis", "grid")) -> pd.DataFrame:
    """Return the coordinates of every line and marker set on an ArviZ figure (tidy).

    What each artist shows (``element``) comes from the plot collection; ArviZ keeps
    only one of some repeated artists (the rootogram's intervals, one per answer), so
    the others are read from the axes and named after a kept artist of the same look.
    """
    known: dict[int, tuple] = {}
    for group in pc.viz.children:
        if group in skip:
            continue
        ds = pc.viz[group].to_dataset()
        for var in ds.data_vars:
            arr = ds[var]
            for index in np.ndindex(*arr.shape):
                one = arr[index] if index else arr
                coords = {d: one[d].item() for d in one.coords
                          if d != "sample" and np.ndim(one[d].values) == 0}
                known[id(one.item())] = (one.item(), group, var, coords)
    rows = []
    for ax in pc.viz["figure"].item().axes:
        for artist in [*ax.lines, *ax.collections]:
            found = known.get(id(artist))
            if found is None:
                found = next(((artist, g, v, {}) for a, g, v, _ in known.values()
                              if _look(a) == _look(artist)), None)
            if found is None:
                continue
            _, group, var, coords = found
            rows += [{"element": group, "variable": var, **coords, "x": x, "y": y}
                     for x, y in _xy(artist)]
    return pd.DataFrame(rows)


@_styled
def ppc_figures(diagnostics: pd.DataFrame, out: Path, lang: str = "en") -> list[Path]:
    """Posterior predictive checks drawn by ArviZ from each primary respondent fit.

    Reads each fit's stored ``fit.nc`` (its ``fit_folder`` in ``diagnostics.csv``):
    ordinal models get a rootogram (``arviz.plot_ppc_rootogram``) of the answers, metric
    models the observed against 50 replicated score distributions
    (``arviz.plot_ppc_dist``).  One single-column figure per model, ``ppc_<model>``; its
    CSV holds the drawn curves and points.
    """
    import arviz as az
    import xarray as xr

    if diagnostics.empty or "fit_folder" not in diagnostics:
        return []
    paths = []
    for _, row in diagnostics[~_variant(diagnostics)].sort_values("model").iterrows():
        nc = Path(str(row["fit_folder"])) / "fit.nc"
        if row["family"] == "summary_normal" or not nc.is_file():
            continue
        ordinal = str(row["family"]).startswith("cumulative")
        with xr.open_datatree(nc, engine="netcdf4") as dt:
            tree = xr.DataTree.from_dict({g: dt[g].to_dataset().load() for g in (
                "posterior_predictive", "observed_data")})
        var = "value" if ordinal else "score"
        source = str(row["data_source"])
        height = 62 + footnote_height_mm(SINGLE_MM, source, lang)
        with journal_style():
            kwargs = {"backend": "matplotlib", "var_names": [var],
                      "figure_kwargs": {"figsize": figure_size("single", height),
                                        "layout": "constrained"}}
            if ordinal:
                pc = az.plot_ppc_rootogram(tree, ci_prob=0.95, visuals={
                    "predictive_markers": {"color": OKABE_ITO[4]},
                    "credible_interval": {"color": OKABE_ITO[1]},
                    "observed_markers": {"color": "black"}}, **kwargs)
            else:
                pc = az.plot_ppc_dist(tree, num_samples=50, visuals={
                    "predictive_dist": {"color": OKABE_ITO[1], "alpha": 0.35, "lw": 0.6},
                    "observed_dist": {"color": "black", "lw": 1.2}}, **kwargs)
            fig = pc.viz["figure"].item()
            ax = fig.axes[0]
            words = model_words(str(row["model"]), lang, family=str(row["family"]))
            ax.set_title(wrap_text(f"{words}: {_t(lang, 'observed')} {_t(lang, 'vs')} "
                               f"{_t(lang, 'replicated')}", SINGLE_MM - 8, size=8), fontsize=8)
            if ordinal:
                # Bambi codes the answers 0-4; the questionnaire's are 1-5
                ax.set_xticks(range(5), [str(k) for k in range(1, 6)])
                ax.set_xlabel(_t(lang, "answer"))
                ax.set_ylabel(_t(lang, "frequency"))
                handles = [Line2D([], [], color="black", marker="o", ms=3, lw=0),
                           Line2D([], [], color=OKABE_ITO[4], marker="D", ms=3, lw=1.2,
                                  mec=OKABE_ITO[4])]
                entries = [_t(lang, "observed"), _t(lang, "replicated_ci")]
            else:
                ax.set_xlabel(_t(lang, "score"))
                ax.set_ylabel(_t(lang, "density"))
                handles = [Line2D([], [], color="black", lw=1.2),
                           Line2D([], [], color=OKABE_ITO[1], lw=0.8)]
                entries = [_t(lang, "observed"), _t(lang, "replicated_draws")]
            ax.legend(handles, entries, loc="upper left")
            drawn = _drawn(pc)
            restyle(fig)
            add_footnote(fig, source, lang)
        data = drawn.assign(model=row["model"], model_label=words,
                            series=drawn["element"].map(lambda e: _t(
                                lang, "observed" if e.startswith("observed") else
                                "replicated")),
                            data_source=source)
        for column in ("chain", "draw"):
            if column in data:
                data[column] = data[column].astype("Int64")
        if ordinal:
            data["answer"] = data["x"] + 1
        paths.append(save(fig, out, f"ppc_{row['model']}", data))
    return paths


@_styled
def rope_sensitivity_plot(curve: pd.DataFrame, out: Path, lang: str = "en",
                          diagnostics: pd.DataFrame | None = None) -> list[Path]:
    """P(ROPE) of each between-group gap against the ROPE half-width (in pooled SDs).

    Primary models only; one panel per gap, one line per sector; the dashed line is the
    .95 the equivalence rule would need (the HDI inside the ROPE, roughly).  Three panels
    a row, pages ``rope_sensitivity_<k>``.
    """
    if curve.empty:
        return []
    curve = curve[~_variant(curve)]
    primary = _primary(curve, diagnostics) if curve["data_source"].ne("published").any() \
        else {}
    if primary:
        curve = curve[curve["model"].eq(curve["scale"].map(primary))]
    else:  # only the published-cells model: one model per gap, the first by name
        curve = curve[curve["model"] == curve.groupby("contrast")["model"].transform("min")]
    if curve.empty:
        return []
    order = {s: i for i, s in enumerate(_scale_order(curve["scale"]))}
    panels = sorted(curve["contrast"].unique(), key=lambda c: (
        order.get(curve.loc[curve["contrast"] == c, "scale"].iloc[0], 99), c))
    cols, panel_mm = 3, 34.0
    source = _source(curve)
    sectors = sorted(curve["sector"].unique(), key=_sector_key)
    colour = {s: OKABE_ITO[(7, 4, 0, 2, 5, 6)[i % 6]] for i, s in enumerate(sectors)}
    entries = [sector_label(s, lang) for s in sectors]
    legend_rows, legend_cols = _legend_rows(entries, DOUBLE_MM)
    fixed = footnote_height_mm(DOUBLE_MM, source, lang) + 2 * _XAXIS_MM + \
        legend_rows * _LEGEND_ROW_MM + 2 * _PAD_MM
    per_page = max(1, int((MAX_HEIGHT_MM - fixed) // panel_mm)) * cols
    pages = [panels[i:i + per_page] for i in range(0, len(panels), per_page)]
    paths = []
    for k, page in enumerate(pages, start=1):
        n_rows = int(np.ceil(len(page) / cols))
        fig, axes = plt.subplots(n_rows, cols, squeeze=False, sharey=True, sharex=True,
                                 figsize=figure_size("double", n_rows * panel_mm + fixed))
        records = []
        for ax, name in zip(axes.ravel(), page, strict=False):
            part = curve[curve["contrast"] == name]
            for sector, line in part.groupby("sector", sort=False):
                line = line.sort_values("rope_sd")
                ax.plot(line["rope_sd"], line["p_rope"], marker="o", ms=2.5,
                        color=colour[sector])
                records.append(line.assign(
                    contrast_label=contrast_label(name, sector, lang),
                    scale_label=scale_label(str(line["scale"].iloc[0]), lang),
                    sector_label=sector_label(sector, lang),
                    model_label=model_words(str(line["model"].iloc[0]), lang), page=k))
            ax.axhline(0.95, color="#777777", lw=0.6, ls="--")
            ax.set_title(wrap_text(contrast_label(name, None, lang), DOUBLE_MM / cols - 6),
                         fontsize=MIN_FONT_PT)
            ax.set_ylim(0, 1)
        for ax in axes.ravel()[len(page):]:
            ax.axis("off")
        # axis labels on the axes themselves: constrained layout keeps them clear of the
        # footnote band (a figure-level supxlabel is not)
        for j in range(cols):
            used = [i for i in range(n_rows) if i * cols + j < len(page)]
            if used:
                axes[used[-1], j].xaxis.set_tick_params(labelbottom=True)
                axes[used[-1], j].set_xlabel(wrap_text(_t(lang, "rope_width"),
                                                   DOUBLE_MM / cols - 8))
        for i in range(n_rows):
            axes[i, 0].set_ylabel(_t(lang, "p_rope"))
        handles = [Line2D([], [], color=colour[s], marker="o", ms=2.5) for s in sectors]
        fig.legend(handles, entries, loc="outside upper center", ncols=legend_cols)
        add_footnote(fig, source, lang)
        stem = f"rope_sensitivity_{k}"
        data = pd.concat(records, ignore_index=True).assign(figure=stem)
        paths.append(save(fig, out, stem, data))
    _drop_stale_pages(out, "rope_sensitivity", len(pages))
    return paths


@_styled
def scale_difference_plot(contrasts: pd.DataFrame, out: Path, lang: str = "en") -> Path | None:
    """Draw a within-person scale difference per sector: each model and published.

    The contrast ``<a>_minus_<b>`` (a scale_difference family of the catalogue: one group's
    scale A minus scale B) is saved as ``scale_difference_<a>_<b>``.
    """
    paired = contrasts["contrast"].astype(str).str.fullmatch(r"[a-z]+_minus_[a-z]+")
    part = contrasts[paired & ~_variant(contrasts)
                     & contrasts.get("estimand", pd.Series("descriptive", index=contrasts.index))
                     .eq("descriptive")]
    if part.empty:
        return None
    name = str(part["contrast"].iloc[0])
    part = part[part["contrast"] == name]
    stem = "scale_difference_" + name.replace("_minus_", "_")
    summary = _summary_contrasts(str(part["scale"].iloc[0]))
    order = ["all", *sector_codes()]
    source = _source(part)
    models = sorted(part["model"].unique())
    entries = [f"{model_words(m, lang)} ({part.loc[part['model'] == m, 'data_source'].iloc[0]})"
               for m in models] + [_t(lang, "published")]
    entries = [wrap_text(e, SINGLE_MM - 14) for e in entries]
    legend_mm = sum(_lines(e) for e in entries) * _LINE_MM + 2
    height = 48 + legend_mm + footnote_height_mm(SINGLE_MM, source, lang) + _XAXIS_MM
    records = []
    with journal_style():
        fig, ax = plt.subplots(figsize=figure_size("single", height))
        handles = []
        for k, model in enumerate(models):
            rows = part[part["model"] == model].set_index("sector").reindex(order)
            x = np.arange(len(order)) + (k - 0.5) * 0.22
            handles.append(ax.errorbar(
                x, rows["estimate"], yerr=[(rows["estimate"] - rows["ci_low"]).clip(lower=0),
                                           (rows["ci_high"] - rows["estimate"]).clip(lower=0)],
                fmt="s", ms=3, lw=1, color=OKABE_ITO[(4, 2, 6)[k % 3]]))
            for sector, r in rows.iterrows():
                if pd.notna(r["estimate"]):
                    records.append({"series": model_words(model, lang), "model": model,
                                    "contrast": name, "sector": sector,
                                    "sector_label": sector_label(sector, lang),
                                    "estimate": r["estimate"], "ci_low": r["ci_low"],
                                    "ci_high": r["ci_high"], "data_source": r["data_source"]})
        published = [summary.get((name, s), (np.nan,))[0] for s in order]
        handles.append(ax.plot(np.arange(len(order)) + 0.4, published, "D", ms=3,
                               color=SUMMARY, ls="none")[0])
        for sector, value in zip(order, published, strict=True):
            records.append({"series": _t(lang, "published"), "model": "", "contrast": name,
                            "sector": sector, "sector_label": sector_label(sector, lang),
                            "estimate": value, "ci_low": np.nan, "ci_high": np.nan,
                            "data_source": "published"})
        ax.axhline(0, color="#777777", lw=0.6)
        ax.set_xticks(range(len(order)), [wrap_text(sector_label(s, lang), 18) for s in order])
        ax.set_ylabel(wrap_text(contrast_label(name, None, lang).split(" (")[0], 40))
        fig.legend(handles, entries, loc="outside upper center", ncols=1)
        add_footnote(fig, source, lang)
        data = pd.DataFrame(records).assign(contrast_label=contrast_label(name, None, lang))
        return save(fig, out, stem, data)


@_styled
def reliability_plot(reliability: pd.DataFrame, out: Path, lang: str = "en") -> list[Path]:
    """Cronbach's alpha with 95% CI per scale and rater group, the report's range shaded."""
    part = reliability[reliability["sector"] == "all"].dropna(subset=["alpha"])
    if part.empty:
        return []
    blocks = []
    for scale in _scale_order(part["scale"]):
        rows = part[part["scale"] == scale]
        frame = rows.assign(
            label=[_group_words(r, t, lang) for r, t in zip(rows["role"], rows["target"],
                                                            strict=True)],
            scale_label=scale_label(scale, lang),
            group_label=[_group_words(r, t, lang) for r, t in zip(rows["role"],
                                                                  rows["target"],
                                                                  strict=True)],
            band_low=rows["reported_low"], band_high=rows["reported_high"] + 1e-3)
        blocks.append(_Block(scale_label(scale, lang), frame.drop(columns=["sector"]), scale))
    series = [_Series("alpha", "alpha_ci_low", "alpha_ci_high", _t(lang, "alpha") + ", 95% CI",
                      POSTERIOR, "o", 0.0)]
    return _forest_pages(blocks, name="reliability", out=out, lang=lang, source=_source(part),
                         xlabel=_t(lang, "alpha"), series=series,
                         band_label=_t(lang, "reported"), zero=False, width="single",
                         label_mm=40.0)


@_styled
def multiverse_grid(universes: pd.DataFrame, claims: pd.DataFrame, out: Path,
                    lang: str = "en") -> list[Path]:
    """Claims x universes: the Bayesian conclusion of every claim pair in every variant.

    One panel per scale; pages ``multiverse_grid_<k>``.
    """
    tested = claims[claims["conclusion"].fillna("").ne("")].drop_duplicates(
        ["claim_id", "group_a", "group_b"])
    if tested.empty or universes.empty:
        return []
    tested = tested.assign(group_b=tested["group_b"].fillna(""))
    u = universes.assign(group_b=universes["group_b"].fillna(""))
    order = ["primary (Gaussian)", "Student-t", "one residual SD", "no pooling of cells",
             "priors x 0.5", "priors x 2", "ordinal logit", "ordinal probit",
             "summary statistics"]
    cols = [c for c in order if c in set(u["universe"])] + sorted(
        set(u["universe"]) - set(order))
    col_words = [wrap_text(_universe_words(c, lang), 30) for c in cols]
    colour = {"higher": OKABE_ITO[4], "lower": OKABE_ITO[5], "equivalent": OKABE_ITO[2],
              "undecided": "#DDDDDD"}
    cell_w = 5.5  # mm per universe column
    label_mm = DOUBLE_MM - 8 - (len(cols) + 2) * cell_w - 4
    blocks = []
    for scale in _scale_order(tested["scale"]):
        part = tested[tested["scale"] == scale]
        frame = part.assign(label=[
            wrap_text(f"{r['claim_id']} {_pair_label(r['group_a'], r['group_b'], lang)}"
                  if r["group_b"] else f"{r['claim_id']} {group_label(r['group_a'], lang)}",
                  label_mm) for _, r in part.iterrows()])
        blocks.append(_Block(scale_label(scale, lang), frame, scale))
    entries = [_t(lang, k) for k in colour] + [_t(lang, "gates") + " (x)"]
    legend_rows, legend_cols = _legend_rows(entries, DOUBLE_MM)
    head_mm = max(_text_mm(line) for w in col_words for line in w.split("\n")) + 3
    foot = footnote_height_mm(DOUBLE_MM, source := _source(tested), lang)
    fixed = foot + head_mm + (legend_rows + 1) * _LEGEND_ROW_MM + 2 * _PAD_MM + 4
    pages = _paginate(blocks, MAX_HEIGHT_MM - fixed - 4)
    paths = []
    for k, page in enumerate(pages, start=1):
        content = sum(b.height() for b in page)
        fig, ax = plt.subplots(figsize=figure_size("double", min(MAX_HEIGHT_MM,
                                                                 content + fixed + 2)))
        mixed = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
        ticks, tick_labels, records = [], [], []
        y = 0.0
        for block in page:
            ax.text(0.0, y + 0.5, block.header, transform=mixed, ha="left", va="top",
                    fontweight="bold", fontsize=MIN_FONT_PT)
            y += _lines(block.header) * _LINE_MM + 1.0
            for (_, r), h in zip(block.rows.iterrows(), block.heights, strict=True):
                mine = u[(u["claim_id"] == r["claim_id"]) & (u["group_b"] == r["group_b"])]
                for j, col in enumerate(cols):
                    cell = mine[mine["universe"] == col]
                    if cell.empty:
                        continue
                    c = cell.iloc[0]
                    ok = bool(c["gates_passed"])
                    ax.add_patch(plt.Rectangle((j + 0.04, y + 0.3), 0.92, h - 0.6, lw=0,
                                               color=colour.get(c["conclusion"], "white"),
                                               alpha=1.0 if ok else 0.35))
                    if not ok:
                        ax.text(j + 0.5, y + h / 2, "x", ha="center", va="center",
                                fontsize=MIN_FONT_PT)
                    records.append({
                        "page": k, "claim_id": r["claim_id"], "scale": r["scale"],
                        "scale_label": block.header, "group_a": r["group_a"],
                        "group_b": r["group_b"], "row_label": r["label"].replace("\n", " "),
                        "universe": col, "universe_label": col_words[j].replace("\n", " "),
                        "model": c.get("model"), "conclusion": c["conclusion"],
                        "gates_passed": ok, "loo_rejected": c.get("loo_rejected"),
                        "robustness": r.get("robustness"), "robust": r.get("robust"),
                        "data_source": c.get("data_source", r["data_source"])})
                share = r.get("robustness")
                ax.text(len(cols) + 0.2, y + h / 2, "" if pd.isna(share) else f"{share:.0%}",
                        va="center", fontsize=MIN_FONT_PT,
                        color=OKABE_ITO[5] if r.get("robust") == "fragile" else "black")
                ticks.append(y + h / 2)
                tick_labels.append(r["label"])
                y += h
        ax.set_xlim(0, len(cols) + 1.6)
        ax.set_ylim(y, 0)
        ax.set_xticks(np.arange(len(cols)) + 0.5, col_words, rotation=90, ha="center",
                      va="bottom")
        ax.xaxis.tick_top()
        ax.set_yticks(ticks, tick_labels)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        handles = [Patch(color=v, lw=0) for v in colour.values()]
        handles.append(Patch(color="#DDDDDD", alpha=0.35, lw=0))
        fig.legend(handles, entries, loc="outside upper center", ncols=legend_cols,
                   title=_t(lang, "robustness"))
        add_footnote(fig, source, lang)
        stem = f"multiverse_grid_{k}"
        paths.append(save(fig, out, stem, pd.DataFrame(records).assign(figure=stem)))
    _drop_stale_pages(out, "multiverse_grid", len(pages))
    return paths


def all_figures(tables: Path, out: Path, lang: str = "en") -> list[Path]:
    """Draw every figure from the tables folder of a run; return the PNG paths."""
    def read(name: str) -> pd.DataFrame:
        path = tables / name
        return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()

    diag = read("diagnostics.csv")
    claims = read("claims.csv")
    contrasts = read("contrasts.csv")
    with journal_style():
        made = [
            *(forest_contrasts(contrasts, out, lang, diag) if len(contrasts) else []),
            *(forest_claims(claims, out, lang) if len(claims) else []),
            *(cell_means_plot(read("posterior_cell_means.csv"), out, lang, diag)
              if len(read("posterior_cell_means.csv")) else []),
            *ppc_figures(diag, out, lang),
            *rope_sensitivity_plot(read("rope_sensitivity.csv"), out, lang, diag),
            scale_difference_plot(contrasts, out, lang) if len(contrasts) else None,
            *(reliability_plot(read("reliability.csv"), out, lang)
              if len(read("reliability.csv")) else []),
            *(multiverse_grid(read("multiverse.csv"), claims, out, lang)
              if len(claims) and "robustness" in claims else []),
        ]
    return [p for p in made if p is not None]


def figure_pages(figures: list[Path], name: str) -> list[Path]:
    """Return the pages of one figure from a list of figure paths, in page order.

    ``figure_pages(all_figures(...), "forest_claims")`` -> ``forest_claims_1.png``,
    ``forest_claims_2.png``, ...; a figure of one file (``scale_difference_<a>_<b>``) is its own
    page.  The report embeds figures this way.
    """
    found = [(0, p) for p in figures if p.stem == name]
    for p in figures:
        k = p.stem.removeprefix(f"{name}_")
        if k != p.stem and k.isdigit():
            found.append((int(k), p))
    return [p for _, p in sorted(found)]
