"""Null and empty fields in real rows are bad rows: skipped and counted under ``data.bad_rows=skip``, one line
under ``error``; no prompt ever shows a rendered ``None`` (issue 25)."""

from __future__ import annotations

import json
import logging

import pytest

from flanlab.errors import DataError
from flanlab.tasks.combined import CombinedCatalogue
from flanlab.tasks.flan import flan_specs
from flanlab.tasks.flan.build import hub_features
from flanlab.tasks.hub import HubCatalogue
from flanlab.templates.prompt import fill
from tests.conftest import ROOT, all_prompts
from tests.unit.test_golden import ROWS as GOLDEN_ROWS

FIX = ROOT / "tests" / "fixtures" / "custom_nulls"


def _nulls(policy: str = "skip") -> CombinedCatalogue:
    catalogue = CombinedCatalogue(include=[{"path": str(FIX)}])
    catalogue.set_bad_rows(policy)
    return catalogue


def test_null_and_empty_fields_are_skipped_counted_and_named(caplog):
    catalogue = _nulls()
    with caplog.at_level(logging.WARNING):
        train, scored = catalogue.train_data("note_tone"), catalogue.eval_data("note_tone")
    assert (len(train), len(scored)) == (8, 4)
    assert catalogue.bad_row_counts == {"note_tone/train": 4, "note_tone/validation": 2}
    warned = [r.getMessage() for r in caplog.records]
    assert any("dataset 'note_tone' split 'train': skipped 4 of 12" in w and "row 2 has a null 'sender'" in w
               for w in warned), warned
    for rows in (train, scored):
        for i, row in enumerate(rows):
            for prompt in all_prompts(catalogue.spec("note_tone"), row, i):
                assert "None" not in prompt.input and "None" not in prompt.target


def test_under_error_a_null_field_is_one_line_naming_task_split_row_and_field():
    with pytest.raises(DataError, match=r"^dataset 'note_tone' split 'train' row 2 has a null 'sender' "
                                        r"\(4 such rows of 12; data.bad_rows=skip drops and counts them\)$"):
        _nulls("error").train_data("note_tone")


def _mirror_with_nulls(tmp_path) -> str:
    """A one-entry mirror (glue/wnli, the hub's schema) whose rows hold a null and an empty field."""
    folder = tmp_path / "mirror" / "glue" / "wnli"
    folder.mkdir(parents=True)
    (folder / "features.json").write_text(json.dumps(hub_features(flan_specs()["wnli"]).to_dict()))
    rows = [{"sentence1": "The cat sat.", "sentence2": "A cat sat.", "label": 1, "idx": 0},
            {"sentence1": None, "sentence2": "It rained.", "label": 0, "idx": 1},
            {"sentence1": "The dog ran.", "sentence2": " ", "label": 1, "idx": 2},
            {"sentence1": "Snow fell.", "sentence2": "It was warm.", "label": 0, "idx": 3}]
    for split in ("train", "validation"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(tmp_path / "mirror")


def test_a_hub_entry_whose_preprocess_reads_a_null_field_skips_that_row(tmp_path, caplog):
    catalogue = HubCatalogue(tasks=["wnli"], mirror_dir=_mirror_with_nulls(tmp_path))
    with caplog.at_level(logging.WARNING):
        rows = catalogue.train_data("wnli")
    assert sorted(r["premise"] for r in rows) == ["Snow fell.", "The cat sat."]
    assert "_flanlab_null_field" not in rows.column_names
    assert catalogue.bad_row_counts == {"wnli/train": 2}
    assert any("row 1 has a null 'sentence1'" in r.getMessage() for r in caplog.records)


def test_no_golden_row_renders_a_none_and_a_null_never_reaches_a_prompt():
    for spec, row in GOLDEN_ROWS:
        for i, prompt in enumerate(all_prompts(spec, row, 0)):
            assert "None" not in prompt.input and "None" not in prompt.target, (spec.name, i)
    spec, row = next((s, r) for s, r in GOLDEN_ROWS if s.name == "rte")
    template = spec.templates[0]
    with pytest.raises(DataError, match=r"task 'rte' template 'given_text': row 5 has a null 'premise'"):
        fill(spec, template, {**row, "premise": None, "options": "", "answer": "yes"}, 5)
