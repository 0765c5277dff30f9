"""Tables on the command line: rich tables that fit the terminal, or CSV, Markdown, JSON.

In the terminal a table shows a narrow default set of columns; identifier columns whose
long values (contrast names, sector pairs) would not fit are abbreviated, with a legend
printed below the table, and every cell wraps rather than being cut, so nothing is lost
at 80 columns.  ``wide`` shows every column at full length, however wide the lines get.
The machine formats always carry every column and every row at full precision.
"""

import json
import re
import sys

import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["FORMATS", "Output", "markdown_table"]

FORMATS = ("table", "csv", "md", "json")
_unbounded = Console(width=100_000)


def _cell(value) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """Render ``frame`` as a GitHub pipe table (numeric columns right-aligned).

    Written here rather than with ``DataFrame.to_markdown``, which needs ``tabulate``,
    a package triad does not depend on.
    """

    def clean(text: str) -> str:
        return text.replace("|", r"\|").replace("\n", " ")

    cols = [str(c) for c in frame.columns]
    rule = ["---:" if pd.api.types.is_numeric_dtype(frame[c]) and not
            pd.api.types.is_bool_dtype(frame[c]) else "---" for c in frame.columns]
    lines = ["| " + " | ".join(clean(c) for c in cols) + " |", "|" + "|".join(rule) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(clean(_cell(v)) for v in row) + " |")
    return "\n".join(lines)


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict(orient="records"):
        rec = {}
        for key, value in row.items():
            if value is not None and not isinstance(value, (list, dict)) and pd.isna(value):
                value = None
            elif hasattr(value, "item"):  # numpy scalars
                value = value.item()
            rec[str(key)] = value
        out.append(rec)
    return out


def _acronym(value: str) -> str:
    # 'special_education-ambulatory_daycare' -> 'se-ad'; a one-word part keeps 3 letters
    parts = []
    for part in value.split("-"):
        words = [w for w in re.split(r"[^0-9A-Za-z]+", part) if w]
        if len(words) == 1:
            parts.append(words[0][:3])
        else:
            parts.append("".join(w if w.isdigit() else w[0] for w in words))
    return "-".join(parts)


def _codes(column: str, values: list[str], keep: set[str]) -> dict[str, str]:
    """Short codes for ``values``: acronyms when they are unique and short, else numbers."""
    acronyms = {v: _acronym(v) for v in values}
    taken = set(acronyms.values())
    if (len(taken) == len(values) and not taken & keep and all(acronyms.values())
            and max(map(len, taken)) <= 6):
        return acronyms
    prefix = column[:1].upper() or "X"
    numbered = {}
    i = 0
    for v in values:
        i += 1
        while f"{prefix}{i}" in keep:
            i += 1
        numbered[v] = f"{prefix}{i}"
    return numbered


class Output:
    """Where one command's tables and messages go.

    Parameters
    ----------
    fmt : {"table", "csv", "md", "json"}
        ``table`` prints rich tables; the others write every table to stdout in that
        format and send messages to stderr, so stdout holds only data.
    wide : bool
        Terminal tables: every column, no abbreviation, lines as long as they need.
    """

    def __init__(self, fmt: str = "table", wide: bool = False) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.fmt, self.wide = fmt, wide
        # Made per command, not at import: a Console reads COLUMNS when it is created.
        self.console = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self._json: dict[str, list] = {}
        self._written = 0

    def say(self, text: str, **kwargs) -> None:
        """Print a message: to stdout under ``table``, else to stderr (stdout is data)."""
        (self.console if self.fmt == "table" else self.err).print(text, **kwargs)

    def table(self, frame: pd.DataFrame, title: str, *, name: str = "table",
              columns: list[str] | None = None, abbreviate: tuple[str, ...] = (),
              decimals: int | None = None, head: int | None = None) -> None:
        """Show or write one table.

        Parameters
        ----------
        frame : DataFrame
            Every column and row; the machine formats write all of it unrounded.
        title : str
            Shown above a terminal table, as a heading in Markdown, on stderr otherwise.
        name : str
            The table's key when a command writes several tables as one JSON object.
        columns : list of str, optional
            The terminal's default columns (``wide`` shows all).
        abbreviate : tuple of str
            Identifier columns whose values may be replaced by codes, explained in a
            legend, when the table is too wide for the terminal.
        decimals : int, optional
            Rounding of float columns in the terminal and in Markdown.
        head : int, optional
            Rows shown in the terminal (the machine formats write all).
        """
        frame = frame.reset_index(drop=True)
        if self.fmt == "csv":
            self.err.print(escape(title))
            if self._written:
                sys.stdout.write("\n")
            frame.to_csv(sys.stdout, index=False, lineterminator="\n")
        elif self.fmt == "json":
            self.err.print(escape(title))
            self._json[name] = _records(frame)
        elif self.fmt == "md":
            shown = frame.round(decimals) if decimals is not None else frame
            sys.stdout.write(("\n" if self._written else "") + f"### {title}\n\n"
                             + markdown_table(shown) + "\n")
        else:
            self._terminal(frame, title, columns=columns, abbreviate=abbreviate,
                           decimals=decimals, head=head)
        self._written += 1

    def close(self) -> None:
        """Finish the output (JSON: one list of records, or an object of several)."""
        if self.fmt == "json" and self._json:
            body = (next(iter(self._json.values())) if len(self._json) == 1 else self._json)
            sys.stdout.write(json.dumps(body, indent=1, default=str) + "\n")
            self._json = {}

    # ----------------------------------------------------------------- terminal

    def _terminal(self, frame, title, *, columns, abbreviate, decimals, head) -> None:
        shown = frame if self.wide or columns is None else frame[list(columns)]
        hidden = [c for c in frame.columns if c not in shown.columns]
        rows = len(shown)
        if head is not None:
            shown = shown.head(head)
        if decimals is not None:
            shown = shown.round(decimals)
        cells = pd.DataFrame({c: shown[c].map(_cell) for c in shown.columns})
        numeric = {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])
                   and not pd.api.types.is_bool_dtype(shown[c])}
        console = self.console
        if self.wide:
            natural = _unbounded.measure(_rich(cells, title, numeric)).maximum
            console = Console(width=max(console.width, natural), highlight=False)
            console.print(_rich(cells, title, numeric))
            return
        legend: list[tuple[str, dict]] = []
        candidates = [c for c in abbreviate if c in cells.columns]
        # measured on an unbounded console: a console's own measure is clamped to its width
        while _unbounded.measure(_rich(cells, title, numeric)).minimum > console.width:
            # The widest identifier column goes first; free text wraps at its spaces.
            longest = {c: cells[c].str.len().max() for c in candidates}
            if not longest or max(longest.values()) <= 4:
                break
            col = max(longest, key=longest.get)
            candidates.remove(col)
            long_values = [v for v in dict.fromkeys(cells[col]) if len(v) > 4]
            keep = set(cells[col]) - set(long_values)
            codes = _codes(str(col), long_values, keep)
            cells[col] = cells[col].map(lambda v, codes=codes: codes.get(v, v))
            legend.append((str(col), codes))
        console.print(_rich(cells, title, numeric))
        for col, codes in legend:
            console.print(f"[dim]{escape(col)}:[/]", highlight=False)
            for value, code in codes.items():
                console.print(f"  {escape(code)} = {escape(value)}", highlight=False)
        notes = []
        if head is not None and rows > head:
            notes.append(f"first {head} of {rows} rows")
        if hidden:
            notes.append(f"{len(hidden)} more columns with --wide")
        if notes:
            console.print(f"[dim]({'; '.join(notes)}; --format csv|md|json writes "
                          "everything)[/]", highlight=False)


def _rich(cells: pd.DataFrame, title: str, numeric: set) -> Table:
    # one space between columns (the box's blank divider, no padding): 80 columns are few
    table = Table(title=escape(title), box=box.SIMPLE_HEAD, padding=(0, 0), pad_edge=False,
                  show_edge=False, title_justify="left")
    for col in cells.columns:
        # fold, never the default ellipsis: a value that cannot fit wraps, it is not cut
        table.add_column(escape(str(col)), justify="right" if col in numeric else "left",
                         overflow="fold")
    for row in cells.itertuples(index=False):
        table.add_row(*(escape(v) for v in row))
    return table
