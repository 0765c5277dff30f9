"""Machine record, profile summary and ``bench/RESULTS.md`` from ``bench/results/*.csv``."""

import io
import json
import os
import platform
import pstats
from pathlib import Path

import numpy as np
import pandas as pd

PACKAGES = ("pystan", "httpstan", "pymc", "pytensor", "bambi", "numpyro", "jax", "jaxlib",
            "nutpie", "arviz", "numpy", "pandas")


def machine() -> dict:
    """CPU model, cores, RAM, OS, library versions."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(x for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal"))
        ram_gib = int(mem.split()[1]) / 1024**2
    except (OSError, StopIteration):
        ram_gib = float("nan")
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = version(p)
        except PackageNotFoundError:
            versions[p] = "-"
    return {"cpu": cpu, "nproc": os.cpu_count(), "ram_gib": round(ram_gib, 1),
            "python": platform.python_version(), "os": platform.platform(),
            "versions": versions, "load_at_start": os.getloadavg()}


def write_machine(path: Path) -> None:
    """Write :func:`machine` as JSON."""
    path.write_text(json.dumps(machine(), indent=2) + "\n")


def write_profile_summary(prof: Path, out: Path, n: int = 30) -> None:
    """Top cumulative-time entries of a cProfile file, as text."""
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    stats.strip_dirs().sort_stats("cumulative").print_stats(n)
    out.write_text(buf.getvalue())


def _med(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return frame.groupby(["model", "engine"], sort=False)[cols].median()


def main_table(main: pd.DataFrame, compiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median over repeats per model and engine, with ratios to Stan.

    Stan's compile time is the median of its cold compiles (repeat 1 of the main part, whose
    later repeats reuse httpstan's cached binary, and the ``compile`` part's); triad's is its
    sampler call minus the sampler's own sampling time.
    """
    main = main.copy()
    cold = main[(main["engine"] == "stan") & (main["repeat"] == 1)][["model", "wall_compile"]]
    if compiles is not None:
        cold = pd.concat([cold, compiles[["model", "wall_compile"]]])
    cold = cold.groupby("model")["wall_compile"].median()
    stan = main["engine"] == "stan"
    # every Stan run is charged a cold compile, in its process time too
    main.loc[stan, "process_wall"] = (main.loc[stan, "process_wall"]
                                      - main.loc[stan, "wall_compile"]
                                      + main.loc[stan, "model"].map(cold))
    main.loc[stan, "wall_compile"] = main.loc[stan, "model"].map(cold)
    main.loc[stan, "wall_total"] = main.loc[stan, "wall_compile"] + main.loc[stan,
                                                                              "wall_sampling"]
    main.loc[stan, "wall_fit"] = main.loc[stan, "wall_total"]
    main["ess_s_incl"] = main["ess_bulk_min"] / main["wall_total"]
    main["ess_s_excl"] = main["ess_bulk_min"] / main["wall_sampling"]
    main["ess_s_fit"] = main["ess_bulk_min"] / main["wall_fit"]
    # the whole process: interpreter start, imports, data, compile, sampling, results
    main["ess_s_process"] = main["ess_bulk_min"] / main["process_wall"]
    cols = ["wall_compile", "wall_sampling", "wall_total", "wall_fit", "process_wall",
            "ess_bulk_min", "ess_tail_min", "ess_s_incl", "ess_s_excl", "ess_s_fit",
            "ess_s_process", "r_hat_max",
            "divergences", "mean_tree_depth", "peak_rss_mb", "load1"]
    t = _med(main, cols)
    t["repeats"] = main.groupby(["model", "engine"], sort=False).size()
    t["gates_passed"] = main.groupby(["model", "engine"], sort=False)["gates_passed"].apply(
        lambda s: f"{int(s.astype(bool).sum())}/{len(s)}")
    t = t.reset_index()
    for peer in ("stan", "brms"):
        ref = t[t["engine"] == peer].set_index("model")
        suffix = "" if peer == "stan" else "_brms"
        for c in ("ess_s_incl", "ess_s_excl", "ess_s_fit", "ess_s_process"):
            # a whole fit() is compared with the peer's compile + sampling (all it does)
            t[f"ratio_{c[6:]}{suffix}"] = t[c] / t["model"].map(
                ref["ess_s_incl" if c == "ess_s_fit" else c])
    return t


def equivalence(keys: pd.DataFrame) -> pd.DataFrame:
    """Each engine vs each peer: z of the difference of posterior means (repeat 1).

    z = (mean_a - mean_b) / sqrt(MCSE_a^2 + MCSE_b^2); agreement within 3 MCSE is
    |z| <= 3.
    """
    k = keys[keys["repeat"] == 1]
    rows = []
    for peer in ("stan", "brms"):
        ref = k[k["engine"] == peer].set_index(["model", "param"])
        for (model, engine), part in k[k["engine"] != peer].groupby(["model", "engine"]):
            if peer == "brms" and engine == "stan":
                continue  # listed once, as brms vs stan
            part = part.set_index(["model", "param"])
            both = part.join(ref, rsuffix="_ref", how="inner")
            if both.empty:
                continue
            z = (both["mean"] - both["mean_ref"]) / np.sqrt(both["mcse"] ** 2
                                                            + both["mcse_ref"] ** 2)
            worst = z.abs().idxmax()
            rows.append({"model": model, "engine": engine, "peer": peer,
                         "params": len(both), "max_abs_z": float(z.abs().max()),
                         "max_abs_diff": float((both["mean"] - both["mean_ref"]).abs().max()),
                         "worst_param": worst[1],
                         "within_3_mcse": "yes" if float(z.abs().max()) <= 3 else "no"})
    return pd.DataFrame(rows)


def key_means_table(keys: pd.DataFrame) -> pd.DataFrame:
    """Posterior means (MCSE) of the key parameters side by side, one column per engine."""
    k = keys[keys["repeat"] == 1].copy()
    k["text"] = k.apply(lambda r: f"{r['mean']:.3f} ({r['mcse']:.3f})", axis=1)
    wide = k.pivot_table(index=["model", "param"], columns="engine", values="text",
                         aggfunc="first").reset_index()
    wide.columns.name = None
    return wide


def _fmt(x, nd=1) -> str:
    if isinstance(x, str):
        return x.replace("|", "\\|")  # a Bambi name such as 1|cell_sigma in a table cell
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return f"{x:.{nd}f}"


def _md(frame: pd.DataFrame, cols: dict, nd: dict | None = None) -> str:
    nd = nd or {}
    head = "| " + " | ".join(cols.values()) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join(_fmt(r[c], nd.get(c, 1)) for c in cols) + " |\n"
                   for _, r in frame.iterrows())
    return head + body


def scaling_fit(scaling: pd.DataFrame) -> pd.DataFrame:
    """Log-log slope of seconds per leapfrog-free unit (s per iteration per chain) vs rows."""
    s = scaling[scaling.get("failed", pd.Series(False, index=scaling.index)).ne(True)].copy()
    s["iters"] = (s["tune"] + s["draws"]) * s["chains"]
    s["s_per_iter"] = s["wall_sampling"] / s["iters"]
    # leapfrog steps per iteration ~ 2^depth - 1: the cost of one gradient, approximately
    s["ms_per_grad"] = 1e3 * s["s_per_iter"] / (2.0 ** s["mean_tree_depth"] - 1)
    s["gates"] = s["gates_passed"].map(lambda g: "yes" if str(g) in ("True", "1.0") else "no")
    rows = []
    for model, part in s.groupby("model"):
        if len(part) < 2:
            continue
        slope = np.polyfit(np.log(part["rows"]), np.log(part["s_per_iter"]), 1)[0]
        slope_g = np.polyfit(np.log(part["rows"]), np.log(part["ms_per_grad"]), 1)[0]
        rows.append({"model": model, "slope_s_per_iter": slope, "slope_grad": slope_g,
                     "points": len(part)})
    return s, pd.DataFrame(rows)


def scaling_figure(s: pd.DataFrame, grads: pd.DataFrame | None, path: Path) -> None:
    """Sampling time, gradient cost and peak memory against rows, log-log, per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.3), constrained_layout=True)
    for model, part in s.groupby("model"):
        part = part.sort_values("rows")
        axes[0].plot(part["rows"], part["wall_sampling"] / 60.0, "o-", label=model)
        axes[2].plot(part["rows"], part["peak_rss_mb"] / 1024.0, "o-",
                     label=f"{model} (sampling)")
        for _, r in part.iterrows():
            axes[0].annotate(f"{int(r['scale'])}x", (r["rows"], r["wall_sampling"] / 60.0),
                             textcoords="offset points", xytext=(3, 3), fontsize=7)
    if grads is not None and len(grads):
        for model, part in grads.groupby("model"):
            part = part.sort_values("rows")
            axes[1].plot(part["rows"], part["us_per_gradient"], "s-", label=model)
            axes[2].plot(part["rows"], part["peak_rss_mb"] / 1024.0, "s--",
                         label=f"{model} (build + gradient)")
            for _, r in part.iterrows():
                axes[1].annotate(f"{int(r['scale'])}x", (r["rows"], r["us_per_gradient"]),
                                 textcoords="offset points", xytext=(3, 3), fontsize=7)
    axes[0].axhline(15, color="grey", ls=":", lw=1)
    axes[2].axhline(8, color="grey", ls=":", lw=1)
    for ax, label in zip(axes, ("sampling time (min)", "one gradient (us, compiled loop)",
                                "peak RSS (GiB)"), strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(250, 1.5e5)  # 1x-64x of both models on one axis
        ax.set_xlabel("rows (answers or scale scores)")
        ax.set_ylabel(label)
        ax.legend(fontsize=6)
    fig.savefig(path, dpi=150)
    plt.close(fig)


def write_results(results: Path, out: Path) -> None:
    """Rewrite RESULTS.md from the CSVs (the prose lives in RESULTS_TEMPLATE.md)."""
    parts = {}
    mach = json.loads((results / "machine.json").read_text()) if (
        results / "machine.json").is_file() else machine()
    parts["machine"] = (f"{mach['cpu']}, {mach['nproc']} cores, {mach['ram_gib']} GiB RAM, "
                        f"Python {mach['python']}, {mach['os']}; load average at start "
                        f"{', '.join(f'{x:.2f}' for x in mach['load_at_start'])}.\n\n"
                        + ", ".join(f"{k} {v}" for k, v in mach["versions"].items()))
    if (results / "main.csv").is_file():
        comp = results / "stan_compile.csv"
        t = main_table(pd.read_csv(results / "main.csv"),
                       pd.read_csv(comp) if comp.is_file() else None)
        allc = pd.read_csv(results / "main.csv").query("engine == 'stan' and repeat == 1")
        if comp.is_file():
            allc = pd.concat([allc, pd.read_csv(comp)])
        if len(allc):
            parts["compiles"] = ", ".join(
                f"{m}: " + " / ".join(f"{x:.0f}" for x in g["wall_compile"]) + " s"
                for m, g in allc.groupby("model"))
        parts["main"] = _md(t, {
            "model": "model", "engine": "sampler", "repeats": "runs",
            "wall_compile": "compile s", "wall_sampling": "sampling s",
            "wall_total": "compile+sampling s", "wall_fit": "whole fit() s",
            "ess_bulk_min": "min bulk ESS", "ess_s_incl": "ESS/s incl. compile",
            "ess_s_excl": "ESS/s sampling only", "ratio_incl": "x Stan (incl.)",
            "ratio_excl": "x Stan (sampling)", "ratio_fit": "x Stan (whole fit)",
            "ratio_incl_brms": "x brms (incl.)", "ratio_excl_brms": "x brms (sampling)",
            "ratio_fit_brms": "x brms (whole fit)", "process_wall": "process s",
            "ess_s_process": "ESS/s process", "ratio_process": "x Stan (process)",
            "ratio_process_brms": "x brms (process)",
            "r_hat_max": "max R-hat", "divergences": "div.", "mean_tree_depth": "tree depth",
            "peak_rss_mb": "peak RSS MiB", "gates_passed": "gates", "load1": "load"},
            {"r_hat_max": 3, "ratio_incl": 2, "ratio_excl": 2, "ratio_fit": 2, "repeats": 0,
             "ratio_incl_brms": 2, "ratio_excl_brms": 2, "ratio_fit_brms": 2,
             "ratio_process": 2, "ratio_process_brms": 2,
             "divergences": 0, "ess_bulk_min": 0, "peak_rss_mb": 0, "load1": 2})
        t.to_csv(results / "summary.csv", index=False)
        npy = t[t["engine"] == "numpyro"].set_index("model")
        for short, model in (("metric", "metric_inspraak"), ("ordinal", "ordinal_inspraak"),
                             ("summary", "summary_cells")):
            if model in npy.index:
                parts[f"r_{short}"] = f"{npy.loc[model, 'ratio_incl']:.1f}"
                parts[f"s_{short}"] = f"{npy.loc[model, 'ratio_excl']:.2f}"
                parts[f"f_{short}"] = f"{npy.loc[model, 'ratio_fit']:.1f}"
                parts[f"p_{short}"] = f"{npy.loc[model, 'ratio_process']:.1f}"
                for key, col in (("rb", "ratio_incl_brms"), ("sb", "ratio_excl_brms"),
                                 ("fb", "ratio_fit_brms"), ("pb", "ratio_process_brms")):
                    value = npy.loc[model, col] if col in npy.columns else np.nan
                    parts[f"{key}_{short}"] = ("no brms peer" if not np.isfinite(value)
                                               else f"{value:.1f}")
    if (results / "key_params.csv").is_file():
        e = equivalence(pd.read_csv(results / "key_params.csv"))
        parts["equivalence"] = _md(e, {"model": "model", "engine": "engine",
                                       "peer": "against", "params": "parameters compared",
                                       "max_abs_z": "max |z|", "max_abs_diff": "max |diff|",
                                       "worst_param": "worst",
                                       "within_3_mcse": "within 3 MCSE"},
                                   {"max_abs_z": 2, "max_abs_diff": 3, "params": 0})
        means = key_means_table(pd.read_csv(results / "key_params.csv"))
        parts["key_means"] = _md(means, {c: c for c in means.columns})
    if (results / "scaling.csv").is_file():
        sc = pd.read_csv(results / "scaling.csv")
        sc["source"] = "scaling"
        if (results / "main.csv").is_file():
            # 1x points the scaling part did not rerun: the main part's numpyro fits (same
            # sampler call), the repeat with the median sampling time
            main = pd.read_csv(results / "main.csv")
            for model in ("metric_inspraak", "ordinal_inspraak"):
                if ((sc["model"] == model) & (sc["scale"] == 1)).any():
                    continue
                m = main[(main["model"] == model) & (main["engine"] == "numpyro")]
                if len(m):
                    row = m.iloc[(m["wall_sampling"] - m["wall_sampling"].median()).abs()
                                 .argsort().iloc[:1]].copy()
                    row["scale"], row["source"] = 1, "main part"
                    sc = pd.concat([row, sc], ignore_index=True)
        s, fitted = scaling_fit(sc.sort_values(["model", "scale"]))
        grad_path = results / "gradient_cost.csv"
        grads = pd.read_csv(grad_path) if grad_path.is_file() else None
        scaling_figure(s, grads, results / "scaling.png")
        if grads is not None:
            parts["gradient"] = _md(grads, {"model": "model", "scale": "x", "rows": "rows",
                                            "parameters": "parameters",
                                            "us_per_gradient": "us per gradient",
                                            "peak_rss_mb": "peak RSS MiB"},
                                    {"scale": 0, "rows": 0, "parameters": 0,
                                     "us_per_gradient": 1, "peak_rss_mb": 0})
        parts["scaling"] = _md(s, {"model": "model", "scale": "x", "rows": "rows",
                                   "chains": "chains", "tune": "tune", "draws": "draws",
                                   "wall_compile": "compile s", "wall_sampling": "sampling s",
                                   "s_per_iter": "s per iteration",
                                   "ms_per_grad": "ms per gradient (approx.)",
                                   "mean_tree_depth":
                                   "tree depth", "ess_bulk_min": "min bulk ESS",
                                   "ess_tail_min": "min tail ESS", "r_hat_max": "max R-hat",
                                   "divergences": "div.", "gates": "gates",
                                   "peak_rss_mb": "peak RSS MiB", "source": "from"},
                               {"scale": 0, "rows": 0, "chains": 0, "tune": 0, "draws": 0,
                                "s_per_iter": 4, "ms_per_grad": 3, "ess_bulk_min": 0,
                                "ess_tail_min": 0,
                                "r_hat_max": 3, "divergences": 0, "peak_rss_mb": 0})
        parts["scaling_fit"] = _md(fitted, {"model": "model", "points": "points",
                                            "slope_s_per_iter": "slope: s per iteration",
                                            "slope_grad": "slope: ms per gradient"},
                                   {"slope_s_per_iter": 2, "slope_grad": 2, "points": 0})
    if (results / "fit_all.csv").is_file():
        fa = pd.read_csv(results / "fit_all.csv")
        for col in ("repeat", "fits", "fits_failed", "gates_failed", "r_hat_max",
                    "ess_bulk_min", "ess_tail_min", "divergences", "peak_rss_mib"):
            if col not in fa:
                fa[col] = np.nan
        parts["fitall"] = _md(fa, {"run": "run", "repeat": "repeat", "command": "command",
                                   "wall_s": "wall s", "rc": "exit", "fits": "fits",
                                   "fits_failed": "failed", "gates_failed": "gates failed",
                                   "r_hat_max": "max R-hat", "ess_bulk_min": "min bulk ESS",
                                   "ess_tail_min": "min tail ESS",
                                   "divergences": "div.", "peak_rss_mib": "peak RSS MiB",
                                   "load1": "load"},
                              {"rc": 0, "load1": 2, "repeat": 0, "fits": 0, "fits_failed": 0,
                               "gates_failed": 0, "r_hat_max": 4, "ess_bulk_min": 0,
                               "ess_tail_min": 0, "divergences": 0, "peak_rss_mib": 0})
        med = fa.groupby("run")["wall_s"].median()
        for run in med.index:
            parts[f"fitall_{run}"] = f"{med[run]:.1f}"
    if (results / "floor.csv").is_file():
        fl = pd.read_csv(results / "floor.csv")
        parts["floor"] = _md(fl, {"model": "fit", "chains": "chains", "tune": "warm-up",
                                  "draws": "draws", "steps_per_iteration": "steps per draw",
                                  "leapfrogs": "leapfrog steps",
                                  "us_per_gradient": "us per gradient",
                                  "gradient_core_s": "gradient floor CPU s",
                                  "fit_s": "fit's sampling step s"},
                             {"chains": 0, "tune": 0, "draws": 0, "leapfrogs": 0,
                              "us_per_gradient": 1, "gradient_core_s": 1, "fit_s": 1})
        parts["floor_total"] = f"{fl['gradient_core_s'].sum():.0f}"
        parts["floor_leapfrogs"] = f"{fl['leapfrogs'].sum() / 1e6:.1f}"
        parts["floor_fits"] = f"{fl['fit_s'].sum():.0f}"
    if (results / "fit_all_profile.txt").is_file():
        lines = (results / "fit_all_profile.txt").read_text().splitlines()
        start = next((i for i, x in enumerate(lines) if "ncalls" in x), 0)
        parts["profile"] = "```\n" + "\n".join(x[:150] for x in lines[start:start + 32]) + "\n```"
    if (results / "fit_all_warm_profile.txt").is_file():
        lines = (results / "fit_all_warm_profile.txt").read_text().splitlines()
        start = next((i for i, x in enumerate(lines) if "ncalls" in x), 0)
        top = "\n".join(x[:150] for x in lines[start:start + 24])
        parts["profile_warm"] = "```\n" + top + "\n```"
    template = (Path(__file__).parent / "RESULTS_TEMPLATE.md")
    text = template.read_text() if template.is_file() else "\n".join(
        f"{{{k}}}" for k in parts)
    for k, v in parts.items():
        text = text.replace("{" + k + "}", v)
    out.write_text(text)
