"""Cost of one log-density gradient of the ordinal model: Bambi's graph vs a lean one.

Times the jitted value-and-gradient that NumPyro's NUTS calls (PyMC's JAX graph of the
Bambi model), at 1x-64x respondents, against the same model with the cumulative-logit
likelihood written for the observed category only (no N x 5 probability matrix).

python bench/gradprof.py --scales 1,16,64
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402


def lean_ordinal_model(frame, spec):
    """The ordinal model in plain PyMC with an observed-category-only likelihood."""
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.transforms import ordered

    data, _ = benchlib.stan_data("ordinal_inspraak", frame)
    gg, cell, rater = data["gg"] - 1, data["cell_idx"] - 1, data["rater_idx"] - 1
    resp, item, y = data["resp_idx"] - 1, data["item_idx"] - 1, data["y"] - 1
    with pm.Model() as m:
        thr = pm.Normal("threshold", data["threshold_mu"], 1.5, transform=ordered,
                        initval=np.array([-2.0, -0.67, 0.67, 2.0]))
        b = pm.Normal("group_gender", 0, 2, shape=data["G"] - 1)
        a = pm.Normal("age_z:rater", 0, 0.5, shape=data["R"])
        cs = pm.Gamma("1|cell_sigma", 2, 2)
        co = pm.Normal("1|cell_offset", 0, 1, shape=data["C"])
        rs = pm.HalfNormal("1|respondent_sigma", 2)
        ro = pm.Normal("1|respondent_offset", 0, 1, shape=data["P"])
        is_ = pm.HalfNormal("1|item_sigma", 0.5)
        io = pm.Normal("1|item_offset", 0, 1, shape=data["I"])
        eta = (pt.concatenate([pt.zeros(1), b])[gg] + (co * cs)[cell] + a[rater] * data["age_z"]
               + (ro * rs)[resp] + (io * is_)[item])
        big = pt.as_tensor(np.array([1e3]))
        cut = pt.concatenate([-big, thr, big])
        hi, lo = cut[y + 1] - eta, cut[y] - eta
        # log(F(hi) - F(lo)) for the logistic F, stable: log F(hi) + log1mexp(log F(lo) - log F(hi))
        lf_hi, lf_lo = -pt.softplus(-hi), -pt.softplus(-lo)
        pm.Potential("lik", (lf_hi + pt.log1mexp(lf_lo - lf_hi)).sum())
    return m


def grad_time(model, reps: int = 200) -> float:
    """Seconds per jitted value-and-gradient call of ``model``'s log density."""
    import jax
    from pymc.sampling.jax import get_jaxified_logp

    logp = get_jaxified_logp(model)
    ip = model.initial_point()
    x = [ip[v.name] for v in model.value_vars]
    vg = jax.jit(jax.value_and_grad(lambda *a: logp(a), argnums=tuple(range(len(x)))))
    jax.block_until_ready(vg(*x))
    t0 = time.perf_counter()
    for _ in range(reps):
        out = vg(*x)
    jax.block_until_ready(out)
    return (time.perf_counter() - t0) / reps


def main() -> None:
    """Print one JSON line per scale."""
    import triad.model_build as mb

    p = argparse.ArgumentParser()
    p.add_argument("--scales", default="1,16,64")
    a = p.parse_args()
    spec = benchlib.spec_of("ordinal_inspraak")
    for f in [int(s) for s in a.scales.split(",")]:
        path = None if f == 1 else str(benchlib.scaled_data(f))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = benchlib.model_data("ordinal_inspraak", path)
            bm = mb.bambi_model(spec, frame)
            bm.build()
            reps = max(20, 2000 // f)
            t_bambi = grad_time(bm.backend.model, reps)
            t_lean = grad_time(lean_ordinal_model(frame, spec), reps)
        print(json.dumps({"scale": f, "rows": len(frame), "grad_ms_bambi": 1e3 * t_bambi,
                          "grad_ms_lean": 1e3 * t_lean}), flush=True)


if __name__ == "__main__":
    main()
