"""The ``triad`` command line.

Every subcommand turns a refused input into a one-paragraph message on stderr and
exit code 2, never a traceback.  Options with a fixed set of values or a range are
checked before anything is read or sampled: a bad value exits 2 with one line naming
the option and what it accepts.  Tables fit the terminal (``--wide`` shows every
column) or are written as ``--format csv|md|json``.  ``scripts/fit_all.py``,
``scripts/sbc.py`` and ``scripts/design.py`` run ``triad run``, ``triad sbc`` and
``triad design`` (:func:`script`).
"""

import math
import shlex
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from triad.errors import TriadInputError
from triad.output import FORMATS, Output

__all__ = ["app", "main", "script"]

# Copies of triad.fitting.BACKENDS / triad.sbc.SBC_BACKENDS (tests/test_cli.py checks that
# they agree): importing the samplers to read a tuple would add seconds to every command.
BACKENDS = ("pymc", "nutpie", "numpyro")
DEFAULT_BACKEND = "numpyro"
SBC_BACKENDS = ("nutpie", "pymc", "numpyro")
DEFAULT_SBC_BACKEND = "numpyro"
LANGS = ("en", "nl")
VERSIONED = ("triad", "pymc", "bambi", "arviz", "numpyro", "nutpie")

Backend = Literal[BACKENDS]
SbcBackend = Literal[SBC_BACKENDS]
Lang = Literal[LANGS]
Format = Literal[FORMATS]

app = typer.Typer(
    name="triad",
    help="Bayesian multilevel re-analysis of published survey studies (--study picks one; "
         "`triad studies` lists the shipped ones).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain click messages: a bad option value is one 'Error: ...' line, not a boxed
    # panel that wraps at 80 columns
    rich_markup_mode=None,
)


def _refuse(exc: Exception, code: int | None = None) -> None:
    # escape: the message quotes cell values and column names, which may hold '[...]'
    Console(stderr=True).print(f"[bold red]triad: refused[/] {escape(str(exc))}",
                               highlight=False, soft_wrap=True)
    raise typer.Exit(code=code if code is not None else getattr(exc, "exit_code", 2))


def _open_unit(value: float | None) -> float | None:
    if value is not None and not 0 < value < 1:
        raise typer.BadParameter(f"{value} is not strictly between 0 and 1")
    return value


def _unit_upper(value: float) -> float:
    if not 0 < value <= 1:
        raise typer.BadParameter(f"{value} is not in (0, 1]")
    return value


def _grid(value: str) -> str:
    try:
        numbers = [int(n) for n in value.split(",")]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise typer.BadParameter(f"{value!r} is not a comma-separated list of positive "
                                 "integers (e.g. 10,20,40)")
    return value


def _interval(low, high):
    """'0.78-0.87' per row; empty where an end is missing."""
    import pandas as pd

    return [f"{a:g}-{b:g}" if pd.notna(a) and pd.notna(b) else ""
            for a, b in zip(low, high, strict=True)]


def _known_specs() -> list[str]:
    from triad.paths import models_dir

    return sorted(p.stem for p in models_dir().glob("*.toml"))


def _spec_named(name: str, option: str):
    """Load the shipped spec ``name`` or exit 2 naming ``option`` and the known specs."""
    from triad.paths import models_dir
    from triad.specs import SpecError, load_spec

    path = models_dir() / f"{name.strip()}.toml"
    if not path.is_file():
        raise typer.BadParameter(f"no model spec {name.strip()!r} (one of: "
                                 f"{', '.join(_known_specs())})", param_hint=f"'{option}'")
    try:
        return load_spec(path)
    except SpecError as exc:
        _refuse(exc)


def _command_line() -> str:
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


def _print_versions(value: bool) -> None:
    if not value:
        return
    from triad import __version__
    from triad.versions import library_versions

    found = library_versions(VERSIONED[1:])
    typer.echo(f"triad {__version__}")
    typer.echo(", ".join(f"{k} {v or 'not installed'}" for k, v in found.items()))
    raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_versions, is_eager=True,
        help="Print triad's version and those of Python, PyMC, Bambi, ArviZ, numpyro and "
             "nutpie, and exit")] = False,
) -> None:
    """Bayesian multilevel re-analysis of published survey studies."""


@app.command(short_help="Check a respondent file against the codebook.")
def validate(
    path: Annotated[Path, typer.Argument(help="Respondent file: .csv, .sav or .parquet")],
    strict: Annotated[
        bool, typer.Option(help="Refuse out-of-range or non-numeric answers")
    ] = False,
    quarantine: Annotated[
        Path | None, typer.Option(help="Write the quarantine report (CSV) here")
    ] = None,
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Validate a respondent file against the codebook and summarise it."""
    from triad.readers import read_respondents

    out = Output(fmt, wide)
    try:
        data = read_respondents(path, strict=strict)
    except TriadInputError as exc:
        _refuse(exc)
    c = data.counts
    out.say(f"[bold]{escape(str(path))}[/]: {c['respondents']} respondents (source: "
            f"{escape(data.data_source)})")
    out.table(data.cell_counts().reset_index(), "Respondents per role x sector", name="cells")
    out.say(
        f"answers: {c['answers']} = {c['present']} present + {c['missing']} missing (empty) "
        f"+ {c['quarantined']} quarantined"
    )
    age_q = int((data.quarantine["column"] == "age").sum())
    if age_q:
        out.say(f"ages quarantined (set missing): {age_q}")
    for note in data.notes:
        out.say(f"note: {escape(note)}")
    if len(data.quarantine):
        out.table(data.quarantine, "Quarantined answers (set to missing)", name="quarantine",
                  head=10)
    out.close()
    if quarantine is not None:
        data.quarantine.to_csv(quarantine, index=False)
        out.say(f"quarantine report: {escape(str(quarantine))} ({len(data.quarantine)} rows)")


@app.command(short_help="Scale scores of a respondent file to a CSV.")
def scores(
    path: Annotated[Path, typer.Argument(help="Respondent file")],
    out: Annotated[Path, typer.Option(help="CSV file for the scale scores")],
    study: StudyOption = None,
) -> None:
    """Compute scale scores (mean of items, codebook missing-item rule) to a CSV."""
    from triad.readers import read_respondents
    from triad.scores import scale_scores

    try:
        data = read_respondents(path)
    except TriadInputError as exc:
        _refuse(exc)
    table = scale_scores(data.wide)
    table.insert(0, "data_source", data.data_source)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    excluded = int((table["excluded_reason"] != "").sum())
    Output().say(f"{len(table)} scale scores written to {out}; {excluded} left missing "
                 "(too few items answered; reason in excluded_reason)")


@app.command(short_help="Alpha and omega per scale beside the report's.")
def reliability(
    path: Annotated[Path, typer.Argument(help="Respondent file")],
    by_sector: Annotated[bool, typer.Option(help="Also per sector")] = False,
    out: Annotated[Path | None, typer.Option(help="CSV file for the table")] = None,
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Cronbach's alpha (95% CI) and omega per scale and group, beside the report's values."""
    from triad.readers import read_respondents
    from triad.reliability import reliability_table

    show = Output(fmt, wide)
    try:
        data = read_respondents(path)
    except TriadInputError as exc:
        _refuse(exc)
    table = reliability_table(data.wide, by_sector=by_sector)
    table.insert(0, "data_source", data.data_source)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    # intervals as one column each, so that the table fits 80 columns
    r = table.round(2)
    brief = r[["scale", "role", "target", "sector", "n", "alpha"]].assign(
        alpha_95ci=_interval(r["alpha_ci_low"], r["alpha_ci_high"]), omega=r["omega"],
        reported=_interval(r["reported_low"], r["reported_high"]))
    show.table(table, f"Reliability ({data.data_source})", decimals=2, terminal=brief,
               abbreviate=("sector", "target", "role"))
    show.close()


@app.command(short_help="The report's tables or claims, as transcribed.")
def published(
    table: Annotated[int | None, typer.Option(help="Only this table", min=1, max=12)] = None,
    claims: Annotated[bool, typer.Option(help="Show the claims registry instead")] = False,
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Show the report's tables (or its claims) as transcribed in data/published/."""
    from triad.published import load_cells, load_claims

    out = Output(fmt, wide)
    if claims:
        out.table(load_claims(), "Claims registry (data/published/claims.csv)", name="claims",
                  columns=["claim_id", "scale", "table", "groups", "quoted", "verdict"],
                  abbreviate=("groups",))
    else:
        out.table(load_cells(table), "Published cells (data/published/cells.csv)",
                  name="cells", columns=["table", "group", "scale", "n", "mean", "sd"],
                  abbreviate=("group",))
    out.close()


@app.command(short_help="Audit the report's tables; replicate its claims.")
def audit(
    out: Annotated[Path, typer.Option(help="Folder for audit.csv/.md and replication.csv/.md")],
    study: StudyOption = None,
) -> None:
    """Audit the report's tables and replicate its claims from summary statistics."""
    import time

    from triad.audit import SEVERITIES, audit_markdown, audit_published
    from triad.replication import replicate_claims, replication_markdown, replication_summary

    say = Output().say
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    findings = audit_published()
    audit_s = time.perf_counter() - start
    findings.to_csv(out / "audit.csv", index=False)
    (out / "audit.md").write_text(audit_markdown(findings) + "\n", encoding="utf-8")
    counts = findings["severity"].value_counts().reindex(list(SEVERITIES), fill_value=0)
    say(f"audit: {len(findings)} checks in {audit_s:.2f} s: " + ", ".join(
        f"{k} {v}" for k, v in counts.items()))
    start = time.perf_counter()
    replication = replicate_claims()
    replication.to_csv(out / "replication.csv", index=False)
    (out / "replication.md").write_text(replication_markdown(replication) + "\n",
                                        encoding="utf-8")
    summary = replication_summary(replication)
    tested = summary[summary["paper_verdict"] != "descriptive"]
    say(f"replication: {len(summary)} claims ({len(tested)} with a significance verdict) in "
        f"{time.perf_counter() - start:.2f} s: " + ", ".join(
            f"{k} {v}" for k, v in tested["replicates"].value_counts().items()))
    say(f"written: {out}/audit.csv, audit.md, replication.csv, replication.md")


@app.command("fit", short_help="Fit one model: gates and contrasts.")
def fit_model(
    model: Annotated[str, typer.Argument(help="Spec name in models/ or a path to a .toml")],
    data: Annotated[Path | None, typer.Option(help="Respondent file (default: synthetic)")] = None,
    out: Annotated[Path, typer.Option(help="Results folder (fits are cached there)")] = Path(
        "results"),
    backend: Annotated[Backend, typer.Option(help="Sampler backend")] = DEFAULT_BACKEND,
    quick: Annotated[bool, typer.Option(help="Few draws: a smoke run")] = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 when a sampler gate fails")] = False,
    rope: Annotated[float | None, typer.Option(
        help="ROPE half-width in scale points (default: --rope-sd x pooled SD)", min=0)] = None,
    rope_sd: Annotated[float, typer.Option(
        help="ROPE half-width in pooled within-group SDs of each scale", min=0)] = 0.1,
    ci_prob: Annotated[float, typer.Option(
        help="HDI probability, strictly between 0 and 1", callback=_open_unit)] = 0.95,
    hypothesis: Annotated[list[str] | None, typer.Option(
        help="A hypothesis on group means (rater>target@sector keys), e.g. 'a>b@s1 - "
             "b>a@s1 < 0' (repeatable; reported as a contrast)")]
    = None,
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Fit one model spec and print its diagnostics and contrasts."""
    from triad.fitting import fit, resolve_model
    from triad.specs import SpecError, add_hypotheses

    show = Output(fmt, wide)
    try:
        spec = add_hypotheses(resolve_model(model), hypothesis or [])
        result = fit(spec, data, backend=backend, quick=quick, out=out, rope=rope,
                     rope_sd=rope_sd, ci_prob=ci_prob)
    except (TriadInputError, SpecError) as exc:
        _refuse(exc, 2)
    d = result.diagnostics
    failed = d["gates_failed"]
    status = "[green]gates passed[/]" if result.passed else f"[bold red]GATES FAILED[/]: {failed}"
    show.say(f"{spec.name}{' (cached)' if result.cached else ''}: R-hat max "
             f"{d['r_hat_max']:.3f}, ESS bulk min {d['ess_bulk_min']:.0f}, tail min "
             f"{d['ess_tail_min']:.0f}, divergences {d['divergences']}; {status}")
    show.table(result.contrasts,
               f"Contrasts ({result.record['data_source']}{', QUICK' if quick else ''}"
               f"{'' if result.passed else ', NOT A FINDING'})", name="contrasts",
               columns=["contrast", "sector", "estimand", "estimate", "ci_low", "ci_high",
                        "p_direction", "p_rope", "conclusion"],
               abbreviate=("contrast", "sector", "estimand"), decimals=3)
    show.close()
    if result.path is not None:
        show.say(f"stored: {result.path}")
    if strict and not result.passed:
        raise typer.Exit(code=1)


@app.command(short_help="Build (or --verify) the synthetic data set.")
def reconstruct(
    seed: Annotated[int | None, typer.Option(
        help="Seed of the random generator (default: the recipe's)", min=0)] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write to (default: the study's synthetic/)")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(help="Do not build: recompute every target from OUT/respondents.csv "
                          "and print target vs achieved"),
    ] = False,
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Build the synthetic data set reconstructed from the published tables (or --verify it).

    Exits 1 when a target that should be met (not a documented conflict) is missed.
    """
    from triad.paths import data_dir
    from triad.reconstruct import missed, write_synthetic
    from triad.reconstruct import verify as verify_file

    show = Output(fmt, wide)
    folder = out if out is not None else data_dir() / "synthetic"
    if not verify:
        try:
            prov = write_synthetic(folder, seed=seed)
        except TriadInputError as exc:
            _refuse(exc)
        show.say(f"written: {folder}/respondents.csv, provenance.json, README.md "
                 f"({prov['respondents']} synthetic respondents, seed {prov['seed']}, "
                 f"{prov['runtime_s']} s)")
    path = folder / "respondents.csv"
    try:
        report = verify_file(path)
    except TriadInputError as exc:
        _refuse(exc)
    if verify:
        show.table(report, f"Targets vs {path}", name="targets", decimals=4,
                   columns=["table", "group", "scale", "stat", "target", "achieved",
                            "difference", "status"], abbreviate=("group", "scale"))
    conflicts = report[report["status"] == "conflict"]
    bad = missed(report)
    show.say(f"{int(report['matched'].sum())} of {len(report)} targets met; "
             f"{len(conflicts)} documented conflicts ({int((~conflicts['matched']).sum())} "
             f"not met, reasons in provenance.json); {len(bad)} missed")
    if len(bad):
        show.table(bad, "Missed targets", name="missed", decimals=4,
                   columns=["table", "group", "scale", "stat", "target", "achieved",
                            "difference", "status"], abbreviate=("group", "scale"))
    show.close()
    if len(bad):
        raise typer.Exit(code=1)


RUN_EXIT_CODES = (
    "Exit codes: 0 done; 1 --strict and a sampler gate failed; 2 refused (input file, "
    "spec, option, unwritable --out); 3 a fit failed (its worker died or it raised; the "
    "other fits' tables are written, a rerun fits only what is missing); 4 an output "
    "could not be written (disk full): the run stopped.")


@app.command("new-study", short_help="Write a new study's commented skeleton.")
def new_study_command(
    folder: Annotated[Path, typer.Argument(help="The new study's folder (new or empty)")],
    name: Annotated[str | None, typer.Option(
        help="Short name: lower case, digits, underscores (default: the folder's name)")]
    = None,
) -> None:
    """Write a commented study skeleton to a new folder.

    study.toml, codebook, labels, published tables, an example respondent file and a
    model spec (format: docs/study-format.md); use it with any command's
    ``--study FOLDER``.
    """
    from triad.studies import new_study

    try:
        files = new_study(folder, name)
    except (FileExistsError, ValueError) as exc:
        _refuse(exc)
    typer.echo(f"written: {len(files)} files in {folder}")
    for f in files:
        typer.echo(f"  {f.relative_to(folder)}")
    typer.echo(f"next: edit the TODOs, then `triad validate FILE --study {folder}`")


@app.command("studies", short_help="The shipped studies.")
def studies_command(fmt: FormatOption = "table", wide: WideOption = False) -> None:
    """List the shipped studies (``--study NAME`` picks one; a folder works too)."""
    from triad.studies import list_studies

    show = Output(fmt, wide)
    show.table(list_studies(), "Shipped studies", name="studies")
    show.close()


@app.command("run", short_help="The main job (scripts/fit_all.py).", epilog=RUN_EXIT_CODES)
def run_job(
    data: Annotated[Path | None, typer.Option(help="Respondent file (.csv/.sav/.parquet)")] = None,
    out: Annotated[Path | None, typer.Option(help="Output root (default: repository)")] = None,
    models: Annotated[str, typer.Option(
        help="Comma-separated globs of specs in models/")] = "*.toml",
    backend: Annotated[Backend, typer.Option(help="Sampler backend")] = DEFAULT_BACKEND,
    quick: Annotated[bool, typer.Option(help="Few draws: a smoke run, labelled quick")] = False,
    jobs: Annotated[int | None, typer.Option(
        help="Models fitted in parallel processes (default 1; 2 with --quick)", min=1)] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 if a sampler gate fails; refuse "
                                              "answer-level problems")] = False,
    lang: Annotated[Lang, typer.Option(help="Figure and report language")] = "en",
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port) to fit the models on")] = None,
    multiverse: Annotated[bool, typer.Option(
        help="Also fit the multiverse variants (models/multiverse/variants.toml)")] = True,
    min_cell: Annotated[int | None, typer.Option(
        help="Suppress groups with fewer respondents in every output (default 5 for a "
             "respondent file, off for the synthetic default; 0 = off)", min=0)] = None,
    robust_share: Annotated[float, typer.Option(
        help="A claim is fragile when fewer than this share of the other universes agree",
        min=0.0, max=1.0)] = 0.8,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Only warnings, errors and the closing summary")] = False,
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True, help="More detail (each fit's progress)")] = 0,
    study: StudyOption = None,
) -> None:
    """Run the main job: audit, replicate, fit every model and compare claim by claim."""
    import os

    from triad.paths import models_dir

    if quiet and verbose:
        raise typer.BadParameter("cannot be combined with --verbose", param_hint="'--quiet'")
    from triad.specs import spec_glob

    folder = models_dir()
    for glob in models.split(","):
        if not glob.strip() or not any(folder.glob(spec_glob(glob))):
            raise typer.BadParameter(
                f"{glob.strip()!r} matches no spec in {folder} (specs: "
                f"{', '.join(_known_specs())})", param_hint="'--models'")
    if jobs is None:
        # a smoke run is dominated by per-model compilation: use both cores by default
        jobs = min(2, os.cpu_count() or 1) if quick else 1
    from triad.errors import OutputError
    from triad.pipeline import exit_status, run_all
    from triad.specs import SpecError

    try:
        record = run_all(data, out, strict=strict, quick=quick, models=models, backend=backend,
                         jobs=jobs, lang=lang, scheduler=scheduler,
                         multiverse=multiverse, min_cell=min_cell,
                         robust_share=robust_share, verbosity=0 if quiet else 1 + min(verbose, 1))
    except (TriadInputError, SpecError) as exc:
        _refuse(exc, 2)
    except OutputError as exc:
        # an unwritable --out (2) or a full disk during the run (4): one line, no traceback
        Console(stderr=True).print(f"[bold red]triad:[/] {escape(str(exc))}",
                                   highlight=False, soft_wrap=True)
        raise typer.Exit(code=exc.exit_code) from None
    # 3 when a fit failed (its rows are missing from the tables), 1 when --strict and a
    # sampler gate failed
    raise typer.Exit(code=exit_status(record, strict))


@app.command(short_help="Simulation-based calibration (scripts/sbc.py).")
def sbc(
    models: Annotated[str | None, typer.Option(
        help="Comma-separated spec names (default: study.toml's [sbc] models, else every "
             "spec of the study)")] = None,
    sims: Annotated[int, typer.Option(help="Simulations per model", min=1)] = 200,
    draws: Annotated[int, typer.Option(help="Posterior draws per refit (1 chain)", min=1)] = 990,
    thin: Annotated[int, typer.Option(help="Keep every THIN-th draw for the ranks", min=1)] = 10,
    tune: Annotated[int, typer.Option(help="Warm-up iterations per refit", min=0)] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the simulations", min=0)] = 20240601,
    backend: Annotated[SbcBackend, typer.Option(help="Sampler backend")] = DEFAULT_SBC_BACKEND,
    jobs: Annotated[int, typer.Option(help="Local worker processes", min=1)] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port) to run the refits on")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Respondent file for the design (default: the synthetic data set)")] = None,
    bins: Annotated[int | None, typer.Option(
        help="Rank histogram bins (at most the kept draws)", min=2)] = None,
    level: Annotated[float, typer.Option(
        help="Family-wise level (Bonferroni), strictly between 0 and 1",
        callback=_open_unit)] = 0.01,
    out: Annotated[Path, typer.Option(help="Result folder")] = Path("results/sbc"),
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Simulation-based calibration: ranks, uniformity table, figure and a JSON record."""
    if thin > draws:
        raise typer.BadParameter(f"{thin} is more than --draws {draws}", param_hint="'--thin'")
    kept = math.ceil(draws / thin)
    if bins is not None and bins > kept:
        raise typer.BadParameter(f"{bins} bins for only {kept} possible ranks (--draws / "
                                 "--thin)", param_hint="'--bins'")
    if models is None:
        from triad.paths import models_dir, study_settings

        declared = study_settings().get("sbc", {}).get("models")
        models = ",".join(declared or sorted(p.stem for p in models_dir().glob("*.toml")))
    specs = [_spec_named(m, "--models") for m in models.split(",")]
    from triad.sbc import sbc_models
    from triad.specs import SpecError

    show = Output(fmt, wide)
    try:
        result = sbc_models(specs, sims, out, draws=draws, thin=thin, tune=tune, seed=seed,
                            backend=backend, jobs=jobs, scheduler=scheduler, data=data,
                            bins=bins, level=level, command=_command_line())
    except (TriadInputError, SpecError) as exc:
        _refuse(exc, 2)
    show.table(result["decision"], "SBC: calibration per model", name="decision",
               decimals=4)
    show.close()
    show.say(f"{result['record']['wall_seconds']} s; written to {escape(str(out))}")


@app.command(short_help="Next-wave design study (scripts/design.py).")
def design(
    model: Annotated[str | None, typer.Option(
        help="Metric respondent spec (default: study.toml's [design] model)")] = None,
    family: Annotated[str | None, typer.Option(
        help="Two-group (gap) contrast family of the study's catalogue (default: "
             "study.toml's [design] family)")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Respondent file (default: the synthetic data set)")] = None,
    grid: Annotated[str, typer.Option(
        help="Respondents per cell, comma-separated", callback=_grid)] = (
        "5,10,20,40,80,160,320"),
    target: Annotated[float, typer.Option(
        help="Assurance to reach, in (0, 1]", callback=_unit_upper)] = 0.8,
    reps: Annotated[int, typer.Option(help="Simulated waves per posterior draw", min=1)] = 10,
    n_draws: Annotated[int | None, typer.Option(
        help="Posterior draws used (default all)", min=1)] = None,
    seed: Annotated[int, typer.Option(help="Seed", min=0)] = 20240601,
    jobs: Annotated[int, typer.Option(help="Local worker processes over the grid", min=1)] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port)")] = None,
    results: Annotated[Path, typer.Option(help="Where fits are cached")] = Path("results"),
    out: Annotated[Path, typer.Option(help="Result folder")] = Path("results/design"),
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Design of a next wave: respondents per cell for which the assurance reaches TARGET.

    Fits MODEL (or reads its cached fit) and simulates waves from its posterior.
    """
    from triad.contrasts import load_catalogue
    from triad.paths import study_settings

    declared = study_settings().get("design", {})
    model, family = model or declared.get("model"), family or declared.get("family")
    if not model or not family:
        raise typer.BadParameter("give --model and --family: the study's study.toml has no "
                                 "[design] model/family", param_hint="'--model'")
    gaps = [n for n, f in load_catalogue().items() if f.kind == "gap"]
    if family not in gaps:
        raise typer.BadParameter(f"{family!r} is not a two-group (gap) family of the study's "
                                 f"contrasts.toml; choose from {', '.join(gaps)}",
                                 param_hint="'--family'")
    spec = _spec_named(model, "--model")
    if spec.data != "respondent" or spec.ordinal:
        raise typer.BadParameter(f"{spec.name} is not a metric respondent model",
                                 param_hint="'--model'")
    from triad.contrasts import contrast_pairs
    from triad.design import run_design
    from triad.fitting import fit, respondent_data
    from triad.modeldata import model_frame
    from triad.specs import SpecError

    show = Output(fmt, wide)
    try:
        # checked before the (possibly long) fit: does the model's data hold this gap?
        units = model_frame(respondent_data(data), spec).frame
        if not [p for p in contrast_pairs(family, spec.scales[0], units) if p[1] != "all"]:
            raise typer.BadParameter(f"{spec.name} has no {family} contrast on "
                                     f"{spec.scales[0]}", param_hint="'--family'")
        result = fit(spec, data, out=results)
    except (TriadInputError, SpecError) as exc:
        _refuse(exc, 2)
    done = run_design(result, out, [int(n) for n in grid.split(",")], target=target,
                      family=family, data=data, n_draws=n_draws, reps=reps, seed=seed,
                      jobs=jobs, scheduler=scheduler,
                      record={"command": _command_line(),
                              "fit_key": result.record.get("key"),
                              "gates_passed": result.passed})
    show.table(done["required"], f"Respondents per cell for assurance {target}",
               name="required", decimals=3, abbreviate=("contrast", "sector"))
    show.close()
    show.say(f"{done['record']['timings']['wall_seconds']} s; written to {escape(str(out))}")


def script(command: str, argv: list[str] | None = None) -> None:
    """Run one subcommand as a program of its own (``scripts/fit_all.py`` is ``triad run``).

    Parameters
    ----------
    command : str
        The subcommand, e.g. ``"run"``.
    argv : list of str, optional
        Its arguments; default ``sys.argv[1:]``.
    """
    sub = typer.main.get_command(app).commands[command]
    sub.main(args=sys.argv[1:] if argv is None else argv, prog_name=Path(sys.argv[0]).name)


def main() -> None:
    """Entry point for ``python -m triad``."""
    app()


if __name__ == "__main__":
    sys.exit(main())
