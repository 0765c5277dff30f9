"""Errors that reach the user as a message, never as a traceback."""

from collections.abc import Sequence
from pathlib import Path

__all__ = ["OutputError", "TriadInputError", "format_rows"]


def format_rows(rows: Sequence[int], word: str = "rows", first: int = 5) -> str:
    """Format row numbers as 'rows 2, 5, 9 (+3 more; 6 in all)'.

    Parameters
    ----------
    rows : sequence of int
        Row (or line) numbers, 1-based as the user sees them.
    word : str
        'rows' or 'lines'.
    first : int
        How many to show before summarising.
    """
    rows = sorted(set(int(r) for r in rows))
    shown = ", ".join(str(r) for r in rows[:first])
    if len(rows) > first:
        shown += f" (+{len(rows) - first} more; {len(rows)} in all)"
    singular = word[:-1] if word.endswith("s") else word
    return f"{singular if len(rows) == 1 else word} {shown}"


class TriadInputError(Exception):
    """A file triad refuses, with the file, column and rows that caused it.

    Parameters
    ----------
    file : str or Path
        The file that was read.
    message : str
        What is wrong and, where possible, how to fix it.
    column : str, optional
        The offending column.
    rows : sequence of int, optional
        The offending rows (file lines for CSV, 1-based rows otherwise).
    row_word : str
        'lines' for text files, 'rows' for SPSS/parquet.
    """

    exit_code = 2

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        column: str | None = None,
        rows: Sequence[int] | None = None,
        row_word: str = "rows",
    ) -> None:
        self.file = str(file)
        self.column = column
        self.rows = list(rows) if rows is not None else []
        self.message = message
        where = []
        if column is not None:
            where.append(f"column {column!r}")
        if self.rows:
            where.append(format_rows(self.rows, row_word))
        loc = f" ({'; '.join(where)})" if where else ""
        super().__init__(f"{self.file}{loc}: {message}")


class OutputError(Exception):
    """triad cannot write its outputs: an unwritable ``--out`` or a full disk.

    The message is one line naming the path and the reason; the command line prints it
    and exits with :attr:`exit_code`, never with a traceback.

    Parameters
    ----------
    message : str
        What could not be written and why.
    exit_code : int
        2 when the run is refused before it starts (``--out`` unwritable), 4 when a write
        failed during the run (disk full): the run stopped, and every file it wrote is
        either complete or absent.
    """

    def __init__(self, message: str, exit_code: int = 4) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self):
        # raised in worker processes too: keep the exit code through pickling
        return (type(self), (str(self), self.exit_code))
