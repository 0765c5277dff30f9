"""Simulation-based calibration of the metric and summary models (thin; see triad.sbc)."""

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from triad.paths import models_dir
from triad.sbc import DEFAULT_SBC_BACKEND, SBC_BACKENDS, sbc_models
from triad.specs import load_spec

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    models: Annotated[str, typer.Option(help="Comma-separated spec names in models/")] = (
        "metric_inspraak,summary_cells"),
    sims: Annotated[int, typer.Option(help="Simulations per model")] = 200,
    draws: Annotated[int, typer.Option(help="Posterior draws per refit (1 chain)")] = 990,
    thin: Annotated[int, typer.Option(help="Keep every THIN-th draw for the ranks")] = 10,
    tune: Annotated[int, typer.Option(help="Warm-up iterations per refit")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the simulations")] = 20240601,
    backend: Annotated[str, typer.Option(help=f"One of {', '.join(SBC_BACKENDS)}")] = (
        DEFAULT_SBC_BACKEND),
    jobs: Annotated[int, typer.Option(help="Local worker processes")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port) to run the refits on")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Respondent file for the design (default: the synthetic data set)")] = None,
    bins: Annotated[int | None, typer.Option(help="Rank histogram bins")] = None,
    level: Annotated[float, typer.Option(help="Family-wise level (Bonferroni)")] = 0.01,
    out: Annotated[Path, typer.Option(help="Result folder")] = Path("results/sbc"),
) -> None:
    """Run SBC and write ranks, uniformity table, figure and a JSON record to OUT."""
    if backend not in SBC_BACKENDS:
        typer.echo(f"sbc: --backend must be one of {', '.join(SBC_BACKENDS)}", err=True)
        raise typer.Exit(2)
    specs = [load_spec(models_dir() / f"{m.strip()}.toml") for m in models.split(",")]
    result = sbc_models(specs, sims, out, draws=draws, thin=thin, tune=tune, seed=seed,
                        backend=backend, jobs=jobs, scheduler=scheduler, data=data, bins=bins,
                        level=level, command=shlex.join(["python", *sys.argv]))
    typer.echo(result["decision"].to_string(index=False))
    typer.echo(f"{result['record']['wall_seconds']} s; written to {out}")


if __name__ == "__main__":
    app()
