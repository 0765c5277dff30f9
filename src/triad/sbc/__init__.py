"""Simulation-based calibration (SBC; Talts et al. 2018) of triad's models.

Procedure, per model spec:

1. Build the spec's model on the real design with the production builder
   (:func:`triad.fitting.build_model`: Bambi for the Gaussian and Student-t respondent
   specs, :mod:`triad.ordinal_model` for the ordinal specs with discrimination or
   thresholds by rater, triad's own PyMC model for the summary spec), on
   the model frame of the respondent data (default the embedded synthetic file) or on the
   published cells.
2. Draw ``n_sims`` parameter sets from the spec's prior and one data set from the prior
   predictive for each (seeded ``pm.sample_prior_predictive``).  Ordinal models: PyMC draws
   the cut points forwards from their independent Normal priors and ignores the
   ``ordered`` transform, while the fitted model's density is that prior restricted to
   increasing cut points; only draws with increasing cut points are kept, with the answers
   simulated from them (rejection sampling: exact draws of the fitted prior).
3. Refit every simulated data set with the same model (one chain, ``tune`` + ``draws``
   iterations, every ``thin``-th draw kept), and record the rank of the true value among
   the kept posterior draws for every checked quantity: ``rank = #{draws < truth}``, in
   ``0 .. L`` for ``L`` kept draws (``n_ranks = L + 1`` possible values).
4. If the model and the sampler are calibrated, every quantity's ranks are uniform on
   ``0 .. L``.  :func:`sbc_uniformity` tests that per quantity with the simultaneous ECDF
   band of Säilynoja et al. (2022), which decides, and reports the binned chi-square of
   the rank histogram beside it.

Checked quantities (``kind`` column): every free parameter on its constrained scale
(``kind = 'parameter'``), except a non-centred offset, which the group effect it scales
(a deterministic such as ``1|cell``) replaces; plus every named contrast of the spec
(``kind = 'contrast'``: group-mean differences as :mod:`triad.contrasts` defines them,
computed from the expected 1-5 score of every unit: ``mu``, or for the ordinal model
``K - sum_k P(Y <= k)`` from the model's cumulative probabilities ``p``).  Effects indexed by
respondent (``1|respondent``, ``professional|respondent``) are checked for the
``respondent_levels`` respondents with the most rows (default 10; ties broken by a seeded
draw; for ``metric_alliantie`` these are professionals, who rate two targets): with
365-479 respondents, checking all of them would shrink each quantity's Bonferroni level
to nothing, and their SD, which carries the hierarchy, is always checked.  For
``metric_inspraak`` that is 28 quantities (3 group-by-gender means, 2 age slopes, the cell
SD and 6 cell effects, 2 log residual SDs -- ranks are invariant to the monotone exp --,
14 contrasts), for ``summary_cells`` 364.

Backends (``backend``), each compiling or building the model the way noted:

``'numpyro'`` (default, :data:`triad.fitting.DEFAULT_BACKEND`, the production sampler)
    NumPyro's NUTS on PyMC's JAX log density, with the settings PyMC's
    ``pm.sample(nuts_sampler="numpyro")`` gives it (:mod:`pymc.sampling.jax`: diagonal
    mass matrix, step size and mass matrix adapted, tree depth 10, PyMC's jittered initial
    point, retried while its density is not finite).  Unlike that call, which compiles the
    model's JAX code anew for every data set (measured 14-19 s a refit of
    ``metric_inspraak`` on this machine, 2 s of it sampling), the log density takes the
    observed data as an argument and warm-up plus sampling are one jitted function
    (:func:`numpyro.infer.hmc.hmc`'s kernels in a ``lax.scan``), compiled once per
    process and model: the same kernel, adaptation and density, without recompilation.
``'nutpie'``
    Compiled once per process with numba, the observed data turned into a shared
    variable and swapped per data set (:meth:`nutpie.CompiledPyMCModel.with_data`).
``'pymc'``
    Rebuilds the model on every simulated data set and samples with
    :func:`triad.fitting.sample` (PyMC's own NUTS).

Thinning: autocorrelated draws bend rank histograms towards a U shape.  Draws kept every
10th are nearly independent for most quantities (nutpie, metric_inspraak and summary_cells:
median bulk ESS 87-116 per 100 kept draws; numpyro, metric_alliantie, 3 refits: median
bulk ESS 0.5-1.0 per draw before thinning, the worst quantity's 0.07-0.47).  The defaults
keep 99 of 990 draws (100 possible ranks, which fill 20, 10, 5 or 4 bins equally); the
stored run in ``bench/sbc`` keeps 50 of 500 to fit five models in about 26 minutes.

Every simulation has its own seed (``SeedSequence([seed, sim])``), so the ranks do not
depend on how simulations are split over processes: ``jobs`` spawned local processes or
the workers of a Dask cluster (``scheduler``) give the same table as a serial run.
"""

from triad.sbc.design import SBCDesign, sbc_design
from triad.sbc.figure import ecdf_figures
from triad.sbc.refit import DEFAULT_SBC_BACKEND, RANK_COLUMNS, SBC_BACKENDS, run_sbc
from triad.sbc.store import combine_runs, sbc_models, sbc_summary_for_report, write_sbc
from triad.sbc.uniformity import (
    DECISION_TEST,
    UNIFORMITY_COLUMNS,
    family_decision,
    sbc_uniformity,
)

__all__ = ["SBC_BACKENDS", "DEFAULT_SBC_BACKEND", "RANK_COLUMNS", "UNIFORMITY_COLUMNS",
           "DECISION_TEST", "SBCDesign", "sbc_design", "run_sbc", "sbc_uniformity",
           "family_decision", "ecdf_figures", "write_sbc", "sbc_models", "combine_runs",
           "sbc_summary_for_report"]
