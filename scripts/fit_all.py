"""Run triad's main job on the embedded default (or --data FILE); see README."""

import os
from pathlib import Path
from typing import Annotated

import typer

from triad.errors import TriadInputError
from triad.fitting import BACKENDS, DEFAULT_BACKEND
from triad.pipeline import run_all
from triad.specs import SpecError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    data: Annotated[Path | None, typer.Option(help="Respondent file (.csv/.sav/.parquet)")] = None,
    out: Annotated[Path | None, typer.Option(help="Output root (default: repository)")] = None,
    models: Annotated[str, typer.Option(help="Glob of specs in models/")] = "*.toml",
    backend: Annotated[str, typer.Option(help=f"One of {', '.join(BACKENDS)}")] = DEFAULT_BACKEND,
    quick: Annotated[bool, typer.Option(help="Few draws: a smoke run, labelled quick")] = False,
    jobs: Annotated[int | None, typer.Option(
        help="Models fitted in parallel processes (default 1; 2 with --quick)")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 if a sampler gate fails; refuse "
                                              "answer-level problems")] = False,
    lang: Annotated[str, typer.Option(help="Figure and report language: en or nl")] = "en",
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port) to fit the models on")] = None,
    multiverse: Annotated[bool, typer.Option(
        help="Also fit the multiverse variants (models/multiverse/variants.toml)")] = True,
    min_cell: Annotated[int | None, typer.Option(
        help="Suppress groups with fewer respondents in every output (default 5 for a "
             "respondent file, off for the synthetic default; 0 = off)")] = None,
    robust_share: Annotated[float, typer.Option(
        help="A claim is fragile when fewer than this share of the other universes agree",
        min=0.0, max=1.0)] = 0.8,
) -> None:
    """Audit, replicate, fit every model and compare claim by claim."""
    if backend not in BACKENDS:
        typer.echo(f"triad: --backend must be one of {', '.join(BACKENDS)}", err=True)
        raise typer.Exit(2)
    if jobs is None:
        # a smoke run is dominated by per-model compilation: use both cores by default
        jobs = min(2, os.cpu_count() or 1) if quick else 1
    if lang not in ("en", "nl"):
        typer.echo("triad: --lang must be en or nl", err=True)
        raise typer.Exit(2)
    try:
        record = run_all(data, out, strict=strict, quick=quick, models=models, backend=backend,
                         jobs=jobs, lang=lang, scheduler=scheduler,
                         multiverse=multiverse, min_cell=min_cell,
                         robust_share=robust_share)
    except (TriadInputError, SpecError) as exc:
        typer.echo(f"triad: refused {exc}", err=True)
        raise typer.Exit(2) from None
    if strict and record["steps"].get("models", {}).get("gates_failed"):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
