"""triad: Bayesian multilevel re-analysis of survey scale data.

The defining case is a Dutch study of partnership between youths, parents and
professionals in youth care and special education.  The package reads the
study's published tables (:mod:`triad.published`), validates respondent files
against a codebook (:mod:`triad.readers`), and computes scale scores and
reliabilities (:mod:`triad.scores`, :mod:`triad.reliability`).

In a notebook::

    import triad
    result = triad.fit("metric_inspraak", out="results")   # or data="my_file.sav"
    result.idata          # ArviZ DataTree: posterior, log_likelihood, posterior_predictive...
    result.contrasts      # tidy DataFrame of named contrasts
    result.diagnostics    # R-hat, ESS, divergences, gates
    again = triad.load_fit("metric_inspraak", out="results", rope=0.2)
"""

__version__ = "0.1.0"

__all__ = ["fit", "load_fit", "load_spec", "read_respondents"]


def __getattr__(name: str):
    # Lazy: `import triad` stays light; PyMC/Bambi load only when a model is fitted.
    if name in ("fit", "load_fit"):
        from triad import fitting

        return getattr(fitting, name)
    if name == "load_spec":
        from triad.specs import load_spec

        return load_spec
    if name == "read_respondents":
        from triad.readers import read_respondents

        return read_respondents
    raise AttributeError(f"module 'triad' has no attribute {name!r}")
