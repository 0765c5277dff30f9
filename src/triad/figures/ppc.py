"""Posterior predictive checks drawn by ArviZ, with the drawn coordinates as data."""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from triad.figures.common import (
    OKABE_ITO,
    add_footnote,
    footnote_height_mm,
    is_variant,
    restyle,
    save,
    styled,
    wrap_text,
)
from triad.figures.words import model_words, phrase
from triad.likelihoods import likelihood
from triad.style import SINGLE_MM, figure_size, journal_style


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


@styled
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
    for _, row in diagnostics[~is_variant(diagnostics)].sort_values("model").iterrows():
        nc = Path(str(row["fit_folder"])) / "fit.nc"
        lik = likelihood(str(row["family"]))
        if lik.data == "summary" or not nc.is_file():
            continue
        ordinal = lik.ordinal
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
            ax.set_title(wrap_text(f"{words}: {phrase(lang, 'observed')} {phrase(lang, 'vs')} "
                               f"{phrase(lang, 'replicated')}", SINGLE_MM - 8, size=8), fontsize=8)
            if ordinal:
                # Bambi codes the answers 0-4; the questionnaire's are 1-5
                ax.set_xticks(range(5), [str(k) for k in range(1, 6)])
                ax.set_xlabel(phrase(lang, "answer"))
                ax.set_ylabel(phrase(lang, "frequency"))
                handles = [Line2D([], [], color="black", marker="o", ms=3, lw=0),
                           Line2D([], [], color=OKABE_ITO[4], marker="D", ms=3, lw=1.2,
                                  mec=OKABE_ITO[4])]
                entries = [phrase(lang, "observed"), phrase(lang, "replicated_ci")]
            else:
                ax.set_xlabel(phrase(lang, "score"))
                ax.set_ylabel(phrase(lang, "density"))
                handles = [Line2D([], [], color="black", lw=1.2),
                           Line2D([], [], color=OKABE_ITO[1], lw=0.8)]
                entries = [phrase(lang, "observed"), phrase(lang, "replicated_draws")]
            ax.legend(handles, entries, loc="upper left")
            drawn = _drawn(pc)
            restyle(fig)
            add_footnote(fig, source, lang)
        data = drawn.assign(model=row["model"], model_label=words,
                            series=drawn["element"].map(lambda e: phrase(
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
