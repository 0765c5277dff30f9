"""A rerun with nothing changed is answered from the last run's record (triad.run_cache)."""

import csv
import json

import pytest
from typer.testing import CliRunner

from triad import pipeline, run_cache
from triad.cli import app


def _outputs(out, fit_folder=None):
    """What a run leaves: run.json, a table, a figure (and a diagnostics table)."""
    (out / "results" / "tables").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "results" / "run.json").write_text('{"steps": {}}\n')
    (out / "results" / "tables" / "claims.csv").write_text("claim,verdict\na,higher\n")
    (out / "figures" / "gap.png").write_bytes(b"\x89PNG fake")
    if fit_folder is not None:
        fit_folder.mkdir(parents=True)
        (fit_folder / "fit.json").write_text("{}")
        with open(out / "results" / "tables" / "diagnostics.csv", "w", newline="") as f:
            csv.writer(f).writerows([["model", "fit_folder"], ["m", str(fit_folder)]])


def test_fingerprint_follows_options_inputs_and_specs(tmp_path, monkeypatch):
    data = tmp_path / "respondents.csv"
    data.write_text("id,x\n1,2\n")
    models = tmp_path / "models"
    models.mkdir()
    (models / "m.toml").write_text('name = "m"\n')
    monkeypatch.setenv("TRIAD_MODELS_DIR", str(models))
    key = run_cache.fingerprint({"quick": False}, data)
    assert key == run_cache.fingerprint({"quick": False}, data)  # deterministic
    assert key != run_cache.fingerprint({"quick": True}, data)
    data.write_text("id,x\n1,3\n")
    changed_data = run_cache.fingerprint({"quick": False}, data)
    assert changed_data != key
    (models / "m.toml").write_text('name = "m"\n# a prior changed\n')
    assert run_cache.fingerprint({"quick": False}, data) != changed_data


def test_unchanged_run_needs_every_output_byte_for_byte(tmp_path):
    fit = tmp_path / "results" / "fits" / "m" / "abc"
    _outputs(tmp_path, fit)
    run_cache.record_run(tmp_path, "k1", {"steps": {"models": {"fits_failed": []}}}, 0)
    stored = run_cache.unchanged_run(tmp_path, "k1")
    assert stored["exit_code"] == 0
    assert set(stored["outputs"]) == {"results/run.json", "results/tables/claims.csv",
                                      "results/tables/diagnostics.csv", "figures/gap.png"}
    assert stored["fit_folders"] == [str(fit)]
    assert run_cache.unchanged_run(tmp_path, "k2") is None  # other inputs
    # the run's own log and caches are not outputs
    (tmp_path / "results" / "run.log").write_text("more\n")
    (tmp_path / "results" / "cache").mkdir()
    (tmp_path / "results" / "cache" / "entry").write_text("x")
    assert run_cache.unchanged_run(tmp_path, "k1") is not None
    # an edited, a new and a deleted output, and a deleted fit, each make it a real run
    claims = tmp_path / "results" / "tables" / "claims.csv"
    claims.write_text("claim,verdict\na,lower\n")
    assert run_cache.unchanged_run(tmp_path, "k1") is None
    claims.write_text("claim,verdict\na,higher\n")
    (tmp_path / "figures" / "extra.png").write_bytes(b"x")
    assert run_cache.unchanged_run(tmp_path, "k1") is None
    (tmp_path / "figures" / "extra.png").unlink()
    assert run_cache.unchanged_run(tmp_path, "k1") is not None
    (fit / "fit.json").unlink()
    assert run_cache.unchanged_run(tmp_path, "k1") is None


def test_a_run_with_a_failed_fit_is_not_recorded(tmp_path):
    _outputs(tmp_path)
    run_cache.record_run(tmp_path, "k", {"steps": {"models": {"fits_failed": []}}}, 0)
    assert (tmp_path / "results" / run_cache.RECORD).is_file()
    failed = {"steps": {"models": {"fits_failed": [{"model": "m", "reason": "killed"}]}}}
    run_cache.record_run(tmp_path, "k", failed, 3)
    assert not (tmp_path / "results" / run_cache.RECORD).exists()
    assert run_cache.unchanged_run(tmp_path, "k") is None


@pytest.mark.parametrize("code", [0, 1])
def test_the_main_job_skips_an_unchanged_rerun_and_force_redoes_it(tmp_path, monkeypatch,
                                                                      code):
    calls = []

    def fake_run_all(data, out, **kwargs):
        calls.append(kwargs)
        _outputs(out)
        gates = ["m"] if code else []
        return {"steps": {"models": {"fits_failed": [], "gates_failed": gates}}}

    monkeypatch.setattr(pipeline, "run_all", fake_run_all)
    args = ["run", "--out", str(tmp_path), "--no-multiverse"] + (["--strict"] if code else [])
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == code and len(calls) == 1
    again = runner.invoke(app, args)
    assert again.exit_code == code and len(calls) == 1  # not run again, same exit code
    assert "nothing changed since the run finished" in again.output
    assert "nothing changed" in (tmp_path / "results" / "run.log").read_text()
    assert runner.invoke(app, [*args, "--force"]).exit_code == code and len(calls) == 2
    # another option is another run
    assert runner.invoke(app, [*args, "--lang", "nl"]).exit_code == code and len(calls) == 3
    record = json.loads((tmp_path / "results" / run_cache.RECORD).read_text())
    assert record["exit_code"] == code
