"""Run triad's main job on the embedded default (or --data FILE); see README."""

import os
from pathlib import Path
from typing import Annotated

import typer

from triad.errors import OutputError, TriadInputError
from triad.fitting import BACKENDS, DEFAULT_BACKEND
from triad.pipeline import exit_status, run_all
from triad.specs import SpecError

EXIT_CODES = ("Exit codes: 0 done; 1 --strict and a sampler gate failed; 2 refused (input "
              "file, spec, option, unwritable --out); 3 a fit failed (its worker died or it "
              "raised; the other fits' tables are written, a rerun fits only what is "
              "missing); 4 an output could not be written (disk full): the run stopped.")
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command(epilog=EXIT_CODES)
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
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print only warnings, failures and the final line")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also per-step timings and each fit's R-hat, ESS and folder "
                                "(results/run.log has everything either way)")] = False,
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
                         robust_share=robust_share, verbosity=0 if quiet else 2 if verbose else 1)
    except (TriadInputError, SpecError) as exc:
        typer.echo(f"triad: refused {exc}", err=True)
        raise typer.Exit(2) from None
    except OutputError as exc:
        typer.echo(f"triad: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    raise typer.Exit(exit_status(record, strict))


if __name__ == "__main__":
    app()
