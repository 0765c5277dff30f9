"""Ordinal models with discrimination by rater: gates, fit times, LOO (issue 15).

Fits each named spec (``name`` or ``name~variant``) with its full sampler settings on the
synthetic default, one at a time, and writes ``bench/results/ordinal_fits.csv`` (gates,
wall and CPU seconds, the posterior discrimination of every non-reference rater group).
``--loo`` also fits ``ordinal_inspraak`` and ``ordinal_inspraak_probit`` with one latent
SD (``disc = "common"``, the model Bambi fitted before; ``name~bambi`` fits it with
Bambi, for its time and log-likelihood) and the logit model with thresholds by rater, and
writes ``bench/results/ordinal_loo.csv``: PSIS-LOO of the five models and
``arviz.compare`` (fits of one code version: LOO pairs observations by row).
Not run in CI::

    python bench/ordinal_disc.py --loo ordinal_band ordinal_inspraak~thresholds_rater
"""

import argparse
import dataclasses
import hashlib
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

from triad.fitting import fit, resolve_model
from triad.multiverse import resolve_spec

RESULTS = Path(__file__).parent / "results"


def _spec(name: str):
    if "~" not in name:
        return resolve_model(name)
    base, variant = name.split("~", 1)
    if variant in ("disc_common", "bambi"):  # one latent SD: PyMC's, or Bambi's as before
        spec = resolve_model(base)
        digest = hashlib.sha256((spec.sha256 + variant).encode()).hexdigest()
        return dataclasses.replace(spec, name=name, variant=variant,
                                   disc="common" if variant == "disc_common" else "",
                                   content_sha256=digest)
    return resolve_spec(resolve_model(base).path, variant)


def _fit(name: str, out: Path, refit: bool) -> tuple[dict | None, object]:
    spec = _spec(name)
    wall, cpu = time.perf_counter(), time.process_time()
    result = fit(spec, out=out, use_cache=not refit)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if result.cached:  # its row (and times) are in the table from the run that fitted it
        return None, result
    d = result.diagnostics
    row = {"model": name, "gates_passed": d["gates_passed"], "r_hat_max": d["r_hat_max"],
           "ess_bulk_min": d["ess_bulk_min"], "ess_tail_min": d["ess_tail_min"],
           "divergences": d["divergences"], "ebfmi_min": d.get("ebfmi_min"),
           "treedepth_saturated_share": d.get("treedepth_saturated_share"),
           "wall_s": round(wall, 1),
           "cpu_s": round(cpu, 1), "sample_s": round(d["seconds"], 1),
           "draws": spec.sampler["draws"], "elpd_loo": d["elpd_loo"],
           "elpd_loo_se": d["elpd_loo_se"], "pareto_k_bad": d["pareto_k_bad"]}
    post = result.idata["posterior"]
    if "disc" in post:
        for rater in post["disc_rater"].to_numpy():
            draws = post["disc"].sel(disc_rater=rater).to_numpy().ravel()
            lo, hi = np.quantile(draws, [0.025, 0.975])
            row[f"disc_{rater}"] = f"{draws.mean():.3f} [{lo:.3f}, {hi:.3f}]"
    print(row, flush=True)
    return row, result


def main() -> None:
    """Fit the specs named on the command line and write the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("specs", nargs="*")
    parser.add_argument("--loo", action="store_true")
    parser.add_argument("--out", default="/tmp/ordinal_bench")
    parser.add_argument("--refit", action="store_true", help="ignore fits stored in --out")
    args = parser.parse_args()
    out = Path(args.out)
    RESULTS.mkdir(exist_ok=True)
    names = list(args.specs)
    loo = ["ordinal_inspraak", "ordinal_inspraak_probit", "ordinal_inspraak~disc_common",
           "ordinal_inspraak_probit~disc_common",
           "ordinal_inspraak~thresholds_rater"] if args.loo else []
    rows, fits = [], {}
    for name in loo + [n for n in names if n not in loo]:
        row, result = _fit(name, out, args.refit)
        if name in loo:
            fits[name] = result.idata
        if row is None:
            continue
        rows.append(row)
        table = pd.DataFrame(rows)
        path = RESULTS / "ordinal_fits.csv"
        old = pd.read_csv(path) if path.is_file() else pd.DataFrame()
        keep = old[~old["model"].isin(table["model"])] if len(old) else old
        pd.concat([keep, table], ignore_index=True).to_csv(path, index=False)
    if fits:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loos = {m: az.loo(t, pointwise=True) for m, t in fits.items()}
            compared = az.compare(loos, round_to="none")
        compared.index.name = "model"
        table = compared.reset_index()[["model", "rank", "elpd", "se", "p", "elpd_diff",
                                        "dse", "weight"]]
        table["pareto_k_bad"] = [int(np.sum(np.asarray(loos[m].pareto_k) > loos[m].good_k))
                                 for m in table["model"]]
        table["nan_or_inf"] = [int(np.sum(~np.isfinite(
            fits[m]["log_likelihood"]["value"].to_numpy()))) for m in table["model"]]
        table.to_csv(RESULTS / "ordinal_loo.csv", index=False)
        print(table.to_string())


if __name__ == "__main__":
    main()
