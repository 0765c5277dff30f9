"""Cost of one log-density gradient of a bench model as NUTS sees it (inside compiled code).

Builds the production model (``triad.fitting.build_model``), takes PyMC's JAX log density
and times 1000 gradients inside one ``jax.lax.fori_loop``, so Python dispatch is not
counted (NumPyro's NUTS also calls the gradient from compiled code).

python bench/gradient_cost.py ordinal_inspraak 64 [bench/results/gradient_cost.csv]
"""

import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402


def main() -> None:
    """Print the microseconds per gradient of ``argv[1]`` at ``argv[2]`` x respondents."""
    import jax
    import jax.numpy as jnp
    from pymc.sampling.jax import get_jaxified_logp

    import triad.fitting as tf

    warnings.simplefilter("ignore")
    name = sys.argv[1]
    scale = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    data = None if scale == 1 else str(benchlib.scaled_data(scale))
    frame = benchlib.model_data(name, data)
    model, _ = tf.build_model(benchlib.spec_of(name), frame)
    logp = get_jaxified_logp(model)
    values = [jnp.asarray(model.initial_point()[v.name]) for v in model.value_vars]
    grad = jax.grad(lambda x: logp(list(x)))
    n = 1000

    @jax.jit
    def loop(x):
        def body(i, x):
            return [xi + 1e-9 * di for xi, di in zip(x, grad(x), strict=True)]

        return jax.lax.fori_loop(0, n, body, x)

    jax.block_until_ready(loop(values))
    start = time.perf_counter()
    jax.block_until_ready(loop(values))
    seconds = time.perf_counter() - start
    row = {"model": name, "scale": scale, "rows": len(frame),
           "parameters": int(sum(v.size for v in values)),
           "us_per_gradient": seconds / n * 1e6, "peak_rss_mb": benchlib.peak_rss_mb()}
    print(json.dumps(row))
    if len(sys.argv) > 3:  # append to a CSV
        import pandas as pd

        out = Path(sys.argv[3])
        pd.DataFrame([row]).to_csv(out, mode="a", header=not out.is_file(), index=False)


if __name__ == "__main__":
    main()
