"""User hypotheses as strings, like brms's ``hypothesis()``, on named group means.

A hypothesis compares linear combinations of group means, each named by a group key of
the published layout (``rater>target@sector[#gender]``, ``all`` for every sector),
optionally prefixed by a scale (``inspraak:youth>professional@residential``; needed when
the model has several scales), with ``<``, ``>`` or ``=``::

    youth>professional@residential - professional>youth@residential < 0
    2 * parent>professional@all = youth>professional@all + professional>parent@all

Its draws are ``left - right`` computed from every posterior (and prior) draw of the
units' expected scores, exactly as the claim contrasts are; it is summarised with the
same columns and the one decision rule as every contrast (``estimand = 'descriptive'``).
``lower`` supports ``<``, ``higher`` supports ``>``, ``equivalent`` supports ``=``; the
table's ``contrast`` column holds the hypothesis as written.  Hypotheses come from a
spec's ``[[hypotheses]]`` tables or ``triad fit SPEC --hypothesis TEXT``.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["Hypothesis", "HypothesisError", "hypothesis_dataset", "parse_hypothesis"]

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<group>(?:[a-z][a-z0-9_]*:)?"
                    r"[a-z][a-z0-9_]*>[a-z0-9_]*@[a-z][a-z0-9_]*(?:#[a-z][a-z0-9_]*)?)"
                    r"|(?P<op>[<>=+\-*]))")


class HypothesisError(ValueError):
    """A hypothesis string that cannot be read (says where and what is expected)."""


@dataclass(frozen=True)
class Hypothesis:
    """A parsed hypothesis: ``sum(coef * mean(scale, group)) + constant`` compared to 0."""

    text: str
    terms: tuple[tuple[float, str | None, str], ...]  # (coefficient, scale, group key)
    constant: float
    relation: str  # '<', '>' or '='


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise HypothesisError(
                f"hypothesis {text!r}: cannot read {text[pos:].strip()[:20]!r} at character "
                f"{pos + 1} (expected a group key rater>target@sector such as a>b@s1, "
                "a number, + - * or one of < > =)")
        kind = m.lastgroup
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


def parse_hypothesis(text: str, scales: tuple[str, ...] | list[str]) -> Hypothesis:
    """Read a hypothesis string.

    Parameters
    ----------
    text : str
        E.g. ``"youth>professional@residential - professional>youth@residential < 0"``.
    scales : sequence of str
        The model's scales: a group key without a scale prefix takes the only one.

    Returns
    -------
    Hypothesis

    Raises
    ------
    HypothesisError
        If the text is not ``side relation side`` with one relation, a group key needs
        a scale prefix, or a scale is not one of the model's.
    """
    from triad.codebook import load_codebook

    tokens = _tokens(text)
    relations = [t for t in tokens if t[0] == "op" and t[1] in "<>="]
    if len(relations) != 1:
        raise HypothesisError(f"hypothesis {text!r}: needs exactly one of <, > or = "
                              f"(found {len(relations)})")
    book = load_codebook()
    roles = {*book.roles, *book.aggregates, "all"}
    sectors = {*book.sectors, "all"}
    targets = {str(i["target"]) for i in book.instruments}
    terms, constant, sign, side, coef, expect_term = [], 0.0, 1.0, 1.0, None, True
    for i, (kind, value, pos) in enumerate(tokens):
        where = f"hypothesis {text!r}, character {pos + 1}"
        if kind == "op" and value in "<>=":
            if expect_term:
                raise HypothesisError(f"{where}: a term is missing before {value!r}")
            side, sign, expect_term = -1.0, 1.0, True
        elif kind == "op" and value in "+-":
            if expect_term and value == "-":
                sign = -sign
                continue
            if expect_term:
                raise HypothesisError(f"{where}: a term is missing before {value!r}")
            sign, expect_term = (1.0 if value == "+" else -1.0), True
        elif kind == "op" and value == "*":
            if coef is None:
                raise HypothesisError(f"{where}: '*' must follow a number")
        elif kind == "num":
            if not expect_term:
                raise HypothesisError(f"{where}: an operator is missing before {value!r}")
            coef = float(value)
            if not (i + 1 < len(tokens) and tokens[i + 1][1] == "*"):
                constant += side * sign * coef
                coef, expect_term = None, False
        else:  # a group key
            if not expect_term and coef is None:
                raise HypothesisError(f"{where}: an operator is missing before {value!r}")
            scale, group = value.split(":", 1) if ":" in value else (None, value)
            if scale is None:
                if len(scales) != 1:
                    raise HypothesisError(
                        f"{where}: the model has several scales ({', '.join(scales)}); "
                        f"write scale:{group}")
                scale = scales[0]
            if scale not in scales:
                raise HypothesisError(f"{where}: scale {scale!r} is not one of the "
                                      f"model's ({', '.join(scales)})")
            from triad.published import parse_group_key

            g = parse_group_key(group)
            if g["role"] not in roles or g["target"] not in targets or (
                    g["sector"] not in sectors) or (
                    g["gender"] is not None and g["gender"] not in book.genders):
                raise HypothesisError(
                    f"{where}: group {group!r}: rater one of {sorted(roles - {'all'})}, "
                    f"target one of {sorted(targets)}, sector one of {sorted(sectors)}, "
                    f"gender one of {sorted(book.genders)}")
            terms.append((side * sign * (1.0 if coef is None else coef), scale, group))
            coef, expect_term = None, False
    if expect_term:
        raise HypothesisError(f"hypothesis {text!r}: ends without a term")
    if not terms:
        raise HypothesisError(f"hypothesis {text!r}: names no group mean")
    return Hypothesis(text=" ".join(text.split()), terms=tuple(terms), constant=constant,
                      relation=relations[0][1])


def hypothesis_dataset(draws: np.ndarray, units: pd.DataFrame, hypotheses, *,
                       prior_draws: np.ndarray | None = None, chains: int = 1
                       ) -> tuple[xr.DataArray, xr.DataArray | None]:
    """Draws of every hypothesis's ``left - right``, dims (chain, draw, contrast).

    Parameters
    ----------
    draws : ndarray
        Posterior draws x units of each unit's expected score.
    units : DataFrame
        The units (``scale, role, target, sector[, gender, partition], weight``).
    hypotheses : sequence of Hypothesis
    prior_draws : ndarray, optional
        Prior draws x units (for the Bayes factor).
    chains : int

    Returns
    -------
    tuple
        Posterior and prior draws with the contrast coordinates (``name`` = the
        hypothesis, ``scale`` = its scale or ``a-b`` for two, ``sector``, ``estimand``,
        ``n_a``/``n_b`` = units on the positive/negative side).

    Raises
    ------
    HypothesisError
        If a group of a hypothesis has no unit in the model.
    """
    from triad.contrasts import group_selector

    weights = units["weight"].to_numpy(dtype=float)
    cols, prior_cols, meta = [], [], []
    for h in hypotheses:
        total = np.full(draws.shape[0], h.constant)
        prior_total = None if prior_draws is None else np.full(prior_draws.shape[0],
                                                                 h.constant)
        n_pos = n_neg = 0
        for coef, scale, group in h.terms:
            mask = group_selector(group, scale).mask(units)
            if not mask.any():
                raise HypothesisError(f"hypothesis {h.text!r}: no unit of the model is in "
                                      f"{scale}:{group}")
            w = weights[mask]
            total = total + coef * (draws[:, mask] @ w / w.sum())
            if prior_total is not None:
                prior_total = prior_total + coef * (prior_draws[:, mask] @ w / w.sum())
            if coef > 0:
                n_pos += int(mask.sum())
            else:
                n_neg += int(mask.sum())
        cols.append(total)
        prior_cols.append(prior_total)
        scales = sorted({s for _, s, _ in h.terms})
        sectors = sorted({group.split("@", 1)[1].split("#")[0] for _, _, group in h.terms})
        meta.append((h.text, "-".join(scales) if len(scales) <= 2 else "",
                     sectors[0] if len(sectors) == 1 else "-".join(sectors), n_pos, n_neg))
    coords = {"contrast": [f"{m[0]}@{m[2]}#descriptive" for m in meta],
              "name": ("contrast", [m[0] for m in meta]),
              "scale": ("contrast", [m[1] for m in meta]),
              "sector": ("contrast", [m[2] for m in meta]),
              "estimand": ("contrast", ["descriptive"] * len(meta)),
              "n_a": ("contrast", [m[3] for m in meta]),
              "n_b": ("contrast", [m[4] for m in meta])}

    def as_array(columns: list, n_chains: int) -> xr.DataArray:
        values = np.stack(columns, axis=-1)
        return xr.DataArray(values.reshape(n_chains, -1, values.shape[-1]),
                            dims=("chain", "draw", "contrast"), coords=coords)

    post = as_array(cols, chains)
    prior = None if prior_draws is None else as_array(prior_cols, 1)
    return post, prior
