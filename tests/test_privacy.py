"""Privacy that holds (issues 9 and 18): small cells, secondary suppression, unlinkable codes.

Three attacks are run against triad's outputs:

* **Subtraction**: :func:`triad.privacy.disclosure_attack` tries every relation
  ``total = sum of parts`` the group keys imply (and solves the linear system of everything
  shown) on the written tables, for today's hand-made fixture (3 male and 6 female
  teachers), for generated data sets and for a real run of the main job.  It must recover
  nothing about a group of fewer than 5 respondents -- and it does recover the men from
  tables that only blank the small cells (the protection before issue 18).
* **Hashing**: every respondent id of the input is hashed in every unkeyed way (MD5, SHA-1,
  SHA-256 and empty-key HMACs of the id with and without salts and separators); no output
  file -- fit files included, their compressed strings decoded -- contains a run of 6 or
  more characters of any of those digests beyond chance, or 10 characters at all.
* **Order**: fit files list observations in code order, not in the order of the file.
"""

import hashlib
import hmac
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from triad.cells import cells_from_scores
from triad.codebook import roles_of
from triad.contrasts import contrast_pairs, families, group_size
from triad.fitting import fit
from triad.modeldata import model_frame
from triad.paths import data_dir, models_dir
from triad.pipeline import run_all
from triad.privacy import (
    SmallCellGuard,
    disclosure_attack,
    pseudonym,
    pseudonym_key,
    table_groups,
)
from triad.published import parse_group_key
from triad.readers import read_respondents, write_wide_csv
from triad.scores import scale_scores
from triad.simulate import simulate_respondents
from triad.specs import load_spec

MIN_CELL = 5


@pytest.fixture(scope="module")
def scores():
    # 3 male teachers and 6 female teachers in special education, 8 youths: by hand
    rows = [(f"T{i}", "teacher", "youth", "special_education", "male" if i < 3 else "female",
             "inspraak", 3.0 + 0.25 * i) for i in range(9)]
    rows += [(f"Y{i}", "youth", "professional", "special_education", "female", "inspraak",
              3.0 + 0.1 * i) for i in range(8)]
    rows.append(("Y9", "youth", "professional", "special_education", "male", "inspraak",
                 np.nan))  # no score: does not count
    return pd.DataFrame(rows, columns=["respondent_id", "role", "target", "sector", "gender",
                                       "scale", "score"])


def test_group_sizes_count_respondents_with_a_score(scores):
    guard = SmallCellGuard(scores, 5)
    assert guard.size("teacher>youth@special_education#male", "inspraak") == 3
    assert guard.size("professional>youth@all", "inspraak") == 9
    assert guard.size("youth>professional@all", "inspraak") == 8
    assert guard.size("youth>professional@all#male", "inspraak") == 0


def test_rows_of_small_groups_are_blanked_and_flagged(scores):
    guard = SmallCellGuard(scores, 5)
    claims = pd.DataFrame({
        "claim_id": ["C1", "C2"], "scale": ["inspraak", "inspraak"],
        "group_a": ["professional>youth@all#male", "professional>youth@all"],
        "group_b": ["professional>youth@all#female", "youth>professional@all"],
        "summary_p": [0.01, 0.02], "bayes_estimate": [0.5, -0.4], "conclusion":
            ["higher", "lower"]})
    out = guard.apply("claims.csv", claims)
    # C1 compares 3 male with 6 female professionals: 3 < 5 -> suppressed; C2: 9 vs 8
    assert out["suppressed"].tolist() == [True, False]
    assert np.isnan(out.loc[0, "bayes_estimate"]) and out.loc[0, "conclusion"] == ""
    assert out.loc[1, "bayes_estimate"] == -0.4
    assert out.loc[0, "summary_p"] == 0.01  # published-table statistics are public
    contrasts = pd.DataFrame({"contrast": ["a", "b"], "n_a": [4, 40], "n_b": [50, 5],
                              "estimate": [0.1, 0.2]})
    out = guard.apply("contrasts.csv", contrasts)
    assert out["suppressed"].tolist() == [True, False]
    summary = guard.summary()
    assert summary.loc[summary["kind"] == "primary", "rows_suppressed"].tolist() == [1, 1]
    # contrast names triad does not know are protected by their n only -- and said so
    assert summary.loc[summary["kind"] == "unresolved", "rule"].str.contains("n only").all()
    off = SmallCellGuard(scores, 0)
    assert off.apply("contrasts.csv", contrasts) is contrasts


def test_group_keys_are_read_from_every_kind_of_cell():
    assert table_groups("youth>professional@all | teacher>youth@all") == [
        "youth>professional@all", "teacher>youth@all"]
    assert table_groups("belangrijk ~ lukt in professional>self@all") == [
        "professional>self@all"]
    assert table_groups("a vs b") == [] and table_groups(np.nan) == []


# --------------------------------------------------------------------------- subtraction
def exact_model_tables(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posterior cell means and contrasts of a model that knows the data exactly.

    The worst case for disclosure: every posterior mean equals the sample mean, so the
    model tables are as additive as the data's own cells.
    """
    s = scores[scores["score"].notna()]
    keys = ["role", "target", "scale", "sector", "gender"]
    units = (s.assign(gender=s["gender"].fillna("")).groupby(keys)
             .agg(weight=("score", "size"), total=("score", "sum")).reset_index())
    # plain object columns: contrast_pairs compares them once per pair
    units = units.astype({c: object for c in keys})
    units["gender"] = units["gender"].replace("", None)
    rows = []
    for (scale, role, target, sector), part in s.groupby(["scale", "role", "target", "sector"]):
        rows.append((scale, role, target, sector, None, part["respondent_id"].nunique(),
                     part["score"].mean()))
    pooled = s[s["role"].isin(roles_of("professional"))]
    for (scale, target, gender), part in pooled.groupby(["scale", "target", "gender"]):
        rows.append((scale, "professional", target, "all", gender,
                     part["respondent_id"].nunique(), part["score"].mean()))
    means = pd.DataFrame(rows, columns=["scale", "role", "target", "sector", "gender", "n",
                                        "mean"]).assign(model="exact", data_source="file")
    crow = []
    for family in families():
        for scale in sorted(set(units["scale"])):
            for name, sector, sa, sb in contrast_pairs(family, scale, units):
                ma, mb = sa.mask(units), sb.mask(units)
                estimate = (units.loc[ma, "total"].sum() / units.loc[ma, "weight"].sum()
                            - units.loc[mb, "total"].sum() / units.loc[mb, "weight"].sum())
                crow.append((name, scale, sector, "descriptive", group_size(units, ma),
                             group_size(units, mb), estimate))
    columns = ["contrast", "scale", "sector", "estimand", "n_a", "n_b", "estimate"]
    contrasts = pd.DataFrame(crow, columns=columns)
    standardised = []
    for name, part in contrasts.groupby("contrast"):
        per = part[(part["sector"] != "all") & ~part["sector"].str.contains("-")]
        pooled = part[part["sector"] == "all"]
        if len(pooled) == 1 and len(per) >= 2:
            r = pooled.iloc[0]
            standardised.append((name, r["scale"], "all", "standardised", r["n_a"], r["n_b"],
                                 per["estimate"].mean()))
    contrasts = pd.concat([contrasts, pd.DataFrame(standardised, columns=columns)],
                          ignore_index=True).assign(model="exact", data_source="file")
    return means, contrasts


def raw_tables(scores: pd.DataFrame) -> dict:
    """Cells, posterior cell means and contrasts before any protection."""
    cells = cells_from_scores(scores, decimals=None).assign(data_source="file")
    means, contrasts = exact_model_tables(scores)
    return {"cells.csv": cells, "posterior_cell_means.csv": means, "contrasts.csv": contrasts}


def written_tables(raw: dict, guard: SmallCellGuard | None) -> dict:
    """The tables as the main job writes them: through ``guard``, or blanking small cells
    only (None: the protection before issue 18)."""
    if guard is not None:
        return {name: guard.apply(name, table) for name, table in raw.items()}
    out = {}
    for name, table in raw.items():
        table = table.copy()
        n = table[["n_a", "n_b"]].min(axis=1) if "n_a" in table else table["n"]
        small = (n < MIN_CELL).to_numpy()
        for c in ("n", "mean", "sd", "n_a", "n_b", "estimate"):
            if c in table:
                table[c] = table[c].astype(float)
                table.loc[small, c] = np.nan
        out[name] = table.assign(suppressed=small)
    return out


def truth(scores: pd.DataFrame, key: str, scale) -> dict:
    """n, sum and sum of squares of a group's scores (respondents for a count)."""
    g = parse_group_key(key)
    s = scores[scores["score"].notna()] if isinstance(scale, str) else (
        scores.drop_duplicates("respondent_id"))
    m = np.ones(len(s), dtype=bool)
    if g["role"] != "all":
        m &= s["role"].isin(roles_of(g["role"])).to_numpy()
    if g["target"]:
        m &= (s["target"] == g["target"]).to_numpy()
    if g["sector"] != "all":
        m &= (s["sector"] == g["sector"]).to_numpy()
    if g["gender"]:
        m &= (s["gender"] == g["gender"]).to_numpy()
    if isinstance(scale, str):
        m &= (s["scale"] == scale).to_numpy()
    x = s.loc[m, "score"] if isinstance(scale, str) else pd.Series(np.zeros(int(m.sum())))
    return {"n": len(x), "sum": float(x.sum()), "sumsq": float((x ** 2).sum())}


def recovered(attack: dict, scores: pd.DataFrame, model_truth: bool = True) -> list[dict]:
    """Derivations that hit the truth about a group of fewer than MIN_CELL respondents.

    ``model_truth``: the model tables are exact (the worst case), so a model's derived
    sum is checked against the data too; otherwise any derived model sum of a small group
    counts (it cannot be checked).
    """
    hits = []
    for d in attack["derived"]:
        t = truth(scores, d["group"], d["scale"])
        if not 0 < t["n"] < MIN_CELL:
            continue
        unknown = d["family"] == "model" and d["statistic"] != "n" and not model_truth
        if unknown or abs(d["value"] - t[d["statistic"]]) <= 1e-6 * max(1.0, abs(
                t[d["statistic"]])):
            hits.append({**d, "n": t["n"]})
    return hits


def test_secondary_suppression_protects_the_three_men(scores):
    # Before: blanking the 3 men alone leaves 9 M_all - 6 M_women = 3 M_men in the tables.
    raw = raw_tables(scores)
    before = disclosure_attack(written_tables(raw, None))
    men = {(d["group"], d["statistic"]) for d in recovered(before, scores)}
    assert ("professional>youth@all#male", "sum") in men
    assert ("professional>youth@all#male", "n") in men
    guard = SmallCellGuard(scores, MIN_CELL)
    tables = written_tables(raw, guard)
    plan = guard.plan()
    women = plan[plan["groups"].str.contains("professional>youth@all#female")]
    assert women["kind"].tolist() == ["secondary"]
    assert "professional>youth@all#male" in women["reason"].iloc[0]
    cells = tables["cells.csv"].set_index(["group", "scale"])
    assert cells.loc[("professional>youth@all#female", "inspraak"), "suppressed"]
    assert not cells.loc[("teacher>youth@all", "inspraak"), "suppressed"]  # the 9 stay
    summary = guard.summary()
    second = summary[(summary["table"] == "cells.csv") & (summary["kind"] == "secondary")]
    assert "professional>youth@all#female [inspraak]" in second["groups"].iloc[0]
    after = disclosure_attack(tables)
    print(f"\nfixture: {len(after['tables'])} tables, {after['relations']} relations, "
          f"{after['subtractions']} subtractions and {after['rank_checks']} rank checks "
          f"tried, {len(recovered(after, scores))} small-group statistics recovered "
          f"(before issue 18: {len(recovered(before, scores))})")
    assert recovered(after, scores) == []


def test_generated_data_sets_leak_nothing():
    rng = np.random.default_rng(20260518)
    design = [("youth", "special_education"), ("youth", "ambulatory_daycare"),
              ("youth", "residential"), ("parent", "special_education"),
              ("parent", "ambulatory_daycare"), ("parent", "residential"),
              ("teacher", "special_education"), ("social_worker", "ambulatory_daycare"),
              ("social_worker", "residential")]
    totals = defaultdict(int)
    for _ in range(3):
        cells = {c: int(rng.integers(0, 14)) for c in design}
        wide = simulate_respondents(cells, seed=int(rng.integers(10**6)))
        wide.loc[rng.random(len(wide)) < 0.05, "gender"] = None  # some give no gender
        s = scale_scores(wide)
        raw = raw_tables(s)
        before = recovered(disclosure_attack(written_tables(raw, None)), s)
        attack = disclosure_attack(written_tables(raw, SmallCellGuard(s, MIN_CELL)))
        totals["before"] += len(before)
        for k in ("subtractions", "rank_checks", "relations"):
            totals[k] += attack[k]
        totals["tables"] += len(attack["tables"])
        assert recovered(attack, s) == [], recovered(attack, s)[:3]
    print(f"\n3 generated data sets: {totals['tables']} tables, {totals['relations']} "
          f"relations, {totals['subtractions']} subtractions and {totals['rank_checks']} "
          f"rank checks tried, 0 recovered (small cells blanked alone: {totals['before']})")
    assert totals["before"] > 0  # the attack works: it breaks the old protection


# --------------------------------------------------------------------------- codes
def unkeyed_digests(ids: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Every unkeyed hex digest of every id, by its first 6 characters.

    MD5, SHA-1 and SHA-256 (and their HMACs with an empty key) of the id, lower-cased
    too, bare and with a separator and a salt on either side; values are (scheme, id,
    digest).
    """
    templates = {"{id}"}
    for salt in ("", "salt", "triad"):
        for sep in ("", "|", ":", "-", "_", " "):
            templates |= {f"{salt}{sep}{{id}}", f"{{id}}{sep}{salt}"}
    out = defaultdict(list)
    for rid in ids:
        for template in sorted(templates):
            for case, x in (("", rid), ("lower:", rid.lower())):
                text = template.replace("{id}", x).encode()
                for algo in ("md5", "sha1", "sha256"):
                    for scheme, d in ((f"{algo}({case}{template})",
                                       hashlib.new(algo, text).hexdigest()),
                                      (f"hmac-{algo}({case}{template})",
                                       hmac.new(b"", text, algo).hexdigest())):
                        out[d[:6]].append((scheme, rid, d))
    return out


def output_texts(root: Path):
    """(file, bytes) of every output file, plus the decoded strings of each fit file."""
    for f in sorted(root.rglob("*")):
        if not f.is_file() or f.suffix in (".tmp",):
            continue
        yield f, f.read_bytes()
        if f.suffix == ".nc":  # zlib-compressed: the raw bytes would hide any code
            tree = xr.open_datatree(f, engine="netcdf4")
            try:
                for node in tree.subtree:
                    ds = node.to_dataset()
                    strings = [" ".join(map(str, np.ravel(v.values))) for v in
                               ds.variables.values() if v.dtype.kind in "OSU"]
                    strings.append(str(ds.attrs))
                    yield f, "\n".join(strings).encode()
            finally:
                tree.close()


def hex_windows(texts) -> dict[str, set]:
    """Every 6-character window of every run of hex digits -> the runs it occurs in."""
    windows = defaultdict(set)
    for _, data in texts:
        for run in re.findall(rb"[0-9a-fA-F]{6,}", data):
            run = run.decode().lower()
            for i in range(len(run) - 5):
                windows[run[i:i + 6]].add(run[i:])
    return windows


def hash_leaks(windows: dict, digests: dict) -> tuple[dict, list]:
    """Ids whose digest shares >= 6 characters with the outputs, per scheme; and >= 10."""
    per_scheme = defaultdict(set)
    long = []
    for prefix, runs in windows.items():
        for scheme, rid, d in digests.get(prefix, ()):
            per_scheme[scheme].add(rid)
            long += [(scheme, rid, r) for r in runs if r.startswith(d[:10])]
    return per_scheme, long


def test_codes_are_keyed_by_the_data_and_match_no_unkeyed_hash(small_wide):
    key = pseudonym_key(small_wide)
    assert key == pseudonym_key(small_wide.copy())  # same data, same codes: caches hold
    changed = small_wide.copy()
    changed.loc[0, "age"] = changed.loc[0, "age"] + 1
    assert pseudonym_key(changed) != key
    ids = small_wide["respondent_id"].tolist()
    codes = [pseudonym(i, key) for i in ids]
    assert all(re.fullmatch(r"p[0-9a-f]{10}", c) for c in codes) and len(set(codes)) == len(ids)
    assert pseudonym(ids[0], pseudonym_key(changed)) != codes[0]
    with pytest.raises(ValueError):
        pseudonym(ids[0], b"")
    digests = unkeyed_digests(ids)
    windows = hex_windows([(None, " ".join(codes).encode())])
    per_scheme, long = hash_leaks(windows, digests)
    assert not long and max(map(len, per_scheme.values()), default=0) <= 1
    # the check has teeth: the codes of issue 9 (unsalted SHA-256 of '|id') are caught
    old = [hashlib.sha256(f"|{i}".encode()).hexdigest()[:10] for i in ids]
    per_scheme, long = hash_leaks(hex_windows([(None, " ".join(old).encode())]), digests)
    assert len(per_scheme["sha256(|{id})"]) == len(ids) and len(long) >= len(ids)


def test_one_code_per_respondent_in_code_order(small_wide, tmp_path):
    path = tmp_path / "small.csv"
    write_wide_csv(small_wide, path)
    data = read_respondents(path)
    models = models_dir()
    frames = [model_frame(data, load_spec(models / f"{m}.toml")).frame
              for m in ("metric_inspraak", "ordinal_inspraak")]
    pairs = pd.concat([f[["respondent_id", "respondent"]] for f in frames]).drop_duplicates()
    # scale- and item-level models give a respondent the same code, and no two the same
    assert pairs["respondent_id"].is_unique and pairs["respondent"].is_unique
    for frame in frames:
        assert frame["respondent"].is_monotonic_increasing  # code order, not file order
        assert not set(frame["respondent"]) & set(small_wide["respondent_id"])


# --------------------------------------------------------------------------- the main job
@pytest.fixture(scope="module")
def small_cell_file(tmp_path_factory):
    """The synthetic file as a user's file (no provenance), with 3 male SO teachers and
    4 parents in special education."""
    wide = pd.read_csv(data_dir() / "synthetic" / "respondents.csv", dtype=str)
    male_so = wide[(wide["role"] == "teacher") & (wide["gender"] == "male")]
    parents_so = wide[(wide["role"] == "parent") & (wide["sector"] == "special_education")]
    wide = wide.drop(male_so.index[3:].union(parents_so.index[4:]))
    path = tmp_path_factory.mktemp("user") / "survey.csv"
    wide.to_csv(path, index=False)
    return path, wide["respondent_id"].tolist()


@pytest.fixture(scope="module")
def protected_run(small_cell_file, tmp_path_factory):
    path, _ = small_cell_file
    out = tmp_path_factory.mktemp("protected")
    record = run_all(path, out, quick=True, models="metric_opvoed.toml", multiverse=False)
    return out, record


@pytest.mark.slow
@pytest.mark.sampling
def test_user_file_outputs_are_protected_and_id_free(small_cell_file, protected_run):
    path, ids = small_cell_file
    out, record = protected_run
    assert record["data"]["source"] == "survey.csv"
    assert record["privacy"]["min_cell"] == 5 and record["privacy"]["active"]
    tables = out / "results" / "tables"
    cells = pd.read_csv(tables / "cells.csv")
    parents = cells[(cells["role"] == "parent") & (cells["sector"] == "special_education")]
    assert len(parents) and parents["suppressed"].all()
    assert parents[["n", "mean", "sd"]].isna().all().all()
    big = cells[cells["n"].notna()]
    assert (big["n"] >= 5).all() and not big["suppressed"].any()
    means = pd.read_csv(tables / "posterior_cell_means.csv")
    so = means[(means["role"] == "parent") & (means["sector"] == "special_education")]
    assert len(so) and so["suppressed"].all() and so["mean"].isna().all()
    contrasts = pd.read_csv(tables / "contrasts.csv")
    small = contrasts[contrasts["contrast"].str.contains("gender_gap")
                      & contrasts["sector"].eq("special_education")]
    assert len(small) and small["suppressed"].all() and small["estimate"].isna().all()
    suppression = pd.read_csv(tables / "suppression.csv")
    assert set(suppression["table"]) >= {"cells.csv", "contrasts.csv", "ppc_cells.csv"}
    assert {"primary", "secondary"} <= set(suppression["kind"])
    assert "unresolved" not in set(suppression["kind"])  # every contrast row was placed
    ppc = pd.read_csv(tables / "ppc_cells.csv")
    ppc_so = ppc[ppc["group"] == "parent>professional@special_education"]
    assert len(ppc_so) and ppc_so["suppressed"].all()
    assert ppc_so[["n", "observed", "p_value"]].isna().all().all()
    report = (out / "results" / "report.html").read_text()
    assert "fewer than 5 respondents is suppressed" in report
    # No output file -- tables, figures, report, fit folders -- contains a respondent id.
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, ids)) + r")\b")
    scanned = 0
    for f, data in output_texts(out):
        assert not pattern.search(data.decode("latin-1")), f"respondent id in {f}"
        scanned += 1
    assert scanned > 20


@pytest.mark.slow
@pytest.mark.sampling
def test_written_tables_resist_the_subtraction_attack(small_cell_file, protected_run):
    path, _ = small_cell_file
    out, _ = protected_run
    attack = disclosure_attack(out / "results" / "tables")
    s = scale_scores(read_respondents(path).wide)
    hits = recovered(attack, s, model_truth=False)
    print(f"\nmain job: {len(attack['tables'])} tables, {attack['relations']} relations, "
          f"{attack['subtractions']} subtractions and {attack['rank_checks']} rank checks "
          f"tried, {len(hits)} small-group statistics recovered")
    assert attack["subtractions"] > 0 and hits == []


@pytest.mark.slow
@pytest.mark.sampling
def test_no_output_holds_an_unkeyed_hash_of_an_id(small_cell_file, protected_run):
    path, ids = small_cell_file
    out, _ = protected_run
    texts = list(output_texts(out))
    fits = [f for f, _ in texts if f.name == "fit.nc"]
    assert fits  # the fit files are scanned, their strings decoded
    digests = unkeyed_digests(ids)
    windows = hex_windows(texts)
    per_scheme, long = hash_leaks(windows, digests)
    schemes = len({s for hits in digests.values() for s, _, _ in hits})
    n_digests = sum(map(len, digests.values()))
    worst = max(map(len, per_scheme.values()), default=0)
    print(f"\n{len(ids)} ids x {schemes} unkeyed schemes = {n_digests} digests; "
          f"{len({f for f, _ in texts})} files ({sum(len(d) for _, d in texts)} bytes, "
          f"{len(windows)} distinct 6-character hex windows) scanned; most ids one scheme "
          f"matches at 6 characters: {worst} (chance); at 10 characters: {len(long)}")
    # A scheme that made the codes would match (nearly) every id; 6-character windows of
    # the report's images and numbers match a few ids of a scheme by chance.
    assert worst <= 0.05 * len(ids)
    assert long == []
    # the codes in the fit files are the keyed ones of this data set
    frame = model_frame(read_respondents(path), load_spec(
        models_dir() / "metric_opvoed.toml")).frame
    tree = xr.open_datatree(fits[0], engine="netcdf4")
    try:
        stored = tree["constant_data"]["respondent"].to_numpy().astype(str)
    finally:
        tree.close()
    assert list(stored) == frame["respondent"].tolist()


@pytest.mark.slow
@pytest.mark.sampling
def test_a_rerun_reuses_the_cached_fit(small_cell_file, protected_run):
    path, _ = small_cell_file
    out, _ = protected_run
    again = fit("metric_opvoed", path, quick=True, out=out / "results")
    assert again.cached  # codes are keyed by the data: the cache key never sees them
