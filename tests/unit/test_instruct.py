"""Instruction-response sources: each fixture format loads, renders under every variant, and mixes at the
configured rates."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import pytest

from flanlab.data.mixture import build_mixture
from flanlab.errors import ConfigError, DataError, FlanlabError
from flanlab.scoring.cot_config import check_cot_tasks
from flanlab.splits import make_split
from flanlab.tasks.combined import CombinedCatalogue
from flanlab.tasks.control.cot_catalogue import ControlCoTCatalogue
from flanlab.tasks.instruct import KNOWN, convert, load_instruct
from flanlab.tasks.instruct.loader import read_records
from flanlab.tasks.spec import Template
from flanlab.templates.variants import (
    SCORING_VARIANTS,
    TRAIN_VARIANTS,
    UNSEEN,
    VariantContext,
    render_for_scoring,
)
from tests.conftest import ROOT

FIX = ROOT / "tests" / "fixtures" / "instruct"
ENTRIES = [{"source": "alpaca", "path": str(FIX / "alpaca.json")},
           {"source": "dolly", "path": str(FIX / "dolly.jsonl")},
           {"source": "oasst1", "path": str(FIX / "oasst.jsonl")},
           {"source": "sharegpt", "path": str(FIX / "sharegpt.json"), "turns": "every"}]


@pytest.fixture(scope="module")
def catalogue() -> CombinedCatalogue:
    return CombinedCatalogue(include=ENTRIES)


def test_each_format_loads_as_its_own_cluster(catalogue):
    assert catalogue.clusters == {n: [n] for n in ("alpaca", "dolly", "oasst1", "sharegpt")}
    sizes = {n: len(catalogue.train_data(n)) + len(catalogue.eval_data(n)) for n in catalogue.specs}
    assert sizes == {"alpaca": 8, "dolly": 8, "oasst1": 4, "sharegpt": 6}
    assert all(KNOWN[s].hub for s in ("alpaca", "dolly", "oasst1", "sharegpt"))
    row = next(r for r in convert("alpaca", read_records(FIX / "alpaca.json")) if r["context"] == "tall")
    assert row["prompt"] == "Give the opposite of the word.\n\ntall" and row["response"] == "short"


def test_oasst_takes_the_best_ranked_reply_first_or_every_turn():
    records = read_records(FIX / "oasst.jsonl")
    first = convert("oasst", records, turns="first")
    assert [r["response"] for r in first][:2] == ["Keep it in a cloth bag at room temperature, or freeze slices.",
                                                 "Lake rhymes with cake."]
    every = convert("oasst", records, turns="every")
    follow = next(r for r in every if r["instruction"] == "Does freezing change the taste?")
    assert follow["context"].startswith("User: How do I keep bread fresh") and len(every) == len(first) + 1
    assert follow["prompt"].endswith("Does freezing change the taste?")


def test_parquet_and_sharegpt_first_turn(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = json.loads((FIX / "sharegpt.json").read_text())
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "chats.parquet")
    cat = load_instruct({"format": "sharegpt", "path": str(tmp_path / "chats.parquet"), "cluster": "chat"})
    assert cat.clusters == {"chat": ["chats"]}
    rows = [*cat.train_data("chats"), *cat.eval_data("chats")]
    assert len(rows) == 4 and all(r["context"] == "" for r in rows)


# A second phrasing of the row's own instruction: with template.held_back_templates=1 (as +experiment=prompt_semantics
# sets it) it is held back from training and instruction scoring, so unseen_paraphrase scores it and only it.
PARAPHRASE = Template("paraphrase", "Here is a request. Answer it.\n\n{prompt}")


@pytest.mark.parametrize("variant", SCORING_VARIANTS)
def test_every_variant_renders(catalogue, variant):
    context = VariantContext(list(catalogue.specs.values()), held_back=1)
    for name, spec in catalogue.specs.items():
        row = catalogue.train_data(name)[0]
        if variant == UNSEEN:
            # An instruction-response task has one template (the row's own instruction), and a task holds back
            # none of its last N when it has no more than N: unseen_paraphrase has nothing to score there ...
            assert list(render_for_scoring(spec, row, 0, variant, context=context)) == []
            # ... so give it a second phrasing, which is then held back.
            spec = dataclasses.replace(spec, templates=(*spec.templates, PARAPHRASE))
            seen = [p.template_id for p in render_for_scoring(spec, row, 0, "instruction", context=context)]
            assert seen == ["own"]  # the held-back phrasing never reaches instruction scoring
        prompts = list(render_for_scoring(spec, row, 0, variant, context=context))
        assert prompts and all(p.variant == variant and p.task == name for p in prompts)
        for p in prompts:
            assert p.input == p.input.rstrip() and p.references == (row["response"],)
        if variant == UNSEEN:
            (p,) = prompts
            assert p.template_id == "paraphrase" and p.target == row["response"]
            assert p.input == f"Here is a request. Answer it.\n\n{row['prompt']}".rstrip()
        if variant == "instruction":
            assert prompts[0].input == row["prompt"]
        if variant == "dataset_name":
            assert prompts[0].input == f"[{spec.display_name}]\n{row['context']}".rstrip()
        if variant == "no_template":
            assert prompts[0].input == row["context"]


def test_response_only_no_template_and_bad_entries():
    cat = load_instruct({"source": "dolly", "path": str(FIX / "dolly.jsonl"), "no_template": "response_only"})
    row = next(r for r in cat.train_data("dolly") if r["context"])
    assert next(render_for_scoring(cat.spec("dolly"), row, 0, "no_template")).input == ""
    with pytest.raises(ConfigError, match="unknown instruction-response source"):
        load_instruct({"source": "nope"})
    with pytest.raises(ConfigError, match="no_template"):
        load_instruct({"source": "dolly", "path": str(FIX / "dolly.jsonl"), "no_template": "x"})
    with pytest.raises(DataError, match="does not exist"):
        load_instruct({"format": "alpaca", "path": "missing.json"})
    with pytest.raises(ConfigError, match="free responses"):
        check_cot_tasks([cat.spec("dolly")], ["instruction", "cot"])


def test_offline_hub_source_fails_in_one_line(monkeypatch):
    import datasets

    def offline(*_a, **_k):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(FlanlabError, match="could not load hub dataset 'tatsu-lab/alpaca'"):
        load_instruct({"source": "alpaca"})


def test_mixture_rates_set_the_proportions():
    cat = ControlCoTCatalogue(train_rows=20, eval_rows=4, include=ENTRIES)
    split = make_split(cat.clusters, ["steps"], {}, None)
    tasks = ["recall_colour", "recall_food", "alpaca", "dolly", "oasst1", "sharegpt"]
    rates = {"recall": 0.4, "alpaca": 0.2, "dolly": 0.2, "_rest": 0.2}  # _rest = "*", as the command line spells it
    mix = build_mixture(cat, split, "instruction", max_per_task=20, seed=0, tasks=tasks, rates=rates, size=500)
    counts = Counter(mix.examples["task"])
    assert len(mix.examples) == 500
    assert counts["recall_colour"] + counts["recall_food"] == 200 and counts["alpaca"] == counts["dolly"] == 100
    assert counts["oasst1"] + counts["sharegpt"] == 100 and counts["oasst1"] < counts["sharegpt"]  # 3 vs 5 rows
    plain = build_mixture(cat, split, "instruction", max_per_task=20, seed=0, tasks=tasks)
    assert Counter(plain.examples["task"]) == {"recall_colour": 20, "recall_food": 20, "alpaca": 7, "dolly": 7,
                                               "oasst1": 3, "sharegpt": 5}
    with pytest.raises(ConfigError, match="no rate for task"):
        build_mixture(cat, split, "instruction", max_per_task=20, seed=0, tasks=tasks, rates={"recall": 1})
    with pytest.raises(ConfigError, match="neither training tasks nor clusters"):
        build_mixture(cat, split, "instruction", max_per_task=20, seed=0, tasks=tasks, rates={"*": 1, "typo": 1})


def test_every_training_variant_builds_a_mixture_with_instruction_response_tasks():
    cat = ControlCoTCatalogue(train_rows=6, eval_rows=4, include=ENTRIES)
    split = make_split(cat.clusters, ["steps"], {}, None)
    tasks = ["recall_colour", "alpaca", "dolly", "oasst1", "sharegpt"]
    for variant in TRAIN_VARIANTS:
        mix = build_mixture(cat, split, variant, max_per_task=6, seed=0, tasks=tasks)
        assert len(mix.examples) == 6 + 6 + 6 + 3 + 5, variant  # capped at 6 per task
