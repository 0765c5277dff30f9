"""The study design behind the published tables: sample counts and printed cells by group.

:class:`StudyDesign` reads the publication's sample table (its count-only rows) and the
cells of its result tables, so that a group key can be sized from the sample table, its
printed cell found and its subgroups listed.  Used by the consistency audit
(:mod:`triad.audit`), the replication of the claims and the figures.
"""

import pandas as pd

from triad.codebook import Codebook, roles_of, sector_codes
from triad.published import parse_group_key

__all__ = ["StudyDesign"]


class StudyDesign:
    """Population sizes from the sample table and the printed cells by group and scale.

    The sample table is the publication's count-only rows (no scale); the other rows are
    the cells of its result tables.
    """

    def __init__(self, cells: pd.DataFrame, cb: Codebook) -> None:
        self.cb = cb
        t1 = cells[cells["scale"].isna()]
        self.counts = {(r, s): int(n) for r, s, n in zip(t1["role"], t1["sector"], t1["n"],
                                                         strict=True)}
        self.cells = cells[cells["scale"].notna()].copy()

    def population(self, group: str) -> int | None:
        """Table 1 count of the respondents a group key describes (None if unknown)."""
        g = parse_group_key(group)
        if g["gender"]:
            return None
        roles = roles_of(g["role"])
        total = 0
        for role in roles:
            n = self.counts.get((role, g["sector"]))
            if n is None and g["sector"] != "all":
                n = 0  # Table 1 leaves a cell empty when nobody of that role is in the sector
            if n is None:
                return None
            total += n
        return total

    def best(self, group: str, scale: str) -> pd.Series | None:
        """Return the printed cell for (group, scale), preferring one whose n fits Table 1."""
        rows = self.cells[(self.cells["group"] == group) & (self.cells["scale"] == scale)]
        if rows.empty:
            return None
        pop = self.population(group)
        agree = rows[rows["n"] == pop] if pop is not None else rows.iloc[0:0]
        return (agree if len(agree) else rows).sort_values("table").iloc[0]

    def partitions(self, pooled: str) -> list[tuple[str, list[str]]]:
        """Ways the pooled group splits into printed subgroups: by sector, by gender."""
        g = parse_group_key(pooled)
        out = []
        if g["sector"] == "all" and not g["gender"]:
            roles = roles_of(g["role"])
            parts = [f"{r}>{g['target']}@{s}" for r in roles for s in sector_codes()
                     if self.counts.get((r, s), 0) > 0]
            out.append(("sectors", parts))
            # printed gender cells of the same group split it too
            by_gender = [f"{pooled}#{x}" for x in self.cb.genders]
            if self.cells["group"].isin(by_gender).any():
                out.append(("genders", by_gender))
        return out
