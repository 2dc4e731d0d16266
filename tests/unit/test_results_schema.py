"""``results.json`` has one writer and one reader (``flanlab.results``): the file carries its schema version, and
files written before there was one still read, with the sections added since filled as those runs had them."""

from __future__ import annotations

import json

from flanlab.analysis.collect import load_cells
from flanlab.results import RESULTS_FILE, SCHEMA_VERSION, read_cell_results, save_cell_results
from flanlab.sweeps.cell_state import is_complete


def test_written_results_carry_the_schema_version_and_read_back(tmp_path):
    save_cell_results(tmp_path, {"cell": {"key": "abc", "seed": 0}, "data": {}, "train": {"steps": 3}})
    raw = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert raw["schema_version"] == SCHEMA_VERSION == 2
    record = read_cell_results(tmp_path)
    assert record["cell"] == {"key": "abc", "seed": 0} and record["train"]["steps"] == 3


def test_a_file_from_before_the_schema_reads_as_the_current_one(tmp_path):
    old = {"cell": {"key": "k1", "train_variant": "instruction"}, "data": {"ambiguity": 0.8},
           "train": {"steps": 800, "losses": [[50, 2.0]]}, "zeroshot": {}, "metrics": {}}
    (tmp_path / RESULTS_FILE).write_text(json.dumps(old))
    record = read_cell_results(tmp_path)
    assert record["schema_version"] == 1
    assert record["data"] == {"unavailable": {"policy": "error", "skipped": {}}, "ambiguity": 0.8}
    assert record["train"]["skipped_batches"] == 0 and record["train"]["steps"] == 800
    assert is_complete(tmp_path, "k1") and not is_complete(tmp_path, "other")
    (cell,) = load_cells(tmp_path)
    assert cell["schema_version"] == 1 and cell["dir"] == str(tmp_path)


def test_unreadable_or_absent_results_are_none(tmp_path):
    assert read_cell_results(tmp_path) is None
    (tmp_path / RESULTS_FILE).write_text('{"cell": {"key"')  # cut off mid-copy
    assert read_cell_results(tmp_path) is None and load_cells(tmp_path) == []
