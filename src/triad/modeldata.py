"""Model frames: the rows a spec's model is fitted to, with every exclusion listed.

Respondent models get one row per (respondent, target, scale) score -- or per
answer for item-level (ordinal) models -- with the derived variables the specs
may use (:data:`triad.specs.FORMULA_VARIABLES`) and the file's declared covariates
(the codebook's ``[covariates.<name>]``), each repeated on every row of its
respondent.  Summary models get one row per published (or data-derived) cell.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from triad.codebook import aggregate_of, load_codebook, roles_of
from triad.errors import TriadInputError
from triad.privacy import pseudonym, pseudonym_key
from triad.published import load_cells
from triad.readers import RespondentData, long_from_wide, with_covariates
from triad.scores import scale_scores
from triad.specs import ModelSpec, spec_covariates

__all__ = ["ModelData", "check_covariates", "file_correlations", "model_frame", "pair_cells",
           "summary_frame", "summary_tables"]


def summary_tables(cells: pd.DataFrame | None = None) -> tuple[int, ...]:
    """Tables whose cells describe distinct populations (the summary model's data).

    The study's ``study.toml`` says which (``[summary] tables``): tables that pool or
    repeat other tables' cells would count their respondents twice.  Default: every
    table with scale cells.
    """
    from triad.paths import study_settings

    declared = study_settings().get("summary", {}).get("tables")
    if declared:
        return tuple(int(t) for t in declared)
    cells = load_cells() if cells is None else cells
    return tuple(sorted({int(t) for t in cells.loc[cells["scale"].notna(), "table"]}))


@dataclass
class ModelData:
    """Rows of one model, what was excluded and why, and where the numbers come from."""

    frame: pd.DataFrame
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    data_source: str = ""


def _rater(role: str) -> str:
    return aggregate_of(role)


def _select(frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    keep = np.zeros(len(frame), dtype=bool)
    for pair in spec.rows:
        rater, target = pair.split(">")
        roles = roles_of(rater)
        keep |= (frame["role"].isin(roles) & (frame["target"] == target)).to_numpy()
    return frame[keep & frame["scale"].isin(spec.scales).to_numpy()].copy()


def _codes(data: RespondentData) -> dict[str, str]:
    """Map respondent ids to codes keyed by the data set's secret (triad.privacy)."""
    key = pseudonym_key(data.wide)
    codes = {rid: pseudonym(rid, key) for rid in data.wide["respondent_id"].astype(str)}
    if len(set(codes.values())) != len(codes):
        # two people sharing a code would silently share a respondent effect
        raise ValueError("two respondent ids were given the same code")
    return codes


def _derive(frame: pd.DataFrame, codes: dict[str, str]) -> pd.DataFrame:
    frame["rater"] = frame["role"].map(_rater)
    frame["cell"] = frame["role"] + ">" + frame["target"] + "@" + frame["sector"]
    frame["scale_cell"] = frame["scale"] + ":" + frame["cell"]
    # one 0/1 column per rater group that pools roles (the codebook's [aggregates]): such
    # a group's respondents rate several targets, and formulas may give them their own
    # terms, e.g. (0 + <aggregate>|respondent)
    aggregates = tuple(load_codebook().aggregates)
    for name in aggregates:
        frame[name] = frame["rater"].eq(name).astype(float)
    pooled = frame["rater"].isin(aggregates)
    frame["gender"] = frame["gender"].fillna("unknown").astype(str)
    # Fixed means per rater>target group (and gender): cells are partially pooled around
    # their own group, never across youths and professionals, so a gap between rater
    # groups is not shrunk towards zero by exchangeability it does not have.
    frame["group"] = frame["rater"] + ">" + frame["target"]
    frame["group_gender"] = frame["group"] + ":" + frame["gender"]
    frame["scale_gender"] = frame["scale"] + ":" + frame["gender"]
    # The two sides of a rater gap (a pooled-gaps spec): 'dyad' names the party an
    # aggregate rater group rates (its target; for other raters the rater itself), 'side'
    # is +1/2 for that party's own rating and -1/2 for the aggregate's rating about them,
    # so that side's coefficient in a dyad is the gap itself (party minus aggregate);
    # 'gap_cell' is one gap's scale, dyad and sector (only the combinations observed, where
    # an interaction of the three would add empty columns).
    frame["dyad"] = frame["rater"].where(~pooled, frame["target"])
    frame["side"] = np.where(pooled, -0.5, 0.5)
    frame["gap_cell"] = frame["scale"] + ":" + frame["dyad"] + "@" + frame["sector"]
    # a keyed code: posterior draws of respondent effects are stored in fit files
    frame["respondent"] = frame["respondent_id"].astype(str).map(codes)
    # Age is standardised within role: youths' and professionals' ages live on different
    # scales, and the report's age relations are within-role correlations.
    # Mean and SD come from the known ages only (pandas skips NaN).
    grouped = frame.groupby("role")["age"]
    z = (frame["age"] - grouped.transform("mean")) / grouped.transform("std")
    # A missing age sits at its role's mean (age_z = 0) and is flagged: the formula's
    # age_missing terms give those respondents their own shift, so their rows stay in their
    # cells without pretending to know their age (triad.missingness).  Otherwise NaN only
    # where a role has one age or none varies.
    frame["age_missing"] = frame["age"].isna().astype(float)
    frame["age_z"] = z.fillna(0.0)
    return frame


def check_covariates(data: RespondentData, spec: ModelSpec) -> list[str]:
    """Return the declared covariates ``spec`` uses; refuse a file that lacks one.

    Raises
    ------
    TriadInputError
        Naming the file, the spec and the column, before anything is sampled.
    """
    used = spec_covariates(spec, load_codebook().covariates)
    absent = [c for c in used if c not in data.covariate_names]
    if absent:
        raise TriadInputError(
            data.path, f"model spec {spec.path.name} ({spec.name}) uses the covariate(s) "
            f"{', '.join(absent)}, but the file has no such column; add it (declared in the "
            "codebook's [covariates]) or leave the spec out", column=absent[0],
        )
    return used


def model_frame(data: RespondentData, spec: ModelSpec) -> ModelData:
    """Build the rows of a respondent model.

    Parameters
    ----------
    data : RespondentData
        A validated respondent file.
    spec : ModelSpec

    Returns
    -------
    ModelData
        ``excluded`` lists every row left out (too few items answered, missing answer,
        a missing value of a covariate the formula uses, and a missing age only under
        ``missing_age = "complete_case"``) with the reason.  By default
        (``missing_age = "indicator"``) a row without an age stays in the model with
        ``age_z = 0`` and ``age_missing = 1``.

    Raises
    ------
    TriadInputError
        When the spec uses a declared covariate the file has no column for
        (:func:`check_covariates`).
    """
    used = check_covariates(data, spec)
    excluded = []
    codes = _codes(data)
    if spec.level == "scale":
        scores = with_covariates(scale_scores(data.wide), data.covariates)
        frame = _select(scores, spec)
        bad = frame["score"].isna()
        for _, r in frame[bad].iterrows():
            excluded.append((codes[str(r["respondent_id"])], r["target"], r["scale"], "",
                             r["excluded_reason"]))
        frame = frame[~bad]
    else:
        long = with_covariates(long_from_wide(data.wide), data.covariates)
        frame = _select(long, spec)
        bad = frame["value"].isna()
        for _, r in frame[bad].iterrows():
            excluded.append((codes[str(r["respondent_id"])], r["target"], r["scale"],
                             r["column"], "answer missing"))
        frame = frame[~bad]
        cb = load_codebook()
        answers = sorted({int(v) for sc in spec.scales for v in cb.answer_values(sc)})
        frame["value"] = pd.Categorical(frame["value"].astype(int), categories=answers,
                                        ordered=True)
        frame["item"] = frame["column"]
        frame = frame.rename(columns={"column": "item_column"})
    no_age = frame["age"].isna()
    if spec.missing_age == "complete_case":
        # the complete-case universe: rows without an age leave the model (and their cell)
        for _, r in frame[no_age].iterrows():
            excluded.append((codes[str(r["respondent_id"])], r["target"], r["scale"],
                             r.get("item", ""), "age missing (complete-case analysis: "
                             "missing_age = complete_case)"))
        frame = frame[~no_age]
    for name in used:
        # a covariate of the formula: a row without its value cannot enter the model
        gone = frame[name].isna()
        for _, r in frame[gone].iterrows():
            excluded.append((codes[str(r["respondent_id"])], r["target"], r["scale"],
                             r.get("item", ""), f"{name} missing (a covariate of the "
                             "formula; empty, a missing code or quarantined)"))
        frame = frame[~gone]
    # Rows in code order, not file order: with ids numbered down the file, the order of
    # the observations in a fit file would otherwise link each code back to its id.
    frame = _derive(frame.copy(), codes).sort_values(
        "respondent", kind="stable").reset_index(drop=True)
    excl = pd.DataFrame(excluded, columns=["respondent", "target", "scale", "item", "reason"])
    excl = excl.sort_values("respondent", kind="stable").reset_index(drop=True)
    return ModelData(frame=frame, excluded=excl, data_source=data.data_source)


def summary_frame(spec: ModelSpec, cells: pd.DataFrame | None = None,
                  data_source: str = "published",
                  scores: pd.DataFrame | None = None) -> ModelData:
    """Build the rows of a summary-statistic model: one per distinct population cell.

    Sector cells (Tables 5-9) and gender cells (Tables 10-12) are two partitions of the
    same professionals: column ``partition`` says which, and the model keeps them in
    separate blocks so that nobody counts twice.  Cells of the same people that a
    paired contrast compares are marked (``pair``, ``pair_kind``, ``pair_r``,
    ``pair_n``; :func:`pair_cells`).

    Parameters
    ----------
    spec : ModelSpec
    cells : DataFrame, optional
        Cells in the published layout; default the report's tables.
    data_source : str
        ``'published'`` or the respondent file the cells were computed from.
    scores : DataFrame, optional
        The scale scores ``cells`` were computed from (a respondent file): each paired
        cell then carries the file's own correlation instead of the spec's stated r.
    """
    cells = load_cells() if cells is None else cells
    use = cells[cells["table"].isin(summary_tables(cells))
                & cells["scale"].isin(spec.scales)].copy()
    use["partition"] = np.where(use["gender"].notna(), "gender", "sector")
    use["rater"] = use["role"].map(aggregate_of)
    keep = np.zeros(len(use), dtype=bool)
    for pair in spec.rows:
        rater, target = pair.split(">")
        keep |= ((use["rater"] == rater) & (use["target"] == target)).to_numpy()
    if spec.rows:
        use = use[keep]
    use = use[use["sector"].ne("all") | use["gender"].notna()].copy()
    use["gender"] = use["gender"].fillna("all")
    use["cell"] = use["group"]
    use = pair_cells(use.reset_index(drop=True), spec.paired)
    if scores is not None and spec.paired:
        use = pair_cells(use, spec.paired, file_correlations(use, scores))
    excluded = pd.DataFrame(columns=["respondent", "target", "scale", "item", "reason"])
    return ModelData(frame=use, excluded=excluded, data_source=data_source)


# --------------------------------------------------------------------------- paired cells
# Two summary cells of the same people (:mod:`triad.paired`): their means' sampling
# errors correlate, so the summary model needs to know which cells pair up and how much.


def _pair_label(kind: str, setting: dict, row: pd.Series) -> str | None:
    """Return the pair a summary cell belongs to (same people in both members), or None.

    A spec's ``[paired.<kind>]`` says which: ``scales = [a, b]`` (one group answers both
    scales) or ``targets = [a, b]`` (one rater group rates both targets on a scale).
    """
    who = f"{row['role']}@{row['sector']}#{row['gender']}"
    if row["scale"] in setting.get("scales", ()):
        return f"{kind}:{who}"
    if row["target"] in setting.get("targets", ()):
        return f"{kind}:{row['scale']}:{who}"
    return None


def pair_cells(frame: pd.DataFrame, paired: dict,
               correlations: dict[str, tuple[float, int]] | None = None) -> pd.DataFrame:
    """Mark the paired rows of a summary frame.

    Parameters
    ----------
    frame : DataFrame
        Summary cells (:func:`summary_frame`): ``role, rater, target,
        sector, gender, scale, n``.
    paired : dict
        The spec's ``[paired]`` table: name -> ``{"scales" or "targets": [a, b], "r": ...,
        "why": ..., "range": [...]}``.
    correlations : dict, optional
        Pair label -> (r, n with both scores), from the respondent file the cells were
        computed from; overrides the spec's r for those pairs.

    Returns
    -------
    DataFrame
        ``frame`` with ``pair`` (label, "" when unpaired), ``pair_kind``, ``pair_r`` and
        ``pair_n`` (respondents in both cells; the smaller n when not known).  A label
        only two rows share; a member whose partner is not in the frame stays unpaired.
    """
    out = frame.assign(pair="", pair_kind="", pair_r=0.0, pair_n=0)
    for kind, setting in paired.items():
        labels = out.apply(lambda r, kind=kind, setting=setting: _pair_label(kind, setting, r),
                           axis=1)
        counts = labels.value_counts()
        for label, rows in out.groupby(labels).groups.items():
            if counts[label] != 2:
                continue
            r, n_ab = (correlations or {}).get(label, (float(setting["r"]), None))
            out.loc[rows, "pair"] = label
            out.loc[rows, "pair_kind"] = kind
            out.loc[rows, "pair_r"] = float(r)
            out.loc[rows, "pair_n"] = int(out.loc[rows, "n"].min() if n_ab is None else n_ab)
    return out


def _members(scores: pd.DataFrame, row: pd.Series) -> pd.Series:
    """One score per respondent of a summary cell, indexed by respondent id."""
    m = scores["role"].isin(roles_of(row["role"])) & (scores["target"] == row["target"])
    m &= scores["scale"] == row["scale"]
    if row["sector"] != "all":
        m &= scores["sector"] == row["sector"]
    if row["gender"] != "all":
        m &= scores["gender"] == row["gender"]
    part = scores.loc[m & scores["score"].notna()]
    return part.set_index("respondent_id")["score"]


def file_correlations(frame: pd.DataFrame, scores: pd.DataFrame
                      ) -> dict[str, tuple[float, int]]:
    """Each paired cell's own correlation in the respondent file the cells come from.

    Parameters
    ----------
    frame : DataFrame
        Summary cells marked by :func:`pair_cells`.
    scores : DataFrame
        The file's scale scores (:func:`triad.scores.scale_scores`).

    Returns
    -------
    dict
        Pair label -> (Pearson r over the respondents with both scores, their number);
        pairs with fewer than 3 such respondents or no variance are left out (the
        spec's r applies to them).
    """
    out = {}
    for label, part in frame[frame["pair"] != ""].groupby("pair"):
        a, b = (_members(scores, row) for _, row in part.iterrows())
        both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
        if len(both) < 3 or both["a"].std() == 0 or both["b"].std() == 0:
            continue
        out[str(label)] = (float(np.corrcoef(both["a"], both["b"])[0, 1]), len(both))
    return out
