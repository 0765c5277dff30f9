"""Rendering the report: the jinja2 template (``templates/report.html.j2``) and the file."""

from pathlib import Path

import jinja2

from triad.atomic import write_text
from triad.report.context import report_context
from triad.report.formatting import fmt_bf, fmt_ci, fmt_est, fmt_num, fmt_p, fmt_pct
from triad.report.words import in_words


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("triad", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fmt_p=fmt_p, fmt_est=fmt_est, fmt_ci=fmt_ci, fmt_num=fmt_num,
                       bf=fmt_bf, pct=fmt_pct, in_words=in_words)
    return env


def render_report(results: Path, figures: list[Path], out: Path, lang: str = "en") -> str:
    """Render the report's HTML (see :func:`write_report`) without writing it."""
    ctx = report_context(results, figures, out, lang)
    return _environment().get_template("report.html.j2").render(**ctx)


def write_report(results: Path, figures: list[Path], out: Path, lang: str = "en") -> Path:
    """Write ``report.html`` from a run's tables and figures.

    Parameters
    ----------
    results : Path
        The run's ``results/`` folder (``tables/``, ``run.json`` and ``methods.md`` inside).
    figures : list of Path
        The PNG figures to embed (the list :func:`triad.figures.all_figures` returns);
        each may have ``.pdf``, ``.svg`` and ``.csv`` files beside it, which are linked.
    out : Path
        The HTML file to write; links to tables and figures are relative to its folder.
    lang : {"en", "nl"}

    Returns
    -------
    Path
    """
    out = Path(out)
    text = render_report(results, figures, out, lang)
    # written under a temporary name and renamed, so an interrupted run leaves no half file
    return write_text(out, text)
