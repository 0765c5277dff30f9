"""The HTML report ``results/report.html``, rendered from a jinja2 template.

The report opens with a one-screen summary (headline contrasts as a table and a figure,
what replicates and what does not, the fragile claims, the sampler gates), then one
section per table of the run, the figures, the generated methods section and the
provenance.  Everything comes from the run's ``results/`` folder and the figure list
the pipeline passes in; the template is ``templates/report.html.j2``.

Reading rules the template relies on:

* no silent truncation: every table links its full CSV, says how many of its rows it
  shows and why, and shows long tables as a first page of :data:`PAGE_ROWS` rows with
  the rest in collapsed ``<details>`` pages (no JavaScript needed);
* groups, contrasts, scales and sectors are named in words (:mod:`triad.labels`),
  also inside free text such as audit messages;
* probabilities print with 3 decimals, ``> .999`` and ``< .001`` beyond
  (:func:`fmt_p`), estimates with 2 decimals and a sign (:func:`fmt_est`), intervals
  as ``[a, b]`` (:func:`fmt_ci`), Bayes factors by :func:`triad.bayes_factors.format_bf`;
* a statistic blanked by small-cell protection prints as ``suppressed`` with the rule.

Figures are embedded (the file stays self-contained) as 256-colour copies of the
PNGs, which are about a third of the size of the 300 dpi originals; each figure links
its full-resolution PNG, PDF, SVG and data CSV beside it.
"""

from triad.report.context import report_context as report_context
from triad.report.formatting import fmt_ci, fmt_est, fmt_num, fmt_p
from triad.report.render import render_report, write_report
from triad.report.tables import table_view
from triad.report.texts import HEADLINE_MAX, PAGE_ROWS, TEXT
from triad.report.words import in_words

__all__ = ["PAGE_ROWS", "HEADLINE_MAX", "TEXT", "fmt_ci", "fmt_est", "fmt_num", "fmt_p",
           "in_words", "render_report", "table_view", "write_report"]
