"""Run triad's main job: ``triad run`` under its old name (see README, ``triad run --help``).

Thin on purpose: the options live in :mod:`triad.cli`, so the two cannot drift apart.
"""

from triad.cli import script

if __name__ == "__main__":
    script("run")
