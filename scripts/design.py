"""Design simulation for a next survey wave: ``triad design``.

Thin on purpose: the options live in :mod:`triad.cli` (``triad design --help``).
"""

from triad.cli import script

if __name__ == "__main__":
    script("design")
