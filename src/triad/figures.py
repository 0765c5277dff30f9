"""Paper figures: PNG (300 dpi), PDF and SVG, colour-blind-safe, Dutch or English labels.

Every function takes tidy tables (the ones ``scripts/fit_all.py`` writes), draws one
figure, saves it in the three formats under ``out`` and returns the PNG path.  A
footnote names the data source, and says in so many words when it is synthetic.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures are files, never windows

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from triad.audit import StudyDesign  # noqa: E402
from triad.codebook import SECTORS, load_codebook  # noqa: E402
from triad.published import load_cells  # noqa: E402
from triad.summary_tests import ttest_from_summary  # noqa: E402

__all__ = ["OKABE_ITO", "LABELS", "save", "forest_claims", "heatmap_cell_means", "ppc_figures",
           "rope_sensitivity_plot",
           "belangrijk_lukt_plot", "reliability_plot", "multiverse_grid", "all_figures"]

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"]
LABELS = {
    "en": {"special_education": "Special education", "ambulatory_daycare": "Ambulatory/day care",
           "residential": "Residential", "bayes": "Bayesian 95% HDI",
           "freq": "Welch t 95% CI (published tables)", "difference": "Difference (scale points)",
           "synthetic": "Bayesian intervals from SYNTHETIC data reconstructed from the "
                        "published tables - not findings about the study.",
           "data": "Data: {source}.", "observed": "observed", "replicated": "replicated (90%)",
           "share": "Share of answers", "score": "Scale score", "alpha": "Cronbach's alpha",
           "reported": "reported range", "gap": "Belangrijk - Lukt", "published": "published",
           "posterior": "posterior mean (published in brackets)",
           "youth>professional": "Youths about professionals",
           "parent>professional": "Parents about professionals",
           "professional>youth": "Professionals about youths",
           "professional>parent": "Professionals about parents",
           "professional>self": "Professionals' own competences",
           "higher": "A higher (95% HDI > 0)", "lower": "A lower (95% HDI < 0)",
           "equivalent": "equivalent (ROPE)", "undecided": "undecided",
           "gates": "sampler gates failed", "robustness": "share agreeing with primary"},
    "nl": {"special_education": "SO/VSO", "ambulatory_daycare": "Ambulant/Dagopvang",
           "residential": "Residentieel", "bayes": "Bayesiaans 95%-HDI",
           "freq": "Welch-t 95%-BI (gepubliceerde tabellen)",
           "difference": "Verschil (schaalpunten)",
           "synthetic": "Bayesiaanse intervallen uit SYNTHETISCHE data, gereconstrueerd uit de "
                        "gepubliceerde tabellen - geen bevindingen over het onderzoek.",
           "data": "Data: {source}.", "observed": "geobserveerd",
           "replicated": "gerepliceerd (90%)", "share": "Aandeel antwoorden",
           "score": "Schaalscore", "alpha": "Cronbachs alfa", "reported": "gerapporteerd bereik",
           "gap": "Belangrijk - Lukt", "published": "gepubliceerd",
           "posterior": "posterieur gemiddelde (gepubliceerd tussen haakjes)",
           "youth>professional": "Jeugdigen over hulpverleners",
           "parent>professional": "Ouders over hulpverleners",
           "professional>youth": "Professionals over jeugdigen",
           "professional>parent": "Professionals over ouders",
           "professional>self": "Eigen competenties professionals",
           "higher": "A hoger (95%-HDI > 0)", "lower": "A lager (95%-HDI < 0)",
           "equivalent": "equivalent (ROPE)", "undecided": "onbeslist",
           "gates": "samplercontroles mislukt", "robustness": "aandeel eens met primair"},
}


def _variant(frame: pd.DataFrame) -> pd.Series:
    """Rows of multiverse variants (``model~variant``): drawn only in the multiverse grid."""
    return frame["model"].astype(str).str.contains("~", regex=False)


def _t(lang: str, key: str) -> str:
    return LABELS[lang].get(key, key)


def save(fig, out: Path, name: str) -> Path:
    """Save a figure as PNG (300 dpi), PDF and SVG; return the PNG path."""
    out.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf", "svg"):
        tmp = out / f".{name}.tmp.{ext}"
        fig.savefig(tmp, dpi=300 if ext == "png" else None, bbox_inches="tight",
                    metadata={"Date": None} if ext == "svg" else None)
        tmp.replace(out / f"{name}.{ext}")
    plt.close(fig)
    return out / f"{name}.png"


def _footnote(fig, source: str, lang: str) -> None:
    text = _t(lang, "synthetic") if source == "synthetic" else _t(lang, "data").format(
        source=source)
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=7,
             color="#D55E00" if source == "synthetic" else "black",
             fontweight="bold" if source == "synthetic" else "normal")


def forest_claims(claims: pd.DataFrame, out: Path, lang: str = "en") -> Path | None:
    """Bayesian HDI beside the frequentist (Welch) CI for every tested claim pair."""
    tested = claims[claims["paper_verdict"].isin(["significant", "implied_significant",
                                                  "not_significant"])
                    & claims["bayes_estimate"].notna()].drop_duplicates(
        ["scale", "group_a", "group_b"])
    if tested.empty:
        return None
    design = StudyDesign(load_cells(), load_codebook())
    rows = []
    for _, r in tested.iterrows():
        a, b = design.best(r["group_a"], r["scale"]), design.best(r["group_b"], r["scale"])
        na, nb = design.population(r["group_a"]) or a["n"], design.population(r["group_b"]) or b[
            "n"]
        t = ttest_from_summary(na, a["mean"], a["sd"], nb, b["mean"], b["sd"],
                               equal_var=False).iloc[0]
        rows.append((f"{r['claim_id']} {r['scale']}: {_short(r['group_a'])} - "
                     f"{_short(r['group_b'])}", r["bayes_estimate"], r["bayes_ci_low"],
                     r["bayes_ci_high"], t["diff"], t["ci_low"], t["ci_high"],
                     bool(r["gates_passed"])))
    y = np.arange(len(rows))[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(rows) + 1.2))
    for yi, (_, be, bl, bh, fe, fl, fh, ok) in zip(y, rows, strict=True):
        ax.plot([fl, fh], [yi - 0.15] * 2, color=OKABE_ITO[0], lw=2)
        ax.plot(fe, yi - 0.15, "o", color=OKABE_ITO[0], ms=3)
        ax.plot([bl, bh], [yi + 0.15] * 2, color=OKABE_ITO[4], lw=2, alpha=1 if ok else 0.3)
        ax.plot(be, yi + 0.15, "s", color=OKABE_ITO[4], ms=3, alpha=1 if ok else 0.3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=6)
    ax.set_xlabel(_t(lang, "difference"))
    ax.plot([], [], "s-", color=OKABE_ITO[4], label=_t(lang, "bayes"))
    ax.plot([], [], "o-", color=OKABE_ITO[0], label=_t(lang, "freq"))
    ax.legend(fontsize=7, loc="lower right")
    _footnote(fig, str(tested["data_source"].iloc[0]), lang)
    return save(fig, out, "forest_claims")


def _short(group: str) -> str:
    role, rest = group.split(">", 1)
    sector = rest.split("@")[1].split("#")[0]
    gender = group.split("#")[1] if "#" in group else ""
    abbrev = {"youth": "Y", "parent": "P", "social_worker": "SW", "teacher": "T",
              "professional": "Pro"}
    sec = {"special_education": "SO", "ambulatory_daycare": "Amb", "residential": "Res",
           "all": "all"}[sector]
    return f"{abbrev.get(role, role)}@{sec}{('#' + gender) if gender else ''}"


def heatmap_cell_means(cell_means: pd.DataFrame, out: Path, lang: str = "en") -> Path | None:
    """Sector x rater-group heat map of posterior cell means per scale, published annotated."""
    post = cell_means[(cell_means["data_source"] != "published")
                      & cell_means["model"].str.startswith("metric_")
                      & ~cell_means["model"].str.endswith("_t")
                      & ~_variant(cell_means)]
    if post.empty:
        return None
    pub = load_cells()
    scales = [s for s in ("band", "doel", "taak", "alliantie", "inspraak", "opvoed",
                          "belangrijk", "lukt") if s in set(post["scale"])]
    groups = ["youth>professional", "parent>professional", "professional>youth",
              "professional>parent", "professional>self"]
    fig, axes = plt.subplots(2, 4, figsize=(13, 6), constrained_layout=True)
    for ax, scale in zip(axes.ravel(), scales, strict=False):
        grid = np.full((len(groups), len(SECTORS)), np.nan)
        text = [["" for _ in SECTORS] for _ in groups]
        part = post[post["scale"] == scale]
        for _, r in part.iterrows():
            rater = "professional" if r["role"] in ("social_worker", "teacher") else r["role"]
            g = f"{rater}>{r['target']}"
            if g not in groups:
                continue
            i, j = groups.index(g), SECTORS.index(r["sector"])
            grid[i, j] = r["mean"]
            cell = pub[(pub["scale"] == scale) & (pub["role"] == r["role"])
                       & (pub["target"] == r["target"]) & (pub["sector"] == r["sector"])
                       & pub["table"].between(5, 9)]
            published = f"\n({cell['mean'].iloc[0]:.2f})" if len(cell) else ""
            text[i][j] = f"{r['mean']:.2f}{published}"
        im = ax.imshow(grid, cmap="cividis", vmin=2.8, vmax=4.7, aspect="auto")
        for i in range(len(groups)):
            for j in range(len(SECTORS)):
                if text[i][j]:
                    ax.text(j, i, text[i][j], ha="center", va="center", fontsize=6,
                            color="white" if grid[i, j] < 3.8 else "black")
        ax.set_title(scale, fontsize=9)
        ax.set_xticks(range(len(SECTORS)), [_t(lang, s) for s in SECTORS], fontsize=6,
                      rotation=20)
        ax.set_yticks(range(len(groups)), [_t(lang, g) for g in groups], fontsize=6)
    for ax in axes.ravel()[len(scales):]:
        ax.axis("off")
    fig.colorbar(im, ax=axes, shrink=0.6, label=_t(lang, "posterior"))
    _footnote(fig, str(post["data_source"].iloc[0]), lang)
    return save(fig, out, "heatmap_cell_means")


def ppc_figures(diagnostics: pd.DataFrame, out: Path, lang: str = "en") -> list[Path]:
    """Posterior predictive checks drawn by ArviZ from each primary respondent fit.

    Reads each fit's stored ``fit.nc`` (its ``fit_folder`` in ``diagnostics.csv``):
    ordinal models get a rootogram (``arviz.plot_ppc_rootogram``) of the answers, metric
    models the observed against 50 replicated score distributions
    (``arviz.plot_ppc_dist``).  One figure per model, ``ppc_<model>``.
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
        kwargs = {"backend": "matplotlib", "figure_kwargs": {"figsize": (6, 3)},
                  "var_names": [var]}
        pc = (az.plot_ppc_rootogram(tree, **kwargs) if ordinal else
              az.plot_ppc_dist(tree, num_samples=50, **kwargs))
        fig = pc.viz["figure"].item()
        fig.suptitle(f"{row['model']}: {_t(lang, 'observed')} vs {_t(lang, 'replicated')}"
                     + (" (answer - 1)" if ordinal else ""), fontsize=8)
        fig.subplots_adjust(bottom=0.25)  # room for the data-source footnote
        _footnote(fig, str(row["data_source"]), lang)
        paths.append(save(fig, out, f"ppc_{row['model']}"))
    return paths


def rope_sensitivity_plot(curve: pd.DataFrame, out: Path, lang: str = "en") -> Path | None:
    """P(ROPE) of each between-group gap against the ROPE half-width (in pooled SDs).

    Primary models only; one panel per gap, one line per sector; the dashed line is the
    .95 the equivalence rule would need (the HDI inside the ROPE, roughly).
    """
    if curve.empty:
        return None
    curve = curve[~_variant(curve)]
    primary = curve[~curve["data_source"].eq("published")]
    curve = primary if len(primary) else curve
    # one model per gap: the first (by name) that reports it
    curve = curve[curve["model"] == curve.groupby("contrast")["model"].transform("min")]
    panels = sorted(curve["contrast"].unique())
    cols = min(3, len(panels))
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.2 * rows), squeeze=False,
                             sharey=True, constrained_layout=True)
    for ax, name in zip(axes.ravel(), panels, strict=False):
        part = curve[curve["contrast"] == name]
        for k, (sector, line) in enumerate(part.groupby("sector", sort=True)):
            ax.plot(line["rope_sd"], line["p_rope"], marker="o", ms=2.5,
                    color=OKABE_ITO[k % len(OKABE_ITO)], label=_t(lang, sector))
        ax.axhline(0.95, color="#777777", lw=0.7, ls="--")
        ax.set_title(f"{name} ({part['model'].iloc[0]})", fontsize=6.5)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=5.5)
    fig.supxlabel("ROPE half-width (pooled within-group SDs)", fontsize=7)
    fig.supylabel("P(ROPE)", fontsize=7)
    _footnote(fig, str(curve["data_source"].iloc[0]), lang)
    return save(fig, out, "rope_sensitivity")


def belangrijk_lukt_plot(contrasts: pd.DataFrame, out: Path, lang: str = "en") -> Path | None:
    """Paired Belangrijk - Lukt gap per sector: respondent model, summary model, published."""
    part = contrasts[(contrasts["contrast"] == "belangrijk_minus_lukt") & ~_variant(contrasts)
                     & contrasts.get("estimand", pd.Series("descriptive", index=contrasts.index))
                     .eq("descriptive")]
    if part.empty:
        return None
    pub = load_cells(5).set_index(["sector", "scale"])["mean"]
    fig, ax = plt.subplots(figsize=(6, 3))
    order = ["all", *SECTORS]
    for k, (model, rows) in enumerate(part.groupby("model", sort=True)):
        rows = rows.set_index("sector").reindex(order)
        x = np.arange(len(order)) + (k - 0.5) * 0.2
        ax.errorbar(x, rows["estimate"], yerr=[(rows["estimate"] - rows["ci_low"]).clip(lower=0),
                                               (rows["ci_high"] - rows["estimate"]).clip(lower=0)],
                    fmt="s", color=OKABE_ITO[4 + k],
                    label=f"{model} ({rows['data_source'].iloc[0]})")
    published = [pub[(s, "belangrijk")] - pub[(s, "lukt")] for s in order]
    ax.plot(np.arange(len(order)) + 0.3, published, "D", color=OKABE_ITO[0],
            label=_t(lang, "published"))
    ax.set_xticks(range(len(order)), ["all" if s == "all" else _t(lang, s) for s in order],
                  fontsize=7)
    ax.set_ylabel(_t(lang, "gap"))
    ax.legend(fontsize=6)
    _footnote(fig, str(part["data_source"].iloc[0]), lang)
    return save(fig, out, "belangrijk_lukt")


def reliability_plot(reliability: pd.DataFrame, out: Path, lang: str = "en") -> Path | None:
    """Cronbach's alpha with 95% CI per scale and group, the report's range shaded."""
    part = reliability[reliability["sector"] == "all"].dropna(subset=["alpha"])
    if part.empty:
        return None
    part = part.reset_index(drop=True)
    y = np.arange(len(part))[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.2 * len(part) + 1))
    for yi, (_, r) in zip(y, part.iterrows(), strict=True):
        if not np.isnan(r["reported_low"]):
            ax.plot([r["reported_low"], r["reported_high"] + 1e-3], [yi, yi], lw=6,
                    color="#DDDDDD", solid_capstyle="butt")
        ax.plot([r["alpha_ci_low"], r["alpha_ci_high"]], [yi, yi], color=OKABE_ITO[4])
        ax.plot(r["alpha"], yi, "o", ms=3, color=OKABE_ITO[4])
    ax.set_yticks(y, [f"{r.scale}: {r.role}>{r.target}" for r in part.itertuples()], fontsize=6)
    ax.set_xlabel(_t(lang, "alpha") + f" (grey: {_t(lang, 'reported')})")
    _footnote(fig, str(part["data_source"].iloc[0]) if "data_source" in part else "", lang)
    return save(fig, out, "reliability")


def multiverse_grid(universes: pd.DataFrame, claims: pd.DataFrame, out: Path,
                    lang: str = "en") -> Path | None:
    """Claims x universes: the Bayesian conclusion of every claim pair in every variant."""
    tested = claims[claims["conclusion"].fillna("").ne("")].drop_duplicates(
        ["claim_id", "group_a", "group_b"])
    if tested.empty or universes.empty:
        return None
    u = universes.assign(group_b=universes["group_b"].fillna(""))
    order = ["primary (Gaussian)", "Student-t", "one residual SD", "no pooling of cells",
             "priors x 0.5", "priors x 2", "ordinal logit", "ordinal probit",
             "summary statistics"]
    cols = [c for c in order if c in set(u["universe"])] + sorted(
        set(u["universe"]) - set(order))
    colour = {"higher": OKABE_ITO[4], "lower": OKABE_ITO[5], "equivalent": OKABE_ITO[2],
              "undecided": "#DDDDDD"}
    labels = [f"{r['claim_id']} {r['scale']}: {_short(r['group_a'])} - {_short(r['group_b'])}"
              if r["group_b"] else f"{r['claim_id']} {r['scale']}" for _, r in tested.iterrows()]
    height = 0.24 * len(tested) + 1.8
    fig, ax = plt.subplots(figsize=(1.6 + 0.55 * len(cols) + 1.2, height))
    fig.subplots_adjust(bottom=1.3 / height)  # room for the slanted universe names
    for i, (_, r) in enumerate(tested.iterrows()):
        y = len(tested) - 1 - i
        mine = u[(u["claim_id"] == r["claim_id"]) & (u["group_b"] == r["group_b"])]
        for j, col in enumerate(cols):
            cell = mine[mine["universe"] == col]
            if cell.empty:
                continue
            c = cell.iloc[0]
            ok = bool(c["gates_passed"])
            ax.add_patch(plt.Rectangle((j, y), 0.92, 0.85, color=colour.get(c["conclusion"],
                                                                             "white"),
                                       alpha=1.0 if ok else 0.35, lw=0))
            if not ok:
                ax.text(j + 0.46, y + 0.42, "x", ha="center", va="center", fontsize=6)
        share = r["robustness"]
        ax.text(len(cols) + 0.1, y + 0.42, "" if pd.isna(share) else f"{share:.0%}",
                va="center", fontsize=6,
                color=OKABE_ITO[5] if r["robust"] == "fragile" else "black")
    ax.set_xlim(0, len(cols) + 1)
    ax.set_ylim(0, len(tested))
    ax.set_xticks(np.arange(len(cols)) + 0.46, cols, rotation=40, ha="right", fontsize=7)
    ax.set_yticks(np.arange(len(tested))[::-1] + 0.42, labels, fontsize=6)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=v) for v in colour.values()]
    names = [_t(lang, k) for k in colour]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#DDDDDD", alpha=0.35))
    names.append(_t(lang, "gates") + " (x)")
    ax.legend(handles, names, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              title=f"% = {_t(lang, 'robustness')}", title_fontsize=6)
    _footnote(fig, str(tested["data_source"].iloc[0]), lang)
    return save(fig, out, "multiverse_grid")


def all_figures(tables: Path, out: Path, lang: str = "en") -> list[Path]:
    """Draw every figure from the tables folder of a run; return the PNG paths."""
    def read(name: str) -> pd.DataFrame:
        path = tables / name
        return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()

    made = [
        forest_claims(read("claims.csv"), out, lang) if len(read("claims.csv")) else None,
        heatmap_cell_means(read("posterior_cell_means.csv"), out, lang)
        if len(read("posterior_cell_means.csv")) else None,
        *ppc_figures(read("diagnostics.csv"), out, lang),
        rope_sensitivity_plot(read("rope_sensitivity.csv"), out, lang),
        belangrijk_lukt_plot(read("contrasts.csv"), out, lang)
        if len(read("contrasts.csv")) else None,
        reliability_plot(read("reliability.csv"), out, lang)
        if len(read("reliability.csv")) else None,
        multiverse_grid(read("multiverse.csv"), read("claims.csv"), out, lang)
        if len(read("claims.csv")) and "robustness" in read("claims.csv") else None,
    ]
    return [p for p in made if p is not None]
