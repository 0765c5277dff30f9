"""A study's reconstruction recipe and the rater families its codebook implies.

The recipe (``data/<study>/synthetic/recipe.toml``) holds every decision about one
publication's printed numbers that the reconstruction needs: which printed numbers take
priority, which are known conflicts, and the values a respondent file needs that the
publication does not print (gender split, ages, alphas inside printed ranges, plausible
correlations).  The families (a rater group and one target: its role x sector cells and
the item scales it answers) follow from the codebook.
"""

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from triad.codebook import aggregate_of, load_codebook, roles_of, sector_codes
from triad.errors import TriadInputError
from triad.paths import data_dir
from triad.published import sample_counts

__all__ = ["Family", "Recipe", "families", "family_of", "cells_of", "column_label",
           "gender_counts", "load_recipe", "n_items", "rater_families", "raters"]


@dataclass(frozen=True)
class Family:
    """A rater>target group: its role x sector cells and the item scales they answer."""

    name: str
    cells: tuple  # ((role, sector), ...): roles in codebook order, sectors within a role
    scales: tuple
    composite: str | None = None
    composite_of: tuple = ()
    column_suffix: str = ""

    @property
    def rater(self) -> str:
        """The rater group (before ``>``)."""
        return self.name.split(">", 1)[0]

    @property
    def target(self) -> str:
        """The target (after ``>``)."""
        return self.name.split(">", 1)[1]


@dataclass(frozen=True)
class Recipe:
    """The parsed ``recipe.toml`` (see the shipped study's file for every key)."""

    path: Path
    seed: int
    title: str
    warning: str
    source: str
    sector_tables: tuple
    alpha_location: str
    alpha_range_source: str
    correlation_location: str
    priority_rules: tuple
    priority_text: tuple
    n_notes: dict
    conflicts: tuple
    gender_group: str | None
    men_per_cell: dict
    gender_note: str
    alpha_targets: dict  # (group, scale) -> alpha, in file order
    alpha_in_range: tuple  # (group, scale)
    alpha_source: dict
    alpha_role_slack: float
    correlations: dict  # (group, x, y) -> r, in file order
    correlation_source: dict
    soft_correlations: dict
    iterations: dict
    ages: dict  # role or (role, sector) -> (mean, sd, low, high)
    method: tuple
    readme: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def load_recipe(path: str | Path | None = None) -> Recipe:
    """Load the current study's reconstruction recipe (``synthetic/recipe.toml``).

    Raises
    ------
    TriadInputError
        When the study has no recipe (it then has no reconstructed default) or a key is
        missing, naming the file and the key.
    """
    return _load(Path(path) if path is not None else data_dir() / "synthetic" / "recipe.toml")


@cache
def _load(path: Path) -> Recipe:
    if not path.is_file():
        raise TriadInputError(path, "no reconstruction recipe: this study's default "
                              "respondent file is not reconstructed from its tables")
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    try:
        alpha, text, gender = raw["alpha"], raw["text"], raw.get("gender", {})
        return Recipe(
            path=path, seed=int(raw["seed"]), title=raw["title"], warning=raw["warning"],
            source=raw["source"], sector_tables=tuple(raw["sector_tables"]),
            alpha_location=str(raw["alpha_location"]),
            alpha_range_source=raw["alpha_range_source"],
            correlation_location=str(raw["correlation_location"]),
            priority_rules=tuple(raw["priorities"]["rules"]),
            priority_text=tuple(raw["priorities"]["text"]),
            n_notes={str(k): v for k, v in raw.get("n_notes", {}).items()},
            conflicts=tuple(raw.get("conflicts", ())),
            gender_group=gender.get("group"),
            men_per_cell={(m["role"], m["sector"]): int(m["n"]) for m in gender.get("men", ())},
            gender_note=gender.get("note", ""),
            alpha_targets={(a["group"], a["scale"]): float(a["alpha"])
                           for a in alpha["targets"]},
            alpha_in_range=tuple((a["group"], a["scale"]) for a in alpha.get("in_range", ())),
            alpha_source=dict(alpha["source"]), alpha_role_slack=float(alpha["role_slack"]),
            correlations={(c["group"], c["x"], c["y"]): float(c["r"])
                          for c in raw.get("correlations", ())},
            correlation_source={(c["group"], c["x"], c["y"]): c["source"]
                                for c in raw.get("correlations", ())},
            soft_correlations={k: [tuple(x) for x in v]
                               for k, v in raw.get("soft_correlations", {}).items()},
            iterations={k: int(v) for k, v in raw["annealing"].items()},
            ages={(a["role"], a["sector"]) if "sector" in a else a["role"]: tuple(a["model"])
                  for a in raw["ages"]},
            method=tuple(text["method"]), readme=text["readme"], raw=raw)
    except KeyError as exc:
        raise TriadInputError(path, f"missing key {exc.args[0]!r} (see the shipped "
                              "study's synthetic/recipe.toml)") from None


def n_items(scale: str) -> int:
    """Items of a scale (codebook)."""
    return load_codebook().scales[scale].n_items


@cache
def _families(codebook_path: Path) -> dict:
    book = load_codebook(codebook_path)
    sectors = sector_codes()
    out = {}
    for inst in book.instruments:
        rater = aggregate_of(inst["roles"][0])
        name = f"{rater}>{inst['target']}"
        cells = tuple((r, s) for r in roles_of(rater) for s in sectors
                      if (r, s) in book.design_cells)
        scales = tuple(inst["scales"])
        composite = next((sid for sid, sc in book.scales.items()
                          if sc.composite_of and set(sc.composite_of) <= set(scales)), None)
        out[name] = Family(name, cells, scales, composite,
                           book.scales[composite].composite_of if composite else (),
                           inst["column_suffix"])
    return out


def families() -> dict:
    """Return the study's rater families, in the codebook's order of instruments."""
    return _families(load_codebook().path)


def raters() -> list:
    """Rater groups of the families, in order (a pooled group once)."""
    return list(dict.fromkeys(f.rater for f in families().values()))


def rater_families(rater: str) -> list:
    """Return the families of one rater group, in order."""
    return [f for f in families().values() if f.rater == rater]


def family_of(role: str, target: str) -> str:
    """Return the family a published cell of ``role`` about ``target`` belongs to."""
    return f"{aggregate_of(role)}>{target}"


def cells_of(fam: Family, role: str, sector: str) -> tuple:
    """Return the indices of ``fam``'s cells a group key's role and sector cover."""
    out = []
    for i, (r, s) in enumerate(fam.cells):
        # a role pooled into another rater group names its own cells only
        if role != aggregate_of(role) and r != role:
            continue
        if sector != "all" and s != sector:
            continue
        out.append(i)
    return tuple(out)


def column_label(fam: Family, scale: str) -> str:
    """Return a score column's label inside its rater group: scale and item suffix."""
    return f"{scale}{fam.column_suffix}"


def gender_counts(recipe: Recipe) -> dict:
    """Men and women of the rater group whose gender the publication prints."""
    counts = sample_counts()
    men = sum(recipe.men_per_cell.values())
    total = sum(n for (r, _), n in counts.items() if r in roles_of(recipe.gender_group))
    return {"male": men, "female": total - men}
