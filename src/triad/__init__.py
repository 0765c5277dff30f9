"""triad: Bayesian multilevel re-analysis of survey scale data.

The defining case is a Dutch study of partnership between youths, parents and
professionals in youth care and special education.  The package reads the
study's published tables (:mod:`triad.published`), validates respondent files
against a codebook (:mod:`triad.readers`), and computes scale scores and
reliabilities (:mod:`triad.scores`, :mod:`triad.reliability`).
"""

__version__ = "0.1.0"
