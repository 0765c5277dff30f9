"""The codebook: codes, aliases, scales and which role answers what about whom.

The codebook (``data/codebook.toml``) defines the public wide respondent format.
Item columns are ``{scale}_{i}`` or, when a role rates more than one target with
the same scale, ``{scale}_{i}__{target}``.
"""

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from triad.paths import data_dir

__all__ = ["Codebook", "ItemColumn", "PROFESSIONAL_ROLES", "SECTORS", "Scale", "load_codebook",
           "roles_of"]

# The study's design vocabulary, used throughout (codes as in data/codebook.toml).
SECTORS = ("special_education", "ambulatory_daycare", "residential")
PROFESSIONAL_ROLES = ("social_worker", "teacher")


def roles_of(rater: str) -> tuple[str, ...]:
    """Respondent roles a rater (or group-key role) stands for: 'professional' pools two."""
    return PROFESSIONAL_ROLES if rater == "professional" else (rater,)


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

    def targets(self, role: str) -> list[str]:
        """Return the targets ``role`` rates, in codebook order."""
        return [i["target"] for i in self.instruments if role in i["roles"]]

    def scales_for(self, role: str, target: str) -> list[str]:
        """Return the scales ``role`` answers about ``target`` (item scales only)."""
        for inst in self.instruments:
            if role in inst["roles"] and inst["target"] == target:
                return list(inst["scales"])
        return []


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
    )
    cb._alias_maps.update(
        role=_alias_map(cb.roles), sector=_alias_map(cb.sectors), gender=_alias_map(cb.genders)
    )
    return cb
