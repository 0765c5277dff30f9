"""The codebook: codes, aliases, scales and which role answers what about whom.

The codebook (``data/codebook.toml``) defines the public wide respondent format.
Item columns are ``{scale}_{i}`` or, when a role rates more than one target with
the same scale, ``{scale}_{i}__{target}``.

A study's own covariates (``[covariates.<name>]``: an organisation, a level of education,
a site) are declared there too: a declared column of a respondent file is read and
validated (:class:`Covariate`), and a model spec's formula may use its name.
"""

import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from triad.errors import TriadInputError
from triad.paths import data_dir

__all__ = ["Codebook", "CodebookError", "Covariate", "ItemColumn", "RESERVED_NAMES", "Scale",
           "aggregate_of", "load_codebook", "pooled_roles", "roles_of", "sector_codes"]


# Names a covariate may not take: the identity columns, the long form's columns and the
# variables the model frame derives (triad.modeldata; every name of
# triad.specs.FORMULA_VARIABLES is one, tests/test_covariates.py checks it), which a
# covariate of that name would shadow.
RESERVED_NAMES = frozenset({
    "respondent_id", "role", "sector", "gender", "age", "scale", "target", "item", "column",
    "value", "score", "n_answered", "n_items", "excluded_reason", "item_column", "rater",
    "cell", "scale_cell", "group", "group_gender", "scale_gender", "dyad",
    "side", "gap_cell", "respondent", "age_missing", "age_z", "n", "mean", "sd", "sigma",
    "nu", "weight", "partition", "pair", "pair_kind", "pair_r", "pair_n",
})
_COVARIATE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_COVARIATE_KEYS = {"kind", "label_en", "label_nl", "levels", "open", "range", "missing_codes",
                   "required"}


class CodebookError(TriadInputError, ValueError):
    """A codebook that cannot be used; names the file and the key (exit code 2)."""

    def __init__(self, file: str | Path, key: str, message: str) -> None:
        self.key = key
        super().__init__(file, f"key '{key}': {message}")


def _normal_text(value: object) -> str:
    """Return a code as compared: a whole float as an integer, case and spacing ignored."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).strip().lower().split())


@dataclass(frozen=True)
class Covariate:
    """One covariate column the codebook declares (``[covariates.<name>]``).

    Attributes
    ----------
    name : str
        The column name and the formula variable.
    kind : {"categorical", "numeric"}
    levels : dict
        Categorical: canonical code -> aliases (case- and whitespace-insensitive).
    open : bool
        Categorical: any code is accepted (organisation ids); ``levels`` then only maps
        aliases.
    range : tuple of float or None
        Numeric: ``(low, high)``; a value outside is quarantined.
    missing_codes : frozenset of str
        Codes (compared as normalised text) that mean 'not known'; the codebook's
        ``[missing] text_codes`` apply too.
    required : bool
        Every respondent file must have the column (default false: a file without it
        stays valid; a model that uses it is then refused).
    """

    name: str
    kind: str
    label_en: str = ""
    label_nl: str = ""
    levels: dict = field(default_factory=dict)
    open: bool = False
    range: tuple | None = None
    missing_codes: frozenset = frozenset()
    required: bool = False

    def canonical(self, value: object) -> str | None:
        """Return a categorical value's canonical code, or None when it is not a known one.

        An open covariate accepts any code: it is returned normalised (lower case,
        spacing collapsed, ``3.0`` as ``3``) unless it is an alias of a declared level.
        """
        key = _normal_text(value)
        for code, aliases in self.levels.items():
            if key == _normal_text(code) or key in {_normal_text(a) for a in aliases}:
                return code
        return key if self.open and key else None


def roles_of(rater: str) -> tuple[str, ...]:
    """Respondent roles a rater (or group-key role) stands for: an aggregate pools its roles.

    Aggregates are the current study's ``[aggregates.<name>] roles`` (codebook.toml).
    """
    return load_codebook().aggregates.get(rater, (rater,))


def pooled_roles(rater: str) -> tuple[str, ...]:
    """Return the codes a unit's role may hold in a group of ``rater``.

    Its roles, and an aggregate's own name (model frames and summary cells may carry the
    pooled code).
    """
    roles = roles_of(rater)
    return (*roles, rater) if rater in load_codebook().aggregates else roles


def aggregate_of(role: str) -> str:
    """Return the aggregate rater a role belongs to (the first that lists it), else the role."""
    return next((name for name, roles in load_codebook().aggregates.items()
                 if role in roles or role == name), role)


def sector_codes() -> tuple[str, ...]:
    """Return the current study's sectors (grouping factor), in codebook order."""
    return tuple(load_codebook().sectors)


@dataclass(frozen=True)
class Scale:
    """One scale of the questionnaire."""

    id: str
    label_nl: str
    label_en: str
    instrument: str
    n_items: int
    min_items: int
    answer_set: str
    composite_of: tuple[str, ...] = ()
    # a minimal important difference in scale points, when the codebook declares one: it is
    # then the ROPE half-width of the scale's contrasts (else 0.1 pooled within-group SD)
    mid: float | None = None
    # item numbers worded against the scale (e.g. "Am indifferent to the feelings of others"
    # in an agreeableness scale): the reader recodes them to low + high - answer
    reverse: tuple[int, ...] = ()


@dataclass(frozen=True)
class ItemColumn:
    """One item column of the wide format: which scale, item and target it holds."""

    column: str
    scale: str
    item: int
    target: str


@dataclass(frozen=True)
class Codebook:
    """Parsed codebook with lookup helpers.

    Attributes
    ----------
    roles, sectors, genders : dict
        Canonical code -> {"label_nl", "label_en", "aliases"}.
    scales : dict[str, Scale]
        Scale id -> :class:`Scale`, in codebook order.
    aggregates : dict[str, tuple]
        Rater groups that pool roles (``[aggregates.<name>] roles``), e.g. professional.
    covariates : dict[str, Covariate]
        The study's own covariate columns (``[covariates.<name>]``), in codebook order.
    instruments : list of dict
        Each with ``roles``, ``target``, ``scales`` and ``column_suffix``.
    """

    path: Path
    identity: tuple[str, ...]
    roles: dict
    sectors: dict
    genders: dict
    scales: dict
    instruments: list
    answer_sets: dict
    answer_codes: frozenset
    age_codes: frozenset
    text_codes: frozenset
    age_ranges: dict
    design_cells: frozenset
    covariates: dict = field(default_factory=dict)
    aggregates: dict = field(default_factory=dict)
    _alias_maps: dict = field(default_factory=dict, repr=False, compare=False)

    def canonical(self, kind: str, value: object) -> str | None:
        """Map a raw code (any alias, any case) of ``kind`` to its canonical code.

        Parameters
        ----------
        kind : {"role", "sector", "gender"}
        value : object
            The raw cell value.

        Returns
        -------
        str or None
            The canonical code, or None when the value is not a known alias.
        """
        key = " ".join(str(value).strip().lower().split())
        return self._alias_maps[kind].get(key)

    def item_columns(self, role: str) -> list[ItemColumn]:
        """Return the item columns a respondent of ``role`` answers, in file order."""
        out = []
        for inst in self.instruments:
            if role not in inst["roles"]:
                continue
            for scale_id in inst["scales"]:
                scale = self.scales[scale_id]
                for i in range(1, scale.n_items + 1):
                    col = f"{scale_id}_{i}{inst['column_suffix']}"
                    out.append(ItemColumn(col, scale_id, i, inst["target"]))
        return out

    def all_item_columns(self) -> list[ItemColumn]:
        """Return every item column of the wide format, in canonical file order."""
        seen: dict[str, ItemColumn] = {}
        for role in self.roles:
            for ic in self.item_columns(role):
                seen.setdefault(ic.column, ic)
        return list(seen.values())

    def answer_values(self, scale_id: str) -> tuple[float, ...]:
        """Return the answer values of a scale's answer set (a composite: its parts')."""
        scale = self.scales[scale_id]
        if scale.composite_of:
            scale = self.scales[scale.composite_of[0]]
        return tuple(float(v) for v in self.answer_sets[scale.answer_set]["values"])

    def answer_range(self, scale_id: str) -> tuple[float, float]:
        """Return the lowest and highest answer of a scale (its scores lie in between)."""
        values = self.answer_values(scale_id)
        return min(values), max(values)

    def targets(self, role: str) -> list[str]:
        """Return the targets ``role`` rates, in codebook order."""
        return [i["target"] for i in self.instruments if role in i["roles"]]

    def scales_for(self, role: str, target: str) -> list[str]:
        """Return the scales ``role`` answers about ``target`` (item scales only)."""
        for inst in self.instruments:
            if role in inst["roles"] and inst["target"] == target:
                return list(inst["scales"])
        return []


def _reverse_items(path: Path, sid: str, raw: dict) -> tuple[int, ...]:
    items = raw.get("reverse", [])
    n_items = raw.get("n_items")
    bad = [i for i in items if not isinstance(i, int) or not n_items or not 1 <= i <= n_items]
    if bad:
        raise CodebookError(path, f"scales.{sid}.reverse",
                            f"item numbers must be whole numbers 1-{n_items or '?'} of an item "
                            f"scale; got {bad}")
    return tuple(sorted(set(items)))


def _alias_map(entries: dict) -> dict:
    out = {}
    for code, entry in entries.items():
        for alias in [code, entry.get("label_nl", ""), entry.get("label_en", "")] + list(
            entry.get("aliases", [])
        ):
            key = " ".join(str(alias).strip().lower().split())
            if key:
                out[key] = code
    return out


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and check the codebook.

    Parameters
    ----------
    path : str or Path, optional
        A codebook TOML file; default the current study's ``codebook.toml``
        (:func:`triad.paths.data_dir`).

    Returns
    -------
    Codebook
    """
    return _load_codebook(Path(path) if path is not None else data_dir() / "codebook.toml")


@cache  # per file: a process that changes its study reads the other study's codebook
def _load_codebook(path: Path) -> Codebook:
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    scales = {}
    for sid, s in raw["scales"].items():
        composite = tuple(s.get("composite_of", ()))
        n_items = s.get("n_items") or sum(raw["scales"][c]["n_items"] for c in composite)
        scales[sid] = Scale(
            id=sid,
            label_nl=s["label_nl"],
            label_en=s["label_en"],
            instrument=s["instrument"],
            n_items=int(n_items),
            min_items=int(s["min_items"]),
            answer_set=s["answer_set"],
            composite_of=composite,
            mid=float(s["mid"]) if "mid" in s else None,
            reverse=_reverse_items(path, sid, s),
        )
    for inst in raw["instruments"]:
        for sid in inst["scales"]:
            if sid not in scales or scales[sid].composite_of:
                raise ValueError(f"{path}: instruments: unknown item scale {sid!r}")
        for role in inst["roles"]:
            if role not in raw["roles"]:
                raise ValueError(f"{path}: instruments: unknown role {role!r}")
    missing = raw["missing"]
    cb = Codebook(
        path=path,
        identity=tuple(raw["identity"]["required"]),
        roles=raw["roles"],
        sectors=raw["sectors"],
        genders=raw["genders"],
        scales=scales,
        instruments=raw["instruments"],
        answer_sets=raw["answer_sets"],
        answer_codes=frozenset(float(x) for x in missing["answer_codes"]),
        age_codes=frozenset(float(x) for x in missing["age_codes"]),
        text_codes=frozenset(str(x).lower() for x in missing["text_codes"]),
        age_ranges={k: tuple(v) for k, v in raw["age"].items()},
        design_cells=frozenset(tuple(c) for c in raw["design"]["cells"]),
        covariates=_covariates(path, raw),
        aggregates=_aggregates(path, raw),
    )
    cb._alias_maps.update(
        role=_alias_map(cb.roles), sector=_alias_map(cb.sectors), gender=_alias_map(cb.genders)
    )
    return cb


def _aggregates(path: Path, raw: dict) -> dict[str, tuple]:
    """Parse ``[aggregates.<name>] roles = [...]``: every role declared, no name a role."""
    out = {}
    for name, entry in raw.get("aggregates", {}).items():
        roles = entry.get("roles") if isinstance(entry, dict) else None
        if not isinstance(roles, list) or not roles or not set(roles) <= set(raw["roles"]):
            raise CodebookError(path, f"aggregates.{name}.roles",
                                f"a non-empty list of roles ({', '.join(raw['roles'])})")
        if name in raw["roles"]:
            raise CodebookError(path, f"aggregates.{name}", "is already a role's code")
        out[name] = tuple(roles)
    return out


def _covariates(path: Path, raw: dict) -> dict[str, Covariate]:
    """Parse and check ``[covariates.<name>]``; a bad declaration names file and key."""
    table = raw.get("covariates", {})
    if not isinstance(table, dict):
        raise CodebookError(path, "covariates", "a table of [covariates.<name>] tables")
    # an aggregate rater group is a model variable too (a 0/1 column, triad.modeldata)
    taken = (set(RESERVED_NAMES) | set(raw.get("identity", {}).get("required", []))
             | set(raw.get("aggregates", {})))
    for inst in raw.get("instruments", []):
        for sid in inst.get("scales", []):
            taken |= {f"{sid}_{i}{inst.get('column_suffix', '')}"
                      for i in range(1, int(raw["scales"].get(sid, {}).get("n_items", 0)) + 1)}
    out = {}
    for name, entry in table.items():
        key = f"covariates.{name}"
        if not _COVARIATE_NAME.fullmatch(name):
            raise CodebookError(path, key, "a covariate name is lower case letters, digits and "
                                "underscores, starting with a letter (it is a column name and "
                                "a formula variable)")
        if name in taken:
            raise CodebookError(path, key, f"{name!r} is already a column or model variable of "
                                "triad; choose another name")
        if not isinstance(entry, dict):
            raise CodebookError(path, key, "a table with 'kind' and its settings")
        unknown = sorted(set(entry) - _COVARIATE_KEYS)
        if unknown:
            raise CodebookError(path, f"{key}.{unknown[0]}",
                                f"unknown; allowed: {', '.join(sorted(_COVARIATE_KEYS))}")
        kind = entry.get("kind")
        if kind not in ("categorical", "numeric"):
            raise CodebookError(path, f"{key}.kind", f"must be 'categorical' or 'numeric', got "
                                f"{kind!r}")
        for flag in ("open", "required"):
            if not isinstance(entry.get(flag, False), bool):
                raise CodebookError(path, f"{key}.{flag}", "must be true or false")
        for label in ("label_en", "label_nl"):
            if not isinstance(entry.get(label, ""), str):
                raise CodebookError(path, f"{key}.{label}", "must be text")
        codes = entry.get("missing_codes", [])
        if not isinstance(codes, list) or not all(
                isinstance(c, str | int | float) and not isinstance(c, bool) for c in codes):
            raise CodebookError(path, f"{key}.missing_codes", "a list of codes (text or numbers)")
        levels, rng = {}, None
        if kind == "categorical":
            if "range" in entry:
                raise CodebookError(path, f"{key}.range", "only numeric covariates have a range")
            levels = entry.get("levels", {})
            if not isinstance(levels, dict) or not all(
                    isinstance(a, list) and all(isinstance(x, str | int) for x in a)
                    for a in levels.values()):
                raise CodebookError(path, f"{key}.levels", "a table of code = [aliases, ...]")
            if not levels and not entry.get("open", False):
                raise CodebookError(path, f"{key}.levels", "a categorical covariate lists its "
                                    "levels (code = [aliases]) or says open = true (free codes, "
                                    "e.g. organisation ids)")
            seen: dict[str, str] = {}
            for code, aliases in levels.items():
                for alias in [code, *aliases]:
                    norm = _normal_text(alias)
                    if seen.setdefault(norm, code) != code:
                        raise CodebookError(path, f"{key}.levels.{code}", f"alias {alias!r} "
                                            f"also names level {seen[norm]!r}")
            levels = {str(c): tuple(str(a) for a in aliases) for c, aliases in levels.items()}
        else:
            for bad in ("levels", "open"):
                if bad in entry:
                    raise CodebookError(path, f"{key}.{bad}", "only categorical covariates have "
                                        f"{bad}")
            value = entry.get("range")
            if value is not None:
                if not (isinstance(value, list) and len(value) == 2 and all(
                        isinstance(v, int | float) and not isinstance(v, bool)
                        and math.isfinite(v) for v in value) and value[0] <= value[1]):
                    raise CodebookError(path, f"{key}.range", "[low, high]: two numbers, low <= "
                                        f"high, got {value!r}")
                rng = (float(value[0]), float(value[1]))
        out[name] = Covariate(
            name=name, kind=kind, label_en=entry.get("label_en", ""),
            label_nl=entry.get("label_nl", ""), levels=levels, open=entry.get("open", False),
            range=rng, missing_codes=frozenset(_normal_text(c) for c in codes),
            required=entry.get("required", False),
        )
    return out
