"""Run triad's main job on the embedded default (or --data FILE); see README."""

from pathlib import Path
from typing import Annotated

import typer

from triad.errors import TriadInputError
from triad.pipeline import run_all

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    data: Annotated[Path | None, typer.Option(help="Respondent file (.csv/.sav/.parquet)")] = None,
    out: Annotated[Path | None, typer.Option(help="Output root (default: repository)")] = None,
    strict: Annotated[bool, typer.Option(help="Refuse answer-level problems")] = False,
) -> None:
    """Audit, replicate and (with respondent data) summarise the study."""
    try:
        run_all(data, out, strict=strict)
    except TriadInputError as exc:
        typer.echo(f"triad: refused {exc}", err=True)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()
