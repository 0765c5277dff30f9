"""The run's respondent file is read once and handed to its fits as stored data."""

import os

import pandas as pd

from triad.handoff import hand_off, is_handoff, release, take_over
from triad.paths import default_data
from triad.readers import read_respondents


def test_handed_data_equal_the_file_read_and_validated(tmp_path):
    data = read_respondents(default_data())
    folder = hand_off(data, tmp_path)
    assert is_handoff(folder) and not is_handoff(tmp_path) and not is_handoff(None)
    back = take_over(folder)
    for name in ("wide", "quarantine", "covariates"):
        # dtypes included: the reader's object columns (codes with None) come back as such
        pd.testing.assert_frame_equal(getattr(back, name), getattr(data, name))
    assert (back.path, back.counts, back.notes, back.data_source, back.ignored_columns) == (
        data.path, data.counts, data.notes, data.data_source, data.ignored_columns)
    # the same file is handed once per process; the folder is a temporary of this process
    assert hand_off(data, tmp_path) == folder
    assert folder.parent.name == "handoff" and folder.name.endswith(f".tmp{os.getpid()}")
    release(folder)
    assert not folder.exists() and not is_handoff(folder)


def test_a_fit_from_handed_data_is_the_fit_from_the_file(tmp_path):
    """Same model frame, same data hash (the file's bytes), so the same cache key."""
    import hashlib

    from triad.modeldata import model_frame
    from triad.paths import models_dir
    from triad.specs import load_spec

    data = read_respondents(default_data())
    back = take_over(hand_off(data, tmp_path))
    spec = load_spec(models_dir() / "metric_inspraak.toml")
    pd.testing.assert_frame_equal(model_frame(back, spec).frame, model_frame(data, spec).frame)
    # triad.fitting hashes the stored path's bytes: the original file, not the parquet
    assert back.path == data.path and hashlib.sha256(back.path.read_bytes()).hexdigest() == (
        hashlib.sha256(default_data().read_bytes()).hexdigest())
