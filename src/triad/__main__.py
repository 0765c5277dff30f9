"""Allow ``python -m triad``."""

from triad.cli import main

main()
