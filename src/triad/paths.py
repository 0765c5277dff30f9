"""Where triad finds its shipped data (codebook, published tables, synthetic data)."""

import os
from pathlib import Path

__all__ = ["data_dir", "repo_root"]


def repo_root() -> Path:
    """Return the repository root (the folder holding ``data/`` and ``models/``)."""
    return Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Return the ``data/`` folder, honouring the ``TRIAD_DATA_DIR`` override.

    Raises
    ------
    FileNotFoundError
        If neither the override nor the repository's ``data/`` folder exists.
    """
    override = os.environ.get("TRIAD_DATA_DIR")
    candidate = Path(override) if override else repo_root() / "data"
    if not candidate.is_dir():
        raise FileNotFoundError(
            f"triad's data folder was not found at {candidate}; install triad from a clone "
            "with `pip install -e .` or set TRIAD_DATA_DIR to the repository's data/ folder"
        )
    return candidate
