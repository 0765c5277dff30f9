"""Tables for the template: every row formatted for reading, in pages, with its count."""

import math

import pandas as pd

from triad.report.formatting import as_float, fmt_bf, fmt_ci, fmt_est, fmt_num, fmt_p, fmt_pct
from triad.report.texts import HEADERS, PAGE_ROWS, TEXT
from triad.report.words import contrast_words, in_words, scale_words, sector_words


def as_text(value) -> str:
    """Return ``value`` as text, blank when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _bool(value, lang: str) -> str:
    if isinstance(value, str):
        value = {"true": True, "false": False}.get(value.strip().lower(), value)
    if isinstance(value, bool):
        return TEXT[lang]["yes"] if value else TEXT[lang]["no"]
    return as_text(value)


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
        return [f"{fmt_num(x)} / {fmt_num(y)}" if as_float(x) is not None else ""
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
        return [fmt_bf(v) for v in values], True
    if kind == "pct":
        return [fmt_pct(v) for v in values], True
    if kind in ("rhat", "num3"):
        return [f"{x:.3f}" if (x := as_float(v)) is not None else "" for v in values], True
    if kind == "code":  # a code such as implied_significant, in words
        return [as_text(v).replace("_", " ") for v in values], False
    if kind == "scale":
        return [scale_words(v, lang) if isinstance(v, str) and v else "" for v in values], False
    if kind == "sector":
        return [sector_words(v, lang) if isinstance(v, str) and v else "" for v in values], False
    if kind == "contrast":
        sectors = frame["sector"].tolist() if "sector" in frame else [None] * len(frame)
        return [contrast_words(v, s if isinstance(s, str) and s else None, lang)
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
