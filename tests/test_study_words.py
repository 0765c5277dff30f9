"""The library names no study: no code of ``src/triad`` holds a shipped study's codes.

Measured from the source (``ast``; nothing is imported): every name, argument, keyword,
function and class name and every string constant (f-strings included) of the library,
docstrings and comments excluded, is searched for the codes of every shipped study's
codebook (roles, sectors, scales, aggregate rater groups) and its model and contrast
family names, as whole words (``teacher`` but not ``teachers``).  Attribute names are
not searched (``Path.parent`` is not the role ``parent``), nor are codes that are plain
English words used for other things (``band``: a confidence band; ``open``, ``extra``,
``hs``, ``college``: Python and everyday words of the bfi codebook), nor the contrast
catalogue's kinds (``sector_differences``), which are the library's own words.
"""

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "src" / "triad"
GENERIC = {"band", "open", "extra", "hs", "college", "graduate", "self", "respondent",
           "agree",
           # the catalogue's kinds are the library's words; a family may be named after one
           "gap", "scale_difference", "sector_differences", "gender_gap"}


def study_words() -> set[str]:
    words: set[str] = set()
    for codebook in sorted((ROOT / "data").glob("*/codebook.toml")):
        with codebook.open("rb") as fh:
            book = tomllib.load(fh)
        for table in ("roles", "sectors", "scales", "aggregates"):
            words |= set(book.get(table, {}))
        catalogue = codebook.parent / "contrasts.toml"
        if catalogue.is_file():
            with catalogue.open("rb") as fh:
                words |= {f["name"] for f in tomllib.load(fh).get("family", [])}
    for spec in sorted((ROOT / "models").glob("*/*.toml")):
        words.add(spec.stem)
    return words - GENERIC


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and isinstance(
                    body[0].value.value, str):
                ids.add(id(body[0].value))
    return ids


def code_tokens(path: Path):
    """(line, text) of every name and string constant of a module, docstrings excluded."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.arg):
            yield node.lineno, node.arg
        elif isinstance(node, ast.keyword) and node.arg:
            yield node.value.lineno, node.arg
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.lineno, node.name
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                id(node) not in skip):
            yield node.lineno, node.value


def hits(words: set[str]) -> list[str]:
    pattern = re.compile(r"(?<![A-Za-z])(" + "|".join(
        sorted(map(re.escape, words), key=len, reverse=True)) + r")(?![A-Za-z])", re.I)
    found = []
    for path in sorted(LIBRARY.rglob("*.py")):
        for line, text in code_tokens(path):
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(1)}")
    return found


def test_the_study_word_list_is_real():
    words = study_words()
    # the shipped studies' codes: youth-partnership roles, sectors, scales, an aggregate;
    # bfi scales and education levels; spec and contrast family names
    assert {"youth", "parent", "social_worker", "teacher", "professional", "residential",
            "inspraak", "opvoed", "belangrijk", "alliantie", "consc", "neuro",
            "some_college", "metric_inspraak", "gap_youth_vs_professional"} <= words
    # the search finds the words in code it is shown: this file's own set literal above
    assert [t for _, t in code_tokens(Path(__file__))].count("youth") >= 1


def test_the_library_names_no_study():
    assert hits(study_words()) == []
