"""Predictive checks per cell, and the prior predictive shown against the data.

Every inference of triad is about a cell (raters about a target group in one sector), so
the posterior predictive check is made per cell too: for each cell and statistic (mean,
SD, share of the top answer) the observed value is compared with its distribution over
the replicated data sets of the stored ``posterior_predictive`` group, with a posterior
predictive p-value.  :func:`ppc_cell_table` computes the table from a fit's DataTree
alone (a stored ``fit.nc`` suffices); :func:`ppc_cells_figure` draws it and
:func:`prior_predictive_figure` plots the stored ``prior_predictive`` draws against the
observed distribution.  :func:`predictive_figures` draws all of them for a run.

The table, and the rules it follows, are :mod:`triad.ppc_table`'s; its names are
importable from here too.
"""

import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from triad.atomic import write_text
from triad.ppc_table import (
    CI_PROB,
    P_FLAG,
    PPC_CELL_COLUMNS,
    STATISTICS,
    mid_p_value,
    ppc_cell_table,
    top_answer,
)

__all__ = ["CI_PROB", "PPC_CELL_COLUMNS", "P_FLAG", "STATISTICS", "mid_p_value",
           "ppc_cell_table", "ppc_cells_figure", "predictive_figures",
           "prior_predictive_figure"]

# Rows per figure page: at 4.2 mm a row (6.6 mm for names on two lines) plus header and
# footnote the page stays under the 225 mm a journal page allows (MAX_HEIGHT_MM).
_MAX_ROWS = 28
_ROW_MM = 4.2
_ROW_MM_TWO_LINES = 6.6
_LABEL_CHARS = 48
_EXTRA_MM = 34.0
# Bumped when the drawing changes: the figures are redrawn although their inputs are not.
_DRAWING_VERSION = 1

_WORDS = {
    "en": {"mean": "Mean", "sd": "SD", "top_share": "Share of top answer",
           "top_share_score": "Share of scores \u2265 {cut:g}",
           "observed": "observed", "replicated": "replicated (95% interval)",
           "flagged": "flagged: p < 0.025 or p > 0.975",
           "ppc_title": "{model}: observed vs posterior predictive, per cell",
           "prior_title": "{model}: prior predictive ECDFs (50 draws, thin) vs observed "
                          "(thick); x axis: central 98% of the prior predictive",
           "suppressed": "suppressed (n < min. cell)",
           "synthetic": "SYNTHETIC data reconstructed from the published tables - not "
                        "findings about the study.",
           "data": "Data: {source}.", "answer": "Answer",
           "prior_title_ordinal": "{model}: prior predictive (bars: 90% interval) vs "
                                  "observed (black)",
           "var_score": "Scale score", "var_value": "Item answers",
           "var_cell_mean": "Cell mean", "var_cell_var": "Cell variance (SD squared)"},
    "nl": {"mean": "Gemiddelde", "sd": "SD", "top_share": "Aandeel hoogste antwoord",
           "top_share_score": "Aandeel scores \u2265 {cut:g}",
           "observed": "geobserveerd", "replicated": "gerepliceerd (95%-interval)",
           "flagged": "gemarkeerd: p < 0,025 of p > 0,975",
           "ppc_title": "{model}: geobserveerd vs posterieur voorspeld, per cel",
           "prior_title": "{model}: ECDF's van de prior-voorspelling (50 trekkingen, dun) vs "
                          "geobserveerd (dik); x-as: centrale 98% van de prior-voorspelling",
           "suppressed": "onderdrukt (n < min. cel)",
           "synthetic": "SYNTHETISCHE data, gereconstrueerd uit de gepubliceerde tabellen - "
                        "geen bevindingen over het onderzoek.",
           "data": "Data: {source}.", "answer": "Antwoord",
           "prior_title_ordinal": "{model}: prior-voorspelling (balken: 90%-interval)"
                                  " vs geobserveerd (zwart)",
           "var_score": "Schaalscore", "var_value": "Itemantwoorden",
           "var_cell_mean": "Celgemiddelde", "var_cell_var": "Celvariantie (SD kwadraat)"},
}
_OBSERVED_COLOUR = "#000000"
_REPLICATED_COLOUR = "#56B4E9"
_FLAG_COLOUR = "#D55E00"


# --------------------------------------------------------------------------- figures


def _w(lang: str, key: str) -> str:
    return _WORDS.get(lang, _WORDS["en"]).get(key, key)


def _footnote(fig, source: str, lang: str) -> None:
    synthetic = source == "synthetic"
    text = _w(lang, "synthetic") if synthetic else _w(lang, "data").format(source=source)
    # 1 mm above the bottom edge
    fig.text(0.01, 1.0 / (fig.get_figheight() * 25.4), text, ha="left", va="bottom", fontsize=7,
        color=_FLAG_COLOUR if synthetic else "black",
        fontweight="bold" if synthetic else "normal")


def _as_flag(values: pd.Series) -> pd.Series:
    """Return ``flagged`` as booleans (the small-cell guard leaves 1.0/0.0, NaN if blanked)."""
    return values.astype(str).str.strip().str.lower().isin(["true", "1", "1.0"])


def _row_label(row: pd.Series, several_scales: bool, lang: str) -> str:
    from triad.labels import group_label, scale_label

    text = group_label(str(row["group"]), lang)
    text = f"{scale_label(str(row['scale']), lang)}: {text}" if several_scales else text
    # long names on two lines: the panels keep most of the 174 mm
    return textwrap.fill(text, _LABEL_CHARS, break_long_words=False)


def _cell_order(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells by scale (codebook order), rater>target (table order), gender, sector."""
    from triad.codebook import aggregate_of, load_codebook, sector_codes

    book = load_codebook()
    scales = list(book.scales)
    sectors = sector_codes()
    # raters about targets in the codebook's order of instruments (a pooled rater group
    # once, as it is modelled)
    groups = list(dict.fromkeys(f"{aggregate_of(role)}>{inst['target']}"
                                for inst in book.instruments for role in inst["roles"]))

    def key(row: pd.Series) -> tuple:
        pair, rest = str(row["group"]).split("@", 1)
        sector, _, gender = rest.partition("#")
        return (scales.index(row["scale"]) if row["scale"] in scales else len(scales),
                groups.index(pair) if pair in groups else len(groups), pair,
                gender, sectors.index(sector) if sector in sectors else -1, sector)

    order = sorted(range(len(cells)), key=lambda i: key(cells.iloc[i]))
    return cells.iloc[order].reset_index(drop=True)


def _pages(table: pd.DataFrame) -> list[list[str]]:
    """Scales packed into pages of at most :data:`_MAX_ROWS` cells (a scale stays whole)."""
    sizes = table.groupby("scale", sort=False)["group"].nunique()
    order = _cell_order(table.drop_duplicates(["scale", "group"])[["scale", "group"]])
    pages, current, count = [], [], 0
    for scale in dict.fromkeys(order["scale"]):
        size = sizes[scale]
        if current and count + size > _MAX_ROWS:
            pages.append(current)
            current, count = [], 0
        current.append(scale)
        count += size
    return pages + ([current] if current else [])


def ppc_cells_figure(table: pd.DataFrame, out: Path, lang: str = "en") -> list[Path]:
    """Draw one model's per-cell posterior predictive checks: ``ppc_cells_<model>``.

    One row per cell (named in words), one panel per statistic: the replicated 95%
    interval with its mean and the observed value; flagged statistics in vermillion
    with their cell's name.  A model with more cells than fit a page is split into
    ``ppc_cells_<model>_2``, ... (whole scales per page).  Beside each figure its data
    (``<name>.csv``).

    Parameters
    ----------
    table : DataFrame
        Rows of :func:`ppc_cell_table` (or ``ppc_cells.csv``) for one model.
    out : Path
        Folder of the figure files.
    lang : {"en", "nl"}

    Returns
    -------
    list of Path
        The PNG of every page.
    """
    import matplotlib

    matplotlib.use("Agg")  # headless: figures are files, never windows
    import matplotlib.pyplot as plt

    from triad.figures import save
    from triad.labels import scale_label
    from triad.style import figure_size, journal_style

    if table.empty:
        return []
    model = str(table["model"].iloc[0])
    source = str(table["data_source"].iloc[0])
    several = table["scale"].nunique() > 1
    stats = [s for s in STATISTICS if s in set(table["statistic"])]
    ordinal = model.startswith("ordinal")
    paths = []
    for page, scales in enumerate(_pages(table), start=1):
        part = table[table["scale"].isin(scales)].copy()
        # booleans before the merge: merge renumbers the rows, so a column assigned from
        # the unmerged frame would align on the old index and come back partly NaN
        part["flagged"] = _as_flag(part["flagged"])
        cells = _cell_order(part.drop_duplicates(["scale", "group"])[["scale", "group"]])
        cells = cells.assign(label=[_row_label(r, several, lang) for _, r in cells.iterrows()])
        part = part.merge(cells, on=["scale", "group"], how="left")
        row_mm = _ROW_MM_TWO_LINES if cells["label"].str.contains("\n").any() else _ROW_MM
        height = min(_EXTRA_MM + row_mm * len(cells), 225.0)
        y = {(r.scale, r.group): len(cells) - 1 - i for i, r in enumerate(cells.itertuples())}
        with journal_style():
            fig, axes = plt.subplots(1, len(stats), sharey=True, squeeze=False,
                                     figsize=figure_size("double", height))
            for ax, stat in zip(axes[0], stats, strict=True):
                rows = part[part["statistic"] == stat]
                for r in rows.itertuples():
                    yi = y[(r.scale, r.group)]
                    if pd.isna(r.observed):  # suppressed small cell: nothing to draw
                        continue
                    ax.plot([r.rep_low, r.rep_high], [yi, yi], color=_REPLICATED_COLOUR,
                            lw=2.2, solid_capstyle="butt")
                    ax.plot(r.rep_mean, yi, "|", color="#0072B2", ms=5)
                    flagged = bool(r.flagged)
                    ax.plot(r.observed, yi, "D" if flagged else "o",
                            color=_FLAG_COLOUR if flagged else _OBSERVED_COLOUR,
                            ms=4 if flagged else 3, zorder=3)
                label = _w(lang, stat)
                if stat == "top_share" and not ordinal:
                    label = _w(lang, "top_share_score").format(
                        cut=top_answer(str(rows["scale"].iloc[0])) - 0.5)
                ax.set_xlabel(label)
                ax.grid(axis="y", color="#EEEEEE", lw=0.5)
                ax.set_ylim(-0.7, len(cells) - 0.3)
            flagged_cells = set(part.loc[part["flagged"], "label"])
            suppressed = set(part.loc[part["observed"].isna(), "label"])
            ticks = [f"{lab} ({_w(lang, 'suppressed')})" if lab in suppressed else lab
                     for lab in cells["label"]]
            axes[0][0].set_yticks([y[(r.scale, r.group)] for r in cells.itertuples()], ticks)
            for tick, lab in zip(axes[0][0].get_yticklabels(), cells["label"], strict=True):
                if lab in flagged_cells:
                    tick.set_color(_FLAG_COLOUR)
                    tick.set_fontweight("bold")
            handles = [plt.Line2D([], [], color=_REPLICATED_COLOUR, lw=2.2),
                       plt.Line2D([], [], marker="o", ls="", color=_OBSERVED_COLOUR, ms=3),
                       plt.Line2D([], [], marker="D", ls="", color=_FLAG_COLOUR, ms=4)]
            # legend and footnote below the panels, placed in mm and kept out of the
            # constrained layout (an 'outside' legend would overlap the footnote)
            legend = fig.legend(handles, [_w(lang, "replicated"), _w(lang, "observed"),
                                          _w(lang, "flagged")], loc="lower center", ncols=3,
                                bbox_to_anchor=(0.5, 5.0 / height))
            legend.set_in_layout(False)
            scales = ", ".join(scale_label(str(s), lang) for s in dict.fromkeys(
                part["scale"]))
            fig.suptitle(_w(lang, "ppc_title").format(model=f"{model} ({scales})"),
                         fontsize=8)
            _footnote(fig, source, lang)
            fig.get_layout_engine().set(rect=(0, 11.0 / height, 1, 1 - 11.0 / height))
            name = f"ppc_cells_{model}" + (f"_{page}" if page > 1 else "")
            drawn = part.drop(columns=["label"]).assign(label=part["label"])
            paths.append(save(fig, out, name, drawn))
    return paths


def prior_predictive_figure(tree: xr.DataTree, model: str, out: Path, lang: str = "en",
                            source: str = "", num_samples: int = 50) -> Path | None:
    """Prior predictive draws against the observed distribution: ``prior_<model>``.

    ArviZ draws it: item answers as a rootogram (``plot_ppc_rootogram``), scale scores
    and summary statistics as densities of ``num_samples`` prior predictive data sets
    (``plot_ppc_dist``), both with ``group="prior_predictive"`` and the observed data.
    Beside it ``prior_<model>.csv``: per variable the observed and prior predictive
    distribution (shares per answer, or quantiles and the share inside the answer range).

    Parameters
    ----------
    tree : DataTree
        With ``prior_predictive`` and ``observed_data`` (a stored ``fit.nc``).
    model, source : str
        The model's name and the data source (footnote).
    """
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    from triad.figures import save
    from triad.style import figure_size, journal_style

    if any(g not in tree.children for g in ("prior_predictive", "observed_data")):
        return None
    prior = tree["prior_predictive"].to_dataset()
    names = [v for v in prior.data_vars if v in tree["observed_data"].to_dataset()]
    if not names:
        return None
    sub = xr.DataTree.from_dict({"prior_predictive": prior[names],
                                 "observed_data": tree["observed_data"].to_dataset()[names]})
    ordinal = all(np.issubdtype(prior[v].dtype, np.integer) for v in names)
    with journal_style():
        kwargs = {"backend": "matplotlib", "var_names": names, "group": "prior_predictive",
                  "figure_kwargs": {"figsize": figure_size("double", 70),
                                    "layout": "constrained"}}
        if ordinal:
            pc = az.plot_ppc_rootogram(sub, ci_prob=0.9, visuals={"observed_markers": {
                "color": _OBSERVED_COLOUR}}, **kwargs)
        else:
            # ECDFs, not densities: a Student-t prior predictive reaches thousands of
            # scale points, and a KDE on that range would blur the 1-5 data to a spike
            pc = az.plot_ppc_dist(sub, num_samples=num_samples, kind="ecdf",
                                  visuals={"observed_dist": {"color": _OBSERVED_COLOUR,
                                                             "linewidth": 1.6}},
                                  **kwargs)
        fig = pc.viz["figure"].item()
        for ax in fig.axes:
            ax.tick_params(labelsize=7)
            var = ax.get_title()
            ax.set_title(_w(lang, f"var_{var}") if f"var_{var}" in _WORDS[lang] else var,
                         fontsize=8)
            if var in names and not ordinal:
                # the central 98% of the prior predictive (and all the data) fill the axis
                obs = sub["observed_data"][var].to_numpy()
                low, high = np.quantile(prior[var].to_numpy(), [0.01, 0.99])
                ax.set_xlim(min(low, obs.min()), max(high, obs.max()))
            if ordinal:  # stored as category indices 0..K-1: label them as the answers
                top = int(max(int(prior[v].max()) for v in names))
                ax.set_xticks(range(top + 1), [str(k + 1) for k in range(top + 1)])
                ax.set_xlabel(_w(lang, "answer"), fontsize=7.5)
        fig.suptitle(_w(lang, "prior_title_ordinal" if ordinal else "prior_title").format(
            model=model), fontsize=8)
        _footnote(fig, source, lang)
        fig.get_layout_engine().set(rect=(0, 6.0 / 70, 1, 1 - 6.0 / 70))
        return save(fig, out, f"prior_{model}",
                           _prior_table(prior[names], sub["observed_data"].to_dataset(),
                                        ordinal, model, source))


def _prior_table(prior: xr.Dataset, observed: xr.Dataset, ordinal: bool, model: str,
                 source: str) -> pd.DataFrame:
    rows = []
    for var in prior.data_vars:
        rep = prior[var].to_numpy().reshape(-1, prior[var].shape[-1]).astype(float)
        obs = observed[var].to_numpy().astype(float)
        if ordinal:
            for k in range(int(max(rep.max(), obs.max())) + 1):
                share = (rep == k).mean(axis=1)
                rows.append({"variable": var, "statistic": f"share answer {k + 1}",
                             "observed": float((obs == k).mean()),
                             "prior_mean": float(share.mean()),
                             "prior_low": float(np.quantile(share, 0.05)),
                             "prior_high": float(np.quantile(share, 0.95))})
            continue
        for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99):
            per = np.quantile(rep, q, axis=1)
            rows.append({"variable": var, "statistic": f"quantile {q:g}",
                         "observed": float(np.quantile(obs, q)),
                         "prior_mean": float(per.mean()),
                         "prior_low": float(np.quantile(per, 0.05)),
                         "prior_high": float(np.quantile(per, 0.95))})
        if var in ("score", "cell_mean"):  # share of the answer range a scale score has
            # the range the observed scores span, rounded out to whole answers (1-5, 1-6, ...)
            lo, hi = float(np.floor(np.nanmin(obs))), float(np.ceil(np.nanmax(obs)))
            inside = ((rep >= lo) & (rep <= hi)).mean(axis=1)
            rows.append({"variable": var, "statistic": f"share in [{lo:g}, {hi:g}]",
                         "observed": float(((obs >= lo) & (obs <= hi)).mean()),
                         "prior_mean": float(inside.mean()),
                         "prior_low": float(np.quantile(inside, 0.05)),
                         "prior_high": float(np.quantile(inside, 0.95))})
    return pd.DataFrame(rows).assign(model=model, data_source=source)


def _primary(models: pd.Series) -> pd.Series:
    """Rows of primary fits (multiverse variants are named ``model~variant``)."""
    return ~models.astype(str).str.contains("~", regex=False)


def predictive_figures(results_folder: Path, out: Path, lang: str = "en") -> list[Path]:
    """Draw the per-cell PPC and prior predictive figures of a run; return the PNG paths.

    Reads ``tables/ppc_cells.csv`` and ``tables/diagnostics.csv`` (its ``fit_folder``
    column locates each ``fit.nc``) under ``results_folder``; primary models only.  The
    figures are redrawn only when those inputs or ``lang`` changed (a stamp
    ``predictive_figures.json`` in ``results_folder``).
    """
    results_folder, out = Path(results_folder), Path(out)
    tables = results_folder / "tables"

    def read(name: str) -> pd.DataFrame:
        path = tables / name
        return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else (
            pd.DataFrame())

    digest = hashlib.sha256(f"{lang}|{_DRAWING_VERSION}".encode())
    for name in ("ppc_cells.csv", "diagnostics.csv"):
        path = tables / name
        digest.update(path.read_bytes() if path.is_file() else b"-")
    stamp = results_folder / "predictive_figures.json"
    if stamp.is_file():
        saved = json.loads(stamp.read_text())
        paths = [Path(p) for p in saved.get("figures", [])]
        if saved.get("key") == digest.hexdigest() and all(
                p.with_suffix(e).is_file() for p in paths for e in (".png", ".pdf", ".svg")):
            return paths
    paths: list[Path] = []
    cells = read("ppc_cells.csv")
    if not cells.empty:
        cells = cells[_primary(cells["model"])]
        for _, part in cells.groupby("model", sort=True):
            # Summary-statistic models are listed in the table only: with a free mean and
            # SD per cell their check is nearly automatic, and 90 cells would fill 5 pages.
            if "top_share" in set(part["statistic"]):
                paths += ppc_cells_figure(part.reset_index(drop=True), out, lang)
    diag = read("diagnostics.csv")
    if not diag.empty and "fit_folder" in diag:
        for _, row in diag[_primary(diag["model"])].sort_values("model").iterrows():
            nc = Path(str(row["fit_folder"])) / "fit.nc"
            if not nc.is_file():
                continue
            with xr.open_datatree(nc, engine="netcdf4") as dt:
                tree = xr.DataTree.from_dict({g: dt[g].to_dataset().load() for g in (
                    "prior_predictive", "observed_data") if g in dt.children})
            made = prior_predictive_figure(tree, str(row["model"]), out, lang,
                                           str(row.get("data_source", "")))
            if made is not None:
                paths.append(made)
    write_text(stamp, json.dumps({"key": digest.hexdigest(),
                                  "figures": [str(p) for p in paths]}) + "\n")
    return paths

