"""The declared metric drives each template's value through flanlab's ``evaluate`` modules; kept predictions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import evaluate
import pytest
import sacrebleu
from rouge_score.rouge_scorer import RougeScorer

from flanlab.errors import ConfigError
from flanlab.metrics import PROJECT_METRICS, check_metric, load_metric, metric_path, metric_scores
from flanlab.scoring.aggregate import flat_metrics, summarize, task_summary
from flanlab.scoring.zeroshot import LOGLIK_OPTIONS, score_tasks
from flanlab.tasks.catalogue import LocalCatalogue
from flanlab.tasks.flan import flan_specs
from flanlab.tasks.hub import HubCatalogue
from flanlab.tasks.spec import TaskSpec, Template

ROUGE = RougeScorer(["rougeL"], use_stemmer=False)


def MemoryCatalogue(tasks: Mapping[str, tuple[TaskSpec, list[dict]]]) -> LocalCatalogue:
    """Given specs and their rows, which serve as both train and validation split."""
    return LocalCatalogue({name: (spec, {"train": rows, "validation": rows}) for name, (spec, rows) in tasks.items()},
                          source="test rows")


class FakeScorer:
    """Log-likelihood 0 for the option named after ``pick:`` in the input (else the first), -2 per character
    for the others; generation answers from a fixed table keyed by the input's last word."""

    def __init__(self, outputs: Mapping[str, str] | None = None) -> None:
        self.outputs = dict(outputs or {})

    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        out = []
        for context, option in pairs:
            match = re.search(r"pick:(\w+)", context)
            wanted = match.group(1) if match else None
            first = re.search(r"OPTIONS:\n- (\S+)", context)
            best = wanted or (first.group(1) if first else None)
            out.append(0.0 if option == best else -2.0 * len(option))
        return out

    def generate(self, inputs: Sequence[str], max_new_tokens: int) -> list[str]:
        return [self.outputs[text.split()[-1].strip("?.")] for text in inputs]


def test_every_project_metric_loads_offline_by_path_and_returns_value_and_scores():
    for name in PROJECT_METRICS:
        module = evaluate.load(str(metric_path(name)), keep_in_memory=True)
        preds, refs = ([1, 0], [1, 1]) if name == "accuracy" else (["a b", "c"], [["a b"], ["d"]])
        out = module.compute(predictions=preds, references=refs)
        assert len(out["scores"]) == 2, name
        if name == "bleu":
            first = sacrebleu.sentence_bleu("a b", ["a b"]).score / 100
            assert 0.0 <= out[name] <= 1.0 and out["scores"][0] == pytest.approx(first)
        else:
            assert out[name] == pytest.approx(0.5) and out["scores"] == [1.0, 0.0], name


def test_rouge_l_module_matches_rouge_score_called_directly():
    pred, ref = "the cat sat on a mat", "the cat sat on the mat"
    direct = ROUGE.score(ref, pred)["rougeL"].fmeasure
    value, scores = metric_scores("rouge_l", [pred, "a dog"], [[ref], ["the big dog", "dog"]])
    assert direct == pytest.approx(5 / 6) and scores[0] == pytest.approx(direct)  # not 1.0: one word differs
    best = max(ROUGE.score(r, "a dog")["rougeL"].fmeasure for r in ("the big dog", "dog"))
    assert scores[1] == pytest.approx(best) and value == pytest.approx((direct + best) / 2)


def test_bleu_module_is_sacrebleu_scaled_to_one():
    preds = ["the cat sat on a mat", "hello there world"]
    refs = [["the cat sat on the mat"], ["hello world"]]
    value, scores = metric_scores("bleu", preds, refs)
    corpus = sacrebleu.corpus_bleu(preds, [[r[0] for r in refs]]).score
    assert value == pytest.approx(corpus / 100) and 0 < value < 1
    sentence = [sacrebleu.sentence_bleu(p, r).score / 100 for p, r in zip(preds, refs, strict=True)]
    assert scores == pytest.approx(sentence)


def test_unknown_metric_is_a_one_line_config_error_naming_it_and_the_offline_hub():
    with pytest.raises(ConfigError, match=r"unknown metric 'rouge_x'.*hub is offline") as err:
        load_metric("rouge_x")
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match=r"task 'summ': unknown metric 'rouge_x'"):
        check_metric("rouge_x", "summ")


def test_a_hub_metric_name_goes_to_evaluate_load(monkeypatch):
    class HubRouge:
        def compute(self, predictions, references):
            return {"rouge1": 0.25 * len(predictions), "rougeL": 0.5}

    seen = []
    monkeypatch.setattr(evaluate, "load", lambda name, **kw: seen.append(name) or HubRouge())
    load_metric.cache_clear()
    try:
        value, scores = metric_scores("rouge", ["a", "b"], [["a"], ["c"]])
    finally:
        load_metric.cache_clear()
    assert seen == ["rouge"] and value == 0.5 and scores == [0.25, 0.25]  # its first number, per example alone


def test_every_flan_generation_task_declares_a_metric_that_resolves():
    generation = [s for s in flan_specs().values() if not s.is_classification]
    assert generation
    for spec in generation:
        assert metric_path(spec.metric) is not None, (spec.name, spec.metric)  # shipped: resolves offline
        check_metric(spec.metric, spec.name)


def _summ_task(metric: str = "rouge_l") -> tuple[TaskSpec, list[dict]]:
    spec = TaskSpec(name="summ", cluster="summarization", display_name="Summ", kind="generation",
                    input_fields=("doc",), metric=metric,
                    templates=(Template("g0", "Summarise: {doc}"), Template("g1", "In short: {doc}")))
    rows = [{"doc": "alpha", "target": ["the cat sat on the mat"]},
            {"doc": "beta", "target": ["a dog ran far away", "the dog ran"]},
            {"doc": "gamma", "target": ["red sky"]}]
    return spec, rows


OUTPUTS = {"alpha": "the cat sat on a mat", "beta": "the dog ran away", "gamma": "blue sea"}


def test_rouge_l_task_and_cluster_means_equal_rouge_score_directly():
    spec, rows = _summ_task()
    cat = MemoryCatalogue({"summ": (spec, rows)})
    results = score_tasks(FakeScorer(OUTPUTS), cat, {"summ": cat.eval_data("summ")}, "instruction")
    expected = [max(ROUGE.score(r, OUTPUTS[row["doc"]])["rougeL"].fmeasure for r in row["target"]) for row in rows]
    assert len(results) == 2
    for r in results:
        assert r.metric == "rouge_l" and r.correct == pytest.approx(expected)
        assert r.value == pytest.approx(sum(expected) / 3) and r.other_metrics["rouge_l"] == pytest.approx(r.value)
        assert r.type_correct is None and r.other_metrics["bleu"] <= 1.0  # BLEU in other_metrics: 0-1 scale
        assert [p["text"] for p in r.predictions] == [OUTPUTS[row["doc"]] for row in rows]
        assert r.predictions[1]["gold"] == "a dog ran far away" and r.predictions[1]["loglik"] == []
    block = summarize(results)
    assert block["tasks"]["summ"]["mean"] == pytest.approx(sum(expected) / 3)
    assert block["clusters"] == pytest.approx({"summarization": sum(expected) / 3})
    flat = flat_metrics("zeroshot", "instruction", block)
    assert flat["zeroshot/instruction/cluster/summarization"] == pytest.approx(sum(expected) / 3)


def test_unknown_metric_fails_when_the_hub_catalogue_loads():
    spec, _ = _summ_task("rouge_x")
    with pytest.raises(ConfigError, match=r"task 'summ': unknown metric 'rouge_x'"):
        HubCatalogue(entries={"summ": spec})


def test_unknown_metric_fails_before_scoring():
    spec, rows = _summ_task("rouge_x")
    cat = MemoryCatalogue({"summ": (spec, rows)})
    with pytest.raises(ConfigError, match=r"task 'summ': unknown metric 'rouge_x'"):
        score_tasks(FakeScorer(OUTPUTS), cat, {"summ": cat.eval_data("summ")}, "instruction")


def _mixed_task() -> tuple[TaskSpec, list[dict]]:
    spec = TaskSpec(name="mixed", cluster="nli", display_name="Mixed", kind="classification",
                    input_fields=("sentence",), options=("yes", "no", "red", "blue"),
                    answer_types={"yes_no": ("yes", "no")}, templates=(Template("t0", "{sentence}\n{options}"),))
    # (gold, picked): right type and right; right type, wrong; wrong type; right type (other), wrong; yes/no, wrong.
    cases = [(0, "yes"), (1, "yes"), (2, "yes"), (3, "red"), (0, "no")]
    return spec, [{"sentence": f"row {i} pick:{picked}", "label": gold} for i, (gold, picked) in enumerate(cases)]


def test_kept_predictions_type_accuracy_majority_and_pick_rate():
    spec, rows = _mixed_task()
    cat = MemoryCatalogue({"mixed": (spec, rows)})
    (r,) = score_tasks(FakeScorer(), cat, {"mixed": cat.eval_data("mixed")}, "instruction")
    assert r.metric == "accuracy" and r.correct == [1.0, 0.0, 0.0, 0.0, 0.0] and r.value == pytest.approx(0.2)
    assert [p["picked"] for p in r.predictions] == ["yes", "yes", "yes", "red", "no"]
    assert [p["gold"] for p in r.predictions] == ["yes", "no", "red", "blue", "yes"]
    assert [p["picked_index"] for p in r.predictions] == [0, 0, 0, 2, 1]
    assert [p["gold_index"] for p in r.predictions] == [0, 1, 2, 3, 0]
    first = r.predictions[0]
    assert first["loglik"] == [0.0, -4.0, -6.0, -8.0] and first["loglik_norm"] == pytest.approx([0.0, -2, -2, -2])
    assert first["text"] == ""
    assert r.type_correct == [1, 1, 0, 1, 1]
    others = r.other_metrics
    assert others["type_acc"] == pytest.approx(0.8) and others["acc_given_type"] == pytest.approx(0.25)
    assert others["chance_given_type"] == pytest.approx(0.5) and others["majority"] == pytest.approx(0.4)
    assert r.pick_rate == pytest.approx({"yes": 0.6, "red": 0.2, "no": 0.2})
    assert task_summary([r])["mixed"]["metrics"]["type_acc"] == pytest.approx(0.8)  # aggregates like other extras


def test_a_scorer_that_always_prefers_option_zero(toy_catalogue):
    rows = toy_catalogue.eval_data("toy_nli")
    results = score_tasks(FakeScorer(), toy_catalogue, {"toy_nli": rows}, "instruction")
    labels = rows["label"]
    for r in results:
        assert r.pick_rate == {"yes": 1.0} and {p["picked_index"] for p in r.predictions} == {0}
        assert r.other_metrics["majority"] == pytest.approx(max(labels.count(0), labels.count(1)) / len(labels))
        assert r.other_metrics["type_acc"] == 1.0  # one type: type accuracy is 1
        assert r.other_metrics["chance_given_type"] == 0.5


def test_loglik_lists_are_capped_at_eight_options():
    options = [f"o{i}" for i in range(11)]
    spec = TaskSpec(name="many", cluster="misc", display_name="Many", kind="classification", input_fields=("q",),
                    options_field="choices", templates=(Template("t0", "{q}\n{options}"),))
    cat = MemoryCatalogue({"many": (spec, [{"q": "pick:o9", "choices": options, "label": 9}])})
    (r,) = score_tasks(FakeScorer(), cat, {"many": cat.eval_data("many")}, "instruction")
    pred = r.predictions[0]
    assert len(pred["loglik"]) == len(pred["loglik_norm"]) == LOGLIK_OPTIONS
    assert pred["picked"] == "o9" and pred["picked_index"] == 9 and r.correct == [1.0]
    assert r.other_metrics["majority"] == 1.0  # per-row options: the gold position


def test_three_prompts_per_task_are_kept_verbatim_across_templates(toy_catalogue):
    rows = toy_catalogue.eval_data("toy_nli")
    results = score_tasks(FakeScorer(), toy_catalogue, {"toy_nli": rows}, "instruction")
    kept = {r.template_id: r.samples for r in results}
    assert [s["row"] for s in kept["t0"]] == [0, 2] and [s["row"] for s in kept["t1"]] == [1]  # row j, template j mod 2
    first = kept["t0"][0]
    assert first["prompt"].startswith(rows[0]["sentence"]) and "Is that true?" in first["prompt"]
    assert first["options"] == ["yes", "no"] and first["chosen"] == "yes"
    assert first["gold"] == ["yes", "no"][rows[0]["label"]]
    assert kept["t1"][0]["prompt"].startswith("Read: ")
