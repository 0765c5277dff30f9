"""Everything the template shows, section by section, read from a run's ``results/``."""

import json
from pathlib import Path

import pandas as pd

from triad.report.embeds import figure, methods_html
from triad.report.reading import (
    as_str,
    gates_failed,
    read_table,
    relative_link,
    truthy,
    variant_models,
)
from triad.report.summary import fragile, gates, headline, replication_overview
from triad.report.tables import table_view
from triad.report.texts import CSS, PLACES, SCRIPT, TEXT
from triad.report.words import group_words, scale_words, sector_words


def _sbc_of_this_study(folder: Path) -> bool:
    """Whether an SBC run checked this study's specs (the committed run is the shipped one's)."""
    from triad.paths import models_dir

    decision = folder / "decision.csv"
    if not decision.is_file():
        return True
    models = pd.read_csv(decision)["model"].astype(str)
    return bool(len(models)) and all((models_dir() / f"{m}.toml").is_file() for m in models)


def _study_title(lang: str) -> str:
    """Return the study's title from its ``study.toml`` (``title_nl`` in Dutch if given)."""
    from triad.paths import study_settings

    settings = study_settings()
    name = settings.get("name", "the study")
    return settings.get(f"title_{lang}") or settings.get("title") or name

def _robust_share(run: dict) -> float:
    from triad.multiverse import FRAGILE_BELOW

    return float(run.get("robust_share", FRAGILE_BELOW))


def _fits(diag: pd.DataFrame) -> pd.DataFrame:
    """Seeds, sampler settings and hashes of every fit (its ``fit.json``)."""
    rows = []
    for _, d in diag.iterrows():
        folder = d.get("fit_folder")
        record = Path(str(folder)) / "fit.json" if isinstance(folder, str) else None
        if record is None or not record.is_file():
            continue
        fit = json.loads(record.read_text())
        sampler = fit.get("sampler", {})
        rows.append({"model": fit.get("model"), "seed": fit.get("seed"),
                     "backend": fit.get("backend"), "chains": sampler.get("chains"),
                     "tune": sampler.get("tune"), "draws": sampler.get("draws"),
                     "target_accept": sampler.get("target_accept"),
                     "spec_sha256": str(fit.get("spec_sha256", ""))[:12],
                     "data_sha256": str(fit.get("data_sha256", ""))[:12]})
    return pd.DataFrame(rows)


def report_context(results: Path, figures: list[Path], out: Path, lang: str = "en") -> dict:
    """Everything the template shows, read from a run's ``results/`` folder.

    Parameters
    ----------
    results : Path
        The run's ``results/`` folder (``tables/``, ``run.json``, ``methods.md`` inside).
    figures : list of Path
        The run's PNG figures (the list :func:`triad.figures.all_figures` returns).
    out : Path
        Where the HTML goes: links to tables and figures are relative to its folder.
    lang : {"en", "nl"}

    Returns
    -------
    dict
    """
    from triad.decisions import CI_PROB, RULE_TEXT

    if lang not in TEXT:
        raise ValueError(f"lang must be one of {', '.join(TEXT)}, not {lang!r}")
    t = {**TEXT[lang], "title": TEXT[lang]["title"].format(study=_study_title(lang))}
    results, out = Path(results), Path(out)
    base = out.parent
    tables = results / "tables"
    run = json.loads((results / "run.json").read_text()) \
        if (results / "run.json").is_file() else {}
    min_cell = (run.get("privacy") or {}).get("min_cell")

    def read(name: str) -> pd.DataFrame:
        return read_table(tables / name)

    def link(name: str) -> str | None:
        return relative_link(tables / name, base) if (tables / name).is_file() else None

    def view(name: str, frame: pd.DataFrame, columns=None, scope: str = "",
             total: int | None = None) -> dict:
        return table_view(frame, columns, lang=lang, csv=link(name), scope=scope,
                          total=total, min_cell=min_cell)

    diag, claims, contrasts = read("diagnostics.csv"), read("claims.csv"), read("contrasts.csv")
    rep = read("replication.csv")
    variants = variant_models(diag)
    share = _robust_share(run)
    source = (run.get("data") or {}).get("source", "")
    quick = bool(run.get("steps", {}).get("models", {}).get("quick")) or (
        "quick" in diag and truthy(diag["quick"]).any())
    failed = gates_failed(diag)
    ctx = {"lang": lang, "t": t, "css": CSS, "script": SCRIPT, "run": run,
           "synthetic": source == "synthetic", "quick": quick, "failed": failed,
           "gates_failed_text": t["gates_failed"].format(n=len(failed),
                                                         models=", ".join(failed)),
           "rule": RULE_TEXT.format(ci=CI_PROB), "share": f"{share:.0%}"}

    # --- the summary
    from triad.published import load_claims

    ctx["headline"] = headline(contrasts, diag, lang) if len(contrasts) else \
        {"rows": [], "note": "", "axis": None}
    ctx["replicates"] = replication_overview(rep, claims, lang, load_claims())
    ctx["fragile"] = fragile(claims, share, lang)
    ctx["gates"] = gates(diag)
    fig_paths = [Path(p) for p in figures if Path(p).is_file()]
    # the headline figure: the first page of the named-contrasts forest plot
    forest = next((p for p in fig_paths if p.stem.startswith("forest_contrasts")),
                  next((p for p in fig_paths if p.stem.startswith("forest")), None))
    ctx["headline_figure"] = figure(forest, base, lang) if forest else None

    # --- contrasts
    ctx["contrasts"] = None
    if len(contrasts):
        shown = contrasts[~contrasts["model"].isin(variants)]
        ctx["contrasts"] = view(
            "contrasts.csv", shown,
            ["contrast", "estimand", "n_ab", "estimate", "ci", "p_direction", "p_rope",
             "conclusion", "mc_fragile", "bf10", "model", "data_source", "gates_passed"],
            scope="the models without multiverse variants (the variants' rows are read "
                  "in the section " + t["sensitivity"] + ")" if len(shown) < len(contrasts)
            else "", total=len(contrasts))
        ctx["ropes"] = _ropes(contrasts, lang)

    # --- claims and replication
    ctx["multiplicity"] = ""
    ctx["claims"] = view("claims.csv", claims, [
        "claim_id", "scale", "group_a", "group_b", "paper_values", "paper_verdict",
        "summary_p", "data_test_p", "bayes_estimate", "bayes_ci", "p_direction",
        "conclusion", "robustness", "agreement", "data_source"]) if len(claims) else None
    if len(claims) and "conclusion" in claims:
        from triad.methods import multiplicity_note

        ctx["multiplicity"] = multiplicity_note(claims)
    summary = ctx["replicates"]["summary"]
    ctx["replication"] = table_view(
        summary, ["claim_id", "scale", "summary_en", "paper_verdict", "anova_p",
                  "pair_p_min", "pair_p_max", "replicates"], lang=lang,
        csv=link("replication.csv"), total=len(summary),
        scope="one row per claim (replication.csv has one row per test)") \
        if len(summary) else None

    # --- cell means
    cells = read("cells.csv")
    ctx["respondents"] = None
    if len(cells) and "table" in cells:
        # the sample table: the count-only rows (no scale)
        t1 = cells[cells["scale"].isna()].pivot_table(index="role", columns="sector",
                                                    values="n", aggfunc="first")
        t1 = t1.reset_index()
        t1["role"] = [group_words(f"{r}>@all", lang).split(",")[0] for r in t1["role"]]
        t1.columns = [c if c == "role" else sector_words(c, lang) for c in t1.columns]
        ctx["respondents"] = table_view(t1, lang=lang, csv=link("cells.csv"),
                                        total=len(cells), scope="the report's sample table "
                                        "(respondents per role and sector)")
    means = read("posterior_cell_means.csv")
    ctx["cell_means"] = None
    if len(means) and {"role", "target", "sector", "model"} <= set(means.columns):
        from triad.published import group_key

        shown = means[~means["model"].isin(variants)].copy()
        shown["group"] = [group_key(r, t_ if isinstance(t_, str) else None, s,
                                    g if isinstance(g, str) and g else None)
                          for r, t_, s, g in zip(shown["role"], shown["target"],
                                                 shown["sector"],
                                                 shown.get("gender", [None] * len(shown)),
                                                 strict=True)]
        ctx["cell_means"] = view(
            "posterior_cell_means.csv", shown,
            ["scale", "group", "n", "mean", "ci", "model", "data_source", "gates_passed"],
            scope="the models without multiverse variants" if len(shown) < len(means)
            else "", total=len(means))

    # --- audit
    audit = read("audit.csv")
    ctx["audit"] = None
    if len(audit) and "severity" in audit:
        counts = audit["severity"].value_counts()
        ctx["audit_counts"] = [(k, int(v)) for k, v in counts.items()]
        bad = audit[audit["severity"] != "ok"]
        ctx["audit"] = view("audit.csv", bad, ["check", "tables", "scale", "groups",
                                               "reported", "expected", "severity",
                                               "message"],
                            scope="the checks that are not ok", total=len(audit))

    # --- reliability and diagnostics
    rel = read("reliability.csv")
    ctx["reliability"] = view("reliability.csv", rel, [
        "scale", "role", "target", "sector", "n", "n_items", "alpha", "alpha_ci", "omega",
        "reported", "reported_low", "reported_high", "within_reported",
        "data_source"]) if len(rel) else None
    corr = read("correlations.csv")
    ctx["correlations"] = view("correlations.csv", corr, [
        "corr_id", "variable_x", "variable_y", "group", "printed_r", "r", "ci_low", "ci_high",
        "n", "within_rounding", "data_source"]) if len(corr) else None
    ctx["diagnostics"] = view("diagnostics.csv", diag, [
        "model", "family", "data_source", "backend", "draws", "r_hat_max", "ess_bulk_min",
        "ess_tail_min", "divergences", "gates_passed", "gates_failed", "psens_prior_max",
        "psens_likelihood_max", "psens_flagged", "pareto_k_max", "pareto_k_bad",
        "wall_seconds"]) if len(diag) else None

    # --- multiverse and sensitivity
    ctx.update(_sensitivity_context(tables, results, claims, diag, view, base, lang))

    # --- posterior predictive checks
    ppc_cells = read("ppc_cells.csv")
    ctx["ppc_cells"] = None
    if len(ppc_cells):
        flag = truthy(ppc_cells["flagged"]) if "flagged" in ppc_cells else \
            pd.Series(False, index=ppc_cells.index)
        if "model" in ppc_cells:
            # the primary models' cells; the variants' are in the CSV
            flag &= ~ppc_cells["model"].astype(str).str.contains("~", regex=False)
        ctx["ppc_flagged_n"] = int(flag.sum())
        ctx["ppc_cells"] = view("ppc_cells.csv", ppc_cells[flag],
                                [c for c in ppc_cells.columns if c not in ("flagged",)],
                                scope="the flagged cells of the primary models",
                                total=len(ppc_cells))
    # --- figures, each shown once: beside the section it belongs to, or under Figures;
    # the Figures section lists them all with where they are
    placed: dict[str, list] = {}
    index = []
    for p in fig_paths:
        where = "summary" if p == forest else next(
            (sec for prefix, sec in PLACES.items() if p.stem.startswith(prefix)), "figures")
        fig = ctx["headline_figure"] if p == forest else figure(p, base, lang)
        if p != forest:
            placed.setdefault(where, []).append(fig)
        index.append({"id": fig["id"], "name": p.stem, "caption": fig["caption"],
                      "section": where, "section_name": t.get(where, where)})
    ctx["placed"], ctx["figure_index"] = placed, index

    # --- methods and provenance
    ctx["methods"] = methods_html(results / "methods.md")
    ctx["data"] = run.get("data")
    if ctx["data"]:
        ctx["data_file"] = Path(ctx["data"].get("path", "")).name
    ctx["privacy"] = run.get("privacy")
    ctx["versions"] = run.get("versions", {})
    fits = _fits(diag) if len(diag) and "fit_folder" in diag else pd.DataFrame()
    ctx["fits"] = table_view(fits, lang=lang, scope="from each fit's fit.json") \
        if len(fits) else None
    ctx["steps"] = run.get("steps", {})
    return ctx


def _ropes(contrasts: pd.DataFrame, lang: str) -> str:
    """``Alliance \u00b10.063, ...``: each scale's ROPE half-width (descriptive rows)."""
    if not {"rope", "scale"} <= set(contrasts.columns):
        return ""
    estimand = contrasts.get("estimand", pd.Series("descriptive", index=contrasts.index))
    ropes = contrasts[estimand.eq("descriptive")].dropna(subset=["rope"])
    per_scale = ropes.groupby("scale", sort=False)["rope"].first()
    return ", ".join(f"{scale_words(k, lang)} \u00b1{v:.3f}" for k, v in per_scale.items())


def _sensitivity_context(tables: Path, results: Path, claims: pd.DataFrame,
                         diag: pd.DataFrame, view, base: Path, lang: str) -> dict:
    """Multiverse robustness, prior sensitivity, LOO, SBC and the design study."""
    from triad.design import design_summary_for_report
    from triad.multiverse import LOO_REJECT_ELPD
    from triad.paths import repo_root
    from triad.sbc import sbc_summary_for_report
    from triad.sensitivity import PSENS_THRESHOLD

    ctx = {"loo_reject": f"{LOO_REJECT_ELPD:g}", "psens_threshold": f"{PSENS_THRESHOLD:g}"}
    grid = tables / "multiverse.csv"
    universes = pd.read_csv(grid, usecols=lambda c: c == "universe") if (
        grid.is_file() and grid.stat().st_size) else pd.DataFrame()
    ctx["universes"] = sorted(universes["universe"].dropna().astype(str).unique()) if (
        "universe" in universes) else []
    ctx["robustness"] = None
    if len(claims) and "robustness" in claims:
        shown = claims[as_str(claims["conclusion"]).ne("")].sort_values(
            ["robustness", "claim_id"])
        ctx["robust_counts"] = [(k, int(v)) for k, v in shown["robust"].value_counts().items()]
        ctx["robustness"] = view("claims.csv", shown, [
            "claim_id", "scale", "group_a", "group_b", "paper_verdict", "conclusion",
            "universes", "universes_agree", "robustness", "robust", "universes_failed_gates",
            "universes_loo_rejected", "paper_support_share", "dissenting_universes"],
            scope="the claims with a Bayesian conclusion, least robust first",
            total=len(claims))
    ctx["psens"] = view("diagnostics.csv", diag, [
        "model", "psens_prior_max", "psens_likelihood_max", "psens_flagged",
        "psens_flagged_contrasts", "gates_passed"]) \
        if len(diag) and "psens_prior_max" in diag else None
    sens = read_table(tables / "prior_sensitivity.csv")
    ctx["psens_flagged"] = None
    if len(sens):
        flagged = sens[as_str(sens["diagnosis"]).ne("") & sens["kind"].eq("contrast")]
        ctx["psens_flagged"] = view("prior_sensitivity.csv", flagged,
                                    scope="the flagged contrasts", total=len(sens))
    loo = read_table(tables / "loo_compare.csv")
    ctx["loo"] = view("loo_compare.csv", loo.drop(columns=["data_key"], errors="ignore")) \
        if len(loo) else None
    # a run of scripts/sbc.py into this results folder wins over the committed full run
    folder = next((f for f in (results / "sbc", repo_root() / "bench" / "sbc")
                   if (f / "uniformity.csv").is_file() and _sbc_of_this_study(f)), None)
    ctx["sbc"] = None
    if folder is not None:
        ctx["sbc"] = {"folder": str(folder), "table": table_view(
            sbc_summary_for_report(folder), lang=lang,
            csv=relative_link(folder / "uniformity.csv", base),
            scope="one row per model (uniformity.csv has one row per quantity)",
            total=len(read_table(folder / "uniformity.csv"))),
            "figures": [figure(p, base, lang) for p in sorted(folder.glob("*.png"))]}
    design = results / "design"
    summary = design_summary_for_report(design)
    ctx["design"] = None
    if not summary.empty:
        record = json.loads((design / "design.json").read_text())
        png = design / "design_assurance.png"
        ctx["design"] = {"record": record, "table": table_view(
            summary, lang=lang, csv=relative_link(design / "required_n.csv", base)
            if (design / "required_n.csv").is_file() else None),
            "figure": figure(png, base, lang) if png.is_file() else None}
    return ctx
