"""Simulation-based calibration of the metric and summary models: ``triad sbc``.

Thin on purpose: the options live in :mod:`triad.cli` (``triad sbc --help``).
"""

from triad.cli import script

if __name__ == "__main__":
    script("sbc")
