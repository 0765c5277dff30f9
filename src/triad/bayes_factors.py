r"""Bayes factors for a contrast under a stated JZS (Cauchy) prior on the standardised effect.

A Savage-Dickey ratio read off a kernel density estimate of a few thousand draws is
unstable exactly where it matters: when the posterior barely reaches 0 its density there
is estimated from a handful of draws (or none, giving ``inf``), and the prior it compares
against is whatever the model's prior implies for the contrast rather than a stated one.

This module computes instead

.. math::

    \mathrm{BF}_{10} = \frac{\int N(m_L;\, \Delta, s_L^2)\,
        \mathrm{Cauchy}(\Delta;\, 0, r\sigma)\, d\Delta}{N(m_L;\, 0, s_L^2)},

the Bayes factor of ``Delta / sigma ~ Cauchy(0, r)`` against ``Delta = 0`` for a normal
likelihood of the contrast with mean ``m_L`` and SD ``s_L``; ``sigma`` is a stated
standardiser (the pooled within-group SD), so the prior is the one of the JZS t test
(Rouder et al., 2009) with the same ``r``.  The normal likelihood is recovered from the
stored draws by dividing the normal approximation of the posterior by the normal
approximation of the model's implied prior (precision subtraction).  The integral is a
Voigt profile (the convolution of a normal and a Cauchy density) and is evaluated in
closed form through the Faddeeva function, accurate to about 1e-13 relative, in log space
so that no value overflows.  The only error left is Monte Carlo error from the moments of
the draws, which is propagated to ``log10 BF10`` by the delta method.
"""

import math

import arviz as az
import numpy as np
import pandas as pd
from scipy import special

__all__ = ["BF_COLUMNS", "contrast_bayes_factor", "contrast_bayes_factors", "format_bf",
           "likelihood_from_draws", "log_bf10_normal"]

BF_COLUMNS = ["bf10", "log10_bf10", "bf10_mc_se_log10", "bf10_half", "bf10_double", "bf_prior",
              "bf_method"]

METHOD = "normal likelihood (posterior / implied prior), Cauchy prior, closed form"
METHOD_POSTERIOR = ("normal posterior taken as likelihood (implied prior not wider than the "
                    "posterior), Cauchy prior, closed form")
METHOD_NO_PRIOR = ("normal posterior taken as likelihood (no prior draws), Cauchy prior, "
                   "closed form")
METHOD_NONE = "not computable (too few, constant or non-finite draws)"

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LN10 = math.log(10.0)
_MIN_DRAWS = 100


def log_bf10_normal(estimate: float, se: float, prior_scale: float) -> float:
    """Return the natural log of BF10 for a normal likelihood and a Cauchy prior.

    Parameters
    ----------
    estimate : float
        Mean ``m_L`` of the normal likelihood of the effect.
    se : float
        Its standard deviation ``s_L`` (> 0).
    prior_scale : float
        Scale of the Cauchy(0, ``prior_scale``) prior on the effect under H1, in the
        effect's units (for a JZS prior: ``r`` times the standardiser).

    Returns
    -------
    float
        ``ln BF10`` of H1 (effect ~ Cauchy) over H0 (effect = 0).

    Notes
    -----
    With ``z = m_L / s_L`` and ``c = prior_scale / s_L`` (all in units of ``s_L``),
    ``BF10 = int phi(z - u) Cauchy(u; 0, c) du / phi(z)
    = sqrt(2 pi) exp(z^2 / 2) V(z; 1, c)``, where ``V(x; sigma, gamma)`` is the Voigt
    profile (:func:`scipy.special.voigt_profile`).  Taking logs gives
    ``z^2 / 2 + ln sqrt(2 pi) + ln V(z; 1, c)``, finite for any ``z`` a float can hold.
    """
    if not (np.isfinite(estimate) and se > 0 and np.isfinite(se) and prior_scale > 0
            and np.isfinite(prior_scale)):
        raise ValueError(f"need a finite estimate and positive, finite se and prior_scale; got "
                         f"{estimate}, {se}, {prior_scale}")
    z = estimate / se
    c = prior_scale / se
    v = float(special.voigt_profile(z, 1.0, c))
    if v <= 0.0:  # only for a prior scale below ~1e-300 s_L, where H1 equals H0
        return 0.0
    return 0.5 * z * z + _LOG_SQRT_2PI + math.log(v)


def likelihood_from_draws(post_mean: float, post_sd: float, prior_mean: float | None,
                          prior_sd: float | None) -> tuple[float, float, bool]:
    """Divide a normal posterior by a normal prior to get the normal likelihood.

    Parameters
    ----------
    post_mean, post_sd : float
        Mean and SD of the posterior of the effect.
    prior_mean, prior_sd : float or None
        Mean and SD of the prior the posterior was computed under; None when unknown.

    Returns
    -------
    m_lik, s_lik : float
        Mean and SD of the normal likelihood:
        ``1 / s_L^2 = 1 / s_post^2 - 1 / s_0^2`` and
        ``m_L = s_L^2 (m_post / s_post^2 - m_0 / s_0^2)``.
    corrected : bool
        False when the prior is unknown or not wider than the posterior
        (``s_0 <= s_post``): the posterior itself is then returned as the likelihood.
    """
    if prior_sd is None or prior_mean is None or not prior_sd > post_sd:
        return post_mean, post_sd, False
    prec = 1.0 / post_sd**2 - 1.0 / prior_sd**2
    s_lik = 1.0 / math.sqrt(prec)
    m_lik = (post_mean / post_sd**2 - prior_mean / prior_sd**2) / prec
    return m_lik, s_lik, True


def contrast_bayes_factor(posterior: np.ndarray, prior: np.ndarray | None, sd_scale: float,
                          r: float = 0.707) -> dict:
    """Compute BF10 of a contrast for the prior ``Delta / sd_scale ~ Cauchy(0, r)``.

    Parameters
    ----------
    posterior : ndarray
        Posterior draws of the contrast ``Delta``: shape (draw,) for one chain, or
        (chain, draw).  Must be finite.
    prior : ndarray or None
        Draws of ``Delta`` under the model's own prior (any shape; non-finite draws are
        dropped), used only to remove that prior's (small) pull from the posterior.
        None takes the posterior as the likelihood, which is right when the model's
        prior is much wider than the posterior.
    sd_scale : float
        Standardiser ``sigma`` of the contrast, in its units (the pooled within-group SD),
        so that the prior is on the standardised effect as in the JZS t test.
    r : float, default 0.707
        Scale of the Cauchy prior on the standardised effect (the JZS default "medium").

    Returns
    -------
    dict
        ``bf10`` (``inf`` only when it overflows a float: print it with
        :func:`format_bf`), ``log10_bf10``, ``mc_se_log10`` (Monte Carlo SE of
        ``log10_bf10``), ``method`` (label; says when the posterior was taken as the
        likelihood), ``m_lik``, ``s_lik`` (the normal likelihood used) and ``prior``
        (text such as ``"Cauchy(0, 0.707 SD)"``).  NaN values with the ``method``
        "not computable ..." when there are fewer than 100 draws or they are constant.

    Notes
    -----
    Why a normal likelihood: a contrast of group means estimated from dozens of
    respondents or more has a likelihood that is normal to a very good approximation
    (central limit theorem), and its mean and SD are estimated from thousands of draws
    with a relative error of about ``1 / sqrt(ESS)``, whereas a density at one point
    (Savage-Dickey) depends on the few draws near that point.  The model's implied prior
    on ``Delta`` is replaced by its normal approximation; when it is much wider than the
    posterior, as it is for weakly informative priors, this correction is second order.

    Monte Carlo error: ``log10 BF10`` is a smooth function of the posterior mean and SD
    and of the prior draws' mean and SD; their Monte Carlo SEs (ArviZ ``mcse``, which
    accounts for autocorrelation within and between chains) are propagated with a
    numerical gradient (delta method).  ``sd_scale`` is treated as a known constant.
    """
    if not (sd_scale > 0 and np.isfinite(sd_scale)):
        raise ValueError(f"sd_scale must be positive and finite, got {sd_scale}")
    if not (r > 0 and np.isfinite(r)):
        raise ValueError(f"the Cauchy scale r must be positive and finite, got {r}")
    label = f"Cauchy(0, {r:.3g} SD)"
    post = np.asarray(posterior, dtype=float)
    post = post.reshape(1, -1) if post.ndim == 1 else post
    if post.ndim != 2:
        raise ValueError(f"posterior must have shape (draw,) or (chain, draw), got {post.shape}")
    nan = {"bf10": np.nan, "log10_bf10": np.nan, "mc_se_log10": np.nan, "method": METHOD_NONE,
           "m_lik": np.nan, "s_lik": np.nan, "prior": label}
    if post.size < _MIN_DRAWS or not np.all(np.isfinite(post)) or np.ptp(post) == 0:
        return nan
    moments = [float(post.mean()), float(post.std(ddof=1))]
    ses = [_mcse(post, "mean"), _mcse(post, "sd")]
    method = METHOD_NO_PRIOR
    if prior is not None:
        pri = np.asarray(prior, dtype=float).ravel()
        pri = pri[np.isfinite(pri)]
        if pri.size < _MIN_DRAWS or np.ptp(pri) == 0:
            return nan
        pri = pri.reshape(1, -1)
        pm, ps = float(pri.mean()), float(pri.std(ddof=1))
        method = METHOD if ps > moments[1] else METHOD_POSTERIOR
        if method == METHOD:
            moments += [pm, ps]
            ses += [_mcse(pri, "mean"), _mcse(pri, "sd")]
    prior_scale = r * sd_scale

    def log10_bf(x: list[float]) -> float:
        m, s, _ = likelihood_from_draws(x[0], x[1], *(x[2:] if len(x) == 4 else (None, None)))
        return log_bf10_normal(m, s, prior_scale) / _LN10

    value = log10_bf(moments)
    var = 0.0
    for i, se in enumerate(ses):
        if not se > 0:
            continue
        # central difference with a step well inside the Monte Carlo error
        h = 0.01 * se
        up, down = list(moments), list(moments)
        up[i] += h
        down[i] -= h
        var += ((log10_bf(up) - log10_bf(down)) / (2 * h) * se) ** 2
    m_lik, s_lik, _ = likelihood_from_draws(
        moments[0], moments[1], *(moments[2:] if len(moments) == 4 else (None, None)))
    return {"bf10": _pow10(value), "log10_bf10": value, "mc_se_log10": math.sqrt(var),
            "method": method, "m_lik": m_lik, "s_lik": s_lik, "prior": label}


def contrast_bayes_factors(posterior: np.ndarray, prior: np.ndarray | None,
                           sd_scale: float | np.ndarray, r: float = 0.707) -> pd.DataFrame:
    """Compute :func:`contrast_bayes_factor` for every column of a matrix of draws.

    Parameters
    ----------
    posterior : ndarray
        Posterior draws, shape (draw, contrast) for one chain or
        (chain, draw, contrast).
    prior : ndarray or None
        Prior draws, shape (draw, contrast) or (chain, draw, contrast); None as in
        :func:`contrast_bayes_factor`.
    sd_scale : float or ndarray
        Standardiser of each contrast (scalar, or one per column).
    r : float, default 0.707
        Cauchy scale of the main prior; the sensitivity columns use ``r / 2`` and ``2 r``.

    Returns
    -------
    pandas.DataFrame
        One row per column, columns :data:`BF_COLUMNS`: ``bf10``, ``log10_bf10``,
        ``bf10_mc_se_log10``, ``bf10_half`` (prior scale ``r / 2``), ``bf10_double``
        (``2 r``), ``bf_prior`` (text of the main prior) and ``bf_method``.
    """
    post = np.asarray(posterior, dtype=float)
    if post.ndim == 2:
        post = post[None]
    if post.ndim != 3:
        raise ValueError(f"posterior must have shape (draw, contrast) or (chain, draw, "
                         f"contrast), got {post.shape}")
    k = post.shape[-1]
    pri = None
    if prior is not None:
        pri = np.asarray(prior, dtype=float)
        if pri.shape[-1] != k:
            raise ValueError(f"prior has {pri.shape[-1]} columns, posterior {k}")
        pri = pri.reshape(-1, k)
    scales = np.broadcast_to(np.asarray(sd_scale, dtype=float), (k,))
    rows = []
    for j in range(k):
        pj = None if pri is None else pri[:, j]
        main = contrast_bayes_factor(post[..., j], pj, float(scales[j]), r)
        rows.append({
            "bf10": main["bf10"], "log10_bf10": main["log10_bf10"],
            "bf10_mc_se_log10": main["mc_se_log10"],
            "bf10_half": contrast_bayes_factor(post[..., j], pj, float(scales[j]), r / 2)["bf10"],
            "bf10_double": contrast_bayes_factor(post[..., j], pj, float(scales[j]),
                                                 2 * r)["bf10"],
            "bf_prior": main["prior"], "bf_method": main["method"]})
    return pd.DataFrame(rows, columns=BF_COLUMNS)


def format_bf(bf: float, bound: float = 1000.0) -> str:
    """Format a Bayes factor for printing, never as a huge number or ``inf``.

    Parameters
    ----------
    bf : float
        The Bayes factor (``inf`` and ``0`` allowed).
    bound : float, default 1000
        Values above ``bound`` print as ``"> 1000"``, below ``1 / bound`` as
        ``"< 1/1000"``.

    Returns
    -------
    str
        ``"> 1000"``, ``"< 1/1000"``, ``"NA"`` for NaN, otherwise three significant
        digits (whole numbers from 100 up).
    """
    if bf is None or np.isnan(bf):
        return "NA"
    if bf > bound:
        return f"> {bound:g}"
    if bf < 1.0 / bound:
        return f"< 1/{bound:g}"
    return f"{bf:.0f}" if bf >= 100 else f"{bf:.3g}"


def _mcse(draws: np.ndarray, method: str) -> float:
    se = float(az.mcse(draws, method=method, chain_axis=0, draw_axis=1))
    return se if np.isfinite(se) else 0.0


def _pow10(x: float) -> float:
    return math.inf if x > 308 else 10.0**x
