"""Where triad finds a study's data (codebook, published tables, synthetic data) and specs.

A study is data: a folder with ``study.toml`` and ``codebook.toml`` (see
``docs/study-format.md``) and a folder of model specs.  The shipped studies live in
``data/<name>/`` and ``models/<name>/`` of a source checkout; a built wheel carries those
folders inside the package as ``triad/study_data`` and ``triad/study_models``
(``pyproject.toml`` maps them), found with :mod:`importlib.resources`, so a non-editable
install works from any directory.

The current study is ``TRIAD_STUDY`` (a shipped study's name or a study folder's path;
every command's ``--study`` sets it, so spawned workers see it too), default
the shipped study whose ``study.toml`` says ``default = true``
(:func:`default_study`).  ``TRIAD_DATA_DIR`` and ``TRIAD_MODELS_DIR`` override the two
folders directly.
"""

import os
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

__all__ = ["StudyNotFound", "data_dir", "default_data", "default_out", "default_study",
           "models_dir", "repo_root", "shipped_studies", "study_dir", "study_name",
           "study_settings", "use_study"]

STUDY_ENV = "TRIAD_STUDY"


class StudyNotFound(FileNotFoundError):
    """A ``--study`` that names no shipped study and no study folder."""


@cache  # asked thousands of times per run (every label, every table): resolve once
def repo_root() -> Path:
    """Return the source checkout's root (the folder holding ``data/`` and ``models/``)."""
    return Path(__file__).resolve().parents[2]


def _in_checkout() -> bool:
    root = repo_root()
    return (root / "pyproject.toml").is_file() and (root / "src" / "triad").is_dir()


@cache  # where the package lives does not change within a process
def _shipped(folder: str, packaged: str) -> Path:
    inside = Path(str(resources.files("triad").joinpath(packaged)))
    return inside if inside.is_dir() else repo_root() / folder


def _shipped_data() -> Path:
    return _shipped("data", "study_data")


def _shipped_models() -> Path:
    return _shipped("models", "study_models")


def shipped_studies() -> list[str]:
    """Names of the studies shipped with triad (folders of ``data/`` with a codebook)."""
    root = _shipped_data()
    return sorted(p.name for p in root.iterdir() if (p / "codebook.toml").is_file()) if (
        root.is_dir()) else []


def _resolve(study: str) -> Path:
    """Return a study's folder: a shipped study's name, else a path to a study folder."""
    text = str(study).strip()
    if text and "/" not in text and os.sep not in text and text not in (".", ".."):
        named = _shipped_data() / text
        if (named / "codebook.toml").is_file():
            return named
    path = Path(text).expanduser()
    if (path / "codebook.toml").is_file():
        return path.resolve()
    known = ", ".join(shipped_studies()) or "none"
    raise StudyNotFound(
        f"study {text!r}: neither a shipped study (one of: {known}) nor a folder with a "
        "codebook.toml (write one with `triad new-study DIR`; docs/study-format.md)")


def study_dir() -> Path:
    """Return the current study's folder (``TRIAD_STUDY``, else :func:`default_study`)."""
    return _resolve(os.environ.get(STUDY_ENV) or default_study())


def default_study() -> str:
    """Return the default study: the shipped one whose ``study.toml`` has ``default = true``.

    The library names no study; the shipped data say which one commands use by default
    (the only shipped study when there is just one).
    """
    names = shipped_studies()
    marked = [n for n in names if _study_toml(_shipped_data() / n).get("default") is True]
    if len(marked) == 1:
        return marked[0]
    if len(names) == 1:
        return names[0]
    raise StudyNotFound(
        f"no default study: {len(marked)} shipped studies say default = true in study.toml "
        f"({', '.join(names) or 'none shipped'}); pass --study or set TRIAD_STUDY")


def study_name() -> str:
    """Return the current study's name: its folder's name."""
    override = os.environ.get("TRIAD_DATA_DIR")
    return Path(override).name if override else study_dir().name


def use_study(study: str | os.PathLike) -> Path:
    """Make ``study`` (a shipped study's name or a study folder) the current study.

    Sets ``TRIAD_STUDY`` for this process and the worker processes it starts.  A process
    works on one study: call this before anything reads the study's files (the commands
    do, from ``--study``), since the codebook and published tables are read once.

    Raises
    ------
    StudyNotFound
        If ``study`` names no shipped study and no folder with a ``codebook.toml``.
    """
    folder = _resolve(str(study))
    shipped = folder.parent == _shipped_data().resolve() or folder.parent == _shipped_data()
    os.environ[STUDY_ENV] = folder.name if shipped else str(folder)
    return folder


def data_dir() -> Path:
    """Return the current study's data folder, honouring the ``TRIAD_DATA_DIR`` override.

    Raises
    ------
    FileNotFoundError
        If neither the override nor the study's folder exists.
    """
    override = os.environ.get("TRIAD_DATA_DIR")
    if override:
        candidate = Path(override)
        if not candidate.is_dir():
            raise FileNotFoundError(
                f"TRIAD_DATA_DIR={override} is not a folder; unset it or point it at a "
                "study's data folder")
        return candidate
    return study_dir()


def _study_toml(folder: Path) -> dict:
    path = folder / "study.toml"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return {}
    return dict(_parsed_toml(path, stamp))


@cache  # per file and modification time: an edited study.toml is read again
def _parsed_toml(path: Path, stamp: int) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def study_info(study: str | os.PathLike) -> tuple[Path, dict, Path]:
    """Return a study's folder, its ``study.toml`` and its model-spec folder.

    ``study`` is a shipped study's name or a study folder; it does not become the current
    study.
    """
    folder = _resolve(str(study))
    return folder, _study_toml(folder), models_dir_of(folder)


def study_settings() -> dict:
    """Return the current study's ``study.toml`` (title, languages, answers, ...), or {}."""
    return _study_toml(data_dir())


def default_data() -> Path | None:
    """Return the study's embedded default respondent file, or None when it is not there.

    ``default_data`` in the study's ``study.toml`` (relative to the study folder), else
    ``synthetic/respondents.csv``.
    """
    path = data_dir() / study_settings().get("default_data", "synthetic/respondents.csv")
    return path if path.is_file() else None


def models_dir() -> Path:
    """Return the current study's folder of model specs.

    In order: ``TRIAD_MODELS_DIR``; the ``models`` key of the study's ``study.toml``
    (relative to the study folder); the study folder's ``models/``; for a shipped study,
    ``models/<name>/`` beside ``data/`` (``triad/study_models/<name>`` in a wheel).
    """
    override = os.environ.get("TRIAD_MODELS_DIR")
    if override:
        return Path(override)
    return models_dir_of(data_dir())


def models_dir_of(folder: Path) -> Path:
    """Return the model-spec folder of the study in ``folder`` (see :func:`models_dir`)."""
    declared = _study_toml(folder).get("models")
    if declared:
        return (folder / declared).resolve()
    if (folder / "models").is_dir():
        return folder / "models"
    return _shipped_models() / folder.name


def default_out() -> Path:
    """Where a run writes ``results/`` and ``figures/`` when no ``--out`` is given.

    The checkout's root in a source checkout (both folders are git-ignored there); the
    current directory for an installed wheel.
    """
    return repo_root() if _in_checkout() else Path.cwd()
