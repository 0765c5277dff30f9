"""The README's notebook example runs as written (triad.fit / triad.load_fit)."""

import re

import pytest

from triad.paths import repo_root

pytestmark = [pytest.mark.slow, pytest.mark.sampling]


def _example() -> str:
    text = (repo_root() / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- notebook-example -->\s*```python\n(.*?)```", text, re.S)
    assert found, "README.md lost its notebook example"
    return found.group(1)


def test_readme_notebook_example_runs(tmp_path, monkeypatch):
    code = _example()
    assert len(code.strip().splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    result, again = scope["result"], scope["again"]
    assert set(result.idata.children) >= {"posterior", "log_likelihood", "posterior_predictive"}
    assert {"contrast", "sector", "estimate", "ci_low", "ci_high", "p_rope"} <= set(
        result.contrasts.columns)
    assert again.cached and (again.contrasts["rope"] == 0.2).all()
    # the same draws, other summary settings: P(ROPE) can only grow with a wider ROPE
    assert (again.contrasts["p_rope"] >= result.contrasts["p_rope"]).all()
    assert (tmp_path / "results" / "fits" / "metric_inspraak").is_dir()
