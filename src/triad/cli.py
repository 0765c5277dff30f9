"""The ``triad`` command line.

Every subcommand turns a refused input into a one-paragraph message on stderr and
exit code 2, never a traceback.
"""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from triad.errors import TriadInputError

app = typer.Typer(
    name="triad",
    help="Bayesian multilevel re-analysis of the youth-parent-professional partnership study.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _refuse(exc: TriadInputError) -> None:
    # escape: the message quotes cell values and column names, which may hold '[...]'
    err_console.print(f"[bold red]triad: refused[/] {escape(str(exc))}", highlight=False,
                      soft_wrap=True)
    raise typer.Exit(code=exc.exit_code)


def _print_frame(frame, title: str) -> None:
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(escape(str(col)))
    for _, row in frame.iterrows():
        table.add_row(*("" if v is None else escape(str(v)) for v in row.tolist()))
    console.print(table)


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="Respondent file: .csv, .sav or .parquet")],
    strict: Annotated[
        bool, typer.Option(help="Refuse out-of-range or non-numeric answers")
    ] = False,
    quarantine: Annotated[
        Path | None, typer.Option(help="Write the quarantine report (CSV) here")
    ] = None,
) -> None:
    """Validate a respondent file against the codebook and summarise it."""
    from triad.readers import read_respondents

    try:
        data = read_respondents(path, strict=strict)
    except TriadInputError as exc:
        _refuse(exc)
    c = data.counts
    console.print(f"[bold]{escape(str(path))}[/]: {c['respondents']} respondents (source: "
                  f"{escape(data.data_source)})")
    tab = data.cell_counts().reset_index()
    _print_frame(tab, "Respondents per role x sector")
    console.print(
        f"answers: {c['answers']} = {c['present']} present + {c['missing']} missing (empty) "
        f"+ {c['quarantined']} quarantined"
    )
    age_q = int((data.quarantine["column"] == "age").sum())
    if age_q:
        console.print(f"ages quarantined (set missing): {age_q}")
    for note in data.notes:
        console.print(f"note: {escape(note)}")
    if len(data.quarantine):
        _print_frame(data.quarantine.head(10), "Quarantined (first 10; set to missing)")
    if quarantine is not None:
        data.quarantine.to_csv(quarantine, index=False)
        console.print(f"quarantine report: {escape(str(quarantine))} ({len(data.quarantine)} rows)")


@app.command()
def scores(
    path: Annotated[Path, typer.Argument(help="Respondent file")],
    out: Annotated[Path, typer.Option(help="CSV file for the scale scores")],
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
    console.print(f"{len(table)} scale scores written to {out}; {excluded} left missing "
                  "(too few items answered; reason in excluded_reason)")


@app.command()
def reliability(
    path: Annotated[Path, typer.Argument(help="Respondent file")],
    by_sector: Annotated[bool, typer.Option(help="Also per sector")] = False,
    out: Annotated[Path | None, typer.Option(help="CSV file for the table")] = None,
) -> None:
    """Cronbach's alpha (95% CI) and omega per scale and group, beside the report's values."""
    from triad.readers import read_respondents
    from triad.reliability import reliability_table

    try:
        data = read_respondents(path)
    except TriadInputError as exc:
        _refuse(exc)
    table = reliability_table(data.wide, by_sector=by_sector)
    table.insert(0, "data_source", data.data_source)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    show = table[["scale", "role", "target", "sector", "n", "alpha", "alpha_ci_low",
                  "alpha_ci_high", "omega", "reported_low", "reported_high"]].round(2)
    _print_frame(show, f"Reliability ({data.data_source})")


@app.command()
def published(
    table: Annotated[int | None, typer.Option(help="Only this table (1-12)")] = None,
    claims: Annotated[bool, typer.Option(help="Show the claims registry instead")] = False,
) -> None:
    """Show the report's tables (or its claims) as transcribed in data/published/."""
    from triad.published import load_cells, load_claims

    if claims:
        frame = load_claims()[["claim_id", "scale", "table", "groups", "quoted", "verdict"]]
        _print_frame(frame, "Claims registry (data/published/claims.csv)")
        return
    frame = load_cells(table)[["table", "group", "scale", "n", "mean", "sd"]]
    _print_frame(frame, "Published cells (data/published/cells.csv)")


@app.command()
def audit(
    out: Annotated[Path, typer.Option(help="Folder for audit.csv/.md and replication.csv/.md")],
) -> None:
    """Audit the report's tables and replicate its claims from summary statistics."""
    import time

    from triad.audit import SEVERITIES, audit_markdown, audit_published
    from triad.replication import replicate_claims, replication_markdown, replication_summary

    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    findings = audit_published()
    audit_s = time.perf_counter() - start
    findings.to_csv(out / "audit.csv", index=False)
    (out / "audit.md").write_text(audit_markdown(findings) + "\n", encoding="utf-8")
    counts = findings["severity"].value_counts().reindex(list(SEVERITIES), fill_value=0)
    console.print(f"audit: {len(findings)} checks in {audit_s:.2f} s: " + ", ".join(
        f"{k} {v}" for k, v in counts.items()))
    start = time.perf_counter()
    replication = replicate_claims()
    replication.to_csv(out / "replication.csv", index=False)
    (out / "replication.md").write_text(replication_markdown(replication) + "\n",
                                        encoding="utf-8")
    summary = replication_summary(replication)
    tested = summary[summary["paper_verdict"] != "descriptive"]
    console.print(
        f"replication: {len(summary)} claims ({len(tested)} with a significance verdict) in "
        f"{time.perf_counter() - start:.2f} s: " + ", ".join(
            f"{k} {v}" for k, v in tested["replicates"].value_counts().items()))
    console.print(f"written: {out}/audit.csv, audit.md, replication.csv, replication.md")


@app.command("fit")
def fit_model(
    model: Annotated[str, typer.Argument(help="Spec name in models/ or a path to a .toml")],
    data: Annotated[Path | None, typer.Option(help="Respondent file (default: synthetic)")] = None,
    out: Annotated[Path, typer.Option(help="Results folder (fits are cached there)")] = Path(
        "results"),
    backend: Annotated[str, typer.Option(help="numpyro (default), pymc or nutpie")] = "numpyro",
    quick: Annotated[bool, typer.Option(help="Few draws: a smoke run")] = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 when a sampler gate fails")] = False,
    rope: Annotated[float | None, typer.Option(
        help="ROPE half-width in scale points (default: --rope-sd x pooled SD)")] = None,
    rope_sd: Annotated[float, typer.Option(
        help="ROPE half-width in pooled within-group SDs of each scale")] = 0.1,
    ci_prob: Annotated[float, typer.Option(help="HDI probability")] = 0.95,
) -> None:
    """Fit one model spec and print its diagnostics and contrasts."""
    from triad.fitting import fit, resolve_model
    from triad.specs import SpecError

    try:
        spec = resolve_model(model)
        result = fit(spec, data, backend=backend, quick=quick, out=out, rope=rope,
                     rope_sd=rope_sd, ci_prob=ci_prob)
    except (TriadInputError, SpecError) as exc:
        err_console.print(f"[bold red]triad: refused[/] {escape(str(exc))}", highlight=False,
                          soft_wrap=True)
        raise typer.Exit(code=2) from None
    d = result.diagnostics
    failed = d["gates_failed"]
    status = "[green]gates passed[/]" if result.passed else f"[bold red]GATES FAILED[/]: {failed}"
    console.print(f"{spec.name}{' (cached)' if result.cached else ''}: R-hat max "
                  f"{d['r_hat_max']:.3f}, ESS bulk min {d['ess_bulk_min']:.0f}, tail min "
                  f"{d['ess_tail_min']:.0f}, divergences {d['divergences']}; {status}")
    show = result.contrasts[["contrast", "sector", "estimand", "estimate", "ci_low", "ci_high",
                             "p_direction", "p_rope", "conclusion"]].round(3)
    _print_frame(show, f"Contrasts ({result.record['data_source']}"
                       f"{', QUICK' if quick else ''}{'' if result.passed else ', NOT A FINDING'})")
    if result.path is not None:
        console.print(f"stored: {result.path}")
    if strict and not result.passed:
        raise typer.Exit(code=1)


@app.command()
def reconstruct(
    seed: Annotated[int, typer.Option(help="Seed of the random generator")] = 20240601,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write to (default: data/synthetic)")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(help="Do not build: recompute every target from OUT/respondents.csv "
                          "and print target vs achieved"),
    ] = False,
) -> None:
    """Build the synthetic data set reconstructed from the published tables (or --verify it).

    Exits 1 when a target that should be met (not a documented conflict) is missed.
    """
    from triad.paths import data_dir
    from triad.reconstruct import missed, write_synthetic
    from triad.reconstruct import verify as verify_file

    folder = out if out is not None else data_dir() / "synthetic"
    if not verify:
        prov = write_synthetic(folder, seed=seed)
        console.print(f"written: {folder}/respondents.csv, provenance.json, README.md "
                      f"({prov['respondents']} synthetic respondents, seed {seed}, "
                      f"{prov['runtime_s']} s)")
    path = folder / "respondents.csv"
    try:
        report = verify_file(path)
    except TriadInputError as exc:
        _refuse(exc)
    if verify:
        show = report.drop(columns=["reason"])
        for col in ("achieved", "difference"):
            show[col] = show[col].round(4)
        console.print(f"[bold]Targets vs {path}[/]")
        typer.echo(show.to_string(index=False))
    conflicts = report[report["status"] == "conflict"]
    bad = missed(report)
    console.print(f"{int(report['matched'].sum())} of {len(report)} targets met; "
                  f"{len(conflicts)} documented conflicts ({int((~conflicts['matched']).sum())} "
                  f"not met, reasons in provenance.json); {len(bad)} missed")
    if len(bad):
        _print_frame(bad.drop(columns=["reason"]), "Missed targets")
        raise typer.Exit(code=1)

def main() -> None:
    """Entry point for ``python -m triad``."""
    app()


if __name__ == "__main__":
    sys.exit(main())
