"""The parts of the synthetic-data reconstruction (:mod:`triad.reconstruct` runs them).

- :mod:`triad.synthetic.recipe`: a study's ``synthetic/recipe.toml`` and the rater
  families its codebook implies;
- :mod:`triad.synthetic.targets`: the printed numbers as targets, their priorities and
  the reasons of the conflicts;
- :mod:`triad.synthetic.solver`: integer totals and sums of squares per cell;
- :mod:`triad.synthetic.anneal`: pairing, gender and item splitting by annealing.
"""
