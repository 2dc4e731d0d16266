"""Chain of thought: the template family, answer extraction and the missing-marker count, the multi-step control
tasks, the CoT share of the mixture, and the study's tables (in memory, no model)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from flanlab.data.cot_mix import check_cot_fraction, cot_positions
from flanlab.data.mixture import build_mixture
from flanlab.errors import ConfigError
from flanlab.scoring.cot import cot_metrics, extract_answer
from flanlab.scoring.zeroshot import score_tasks
from flanlab.splits import make_split
from flanlab.tasks.control.cot_catalogue import ControlCoTCatalogue
from flanlab.tasks.control.multistep import multistep_tasks
from flanlab.templates.cot import MARKER, TRIGGER
from flanlab.templates.variants import render_for_scoring, render_for_training

CAT = ControlCoTCatalogue(train_rows=40, eval_rows=12)


class CannedScorer:
    """Generates the given texts in order; ranks every option equally."""

    def __init__(self, outputs: Sequence[str]) -> None:
        self.outputs = list(outputs)

    def loglikelihoods(self, pairs):
        return [0.0] * len(pairs)

    def generate(self, inputs: Sequence[str], max_new_tokens: int) -> list[str]:
        return self.outputs[: len(inputs)]


def test_extract_reads_after_the_last_marker():
    assert extract_answer("The food is jam. jam is not cake. So the answer is no.") == "no"
    assert extract_answer("so  the ANSWER is yes\nmore text") == "yes"
    assert extract_answer("It says yes, so the answer is yes. Wait: So the answer is no") == "no"
    assert extract_answer("yes") is None


def test_correct_answer_after_wrong_looking_rationale_counts_and_missing_marker_is_counted():
    rows = CAT.eval_data("verify_place").select(range(3))
    golds = [CAT.spec("verify_place").references(r)[0] for r in rows]
    wrong = {"yes": "no", "no": "yes"}
    outputs = [f"The place in the list is lake. lake is {wrong[golds[0]]}. {MARKER} {golds[0]}",  # right after noise
               golds[1],  # the right word, but no marker: wrong, and counted
               f"{MARKER} {wrong[golds[2]]}"]
    results = score_tasks(CannedScorer([o for o in outputs for _ in range(2)]), CAT, {"verify_place": rows}, "cot")
    first = results[0]
    assert first.correct == [1.0, 0.0, 0.0]
    assert first.other_metrics["missing_marker"] == 1
    assert first.other_metrics["missing_marker_rate"] == pytest.approx(1 / 3)
    assert first.other_metrics["cot_lenient_acc"] == pytest.approx(2 / 3)
    assert [p["marker"] for p in first.predictions] == [True, False, True]
    flat = cot_metrics("zeroshot", "cot", [r.as_dict() for r in results])
    assert flat["zeroshot/cot/missing_marker"] == 2 and flat["zeroshot/cot/missing_marker_rate"] == pytest.approx(1 / 3)


def test_cot_prompt_targets_rationale_marker_answer():
    spec = CAT.spec("verify_colour")
    row = CAT.train_data("verify_colour")[0]
    prompts = list(render_for_scoring(spec, row, 0, "cot"))
    assert len(prompts) == len(spec.scored_templates())
    p = prompts[0]
    assert p.input.endswith(TRIGGER) and p.options is None and p.label is None
    assert p.target == f"{row['rationale']} {MARKER} {spec.references(row)[0]}"
    direct = render_for_training(spec, row, 0, "instruction")
    assert direct.target == spec.references(row)[0] and direct.options


@pytest.mark.parametrize("task", multistep_tasks(), ids=lambda t: t.spec.name)
def test_multistep_rationales_agree_with_their_answers(task):
    spec = CAT.spec(task.spec.name)
    for split in ("train", "validation"):
        rows = CAT.load(spec.name, split)
        answers = [spec.references(r)[0] for r in rows]
        assert set(answers) == {"yes", "no"} and abs(answers.count("yes") - answers.count("no")) <= 1
        for row, answer in zip(rows, answers, strict=True):
            assert spec.solver(row) == answer
            said_yes = " is not " not in row["rationale"] and "no " not in row["rationale"].replace("not two", "")
            assert said_yes == (answer == "yes"), row


def test_heldout_rationale_words_occur_in_training():
    seen = {w for t in CAT.clusters["steps_seen"] + CAT.clusters["recall"] for r in CAT.train_data(t)
            for w in (r.get("rationale", "") + " " + r["scene"]).replace(".", " ").split()}
    held = {w for t in CAT.clusters["steps"] for r in CAT.eval_data(t)
            for w in r["rationale"].replace(".", " ").split()}
    assert held - seen <= {"place", "food"}  # the kind words of the held-out lookups (trained in recall prompts)


def test_cot_fraction_is_the_share_of_the_mixture_and_arms_share_their_rows():
    split = make_split(CAT.clusters, ["steps"], {}, None)
    kw = {"max_per_task": 40, "seed": 3}
    plain = build_mixture(CAT, split, "instruction", **kw)
    mixed = build_mixture(CAT, split, "instruction", cot_fraction=0.2, **kw)
    n = len(mixed.examples)
    cot = [t for t in mixed.examples["target"] if MARKER in t]
    assert len(cot) == round(0.2 * n) and n == len(plain.examples)
    assert mixed.row_indices == plain.row_indices
    assert sorted(mixed.examples["task"]) == sorted(plain.examples["task"])
    assert {t for t, g in zip(mixed.examples["task"], mixed.examples["target"], strict=True) if MARKER in g} \
        <= set(CAT.clusters["steps_seen"])


def test_cot_fraction_errors_are_one_line():
    with pytest.raises(ConfigError, match="cot_fraction"):
        check_cot_fraction(1.5, "instruction")
    with pytest.raises(ConfigError, match=r"mixture\.cot_fraction"):
        check_cot_fraction(0.1, "cot")
    specs = {n: CAT.spec(n) for n in ("recall_colour", "verify_colour")}
    with pytest.raises(ConfigError, match="asks for 60 CoT examples"):
        cot_positions(specs, {"recall_colour": 100, "verify_colour": 20}, 0.5, 0)
