"""Build (or --verify) the embedded synthetic data set; see data/synthetic/README.md."""

from pathlib import Path
from typing import Annotated

import typer

from triad.reconstruct import DEFAULT_SEED, missed, verify, write_synthetic

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    seed: Annotated[int, typer.Option(help="Seed of the random generator")] = DEFAULT_SEED,
    out: Annotated[Path | None, typer.Option(help="Folder (default: data/synthetic)")] = None,
    check: Annotated[
        bool, typer.Option("--verify", help="Only verify OUT/respondents.csv")
    ] = False,
) -> None:
    """Reconstruct the synthetic respondents from the published tables."""
    if not check:
        prov = write_synthetic(out, seed=seed)
        typer.echo(f"{prov['respondents']} synthetic respondents written "
                   f"({prov['runtime_s']} s): {prov['summary']['matched']} of "
                   f"{prov['summary']['targets']} targets met")
    report = verify(None if out is None else out / "respondents.csv")
    bad = missed(report)
    typer.echo(f"verify: {int(report['matched'].sum())} of {len(report)} targets met, "
               f"{len(bad)} missed")
    if len(bad):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
