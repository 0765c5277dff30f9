"""Benchmarks of triad against brms and hand-written Stan, scaling, and the main job.

One command runs every part (well over two hours on the 2-core machine; bench/RESULTS.md
lists the commands that gave its numbers)::

    python bench/run_bench.py --repeats 3

Parts (``--parts``): ``main`` (brms, Stan and triad on the three models, repeats
interleaved; ``--engines`` adds pymc or nutpie), ``scaling`` (metric and ordinal models on
1x-64x respondents), ``compile`` (two more cold Stan compiles per model), ``fitall``
(``scripts/fit_all.py`` cold, then warm and ``--quick`` ``--repeats`` times; ``fitall-warm``
without the cold run).  Each fit runs in its own process
(``bench/worker.py``); rows are appended to ``bench/results/*.csv`` as they finish, and
``bench/RESULTS.md`` is rewritten from the CSVs (``--report-only`` rewrites it alone).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

import report  # noqa: E402

# Ordinal fits of the peers (and of pymc, nutpie) take minutes each; they run once.
ONCE = {("ordinal_inspraak", "pymc"), ("ordinal_inspraak", "nutpie"),
        ("ordinal_inspraak", "stan"), ("ordinal_inspraak", "brms")}
# The default comparison: triad's default backend against the two peers of issue 17.
DEFAULT_ENGINES = ("stan", "brms", "numpyro")


def _env() -> dict:
    env = dict(os.environ)
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_worker(args: list[str], log, timeout: float = 3600) -> dict | None:
    """Run ``bench/worker.py`` with ``args``; return its JSON (None when it failed)."""
    cmd = [sys.executable, str(HERE / "worker.py"), *args]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=REPO,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        log.write(f"  TIMEOUT after {timeout} s\n")
        return None
    wall = time.perf_counter() - t0
    line = [x for x in proc.stdout.splitlines() if x.startswith("BENCHJSON ")]
    if proc.returncode != 0 or not line:
        log.write(f"  FAILED rc={proc.returncode}\n{proc.stderr[-3000:]}\n")
        log.flush()
        return None
    res = json.loads(line[-1][len("BENCHJSON "):])
    res["load1_before"] = load_before
    res["subprocess_wall"] = wall
    log.write(f"  ok {wall:.1f} s: ess_bulk {res['ess_bulk_min']:.0f}, wall_total "
              f"{res['wall_total']:.1f} s, gates {res['gates_passed']}\n")
    log.flush()
    return res


def _append(path: Path, row: dict) -> None:
    """Append one row, aligned to the file's header (rows of different engines differ)."""
    frame = pd.DataFrame([row])
    if path.is_file():
        old = pd.read_csv(path)
        if set(frame.columns) - set(old.columns):  # a new column: rewrite with the union
            pd.concat([old, frame], ignore_index=True).to_csv(path, index=False)
            return
        frame = frame.reindex(columns=old.columns)
    frame.to_csv(path, mode="a", header=not path.is_file(), index=False)


def main_part(repeats: int, log, engines: tuple = DEFAULT_ENGINES) -> None:
    """brms, Stan and triad on the three models, repeats interleaved.

    brms runs when ``Rscript`` with brms and rstan is there (else a message says why it
    was skipped); it has no summary model (the cell SDs' Gamma likelihood sharing sigma
    with the means and the latent pair factor need custom Stan code).
    """
    import benchlib

    if "brms" in engines:
        why = benchlib.brms_available()
        if why is not None:
            print(f"brms skipped: {why}", flush=True)
            log.write(f"brms skipped: {why}\n")
            engines = tuple(e for e in engines if e != "brms")
    nonce = uuid.uuid4().hex[:8]
    for rep in range(1, repeats + 1):
        for model in benchlib.MODELS:
            for engine in engines:
                if rep > 1 and (model, engine) in ONCE:
                    continue
                if engine == "brms" and model not in benchlib.BRMS_MODELS:
                    continue
                args = ["--engine", engine, "--model", model]
                if engine == "stan":
                    args += ["--nonce", nonce]  # cold compile in repeat 1, cached after
                res = run_worker(args, log)
                if res is None:
                    continue
                key = res.pop("key")
                res["repeat"] = rep
                _append(RESULTS / "main.csv", res)
                for name, (mean, mcse) in key.items():
                    _append(RESULTS / "key_params.csv",
                            {"model": model, "engine": engine, "repeat": rep, "param": name,
                             "mean": mean, "mcse": mcse})



def scaling_part(factors: list[int], log, ordinal_factors: list[int] | None = None,
                 long_chains: dict | None = None) -> None:
    """Metric and ordinal models on replicated respondents with the default backend.

    The sampler path only (the production model build + triad's sampler call with the
    spec's arguments, 4 x (1000 + 1000) at every size): triad's post-processing (prior
    predictive, expected scores per observation) is measured in the main part.
    ``long_chains`` (sampler settings, e.g. 2 chains x (500 + 600)) replaces the spec's for
    the ordinal fits from 16x on: a shorter probe.
    """
    for model in ("metric_inspraak", "ordinal_inspraak"):
        use = ordinal_factors if model == "ordinal_inspraak" and ordinal_factors else factors
        for f in use:
            args = ["--engine", "numpyro", "--model", model, "--scale", str(f),
                    "--sampler-only"]
            if model == "ordinal_inspraak" and f >= 16 and long_chains:
                args += ["--nuts-kwargs", json.dumps(long_chains)]
            res = run_worker(args, log, timeout=1800)
            if res is None:
                _append(RESULTS / "scaling.csv", {"model": model, "scale": f,
                                                   "engine": "numpyro", "failed": True})
                continue
            res.pop("key")
            _append(RESULTS / "scaling.csv", res)


def compile_part(repeats: int, log) -> None:
    """Cold Stan compiles only (a new program text each time; 1 chain x 10 + 10 draws).

    The main part compiles cold once per model; these repeats give the median that the
    report charges to Stan.
    """
    import benchlib

    for rep in range(1, repeats + 1):
        for model in benchlib.MODELS:
            res = run_worker(["--engine", "stan", "--model", model, "--nonce",
                              uuid.uuid4().hex[:8], "--draws", "10", "--tune", "10",
                              "--chains", "1"], log)
            if res is not None:
                res.pop("key")
                res["repeat"] = rep
                _append(RESULTS / "stan_compile.csv", res)


def _main_job(label: str, args: list[str], out: Path, log, clear: bool) -> dict:
    """Run ``scripts/fit_all.py ARGS --out OUT`` once; wall time, peak RSS, fits, gates."""
    import resource

    if clear:
        shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "scripts/fit_all.py", *args, "--out", str(out)],
                          capture_output=True, text=True, env=_env(), cwd=REPO)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    log.write(f"fit_all {label}: {wall:.1f} s rc={proc.returncode}\n{proc.stdout[-800:]}"
              f"{proc.stderr[-800:]}\n")
    log.flush()
    row = {"run": label, "command": " ".join(["python scripts/fit_all.py", *args]),
           "wall_s": wall, "rc": proc.returncode, "load1": os.getloadavg()[0],
           # the largest child so far: a lower bound when an earlier child was larger
           "peak_rss_mib": (peak if peak > before else np.nan) / 1024.0}
    record = out / "results" / "run.json"
    if record.is_file():
        models = json.loads(record.read_text()).get("steps", {}).get("models", {})
        row.update(fits=models.get("models"), fits_failed=len(models.get("fits_failed", [])),
                   gates_failed=len(models.get("gates_failed", [])))
    table = out / "results" / "tables" / "diagnostics.csv"
    if table.is_file() and "quick" not in label:
        diag = pd.read_csv(table)
        row.update(r_hat_max=diag["r_hat_max"].max(), ess_bulk_min=diag["ess_bulk_min"].min(),
                   ess_tail_min=diag["ess_tail_min"].min(),
                   divergences=int(diag["divergences"].sum()))
    return row


def fitall_part(log, repeats: int = 3, cold: bool = True) -> None:
    """The README's main job: cold (empty --out), warm (again, nothing changed), --quick.

    The cold run goes once (about half an hour on 2 cores); the warm rerun and the quick
    run ``repeats`` times each (the quick run from an empty folder every time, its JAX
    compile cache included).
    """
    out = Path("/tmp/triad_bench_fitall")
    qout = Path("/tmp/triad_bench_fitall_quick")
    path = RESULTS / "fit_all.csv"
    if cold:
        _append(path, _main_job("cold", [], out, log, clear=True))
    for rep in range(1, repeats + 1):
        if (out / "results" / "run.json").is_file():
            _append(path, {**_main_job("warm", [], out, log, clear=False), "repeat": rep})
        _append(path, {**_main_job("quick", ["--quick"], qout, log, clear=True),
                       "repeat": rep})


def main() -> None:
    """Run the selected parts and write bench/RESULTS.md."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--engines", default=",".join(DEFAULT_ENGINES),
                   help="Engines of the main part: stan, brms, numpyro, pymc, nutpie")
    p.add_argument("--parts", default="main,scaling,compile,fitall")
    p.add_argument("--scales", default="1,4,16,64")
    p.add_argument("--ordinal-scales", default=None,
                   help="Scales of the ordinal model (default: --scales)")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--long-chains", default=None,
                   help="JSON sampler settings of the ordinal fits from 16x (a short probe)")
    p.add_argument("--append", action="store_true",
                   help="Keep the parts' existing CSVs and add rows to them")
    a = p.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not a.report_only:
        parts = a.parts.split(",")
        report.write_machine(RESULTS / "machine.json")
        with open(RESULTS / "bench.log", "a") as log:
            log.write(f"=== run {time.strftime('%Y-%m-%d %H:%M:%S')} parts={parts}\n")
            for part in parts if not a.append else ():
                for name in {"main": ("main.csv", "key_params.csv"),
                             "scaling": ("scaling.csv",),
                             "compile": ("stan_compile.csv",), "fitall-warm": (),
                             "fitall": ("fit_all.csv",)}[part]:
                    (RESULTS / name).unlink(missing_ok=True)
            if "main" in parts:
                main_part(a.repeats, log, tuple(a.engines.split(",")))
            if "scaling" in parts:
                scaling_part([int(x) for x in a.scales.split(",") if x], log,
                             [int(x) for x in a.ordinal_scales.split(",")]
                             if a.ordinal_scales else None,
                             json.loads(a.long_chains) if a.long_chains else None)
            if "compile" in parts:
                compile_part(2, log)
            if "fitall" in parts or "fitall-warm" in parts:
                fitall_part(log, a.repeats, cold="fitall" in parts)
    report.write_results(RESULTS, HERE / "RESULTS.md")
    print((HERE / "RESULTS.md").read_text()[:4000])
    np.seterr(all="ignore")


if __name__ == "__main__":
    main()
