"""SBC's design: the real model frame a spec is built on, and the quantities checked.

Part of :mod:`triad.sbc` (its docstring describes the procedure).
"""

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from triad.likelihoods import likelihood
from triad.specs import ModelSpec

_RESPONDENT_DIM = "respondent__"  # Bambi's dimension of a by-respondent group effect


# --------------------------------------------------------------------------- design


@dataclasses.dataclass
class SBCDesign:
    """The real design a spec's model is built on, and the quantities SBC checks.

    Attributes
    ----------
    spec : ModelSpec
    frame : DataFrame
        The model frame (respondent rows or answers, or published cells).
    units : DataFrame
        ``frame`` with a ``weight`` column, as :mod:`triad.contrasts` expects.
    data_source : str
    """

    spec: ModelSpec
    frame: pd.DataFrame
    units: pd.DataFrame
    data_source: str


def sbc_design(spec: ModelSpec, data=None) -> SBCDesign:
    """Build the design SBC simulates on: the model frame of the real data.

    Parameters
    ----------
    spec : ModelSpec
        A respondent model (Gaussian, Student-t or ordinal family) or the summary model.
    data : RespondentData, path or DataFrame, optional
        Respondent models: the respondent file (default the embedded synthetic data set).
        Summary models: a cells table in the published layout, or a respondent file whose
        cells are used; default the report's published cells.

    Returns
    -------
    SBCDesign
    """
    from triad.fitting import respondent_data
    from triad.modeldata import model_frame, summary_frame

    if spec.data == "respondent":
        md = model_frame(respondent_data(data), spec)
        units = md.frame.assign(weight=1.0)
    else:
        source = "published"
        cells = None
        if isinstance(data, pd.DataFrame):
            cells, source = data, "cells"
        elif data is not None:
            from triad.cells import cells_from_scores
            from triad.scores import scale_scores

            resp = respondent_data(data)
            cells = cells_from_scores(scale_scores(resp.wide), decimals=None)
            source = resp.data_source
        md = summary_frame(spec, cells, data_source=source)
        units = md.frame.assign(weight=md.frame["n"].astype(float))
    return SBCDesign(spec=spec, frame=md.frame, units=units, data_source=md.data_source)


def build(spec: ModelSpec, frame: pd.DataFrame):
    """Build the spec's PyMC model on ``frame`` with the production builder."""
    from triad.fitting import build_model

    return build_model(spec, frame)


def frame_with(spec: ModelSpec, frame: pd.DataFrame, observed: dict) -> pd.DataFrame:
    """Return the model frame with a simulated response in place of the real one."""
    if spec.data != "respondent":
        return frame.assign(mean=observed["cell_mean"], sd=np.sqrt(observed["cell_var"]))
    if spec.ordinal:
        # simulated category indices 0..K-1; every category stays a level even when a data
        # set lacks it, or Bambi would build a model with fewer cut points
        levels = frame["value"].cat.categories
        return frame.assign(value=pd.Categorical(levels[np.asarray(observed["value"], int)],
                                                 categories=levels, ordered=True))
    return frame.assign(score=observed["score"])


def expected_variable(spec: ModelSpec) -> str:
    """Return the per-row model variable the expected scores (and contrasts) come from."""
    return likelihood(spec.family).expected


def expected_scores(spec: ModelSpec, draws: np.ndarray) -> np.ndarray:
    """Draws x rows of each row's expected 1-5 score.

    Metric and summary models: ``mu`` itself.  Ordinal models: Bambi's deterministic
    ``p`` holds the cumulative probabilities ``P(Y <= k)``, ``k = 1 .. K-1`` (its
    likelihood takes their differences), so ``E[Y] = sum_k P(Y > k) = K - sum_k P(Y <= k)``
    for answers ``1 .. K``.
    """
    n = draws.shape[0]
    if not spec.ordinal:
        return draws.reshape(n, -1)
    cumulative = draws.reshape(n, -1, draws.shape[-1])
    return cumulative.shape[-1] + 1 - cumulative.sum(axis=-1)


def checked_variables(model, parameters: Sequence[str] | None) -> list[str]:
    """Return the variables SBC checks: ``parameters``, or all but offsets and per-row ones."""
    dims = model.named_vars_to_dims
    default = [v.name for v in model.free_RVs if not v.name.endswith("_offset")
               and v.name != "cell_z"]
    default += [v.name for v in model.deterministics
                if "__obs__" not in dims.get(v.name, ()) and v.name not in default]
    if parameters is None:
        return default
    unknown = [p for p in parameters if p not in model.named_vars]
    if unknown:
        raise ValueError(f"unknown model variable(s) {unknown}; the model has {default}")
    return list(parameters)


def element_labels(da) -> list[str]:
    """Return a label ``name[coord,...]`` for every element of ``da`` beyond chain and draw."""
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    if not extra:
        return [da.name]
    grids = np.meshgrid(*[[str(c) for c in da[d].to_numpy()] for d in extra], indexing="ij")
    flat = [g.ravel() for g in grids]
    return [f"{da.name}[{','.join(parts)}]" for parts in zip(*flat, strict=True)]


def respondent_subset(da, frame: pd.DataFrame, levels: int | None, seed: int):
    """Flat indices of ``da``'s elements checked, or None for all of them.

    Along a by-respondent dimension only the ``levels`` respondents with the most rows
    in the frame are kept (ties in a seeded random order).
    """
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    dims = [d for d in extra if d.startswith(_RESPONDENT_DIM)]
    if levels is None or not dims:
        return None
    dim = dims[0]
    codes = [str(c) for c in da[dim].to_numpy()]
    rows = frame["respondent"].astype(str).value_counts().reindex(codes, fill_value=0)
    tie = np.random.default_rng([seed, 15]).permutation(len(codes))
    order = np.lexsort((tie, -rows.to_numpy()))
    chosen = np.sort(order[:levels])
    shape = [da.sizes[d] for d in extra]
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    return np.take(flat, chosen, axis=extra.index(dim)).ravel()


def contrast_matrix(units: pd.DataFrame, families) -> tuple[list[str], np.ndarray]:
    """Rows: the spec's contrasts as weights on the units' expected scores."""
    from triad.contrasts import contrast_pairs

    weights = units["weight"].to_numpy(dtype=float)
    names, rows = [], []
    for family in families:
        for scale in sorted(set(units["scale"])):
            for name, sector, sa, sb in contrast_pairs(family, scale, units):
                wa = np.where(sa.mask(units), weights, 0.0)
                wb = np.where(sb.mask(units), weights, 0.0)
                names.append(f"{name}[{sector}]")
                rows.append(wa / wa.sum() - wb / wb.sum())
    return names, np.array(rows).reshape(len(rows), len(units))


def sim_seed(seed: int, sim: int) -> int:
    """Return the sampler seed of simulation ``sim`` (from ``SeedSequence([seed, sim])``)."""
    return int(np.random.SeedSequence([seed, sim]).generate_state(1)[0] % (2**31 - 1))

