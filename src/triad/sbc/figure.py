"""SBC's figures: ECDF-difference plots with the deciding simultaneous band.

Part of :mod:`triad.sbc`.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from triad.sbc.uniformity import ecdf_band, pit_values, sbc_uniformity

# --------------------------------------------------------------------------- figure


def _percent(prob: float) -> str:
    """Format a band probability for a title: 99%, 99.96%, ... (digits enough to differ from 1)."""
    digits = max(0, int(np.ceil(-np.log10(max(1 - prob, 1e-12)))) - 2)
    return f"{100 * prob:.{digits}f}%"


def ecdf_figures(ranks: pd.DataFrame, out: str | Path, *, per_model: int = 12,
                 table: pd.DataFrame | None = None, seed: int = 0,
                 lang: str = "en") -> list[Path]:
    """SBC ECDF-difference plots with the deciding simultaneous band, one figure per model.

    Each panel is one quantity: the ECDF of its PIT values (:func:`pit_values`, the values the
    test used) minus the uniform CDF, with the simultaneous band of Säilynoja et al.
    (2022) at the model's Bonferroni probability (``arviz.plot_ecdf_pit(method=
    "envelope")``, the same band :func:`sbc_uniformity` decides with).  Per model the
    ``per_model`` worst quantities are shown: those outside the band, then the smallest
    chi-square p-values.  Drawn in the journal style at double-column width (four panels a
    row), quantities named in words (:func:`triad.figures.quantity_words`); saved as
    ``sbc_ecdf_<model>`` (PNG, PDF, SVG) with the PIT values drawn as CSV.

    Parameters
    ----------
    ranks : DataFrame
        :func:`run_sbc`'s output.
    out : path
    per_model : int
    table : DataFrame, optional
        :func:`sbc_uniformity` of ``ranks`` (computed when not given).
    seed : int
        Seed of the PIT values (as in :func:`sbc_uniformity`).
    lang : {"en", "nl"}

    Returns
    -------
    list of Path
        The PNGs, in the models' order.
    """
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    import xarray as xr
    from arviz_base.labels import NoVarLabeller

    from triad.figures import (
        LABELS,
        add_footnote,
        footnote_height_mm,
        model_words,
        quantity_words,
        restyle,
        save,
        wrap_text,
    )
    from triad.style import DOUBLE_MM, MAX_HEIGHT_MM, figure_size, journal_style

    text = LABELS[lang]
    table = sbc_uniformity(ranks, seed=seed) if table is None else table
    paths = []
    for model, part in table.groupby("model", sort=False):
        shown = part.assign(_out=~part["ecdf_reject"].astype(bool)).sort_values(
            ["_out", "p_value"]).head(per_model).sort_values("parameter")
        columns, labels, records = [], [], []
        for _, row in shown.iterrows():
            r = ranks[(ranks["model"] == model) & (ranks["parameter"] == row["parameter"])]
            r = r.sort_values("sim", kind="stable")
            pit = pit_values(r, str(model), str(row["parameter"]), seed)
            columns.append(pit)
            words = quantity_words(str(row["parameter"]), lang)
            verdict = text["ecdf_out"] if row["ecdf_reject"] else text["ecdf_in"]
            # panel titles: the quantity in words and both tests, wrapped to a panel's width
            labels.append(wrap_text(
                f"{words} ({verdict}; {text['chi2'].format(p=row['p_value'])})",
                DOUBLE_MM / 4 - 6))
            records.append(pd.DataFrame({
                "model": model, "parameter": row["parameter"], "quantity": words,
                "kind": row["kind"], "sim": r["sim"].to_numpy(), "pit": pit,
                "ecdf_band_prob": row["ecdf_band_prob"], "ecdf_reject": row["ecdf_reject"],
                "chi2_p_value": row["p_value"], "data_source": "simulated (SBC)"}))
        values = np.stack(columns, axis=-1)[None]  # chain, draw (= simulation), quantity
        tree = xr.DataTree.from_dict({"prior_sbc": xr.Dataset(
            {model: (("chain", "draw", "quantity"), values)}, coords={"quantity": labels})})
        n_rows = int(np.ceil(len(labels) / 4))
        prob = float(part["ecdf_band_prob"].iloc[0])
        title = wrap_text(text["sbc"].format(model=model_words(str(model), lang),
                                             prob=_percent(prob), shown=len(shown),
                                             total=len(part)),
                          DOUBLE_MM - 10, size=8)
        lines = max(lab.count("\n") + 1 for lab in labels)
        height = min(MAX_HEIGHT_MM, n_rows * (30 + 3.2 * lines) + 16
                     + 3.5 * (title.count("\n") + 1)
                     + footnote_height_mm(DOUBLE_MM, "simulated (SBC)", lang))
        x, lower, upper = ecdf_band(values.shape[1], prob,
                                     int(part["ecdf_simulations"].iloc[0]))
        x, lower, upper = (np.concatenate([[0.0], v, [1.0]]) for v in (x, lower, upper))
        with journal_style():
            # ArviZ draws the ECDF differences; its own drawing of this band
            # (method="envelope") fails in arviz-plots 1.3.2 (np.linspace is given a
            # DataArray), and its default test (pot_c) is not the one that decides here,
            # so its markers and p-values are off and the band is drawn below
            pc = az.plot_ecdf_pit(
                tree, backend="matplotlib", labeller=NoVarLabeller(), envelope_prob=prob,
                visuals={"suspicious_points": False, "p_value_text": False},
                figure_kwargs={"figsize": figure_size("double", height),
                               "layout": "constrained"})
            fig = pc.viz["figure"].item()
            for ax in (a for a in fig.axes if a.lines):
                ax.fill_between(x, lower - x, upper - x, step="post", color="0.75",
                                alpha=0.5, linewidth=0, zorder=0)
                reach = max(np.abs(lower - x).max(), np.abs(upper - x).max(),
                            *(np.abs(line.get_ydata()).max() for line in ax.lines))
                ax.set_ylim(-1.1 * reach, 1.1 * reach)
            fig.suptitle(title, fontsize=8)
            restyle(fig)
            for ax in fig.axes:  # the titles were wrapped for 7 pt
                ax.title.set_fontsize(7)
            # SBC draws from the prior: the data are simulated, never the study's
            add_footnote(fig, "simulated (SBC)", lang)
            paths.append(save(fig, Path(out), f"sbc_ecdf_{model}",
                              pd.concat(records, ignore_index=True)))
    return paths

