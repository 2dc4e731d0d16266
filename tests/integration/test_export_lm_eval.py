"""Parity on exported tasks: lm-evaluation-harness, running flanlab's exported held-out tasks (``flanlab
export-tasks``) on an exported tiny model (``flanlab export``), gives flanlab's numbers.

Per item, lm-eval's option log-likelihoods equal the ones the cell stored within 1e-4 and its generations equal
flanlab's; per (task, template), per task (template group) and per cluster (group over the pooled tasks), its
scores equal the cell's exactly. The held-out cluster (``reading_comprehension`` of ``tasks=suite``) has rank
classification and generation tasks. Alignment: lm-eval scores no end-of-sequence token, so the cells score with
``scoring.include_eos=false`` (flanlab's seq2seq default scores it; causal already does not); the exported tasks
carry the target delimiter and stop sequences of the cell's architecture. lm-eval runs in-process.
"""

from __future__ import annotations

import json
import logging

import pytest

from flanlab.export_command import main
from tests.integration.test_export_model import TINY, make_cell

pytestmark = pytest.mark.slow
lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is not installed (pip install lm-eval)")
lm_eval_tasks = pytest.importorskip("lm_eval.tasks", reason="lm-eval is not installed (pip install lm-eval)")

SUITE = ["tasks=suite", "heldout.clusters=[reading_comprehension]", "scoring.include_eos=false"]
# Training that leaves each model generating text (the 12 debug steps teach both to answer with EOS at once): the
# T5 learns to answer words; the decoder-only model stays near its random start, so it babbles until a stop.
TRAINING = {"tiny_t5": ["train.steps=40", "train.lr=0.003"], "tiny_causal": ["train.lr=1e-6"]}


def run_lm_eval(tasks_dir, model_dir, names: list[str]) -> dict:
    """lm-eval's Python API on the exported tasks and model (no built-in tasks indexed), samples logged."""
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    manager = lm_eval_tasks.TaskManager(include_path=str(tasks_dir), include_defaults=False)
    return lm_eval.simple_evaluate(model="hf", model_args={"pretrained": str(model_dir), "device": "cpu"},
                                   tasks=names, task_manager=manager, batch_size=4, log_samples=True,
                                   bootstrap_iters=0)


def check_template(stored: dict, leaf: dict, samples: list[dict]) -> None:
    """One (task, template): per-item log-likelihoods or generations, per-item hits and the template's score."""
    samples = sorted(samples, key=lambda s: s["doc_id"])
    assert len(samples) == len(stored["predictions"]) == stored["n"]
    for pred, sample in zip(stored["predictions"], samples, strict=True):
        if stored["chance"] is not None:  # rank classification
            theirs = [float(r[0]) for r in sample["filtered_resps"]][: len(pred["loglik"])]
            assert max(abs(a - b) for a, b in zip(pred["loglik"], theirs, strict=True)) < 1e-4
        else:
            assert sample["filtered_resps"][0].strip() == pred["text"]
    assert [float(s["score"]) for s in samples] == stored["correct"]
    assert leaf["score,none"] == stored["value"]


@pytest.mark.parametrize("model", ["tiny_t5", "tiny_causal"])
def test_lm_eval_on_exported_tasks_gives_flanlabs_numbers(tmp_path, model):
    cell, _, _ = make_cell(tmp_path, "full", *SUITE, f"model={model}", *TRAINING[model])
    assert main(["export", str(cell), str(tmp_path / "model")]) == 0
    assert main(["export-tasks", str(tmp_path / "tasks"), *TINY, *SUITE, f"model={model}",
                 f"paths.cache_dir={tmp_path / 'cache'}"]) == 0
    index = json.loads((tmp_path / "tasks" / "flanlab_tasks.json").read_text())["variants"]["instruction"]
    assert {t["choice"] for t in index["tasks"].values()} == {True, False}  # classification and generation
    groups = [*index["clusters"].values(), *(t["group"] for t in index["tasks"].values())]
    out = run_lm_eval(tmp_path / "tasks", tmp_path / "model", groups)
    stored = json.loads((cell / "results.json").read_text())["zeroshot"]["instruction"]
    for template in stored["templates"]:
        leaf = index["tasks"][template["task"]]["templates"][template["template_id"]]
        check_template(template, out["results"][leaf], out["samples"][leaf])
    for task, summary in stored["tasks"].items():
        assert out["results"][index["tasks"][task]["group"]]["score,none"] == pytest.approx(summary["mean"], abs=1e-12)
        assert out["results"][index["tasks"][task]["pooled"]]["score,none"] == pytest.approx(summary["mean"], abs=1e-12)
    for cluster, value in stored["clusters"].items():
        assert out["results"][index["clusters"][cluster]]["score,none"] == pytest.approx(value, abs=1e-12)
    generated = [p["text"] for t in stored["templates"] if t["chance"] is None for p in t["predictions"]]
    assert len(set(generated)) > 1, "the generations are all alike: their comparison could not fail"
    assert len({t["value"] for t in stored["templates"] if t["chance"] is not None}) > 1
