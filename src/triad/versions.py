"""Library versions recorded with every result (fits, runs, the synthetic data set)."""

import platform
from importlib import metadata

__all__ = ["library_versions"]


def library_versions(names: tuple[str, ...]) -> dict:
    """Return ``{"python": ..., name: version or None}`` for the named distributions."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out
