"""Simulate respondent data in the public wide format with known truth.

Used for parameter recovery and reader tests.  Answers come from a latent normal
score per (respondent, target, scale) plus item noise, rounded and clipped to the answer
range of the scale (codebook answer sets).
"""

import numpy as np
import pandas as pd

from triad.codebook import Codebook, load_codebook
from triad.published import sample_counts

__all__ = ["simulate_respondents"]


def simulate_respondents(
    cells: dict | None = None,
    *,
    seed: int = 0,
    cell_mean: float | dict = 3.7,
    person_sd: float = 0.6,
    item_sd: float = 0.5,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Simulate canonical wide respondent data.

    Parameters
    ----------
    cells : dict, optional
        (role, sector) -> number of respondents; default the study's sample table
        (:func:`triad.published.sample_counts`), else 50 in every design cell.
    seed : int
        Seed of the numpy Generator.
    cell_mean : float or dict
        Latent mean on the 1-5 scale; a dict maps (role, sector, target, scale) to a
        mean (missing keys use 3.7).
    person_sd, item_sd : float
        SD of the respondent's latent score and of item noise around it.
    codebook : Codebook, optional

    Returns
    -------
    DataFrame
        Identity columns then every codebook item column (float, NaN where not
        applicable); ids ``R0001``...
    """
    cb = codebook or load_codebook()
    cells = cells or sample_counts() or {cell: 50 for cell in sorted(cb.design_cells)}
    rng = np.random.default_rng(seed)
    item_cols = [ic.column for ic in cb.all_item_columns()]
    records = []
    k = 0
    for (role, sector), n in cells.items():
        for _ in range(n):
            k += 1
            # ages spread over the role's plausible range (codebook [age])
            lo, hi = cb.age_ranges[role]
            mu_age, sd_age = (lo + hi) / 2, (hi - lo) / 6
            rec = {
                "respondent_id": f"R{k:04d}",
                "role": role,
                "sector": sector,
                "gender": "female" if rng.random() < 0.8 else "male",
                "age": float(np.clip(np.round(rng.normal(mu_age, sd_age)), lo, hi)),
            }
            latent: dict = {}
            for ic in cb.item_columns(role):
                key = (ic.target, ic.scale)
                if key not in latent:
                    if isinstance(cell_mean, dict):
                        mu = cell_mean.get((role, sector, ic.target, ic.scale), 3.7)
                    else:
                        mu = cell_mean
                    latent[key] = rng.normal(mu, person_sd)
                answer = np.rint(latent[key] + rng.normal(0.0, item_sd))
                rec[ic.column] = float(np.clip(answer, *cb.answer_range(ic.scale)))
            records.append(rec)
    wide = pd.DataFrame.from_records(records)
    for col in item_cols:
        if col not in wide.columns:
            wide[col] = np.nan
    ident = ["respondent_id", "role", "sector", "gender", "age"]
    wide = wide[ident + item_cols]
    wide[item_cols] = wide[item_cols].astype(float)
    return wide
