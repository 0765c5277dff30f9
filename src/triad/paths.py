"""Where triad finds its shipped data (codebook, published tables, synthetic data, specs).

In a source checkout (``pip install -e .``) these are the repository's ``data/`` and
``models/`` folders.  A built wheel carries them inside the package as
``triad/study_data`` and ``triad/study_models`` (``pyproject.toml`` maps the folders),
found with :mod:`importlib.resources`, so a non-editable install works from any
directory.
"""

import os
from importlib import resources
from pathlib import Path

__all__ = ["data_dir", "default_data", "default_out", "models_dir", "repo_root"]


def repo_root() -> Path:
    """Return the source checkout's root (the folder holding ``data/`` and ``models/``)."""
    return Path(__file__).resolve().parents[2]


def _in_checkout() -> bool:
    root = repo_root()
    return (root / "pyproject.toml").is_file() and (root / "src" / "triad").is_dir()


def _shipped(folder: str, packaged: str) -> Path:
    inside = Path(str(resources.files("triad").joinpath(packaged)))
    return inside if inside.is_dir() else repo_root() / folder


def data_dir() -> Path:
    """Return the ``data/`` folder, honouring the ``TRIAD_DATA_DIR`` override.

    Raises
    ------
    FileNotFoundError
        If neither the override nor the shipped data folder exists.
    """
    override = os.environ.get("TRIAD_DATA_DIR")
    candidate = Path(override) if override else _shipped("data", "study_data")
    if not candidate.is_dir():
        raise FileNotFoundError(
            f"triad's data folder was not found at {candidate}; reinstall triad "
            "(`pip install .` ships it) or set TRIAD_DATA_DIR to a data/ folder"
        )
    return candidate


def default_data() -> Path | None:
    """Return the embedded synthetic respondent file, or None when it is not there."""
    path = data_dir() / "synthetic" / "respondents.csv"
    return path if path.is_file() else None


def models_dir() -> Path:
    """Return the ``models/`` folder of model specs (``TRIAD_MODELS_DIR`` overrides)."""
    override = os.environ.get("TRIAD_MODELS_DIR")
    return Path(override) if override else _shipped("models", "study_models")


def default_out() -> Path:
    """Where a run writes ``results/`` and ``figures/`` when no ``--out`` is given.

    The checkout's root in a source checkout (both folders are git-ignored there); the
    current directory for an installed wheel.
    """
    return repo_root() if _in_checkout() else Path.cwd()
