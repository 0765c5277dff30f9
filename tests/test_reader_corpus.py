"""The reader corpus: small malformed files with hand-derived outcomes.

``tests/corpus/readers/`` holds the files (written by ``make_corpus.py`` there) and
``expected.toml`` what reading each must give: a refusal naming the column and rows, or a
load with exact counts.  Each file is read with ``strict=False`` and ``strict=True`` and
validated through the command line (in-process).
"""

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triad.cli import app
from triad.errors import TriadInputError
from triad.readers import read_respondents

CORPUS = Path(__file__).resolve().parent / "corpus" / "readers"
with (CORPUS / "expected.toml").open("rb") as _fh:
    MANIFEST = tomllib.load(_fh)["files"]
NOT_DATA = {"expected.toml", "make_corpus.py"}

runner = CliRunner()


def test_manifest_lists_every_file():
    files = {p.name for p in CORPUS.iterdir() if p.is_file()} - NOT_DATA
    assert files == set(MANIFEST)
    assert len(files) == 34
    outcomes = [e["outcome"] for e in MANIFEST.values()]
    assert (outcomes.count("refused"), outcomes.count("loaded")) == (18, 16)


def _check_refused(path: Path, entry: dict, strict: bool) -> None:
    with pytest.raises(TriadInputError) as info:
        read_respondents(path, strict=strict)
    exc = info.value
    assert exc.file == str(path)
    assert str(exc).startswith(str(path))
    assert exc.column == entry.get("column")
    assert sorted(set(exc.rows)) == entry.get("rows", [])
    if "says" in entry:
        assert entry["says"] in str(exc)
    if exc.column is not None:
        assert f"column {exc.column!r}" in str(exc)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus_file(name):
    entry = MANIFEST[name]
    path = CORPUS / name
    if entry["outcome"] == "refused":
        for strict in (False, True):
            _check_refused(path, entry, strict)
    else:
        assert entry["outcome"] == "loaded"
        data = read_respondents(path)
        assert data.counts == {k: entry[k] for k in
                               ("respondents", "answers", "present", "missing", "quarantined")}
        c = data.counts
        assert c["present"] + c["missing"] + c["quarantined"] == c["answers"]
        q = data.quarantine
        assert int((q["column"] == "age").sum()) == entry["age_quarantined"]
        assert sorted(q[["row", "column"]].values.tolist()) == sorted(entry["quarantine"])
        assert data.ignored_columns == entry["ignored"]
        strict = entry.get("strict", {"outcome": "loaded"})
        if strict["outcome"] == "refused":
            _check_refused(path, strict, strict=True)
        else:
            assert read_respondents(path, strict=True).counts == data.counts


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus_file_through_the_command(name):
    entry = MANIFEST[name]
    path = CORPUS / name
    result = runner.invoke(app, ["validate", str(path)])
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if entry["outcome"] == "refused":
        assert result.exit_code == 2, result.output
        assert path.name in text and "triad: refused" in text
        if "column" in entry:
            assert f"column '{entry['column']}'" in text
    else:
        assert result.exit_code == 0, result.output
        assert (f"answers: {entry['answers']} = {entry['present']} present + "
                f"{entry['missing']} missing (empty) + {entry['quarantined']} quarantined") in text
        strict = runner.invoke(app, ["validate", "--strict", str(path)])
        refused = entry.get("strict", {}).get("outcome") == "refused"
        assert strict.exit_code == (2 if refused else 0), strict.output
