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
from rich.cells import cell_len
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

    Written here rather than with ``DataFrame.to_markdown``, which needs ``tabulate``
    (installed only as pingouin's dependency, not one of triad's).
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


_SEPARATOR = re.compile(r"([>@~#|\s-])")


def _short(word: str, length: int) -> str:
    # 'special_education' -> 'se' (initials), 'residential' -> 'res' (first letters)
    words = [w for w in re.split(r"[^0-9A-Za-z]+", word) if w]
    if len(words) > 1 and length <= len(words):
        return "".join(w if w.isdigit() else w[0] for w in words)
    return "".join(words)[:length]


def _unique_codes(words: list[str], avoid: set[str], width: int) -> dict[str, str] | None:
    """Codes of at most ``width`` characters, unique and unlike any word in ``avoid``."""
    codes: dict[str, str] = {}
    for word in words:
        n_words = len([w for w in re.split(r"[^0-9A-Za-z]+", word) if w])
        for length in range(min(n_words, 3) if n_words > 1 else 3, width + 1):
            code = _short(word, length)
            if code and code not in avoid and code not in codes.values():
                codes[word] = code
                break
        else:
            return None
    return codes


def _abbreviations(column: str, values: list[str], avoid: frozenset = frozenset()
                   ) -> tuple[dict[str, str], dict[str, str]]:
    """Shorter forms of a column's values and the legend (code -> what it stands for).

    Composite keys (``social_worker>youth@special_education``, sector pairs) keep their
    structure and shorten their long parts (``sw>youth@se``); plain names of one or two
    words become short forms (``des``), longer ones (contrast names) numbered codes.
    No code equals a word in ``avoid`` (the table's other words, such as ``all``).
    """
    if any(_SEPARATOR.search(v) for v in values):
        parts = {v: _SEPARATOR.split(v) for v in values}
        tokens = list(dict.fromkeys(t for p in parts.values() for t in p
                                    if not _SEPARATOR.fullmatch(t)))
        long = [t for t in tokens if len(t) > 7]
        codes = _unique_codes(long, set(tokens) | avoid, 5)
        if codes:
            shown = {v: "".join(codes.get(t, t) for t in p) for v, p in parts.items()}
            return shown, {c: t for t, c in codes.items()}
    long = [v for v in values if len(v) > 7]
    # an acronym of a long name ('igyvp') reads worse than a number with a legend
    few_words = all(len(re.split(r"[^0-9A-Za-z]+", v)) <= 2 for v in long)
    codes = _unique_codes(long, set(values) | avoid, 6) if few_words else None
    if codes is None:
        prefix = column[:1].upper() or "X"
        numbered = (f"{prefix}{i}" for i in range(1, 10**6)
                    if f"{prefix}{i}" not in values and f"{prefix}{i}" not in avoid)
        codes = {v: next(numbered) for v in long}
    return codes, {c: v for v, c in codes.items()}


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
              decimals: int | None = None, head: int | None = None,
              terminal: pd.DataFrame | None = None) -> None:
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
        terminal : DataFrame, optional
            What the terminal shows unless ``wide`` (e.g. intervals as one column);
            default ``frame``.
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
            shown = frame if terminal is None or self.wide else terminal
            self._terminal(shown, title, columns=columns, abbreviate=abbreviate,
                           decimals=decimals, head=head, full=len(frame.columns))
        self._written += 1

    def close(self) -> None:
        """Finish the output (JSON: one list of records, or an object of several)."""
        if self.fmt == "json" and self._json:
            body = (next(iter(self._json.values())) if len(self._json) == 1 else self._json)
            sys.stdout.write(json.dumps(body, indent=1, default=str) + "\n")
            self._json = {}

    # ----------------------------------------------------------------- terminal

    def _terminal(self, frame, title, *, columns, abbreviate, decimals, head, full) -> None:
        shown = frame if self.wide or columns is None else frame[list(columns)]
        hidden = full - len(shown.columns)
        rows = len(shown)
        if head is not None:
            shown = shown.head(head)
        if decimals is not None:
            shown = shown.round(decimals)
        # 'a|b|c' lists wrap between their items, not inside one
        cells = pd.DataFrame({c: shown[c].map(lambda v: _cell(v).replace("|", " | "))
                              for c in shown.columns})
        numeric = {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])
                   and not pd.api.types.is_bool_dtype(shown[c])}
        console = self.console
        console.print(f"[bold]{escape(title)}[/]", highlight=False)
        if self.wide:
            natural = _unbounded.measure(_rich(cells, numeric)).maximum
            console = Console(width=max(console.width, natural), highlight=False)
            console.print(_rich(cells, numeric))
            return
        legend: list[tuple[str, dict]] = []
        candidates = [c for c in abbreviate if c in cells.columns]
        while sum(_word_widths(cells).values()) + len(cells.columns) - 1 > console.width:
            # The widest identifier column goes first; free text wraps at its spaces.
            longest = {c: cells[c].str.len().max() for c in candidates}
            if not longest or max(longest.values()) <= 7:
                break
            col = max(longest, key=longest.get)
            candidates.remove(col)
            words = frozenset(w for c in cells.columns for v in set(cells[c])
                              for w in (v, *_SEPARATOR.split(v)))
            shown_as, meaning = _abbreviations(str(col), list(dict.fromkeys(cells[col])), words)
            cells[col] = cells[col].map(lambda v, m=shown_as: m.get(v, v))
            if meaning:
                legend.append((str(col), meaning))
        console.print(_rich(cells, numeric, _fitted_widths(cells, console.width)))
        for col, meaning in legend:
            console.print(f"[dim]{escape(col)}:[/]", highlight=False)
            for code, value in meaning.items():
                console.print(f"  {escape(code)} = {escape(value)}", highlight=False)
        notes = []
        if head is not None and rows > head:
            notes.append(f"first {head} of {rows} rows")
        if hidden > 0:
            notes.append(f"all {full} columns with --wide")
        if notes:
            console.print(f"[dim]({'; '.join(notes)}; --format csv|md|json writes "
                          "everything)[/]", highlight=False)


def _word_widths(cells: pd.DataFrame) -> dict:
    """Each column's narrowest width that breaks no word (header included)."""
    return {c: max([cell_len(w) for v in cells[c] for w in v.split()] + [cell_len(str(c))])
            for c in cells.columns}


def _fitted_widths(cells: pd.DataFrame, width: int) -> dict | None:
    """Column widths that fill ``width`` and break no word, or None.

    None when the table fits as it is (rich lays it out) or when even the words do not
    fit (rich folds them).  Computed here, not left to rich: rich shares out the excess
    evenly and can squeeze a column below its longest word, then crop the line.
    """
    avail = width - (len(cells.columns) - 1)
    natural = {c: max([cell_len(line) for v in cells[c] for line in v.splitlines() or [""]]
                      + [cell_len(str(c))]) for c in cells.columns}
    least = _word_widths(cells)
    if sum(natural.values()) <= avail or sum(least.values()) > avail:
        return None
    # spare room goes to the columns in proportion to how much wrapping they would need
    spare = avail - sum(least.values())
    need = {c: natural[c] - least[c] for c in cells.columns}
    total = sum(need.values())
    widths = {c: least[c] + spare * need[c] // total for c in cells.columns}
    for c in sorted(need, key=need.get, reverse=True)[:avail - sum(widths.values())]:
        widths[c] += 1
    return widths


def _rich(cells: pd.DataFrame, numeric: set, widths: dict | None = None) -> Table:
    # one space between columns (the box's blank divider, no padding): 80 columns are few
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 0), pad_edge=False, show_edge=False)
    for col in cells.columns:
        # fold, never the default ellipsis: a value that cannot fit wraps, it is not cut
        table.add_column(escape(str(col)), justify="right" if col in numeric else "left",
                         overflow="fold", width=None if widths is None else widths[col])
    for row in cells.itertuples(index=False):
        table.add_row(*(escape(v) for v in row))
    return table
