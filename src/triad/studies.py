"""Studies as data: write a new study's commented skeleton (``triad new-study DIR``).

A study is a folder (``study.toml``, ``codebook.toml``, ``labels.toml``, ``published/``,
a default respondent file) plus a folder of model specs; :mod:`triad.paths` finds the
current one.  The skeleton is a small complete example (two roles, two sites, one
three-item scale, one model spec) whose every file says what to replace; the format is
documented in ``docs/study-format.md``.
"""

import re
import shutil
from importlib import resources
from pathlib import Path

__all__ = ["list_studies", "new_study"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def new_study(folder: str | Path, name: str | None = None) -> list[Path]:
    """Write a commented study skeleton to ``folder`` (which must not exist or be empty).

    Parameters
    ----------
    folder : str or Path
        The new study's folder.
    name : str, optional
        The study's short name (lower case, digits, underscores); default the folder's
        name.

    Returns
    -------
    list of Path
        The files written, sorted.

    Raises
    ------
    FileExistsError
        If ``folder`` exists and is not empty (nothing is overwritten).
    ValueError
        If the name is not a short lower-case identifier.
    """
    folder = Path(folder)
    name = name or folder.resolve().name
    if not _NAME.match(name):
        raise ValueError(f"study name {name!r}: use lower-case letters, digits and "
                         "underscores, starting with a letter (e.g. 'big_five_2024')")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder} exists and is not empty; choose a new folder "
                              "(nothing was written)")
    source = Path(str(resources.files("triad").joinpath("skeleton")))
    shutil.copytree(source, folder, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    study = folder / "study.toml"
    study.write_text(study.read_text(encoding="utf-8").replace(
        'name = "my_study"', f'name = "{name}"', 1), encoding="utf-8")
    return sorted(p for p in folder.rglob("*") if p.is_file())


def list_studies():
    """List the shipped studies, one row each.

    Columns: name, title, whether commands use it by default, its default respondent file
    and its number of model specs.
    """
    import pandas as pd

    from triad.paths import default_study, shipped_studies, study_info

    rows = []
    for name in shipped_studies():
        _, toml, models = study_info(name)
        rows.append({"study": name, "default": name == default_study(),
                     "title": toml.get("title", ""),
                     "default_data": toml.get("default_data", "synthetic/respondents.csv"),
                     "specs": len(list(models.glob("*.toml"))) if models.is_dir() else 0})
    return pd.DataFrame(rows, columns=["study", "default", "title", "default_data", "specs"])
