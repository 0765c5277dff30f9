"""The log-probability of an ordinal answer from the two cut points around it, in log space.

Used by :mod:`triad.ordinal_model` (cumulative logit and probit models written in PyMC):
finite, with finite gradients, for any finite cut points, where differences of CDFs
underflow (see :func:`log_category_probability`).
"""

__all__ = ["log_category_probability"]


# beyond this many SDs the normal tail is taken from its asymptotic series: 0.5 erfc(w / sqrt 2)
# is 5e-198 at w = 30 (no underflow, no subnormal gradient); the series' first omitted term,
# 135135 / w^14, is 3e-16 relative there
_TAIL_SERIES_FROM = 30.0
_LOG_SQRT_2PI = 0.9189385332046728
# a float64 literal: PyTensor computes pt.sqrt(2.0) in float32 (PyMC's normal_lcdf does,
# a relative error of 1e-5 at 28 SDs)
_SQRT_HALF = 0.7071067811865476


def _mills_series(w):
    """Mills' ratio Q(w) e^(w^2 / 2) sqrt(2 pi) for large w, Q the upper normal tail.

    Its asymptotic series 1/w (1 - 1/w^2 + 3/w^4 - ... + 10395/w^12) (Abramowitz & Stegun
    26.2.12), used from w = 30 on.
    """
    import pytensor.tensor as pt

    z = 1.0 / pt.sqr(w)
    series = 1.0 + z * (-1.0 + z * (3.0 + z * (-15.0 + z * (105.0 + z * (-945.0
                                                                          + z * 10395.0)))))
    return series / w


def log_category_probability(cut_low, cut_high, has_low, has_high, link: str):
    """Log P(answer in its category) from the two cut points around it, in log space.

    For an answer in category k, ``cut_low = a = disc (tau_{k-1} - eta)`` and
    ``cut_high = b = disc (tau_k - eta)``; the lowest category has no lower cut, the
    highest no upper one (``has_low`` / ``has_high`` false, the missing cut any finite
    number).  P = F(b) - F(a), never computed as a difference of probabilities (which
    rounds to 0 where both are near 1 or near 0: Bambi's probit log-likelihood was -inf
    for some answers and its LOO NaN):

    * logit: sigma(b) - sigma(a) = sigma(b) sigma(-a) (1 - e^(a - b)), so
      ``log P = log sigma(b) + log sigma(-a) + log1mexp(a - b)``, finite for any a < b.
    * probit: reflected so that the lower cut is not positive (F(b) - F(a) = F(-a) - F(-b),
      so (a, b) -> (-b, -a) when a > 0: the upper tail, where F(a) rounds to 1).  Then
      with Q the upper tail, Q(w) = F(-w) = erfc(w / sqrt 2) / 2:
      ``P = 1 - Q(-a) - Q(b)`` if b > 0 (a sum, no cancellation), ``P = Q(-b) - Q(-a)``
      if b <= 0, and past 30 SDs (where Q underflows) ``log P = -b^2/2 - log sqrt(2 pi)
      + log(M(-b) - M(-a) e^(-(a^2 - b^2)/2))`` with M Mills' ratio's asymptotic series
      (:func:`_mills_series`).  Two erfc and one log per answer: the former form (two
      ``erfcx`` and three ``log1mexp``) cost 3.1x more per gradient, nearly all of it in
      JAX's ``erfcx``.

    Finite, with finite gradients, for any finite cut points.  No branch of a switch is
    evaluated outside its domain (an infinite untaken branch gives NaN gradients in
    JAX): the missing cut of an end category is replaced by a finite value one unit
    away, and the upper-tail case is reflected rather than computed beside the lower.
    """
    import pytensor.tensor as pt

    a = pt.switch(has_low, cut_low, cut_high - 1.0)
    b = pt.switch(has_high, cut_high, cut_low + 1.0)
    if link == "logit":
        # log sigma(x) = min(x, 0) - log(1 + e^-|x|), so log P is two minima plus one log
        # of (1 - e^(a - b)) / ((1 + e^-|a|)(1 + e^-|b|)), a number in (0, 1] that
        # underflows for no finite cuts.  One log and three exponentials per answer where
        # two softplus and a log1mexp (all-branch `where`s in JAX) took twelve
        # transcendentals: ordinal_inspraak sampled in 53.8 s instead of 63.8 s (numpyro,
        # 4 x 2000).  Near log P = 0 the error is absolute (1e-17), not relative.
        end_a = pt.switch(has_low, pt.minimum(-a, 0.0), 0.0)
        end_b = pt.switch(has_high, pt.minimum(b, 0.0), 0.0)
        factor_a = pt.switch(has_low, 1.0 + pt.exp(-pt.abs(a)), 1.0)
        factor_b = pt.switch(has_high, 1.0 + pt.exp(-pt.abs(b)), 1.0)
        gap = pt.switch(has_low & has_high, -pt.expm1(a - b), 1.0)  # 1 - e^(a - b)
        return end_a + end_b + pt.log(gap / (factor_a * factor_b))
    if link == "probit":
        flip = has_low & pt.gt(a, 0)
        lo, hi = pt.switch(flip, -b, a), pt.switch(flip, -a, b)
        has_lo, has_hi = pt.switch(flip, has_high, has_low), flip | has_high
        lower = has_hi & pt.le(hi, 0)  # both cuts in the lower tail
        far = lower & pt.gt(-hi, _TAIL_SERIES_FROM)
        # tail arguments w >= 0 (a missing cut: 0, its term switched off)
        u = pt.switch(has_lo, -lo, 0.0)
        v = pt.switch(has_hi, pt.switch(lower, -hi, hi), 0.0)
        q_lo = pt.switch(has_lo, 0.5 * pt.erfc(u * _SQRT_HALF), 0.0)
        q_hi = pt.switch(has_hi, 0.5 * pt.erfc(v * _SQRT_HALF), 0.0)
        # every log below gets a positive argument where its branch is not taken: an
        # untaken log(0) gives a NaN gradient in JAX
        near = pt.log(pt.switch(far, 1.0, pt.switch(lower, q_hi - q_lo, 1.0 - q_lo - q_hi)))
        v_far = pt.maximum(v, _TAIL_SERIES_FROM)
        u_far = pt.switch(far & has_lo, u, v_far + 1.0)
        ratio = pt.exp(pt.minimum(0.5 * (pt.sqr(v_far) - pt.sqr(u_far)), 0.0))
        m_lo = pt.switch(has_lo, _mills_series(u_far) * ratio, 0.0)
        beyond = (-0.5 * pt.sqr(v_far) - _LOG_SQRT_2PI
                  + pt.log(_mills_series(v_far) - m_lo))
        return pt.switch(far, beyond, near)
    raise ValueError(f"link must be 'logit' or 'probit', got {link!r}")
