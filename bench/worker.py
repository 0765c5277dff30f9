"""One timed fit in its own process; prints one JSON line (used by run_bench.py).

Examples
--------
python bench/worker.py --engine stan --model metric_inspraak --nonce abc
python bench/worker.py --engine numpyro --model ordinal_inspraak --scale 4 --sampler-only
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402


def main() -> None:
    """Parse the arguments, run one fit, print its measurements as JSON."""
    p = argparse.ArgumentParser()
    p.add_argument("--engine", choices=benchlib.ENGINES, required=True)
    p.add_argument("--model", choices=benchlib.MODELS, required=True)
    p.add_argument("--scale", type=int, default=1)
    p.add_argument("--nonce", default=None, help="Stan: force a cold compile")
    p.add_argument("--sampler-only", action="store_true")
    p.add_argument("--nuts-kwargs", default=None, help="JSON: prototype sampler kwargs")
    p.add_argument("--draws", type=int, default=None, help="Stan only: debug runs")
    p.add_argument("--tune", type=int, default=None)
    p.add_argument("--chains", type=int, default=None)
    p.add_argument("--spec-set", default=None,
                   help='JSON: spec fields replaced, e.g. {"noncentered": false}')
    a = p.parse_args()
    if a.spec_set:
        benchlib.SPEC_OVERRIDES.update(json.loads(a.spec_set))
    data = None if a.scale == 1 else str(benchlib.scaled_data(a.scale))
    t0 = time.perf_counter()
    if a.engine == "brms":
        res = benchlib.run_brms(a.model, data)
    elif a.engine == "stan":
        res = benchlib.run_stan(a.model, data, a.nonce, a.draws, a.tune, a.chains)
    else:
        kw = json.loads(a.nuts_kwargs) if a.nuts_kwargs else None
        res = benchlib.run_triad(a.model, a.engine, data, sampler_only=a.sampler_only,
                                 nuts_kwargs=kw)
    res.update(engine=a.engine, model=a.model, scale=a.scale, sampler_only=a.sampler_only,
               nuts_kwargs=a.nuts_kwargs or "", spec_set=a.spec_set or "",
               process_wall=time.perf_counter() - t0,
               peak_rss_mb=benchlib.peak_rss_mb(), load1=os.getloadavg()[0],
               xla_flags=os.environ.get("XLA_FLAGS", ""))
    if data is not None:
        frame = benchlib.model_data(a.model, data)
        res["rows"] = len(frame)
    else:
        res["rows"] = len(benchlib.model_data(a.model, None))
    print("BENCHJSON " + json.dumps(res, default=float), flush=True)


if __name__ == "__main__":
    main()
