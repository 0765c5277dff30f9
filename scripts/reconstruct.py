"""Build (or --verify) a study's reconstructed synthetic data set: ``triad reconstruct``.

Thin on purpose: the options live in :mod:`triad.cli`, so the two cannot drift apart.
"""

from triad.cli import script

if __name__ == "__main__":
    script("reconstruct")
