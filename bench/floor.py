"""The main job's gradient floor: each fit's leapfrog steps times the cost of one gradient.

Reads the fits of a main job (``<out>/results/fits/*/*/fit.json`` and the sample_stats of
``fit.nc``) and the cost of one log-density gradient of each fitted model in compiled code
(``bench/results/gradient_cost.csv`` at 1x, from ``bench/gradient_cost.py``; a universe
``model~variant`` uses its own row when there is one, else its base model's) and writes
one row per fit:

- ``leapfrogs``: chains x (warm-up + draws kept) x the draws' mean leapfrog steps per
  iteration. The warm-up's first trees are deeper than the draws' (the step size and the
  mass matrix are still being found), so this undercounts the steps taken.
- ``gradient_core_s``: leapfrogs x the gradient's cost: CPU seconds that a NUTS sampler
  with this gradient spends on these trajectories even if everything else it does (the
  tree's bookkeeping, compiling, checking, storing) cost nothing.

The sum over the fits, divided by the cores, is a lower bound on the time of the main job's
sampling on this machine (issue 17's 5 min aim is measured against it in RESULTS.md).

    python bench/floor.py /tmp/clone [bench/results/floor.csv]
"""

import json
import sys
import warnings
from pathlib import Path

import pandas as pd
import xarray as xr

HERE = Path(__file__).resolve().parent


def gradient_costs(path: Path) -> dict[str, float]:
    """Microseconds per gradient at 1x by model name (``bench/gradient_cost.py``'s CSV)."""
    costs = pd.read_csv(path).query("scale == 1")
    return costs.groupby("model")["us_per_gradient"].median().to_dict()


def fit_floor(fit_json: Path, costs: dict[str, float]) -> dict:
    """One fit's steps and gradient floor (see the module docstring)."""
    record = json.loads(fit_json.read_text())
    model = record["model"]  # "base~variant" for a universe
    base = model.split("~")[0]
    cost = costs.get(model, costs.get(base))
    if cost is None:
        raise SystemExit(f"{fit_json}: no gradient cost for {model!r} or {base!r}; run "
                         f"python bench/gradient_cost.py {base} 1 "
                         "bench/results/gradient_cost.csv")
    with xr.open_datatree(fit_json.with_name("fit.nc"), engine="netcdf4") as tree:
        steps = float(tree["sample_stats"]["n_steps"].mean())
    diag, sampler = record["diagnostics"], record["sampler"]
    iterations = sampler["chains"] * (sampler["tune"] + diag["draws"])
    return {"model": model, "chains": sampler["chains"], "tune": sampler["tune"],
            "draws": diag["draws"], "steps_per_iteration": steps,
            "leapfrogs": iterations * steps, "us_per_gradient": cost,
            "gradient_core_s": iterations * steps * cost * 1e-6,
            "fit_s": diag["seconds"], "gradient_from": model if model in costs else base}


def main() -> None:
    """Write the floor of the main job in ``argv[1]`` to ``argv[2]`` (default: print)."""
    warnings.simplefilter("ignore")
    out = Path(sys.argv[1])
    fits = sorted((out / "results" / "fits").glob("*/*/fit.json"))
    if not fits:
        raise SystemExit(f"{out}: no results/fits/*/*/fit.json (run scripts/fit_all.py)")
    costs = gradient_costs(HERE / "results" / "gradient_cost.csv")
    table = pd.DataFrame([fit_floor(f, costs) for f in fits]).sort_values(
        "gradient_core_s", ascending=False)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    print(f"{len(table)} fits: {table['leapfrogs'].sum() / 1e6:.1f} M leapfrog steps, "
          f"gradient floor {table['gradient_core_s'].sum():.0f} CPU s; the fits' sampling "
          f"steps (prior draws, compile, checks included) {table['fit_s'].sum():.0f} s")
    if len(sys.argv) > 2:
        table.to_csv(sys.argv[2], index=False)


if __name__ == "__main__":
    main()
