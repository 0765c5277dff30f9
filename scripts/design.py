"""Design simulation for a next survey wave (thin; see triad.design)."""

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from triad.design import DEFAULT_GRID, run_design
from triad.fitting import fit
from triad.paths import models_dir
from triad.specs import load_spec

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    model: Annotated[str, typer.Option(help="Metric spec in models/")] = "metric_inspraak",
    family: Annotated[str, typer.Option(help="Two-group contrast family")] = (
        "gap_youth_vs_professional"),
    data: Annotated[Path | None, typer.Option(
        help="Respondent file (default: the synthetic data set)")] = None,
    grid: Annotated[str, typer.Option(help="Respondents per cell, comma-separated")] = (
        ",".join(map(str, DEFAULT_GRID))),
    target: Annotated[float, typer.Option(help="Assurance to reach")] = 0.8,
    reps: Annotated[int, typer.Option(help="Simulated waves per posterior draw")] = 10,
    n_draws: Annotated[int | None, typer.Option(help="Posterior draws used (default all)")] = None,
    seed: Annotated[int, typer.Option(help="Seed")] = 20240601,
    jobs: Annotated[int, typer.Option(help="Local worker processes over the grid")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port)")] = None,
    results: Annotated[Path, typer.Option(help="Where fits are cached")] = Path("results"),
    out: Annotated[Path, typer.Option(help="Result folder")] = Path("results/design"),
) -> None:
    """Fit (or read the cached fit of) MODEL and find respondents per cell for TARGET."""
    spec = load_spec(models_dir() / f"{model}.toml")
    result = fit(spec, data, out=results)
    done = run_design(result, out, [int(n) for n in grid.split(",")], target=target,
                      family=family, data=data, n_draws=n_draws, reps=reps, seed=seed,
                      jobs=jobs, scheduler=scheduler,
                      record={"command": shlex.join(["python", *sys.argv]),
                              "fit_key": result.record.get("key"),
                              "gates_passed": result.passed})
    typer.echo(done["required"].to_string(index=False))
    typer.echo(f"{done['record']['timings']['wall_seconds']} s; written to {out}")


if __name__ == "__main__":
    app()
