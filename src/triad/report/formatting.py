"""Numbers as the report prints them: probabilities, estimates, intervals, Bayes factors."""

import math

from triad.report.texts import MINUS


def as_float(value) -> float | None:
    """Return ``value`` as a finite-or-infinite float, None when blank or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def fmt_p(value) -> str:
    """Format a probability for reading: 3 decimals, ``> .999`` and ``< .001`` beyond.

    ``0.9996`` prints ``> .999`` (never ``1``), ``0.97812`` prints ``.978``, ``0.0004``
    prints ``< .001``; blank or non-numeric values print as they are.
    """
    x = as_float(value)
    if x is None:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) \
            else str(value)
    if x > 0.999:
        return "> .999"
    if x < 0.001:
        return "< .001"
    return f"{x:.3f}".removeprefix("0")


def fmt_est(value, digits: int = 2) -> str:
    """Format an estimate with a sign: ``+0.21``, ``\u22120.05``, ``0.00``."""
    x = as_float(value)
    if x is None:
        return ""
    text = f"{abs(x):.{digits}f}"
    if float(text) == 0:
        return text
    return ("+" if x > 0 else MINUS) + text


def signed(x: float, digits: int = 2) -> str:
    """Return ``x`` with ``digits`` decimals and a real minus sign (none for zero)."""
    text = f"{abs(x):.{digits}f}"
    return (MINUS + text) if x < 0 and float(text) != 0 else text


def fmt_ci(low, high, digits: int = 2) -> str:
    """Format an interval as ``[a, b]`` (blank when either end is missing)."""
    a, b = as_float(low), as_float(high)
    if a is None or b is None:
        return ""
    return f"[{signed(a, digits)}, {signed(b, digits)}]"


def fmt_num(value) -> str:
    """Format a number for reading: whole numbers as integers, else 2-3 significant places."""
    x = as_float(value)
    if x is None:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) \
            else str(value)
    if math.isinf(x):
        return "\u221e" if x > 0 else MINUS + "\u221e"
    if x == int(x) and abs(x) < 1e15:
        return signed(x, 0)
    if abs(x) >= 100:
        return signed(x, 0)
    if abs(x) >= 10:
        return signed(x, 1)
    if abs(x) >= 0.01:
        return signed(x, 2)
    return f"{x:.2g}".replace("-", MINUS)


def fmt_bf(value) -> str:
    """Format a Bayes factor (:func:`triad.bayes_factors.format_bf`), blank when missing."""
    from triad.bayes_factors import format_bf

    x = as_float(value)
    # Bayes factors print as '> 1000' / '< 1/1000' beyond those bounds, never 'inf'
    return "" if x is None else format_bf(x)


def fmt_pct(value) -> str:
    """Format a share as a whole percentage, blank when missing."""
    x = as_float(value)
    return "" if x is None else f"{x:.0%}"
