"""E-BFMI and tree-depth gates on hand-built sample_stats (no sampling)."""

import numpy as np
import pytest
import xarray as xr

from triad.fitting import GATES, MAX_TREEDEPTH, diagnostics, energy_diagnostics

CHAINS, DRAWS = 4, 1000


def _tree(energy: np.ndarray, stats: dict | None = None) -> xr.DataTree:
    """A fit with a well-mixed posterior and the given sample_stats."""
    rng = np.random.default_rng(0)
    post = xr.Dataset({"mu": (("chain", "draw"), rng.normal(size=(CHAINS, DRAWS)))})
    sample_stats = {"energy": (("chain", "draw"), energy),
                    "diverging": (("chain", "draw"), np.zeros((CHAINS, DRAWS), bool))}
    sample_stats.update({k: (("chain", "draw"), v) for k, v in (stats or {}).items()})
    return xr.DataTree.from_dict({"posterior": post,
                                  "sample_stats": xr.Dataset(sample_stats)})


def _healthy_energy(seed: int = 1) -> np.ndarray:
    # independent energies: E-BFMI near 2 (the squared difference of two independent
    # draws has twice their variance)
    return np.random.default_rng(seed).normal(100, 5, size=(CHAINS, DRAWS))


def _depth(share: float) -> np.ndarray:
    depth = np.full((CHAINS, DRAWS), 4)
    hit = int(round(share * CHAINS * DRAWS))
    depth.ravel()[:hit] = MAX_TREEDEPTH
    return depth


def test_ebfmi_matches_betancourts_formula():
    energy = _healthy_energy()
    energy[1] = np.cumsum(np.random.default_rng(2).normal(size=DRAWS))  # a sticky chain
    # Betancourt (2016), eq. 5, per chain: sum of squared energy changes over the sum of
    # squared deviations from the chain's mean energy
    by_hand = [np.sum(np.diff(e) ** 2) / np.sum((e - e.mean()) ** 2) for e in energy]
    got = energy_diagnostics(xr.Dataset({"energy": (("chain", "draw"), energy)}))
    assert got["ebfmi_min"] == pytest.approx(min(by_hand), rel=1e-12)
    assert min(by_hand) < GATES["ebfmi_min"] < max(by_hand)


def test_healthy_fit_passes():
    d = diagnostics(_tree(_healthy_energy(), {"tree_depth": _depth(0.0)}))
    assert d["gates_passed"], d["gates_failed"]
    assert d["ebfmi_min"] > 1.5 and d["treedepth_saturated_share"] == 0
    assert d["max_treedepth"] == MAX_TREEDEPTH and d["gates_notes"] == ""


def test_low_ebfmi_fails():
    energy = _healthy_energy()
    # a random walk in energy: consecutive energies barely change relative to their spread
    energy[2] = 100 + np.cumsum(np.random.default_rng(3).normal(size=DRAWS))
    d = diagnostics(_tree(energy, {"tree_depth": _depth(0.0)}))
    assert d["ebfmi_min"] < 0.3
    assert not d["gates_passed"] and "E-BFMI" in d["gates_failed"]


def test_saturated_tree_depth_fails_and_a_few_draws_are_noted():
    d = diagnostics(_tree(_healthy_energy(), {"tree_depth": _depth(0.05)}))
    assert d["treedepth_saturated_share"] == pytest.approx(0.05)
    assert not d["gates_passed"] and "maximum tree depth" in d["gates_failed"]
    few = diagnostics(_tree(_healthy_energy(), {"tree_depth": _depth(0.005)}))
    assert few["gates_passed"] and "maximum tree depth" in few["gates_notes"]


@pytest.mark.parametrize("stats", [
    # numpyro through PyMC: only the depth, floor(log2(n_steps)) + 1
    {"tree_depth": _depth(0.02)},
    # PyMC's NUTS: depth and an exact flag (the flag wins)
    {"tree_depth": _depth(0.0), "reached_max_treedepth": _depth(0.02) == MAX_TREEDEPTH},
    # nutpie
    {"depth": _depth(0.0).astype("uint64"), "maxdepth_reached": _depth(0.02) == MAX_TREEDEPTH},
])
def test_every_backends_depth_statistic_is_read(stats):
    d = diagnostics(_tree(_healthy_energy(), stats))
    assert d["treedepth_saturated_share"] == pytest.approx(0.02)
    assert not d["gates_passed"]


def test_missing_statistics_are_noted_not_failed():
    tree = _tree(_healthy_energy())
    tree["sample_stats"] = xr.DataTree(tree["sample_stats"].to_dataset().drop_vars("energy"))
    d = diagnostics(tree)
    assert d["gates_passed"] and np.isnan(d["ebfmi_min"])
    assert "E-BFMI not computed" in d["gates_notes"] and "tree depth" in d["gates_notes"]
