"""The command line's shared pieces: option types and values, checks, refusals.

The choices of ``--backend``, ``--lang`` and ``--format``, the options every command
shares (``--study``, ``--format``, ``--wide``), the callbacks that check a value while the
options are parsed, and :func:`refuse`, which turns a refused input into one message and
exit code 2.  Nothing here imports a module that reads data or samples.
"""

import shlex
import sys
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from triad.output import FORMATS

# Copies of triad.fitting.BACKENDS / triad.sbc.SBC_BACKENDS (tests/test_cli.py checks that
# they agree): importing the samplers to read a tuple would add seconds to every command.
BACKENDS = ("pymc", "nutpie", "numpyro")
DEFAULT_BACKEND = "numpyro"
SBC_BACKENDS = ("nutpie", "pymc", "numpyro")
DEFAULT_SBC_BACKEND = "numpyro"
LANGS = ("en", "nl")

Backend = Literal[BACKENDS]
SbcBackend = Literal[SBC_BACKENDS]
Lang = Literal[LANGS]
Format = Literal[FORMATS]


def refuse(exc: Exception, code: int | None = None) -> None:
    """Print why an input was refused and exit (code 2 unless the error says otherwise)."""
    # escape: the message quotes cell values and column names, which may hold '[...]'
    Console(stderr=True).print(f"[bold red]triad: refused[/] {escape(str(exc))}",
                               highlight=False, soft_wrap=True)
    raise typer.Exit(code=code if code is not None else getattr(exc, "exit_code", 2))


def open_unit(value: float | None) -> float | None:
    """Return ``value`` if it is strictly between 0 and 1 (or None), else refuse it."""
    if value is not None and not 0 < value < 1:
        raise typer.BadParameter(f"{value} is not strictly between 0 and 1")
    return value


def unit_upper(value: float) -> float:
    """Return ``value`` if it is in (0, 1], else refuse it."""
    if not 0 < value <= 1:
        raise typer.BadParameter(f"{value} is not in (0, 1]")
    return value


def check_grid(value: str) -> str:
    """Return ``value`` if it is a comma-separated list of positive integers, else refuse it."""
    try:
        numbers = [int(n) for n in value.split(",")]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise typer.BadParameter(f"{value!r} is not a comma-separated list of positive "
                                 "integers (e.g. 10,20,40)")
    return value


def known_specs() -> list[str]:
    """Return the names of the current study's model specs, sorted."""
    from triad.paths import models_dir

    return sorted(p.stem for p in models_dir().glob("*.toml"))


def spec_named(name: str, option: str):
    """Load the shipped spec ``name`` or exit 2 naming ``option`` and the known specs."""
    from triad.paths import models_dir
    from triad.specs import SpecError, load_spec

    path = models_dir() / f"{name.strip()}.toml"
    if not path.is_file():
        raise typer.BadParameter(f"no model spec {name.strip()!r} (one of: "
                                 f"{', '.join(known_specs())})", param_hint=f"'{option}'")
    try:
        return load_spec(path)
    except SpecError as exc:
        refuse(exc)


def command_line() -> str:
    """Return the command line as the JSON records write it."""
    # what the JSON records call the command; a script is run as `python scripts/x.py`
    argv = sys.argv
    return shlex.join(["python", *argv] if argv[0].endswith(".py") else ["triad", *argv[1:]])


def _use_study(value: str | None) -> str | None:
    """Make ``--study`` the current study before any other option reads a study file."""
    if value is None:
        return value
    from triad.paths import StudyNotFound, use_study

    try:
        use_study(value)
    except StudyNotFound as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


StudyOption = Annotated[str | None, typer.Option(
    "--study", envvar="TRIAD_STUDY", callback=_use_study, is_eager=True,
    help="A shipped study's name (default: the one whose study.toml says default = true) "
         "or a study folder (docs/study-format.md; `triad new-study DIR` writes one)")]
FormatOption = Annotated[Format, typer.Option(
    "--format", help="table: a table that fits the terminal; csv, md or json: every "
                     "column and row on stdout (messages go to stderr)")]
WideOption = Annotated[bool, typer.Option(
    "--wide", help="Terminal table with every column and full names (lines may be long)")]
