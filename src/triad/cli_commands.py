"""The command line's larger commands: ``fit``, ``reconstruct``, ``run``, ``sbc``, ``design``.

Plain functions with typer's annotations; :mod:`triad.cli` registers them on its
``app``.  Every module that reads data or samples is imported inside the command, after
the options are checked.
"""

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from triad.cli_options import (
    DEFAULT_BACKEND,
    DEFAULT_SBC_BACKEND,
    Backend,
    FormatOption,
    Lang,
    SbcBackend,
    StudyOption,
    WideOption,
    check_grid,
    command_line,
    known_specs,
    open_unit,
    refuse,
    spec_named,
    unit_upper,
)
from triad.errors import TriadInputError
from triad.output import Output

__all__ = ["RUN_EXIT_CODES", "design", "fit_model", "reconstruct", "run_job", "sbc"]


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
        help="HDI probability, strictly between 0 and 1", callback=open_unit)] = 0.95,
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
        refuse(exc, 2)
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
            refuse(exc)
        show.say(f"written: {folder}/respondents.csv, provenance.json, README.md "
                 f"({prov['respondents']} synthetic respondents, seed {prov['seed']}, "
                 f"{prov['runtime_s']} s)")
    path = folder / "respondents.csv"
    try:
        report = verify_file(path)
    except TriadInputError as exc:
        refuse(exc)
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


def run_job(
    data: Annotated[Path | None, typer.Option(help="Respondent file (.csv/.sav/.parquet)")] = None,
    out: Annotated[Path | None, typer.Option(help="Output root (default: repository)")] = None,
    models: Annotated[str, typer.Option(
        help="Comma-separated globs of specs in models/")] = "*.toml",
    backend: Annotated[Backend, typer.Option(help="Sampler backend")] = DEFAULT_BACKEND,
    quick: Annotated[bool, typer.Option(help="Few draws: a smoke run, labelled quick")] = False,
    jobs: Annotated[int | None, typer.Option(
        help="Models fitted in parallel processes (default 2 on a machine with 2 or more "
             "cores)", min=1)] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 if a sampler gate fails; refuse "
                                              "answer-level problems")] = False,
    lang: Annotated[Lang, typer.Option(help="Figure and report language")] = "en",
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port) to fit the models on")] = None,
    multiverse: Annotated[bool | None, typer.Option(
        help="Also fit the multiverse variants (models/multiverse/variants.toml); default "
             "on, off with --quick (a smoke run of the shipped specs)")] = None,
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
    force: Annotated[bool, typer.Option(
        help="Recompute every step even when nothing changed since the last run in --out "
             "(stored fits are still read from their cache)")] = False,
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
                f"{', '.join(known_specs())})", param_hint="'--models'")
    if jobs is None:
        # numpyro's chains already share the cores while sampling, but compiling and each
        # fit's post-processing run on one: two fits side by side overlap those (measured:
        # the 8 metric specs, 223 s with one worker, 180 s with two; peak RSS 2.7 GB)
        jobs = min(2, os.cpu_count() or 1)
    if multiverse is None:
        # a smoke run checks the pipeline on the shipped specs; its 40 universes would
        # triple it (measured: 346 s with them, issue 17)
        multiverse = not quick
    from triad import run_cache
    from triad.paths import default_data, default_out

    root = Path(out) if out is not None else default_out()
    options = {"data": str(Path(data).resolve()) if data is not None else None,
               "quick": quick, "models": models, "backend": backend, "strict": strict,
               "lang": lang, "multiverse": multiverse, "min_cell": min_cell,
               "robust_share": robust_share}
    key = run_cache.fingerprint(options, data if data is not None else default_data())
    stored = None if force else run_cache.unchanged_run(root, key)
    if stored is not None:
        text = (f"nothing changed since the run finished {stored['finished']} (same inputs, "
                f"options, code and libraries; {len(stored['outputs'])} output files "
                f"unchanged): outputs in {root / 'results'} are current; --force recomputes")
        if not quiet:
            Console().print(f"[bold]triad:[/] {escape(text)}", highlight=False,
                            soft_wrap=True)
        run_cache.note_in_log(root, text)
        raise typer.Exit(code=stored["exit_code"])
    from triad.errors import OutputError
    from triad.pipeline import exit_status, run_all
    from triad.specs import SpecError

    try:
        record = run_all(data, out, strict=strict, quick=quick, models=models, backend=backend,
                         jobs=jobs, lang=lang, scheduler=scheduler,
                         multiverse=multiverse, min_cell=min_cell,
                         robust_share=robust_share, verbosity=0 if quiet else 1 + min(verbose, 1))
    except (TriadInputError, SpecError) as exc:
        refuse(exc, 2)
    except OutputError as exc:
        # an unwritable --out (2) or a full disk during the run (4): one line, no traceback
        Console(stderr=True).print(f"[bold red]triad:[/] {escape(str(exc))}",
                                   highlight=False, soft_wrap=True)
        raise typer.Exit(code=exc.exit_code) from None
    # 3 when a fit failed (its rows are missing from the tables), 1 when --strict and a
    # sampler gate failed
    code = exit_status(record, strict)
    run_cache.record_run(root, key, record, code)
    raise typer.Exit(code=code)


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
        callback=open_unit)] = 0.01,
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
    specs = [spec_named(m, "--models") for m in models.split(",")]
    from triad.sbc import sbc_models
    from triad.specs import SpecError

    show = Output(fmt, wide)
    try:
        result = sbc_models(specs, sims, out, draws=draws, thin=thin, tune=tune, seed=seed,
                            backend=backend, jobs=jobs, scheduler=scheduler, data=data,
                            bins=bins, level=level, command=command_line())
    except (TriadInputError, SpecError) as exc:
        refuse(exc, 2)
    show.table(result["decision"], "SBC: calibration per model", name="decision",
               decimals=4)
    show.close()
    show.say(f"{result['record']['wall_seconds']} s; written to {escape(str(out))}")


def design(
    model: Annotated[str | None, typer.Option(
        help="Metric respondent spec (default: study.toml's [design] model)")] = None,
    family: Annotated[str | None, typer.Option(
        help="Two-group (gap) contrast family of the study's catalogue (default: "
             "study.toml's [design] family)")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Respondent file (default: the synthetic data set)")] = None,
    grid: Annotated[str, typer.Option(
        help="Respondents per cell, comma-separated", callback=check_grid)] = (
        "5,10,20,40,80,160,320"),
    target: Annotated[float, typer.Option(
        help="Assurance to reach, in (0, 1]", callback=unit_upper)] = 0.8,
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
    spec = spec_named(model, "--model")
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
        refuse(exc, 2)
    done = run_design(result, out, [int(n) for n in grid.split(",")], target=target,
                      family=family, data=data, n_draws=n_draws, reps=reps, seed=seed,
                      jobs=jobs, scheduler=scheduler,
                      record={"command": command_line(),
                              "fit_key": result.record.get("key"),
                              "gates_passed": result.passed})
    show.table(done["required"], f"Respondents per cell for assurance {target}",
               name="required", decimals=3, abbreviate=("contrast", "sector"))
    show.close()
    show.say(f"{done['record']['timings']['wall_seconds']} s; written to {escape(str(out))}")
