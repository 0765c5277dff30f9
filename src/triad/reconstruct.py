"""The embedded synthetic data set: item-level respondents reconstructed from the published tables.

A study whose raw data are not public can ship a *synthetic* respondent file in the
public wide format that reproduces what its publication printed: every consistent
cell's n, mean and SD, plausible reliabilities and the reported correlations.  It is
**not** the study's data and is always labelled ``synthetic`` (``provenance.json``
beside the file says ``"synthetic": true``).  What to reproduce, and every choice the
publication leaves open, is the study's recipe (``data/<study>/synthetic/recipe.toml``,
:mod:`triad.synthetic.recipe`).

How it is made (all answers complete, integers on the answer scale):

1. **Targets and their resolution** (:mod:`triad.synthetic.solver`).  Every printed n,
   mean and SD is a target, in item-sum units (integer totals ``S`` and sums of squares
   ``Q`` per cell).  The recipe's required numbers are met first, the others in its
   priority order; one that cannot be met with those before it is a documented conflict.
2. **SPRITE per cell** (:mod:`triad.sprite`): n item sums with exactly that ``S``, ``Q``.
3. **Pairing and gender by simulated annealing** (:mod:`triad.synthetic.anneal`):
   swaps inside a role x sector cell keep every cell's moments and hit the composite SDs,
   the gender cells, printed correlations and plausible inter-scale correlations.
4. **Items within persons**: each sum is split into answers, then units are moved
   between a respondent's items (sums unchanged) to hit a chosen Cronbach's alpha.
5. **Ages**: drawn per role and sector, then permuted inside cells for the age
   correlations.
"""

import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from triad.codebook import load_codebook, roles_of, sector_codes
from triad.paths import data_dir
from triad.published import load_cells, parse_group_key, sample_counts
from triad.sprite import HALF, sprite_sums
from triad.synthetic.anneal import (
    age_column,
    alpha_groups,
    alpha_ranges,
    draw_ages,
    make_engine,
    permute_for_r,
    run_engine,
    scores_of,
    split_items,
    top_answer,
)
from triad.synthetic.recipe import families, load_recipe, n_items, raters
from triad.synthetic.solver import compute_resolution, resolve_targets
from triad.synthetic.targets import Resolution
from triad.versions import library_versions

__all__ = ["Resolution", "compute_resolution", "resolve_targets", "reconstruct",
           "write_synthetic", "verify", "verify_frame", "missed", "VERIFY_COLUMNS"]

VERIFY_COLUMNS = ["table", "group", "scale", "stat", "target", "achieved", "difference",
                  "matched", "status", "reason"]


# --------------------------------------------------------------------------- building


def _build(seed: int) -> tuple[pd.DataFrame, dict]:
    """Build the synthetic wide data and a log of what the stochastic steps achieved."""
    recipe = load_recipe()
    cb = load_codebook()
    rng = np.random.default_rng(seed)
    res = resolve_targets()
    counts = sample_counts()
    # 2. SPRITE per cell
    multisets = {}
    for name, fam in families().items():
        for scale in fam.scales:
            for i, cell in enumerate(fam.cells):
                total, sumsq = res.sums[(name, scale, i)]
                multisets[(name, scale, i)] = sprite_sums(counts[cell], total, sumsq,
                                                          n_items(scale), rng)
    # 3. pairing across scales and gender by annealing
    log: dict = {"annealing": {}, "alpha": {}}
    engines = {}
    for rater in raters():
        eng = make_engine(rater, recipe, res.cons, multisets, rng)
        log["annealing"][rater] = run_engine(eng, recipe, rng)
        engines[rater] = eng
        scores = scores_of(eng)
        for label, _, kind, s1, s2, lo, hi, _ in eng.targets:
            if kind == 2 and label.startswith("soft"):
                r = float(np.corrcoef(scores[:, s1], scores[:, s2])[0, 1])
                log.setdefault("plausibility_correlations", {})[f"{rater}: {label[5:]}"] = {
                    "range": [lo, hi], "achieved": round(r, 4)}
    # 4. items within persons: alphas per role and for a pooled rater group together
    items: dict = {}
    for rater, eng in engines.items():
        for c, (fam_name, scale) in enumerate(eng.columns):
            groups, member, lo, hi = alpha_groups(eng, recipe, fam_name, scale)
            block, alphas = split_items(np.ascontiguousarray(eng.V[:, c]), n_items(scale),
                                        member, lo, hi, 3_000_000, top_answer(scale), rng)
            items[(rater, c)] = block
            for g, a in zip(groups, alphas, strict=True):
                log["alpha"][f"{g}:{scale}"] = round(float(a), 4)
    # 5. ages, then the identity columns
    frames = []
    for rater, eng in engines.items():
        roles = [eng.cells[c][0] for c in eng.pcell]
        sectors = [eng.cells[c][1] for c in eng.pcell]
        age = draw_ages(roles, sectors, recipe, rng)
        scores = scores_of(eng)
        for label, r in age_column(recipe, rater):
            age = permute_for_r(age, scores[:, eng.labels.index(label)], eng.pcell, r, rng)
        data = {"role": roles, "sector": sectors,
                "gender": [{1: "male", 0: "female"}.get(int(g)) for g in eng.pgender],
                "age": age}
        for c, (fam_name, scale) in enumerate(eng.columns):
            suffix = families()[fam_name].column_suffix
            block = items[(rater, c)]
            for i in range(block.shape[1]):
                data[f"{scale}_{i + 1}{suffix}"] = block[:, i].astype(float)
        frames.append(pd.DataFrame(data))
    people = pd.concat(frames, ignore_index=True)
    # order: roles and sectors as the codebook lists them, shuffled inside a cell
    people["_role"] = people["role"].map({r: i for i, r in enumerate(cb.roles)})
    people["_sector"] = people["sector"].map({s: i for i, s in enumerate(sector_codes())})
    people["_shuffle"] = rng.permutation(len(people))
    people = people.sort_values(["_role", "_sector", "_shuffle"], kind="stable")
    people = people.drop(columns=["_role", "_sector", "_shuffle"]).reset_index(drop=True)
    people.insert(0, "respondent_id", [f"S{i + 1:04d}" for i in range(len(people))])
    item_cols = [ic.column for ic in cb.all_item_columns()]
    for col in item_cols:
        if col not in people.columns:
            people[col] = np.nan
    ident = ["respondent_id", "role", "sector", "gender", "age"]
    wide = people[ident + item_cols].copy()
    wide[item_cols] = wide[item_cols].astype(float)
    wide["age"] = wide["age"].astype(float)
    wide["gender"] = wide["gender"].astype(object)
    return wide, log


def reconstruct(seed: int | None = None) -> pd.DataFrame:
    """Build the synthetic item-level data set reconstructed from the published tables.

    Parameters
    ----------
    seed : int, optional
        Seed of the numpy Generator (default: the recipe's); the same seed gives the
        same data.

    Returns
    -------
    DataFrame
        Canonical wide data (as :func:`triad.simulate.simulate_respondents` returns):
        identity columns, then every codebook item column (float, NaN where not
        applicable).  Gender is empty where the publication gives none.
    """
    wide, _ = _build(load_recipe().seed if seed is None else seed)
    return wide


# --------------------------------------------------------------------------- verification


def _alpha_rows(wide: pd.DataFrame) -> list:
    from triad.reliability import cronbach_alpha

    recipe = load_recipe()
    cb = load_codebook()
    ranges = alpha_ranges()

    def alpha_of(group: str, scales: tuple) -> float:
        rater, who = group.split(">")
        roles = roles_of(rater)
        cols = [ic.column for ic in cb.item_columns(roles[0])
                if ic.scale in scales and ic.target == who]
        return cronbach_alpha(wide[wide["role"].isin(roles)][cols])[0]

    rows = []
    for (group, scale), target in recipe.alpha_targets.items():
        rows.append({"table": recipe.alpha_location, "group": f"{group}@all", "scale": scale,
                     "stat": "alpha", "target": target, "achieved": alpha_of(group, (scale,)),
                     "status": "chosen", "reason": recipe.alpha_source[scale]})
    for group, scale in recipe.alpha_in_range:
        parts = cb.scales[scale].composite_of
        scales = parts or (scale,)
        lo, hi = ranges[scale]
        names = [p.capitalize() for p in parts]
        follows = (f" (follows from the {', '.join(names[:-1])} and {names[-1]} alphas)"
                   if parts else "")
        rows.append({"table": recipe.alpha_location, "group": f"{group}@all", "scale": scale,
                     "stat": "alpha", "target": np.nan, "achieved": alpha_of(group, scales),
                     "status": "range",
                     "reason": f"must lie in the report's range {lo:.2f}-{hi:.2f} over groups "
                               f"({recipe.alpha_range_source})" + follows})
    return rows


def _correlation_rows(scores: pd.DataFrame, wide: pd.DataFrame) -> list:
    recipe = load_recipe()
    rows = []
    for (group, x, y), target in recipe.correlations.items():
        g = parse_group_key(group)
        roles = roles_of(g["role"])
        part = scores[scores["role"].isin(roles) & (scores["target"] == g["target"])]
        table = part.pivot(index="respondent_id", columns="scale", values="score")
        ages = wide.set_index("respondent_id")["age"]
        xs = ages.reindex(table.index) if x == "age" else table[x]
        r = float(np.corrcoef(xs.to_numpy(dtype=float), table[y].to_numpy(dtype=float))[0, 1])
        source = recipe.correlation_source[(group, x, y)]
        rows.append({"table": recipe.correlation_location, "group": group,
                     "scale": f"{x}~{y}", "stat": "r", "target": target, "achieved": r,
                     "status": "chosen" if "chosen" in source else "required",
                     "reason": source})
    return rows


def verify_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """Recompute every target from wide respondent data: target vs achieved.

    Parameters
    ----------
    wide : DataFrame
        Canonical wide data.

    Returns
    -------
    DataFrame
        Columns :data:`VERIFY_COLUMNS`, one row per target: every printed n, mean and
        SD, the chosen alphas (and the alphas that must lie in a printed range) and the
        correlations.  ``matched`` is exact equality for n, ``|difference| <= 0.005``
        otherwise (inside the range for the range rows); ``status`` is ``required``,
        ``kept`` or ``chosen`` for targets the file must meet and ``conflict`` for the
        documented conflicts (``reason`` says why).
    """
    from triad.cells import cells_from_scores
    from triad.scores import scale_scores

    res = resolve_targets()
    scores = scale_scores(wide)
    cells = cells_from_scores(scores, load_cells(), decimals=None)
    achieved = {}
    for _, row in cells.iterrows():
        scale = "" if pd.isna(row["scale"]) else row["scale"]
        key = (str(int(row["table"])), row["group"], scale)
        achieved[key] = {"n": float(row["n"]), "mean": row["mean"], "sd": row["sd"]}
    rows = []
    for t in res.targets:
        value = achieved[(t.table, t.group, t.scale)][t.stat]
        rows.append({"table": t.table, "group": t.group, "scale": t.scale, "stat": t.stat,
                     "target": t.value, "achieved": float(value), "status": t.status,
                     "reason": t.reason})
    rows += _alpha_rows(wide)
    rows += _correlation_rows(scores, wide)
    out = pd.DataFrame(rows)
    out["difference"] = (out["achieved"] - out["target"]).round(9)
    ranges = alpha_ranges()
    matched = []
    for _, r in out.iterrows():
        if r["stat"] == "n":
            matched.append(bool(r["achieved"] == r["target"]))
        elif r["status"] == "range":
            lo, hi = ranges[r["scale"]]
            matched.append(bool(lo - HALF < r["achieved"] < hi + HALF))
        else:
            matched.append(bool(abs(r["difference"]) <= HALF))
    out["matched"] = matched
    return out[VERIFY_COLUMNS]


def verify(path: str | Path | None = None) -> pd.DataFrame:
    """Recompute every target from a synthetic respondent file (default: the embedded one).

    Parameters
    ----------
    path : str or Path, optional
        Default the study's ``synthetic/respondents.csv``.

    Returns
    -------
    DataFrame
        See :func:`verify_frame`.
    """
    from triad.readers import read_respondents

    path = Path(path) if path is not None else data_dir() / "synthetic" / "respondents.csv"
    return verify_frame(read_respondents(path).wide)


def missed(report: pd.DataFrame) -> pd.DataFrame:
    """Targets the file must meet but does not (not a documented conflict)."""
    return report[(report["status"] != "conflict") & ~report["matched"]]


# --------------------------------------------------------------------------- writing

_VERSIONED = ("triad", "numpy", "pandas", "scipy", "numba", "pingouin")


def _versions() -> dict:
    return library_versions(_VERSIONED)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _summary(report: pd.DataFrame) -> dict:
    conflicts = report[report["status"] == "conflict"]
    return {
        "targets": len(report),
        "matched": int(report["matched"].sum()),
        "not_matched": int((~report["matched"]).sum()),
        "not_matched_documented_conflicts": int((~conflicts["matched"]).sum()),
        "conflicts_matched_anyway": int(conflicts["matched"].sum()),
        "missed": len(missed(report)),
        "by_stat": {stat: {"targets": len(part), "matched": int(part["matched"].sum())}
                    for stat, part in report.groupby("stat", sort=True)},
    }


def _command(seed: int, out_dir: Path) -> str:
    default = (data_dir() / "synthetic").resolve()
    where = "" if Path(out_dir).resolve() == default else f" --out {out_dir}"
    return f"triad reconstruct --seed {seed}{where}"


def write_synthetic(out_dir: str | Path | None = None, seed: int | None = None) -> dict:
    """Build the synthetic data set and write it with its provenance and README.

    Writes ``respondents.csv`` (canonical wide CSV), ``provenance.json`` (``"synthetic":
    true``, seed, command, library versions, every target with the value achieved,
    the design choices, the conflicts and why, runtime) and ``README.md``.

    Parameters
    ----------
    out_dir : str or Path, optional
        Default the study's ``synthetic/``.
    seed : int, optional
        Default the recipe's.

    Returns
    -------
    dict
        The provenance record.
    """
    from triad.atomic import replace_atomically, write_text
    from triad.readers import write_wide_csv

    recipe = load_recipe()
    seed = recipe.seed if seed is None else seed
    start = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else data_dir() / "synthetic"
    out.mkdir(parents=True, exist_ok=True)
    wide, log = _build(seed)
    build_s = time.perf_counter() - start
    csv_path = out / "respondents.csv"
    replace_atomically(csv_path, lambda tmp: write_wide_csv(wide, tmp))
    report = verify_frame(wide)
    res = resolve_targets()
    runtime = time.perf_counter() - start
    conflicts = report[report["status"] == "conflict"]
    low, high = load_codebook().answer_range(next(iter(load_codebook().scales)))
    fams = families()
    provenance = {
        "synthetic": True,
        "title": recipe.title,
        "warning": recipe.warning,
        "source": recipe.source,
        "seed": seed,
        "command": _command(seed, out),
        "generator": "triad.reconstruct.write_synthetic",
        "recipe": recipe.path.name,
        "versions": _versions(),
        "runtime_s": round(runtime, 1),
        "build_s": round(build_s, 1),
        "respondents": len(wide),
        "csv_sha256": hashlib.sha256(csv_path.read_bytes()).hexdigest(),
        "summary": _summary(report),
        "method": list(recipe.method),
        "priorities": dict(enumerate(recipe.priority_text)),
        "design_choices": {
            "answers": f"complete (no missing answers), integers {low:g}-{high:g}",
            "men_per_cell": {f"{r}@{s}": m for (r, s), m in recipe.men_per_cell.items()},
            "gender_other_groups": recipe.gender_note,
            "ages": {(f"{k[0]}@{k[1]}" if isinstance(k, tuple) else k):
                     {"mean": v[0], "sd": v[1], "min": v[2], "max": v[3]}
                     for k, v in recipe.ages.items()},
            "chosen_sds": {f"{fams[f].cells[i][0]}@{fams[f].cells[i][1]}:{s}": v
                           for (f, s, i), v in sorted(res.soft_sd.items())},
            "alpha_targets": {f"{f}@all:{s}": {"target": v, "source": recipe.alpha_source[s]}
                              for (f, s), v in recipe.alpha_targets.items()},
            "alpha_ranges": {k: list(v) for k, v in alpha_ranges().items()},
            "correlation_targets": {
                f"{g}: r({x}, {y})": {"target": v,
                                      "source": recipe.correlation_source[(g, x, y)]}
                for (g, x, y), v in recipe.correlations.items()},
        },
        "achieved": log,
        "conflicts": conflicts[["table", "group", "scale", "stat", "target", "achieved",
                                "matched", "reason"]].to_dict(orient="records"),
        "targets": report.to_dict(orient="records"),
    }
    provenance = _jsonable(provenance)
    write_text(out / "provenance.json",
               json.dumps(provenance, indent=1, ensure_ascii=False) + "\n")
    write_text(out / "README.md", _readme(provenance, report, recipe.readme))
    return provenance


def _readme(prov: dict, report: pd.DataFrame, template: str) -> str:
    s = prov["summary"]
    conflicts = report[report["status"] == "conflict"]
    reproduces = (
        f"{s['matched']} of {s['targets']} targets are met (n exactly; means, SDs, alphas "
        f"and correlations within 0.005 of the printed value, so they round to it). "
        + ("No target that should be met is missed. " if s["missed"] == 0 else
           f"{s['missed']} target(s) that should be met are missed. ")
        + f"The {len(conflicts)} numbers not reproduced are conflicts in the report:")
    table = ["| table | group | scale | stat | printed | synthetic |",
             "|---|---|---|---|---|---|"]
    for _, r in conflicts.iterrows():
        table.append(f"| {r['table']} | {r['group']} | {r['scale']} | {r['stat']} | "
                     f"{r['target']:g} | {r['achieved']:.4g} |")
    chosen = ", ".join(f"{v:.2f}" for v in prov["design_choices"]["chosen_sds"].values())
    return template.format(respondents=prov["respondents"], command=prov["command"],
                           seed=prov["seed"], reproduces=reproduces,
                           conflict_table="\n".join(table), chosen_sds=chosen)
