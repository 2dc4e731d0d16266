"""Few-shot prompts, mixed prompt settings and input inversion (issue 27): a scored row is never its own example,
every arm and seed sees the same examples, a token budget drops whole examples and never the query, the inversion
arm differs from the zero-shot arm only in its inverted rows, and FLAN's dataset names carry the task type."""

from __future__ import annotations

from pathlib import Path

import pytest

from flanlab.audit import row_text
from flanlab.data.fewshot_mix import FewShotMix, fewshot_positions
from flanlab.data.mixture import build_mixture
from flanlab.scoring.fewshot import FewShot, scored_name, split_scored_name
from flanlab.scoring.zeroshot import eval_rows, render_rows
from flanlab.splits import make_split
from flanlab.tasks.control.catalogue import ControlCatalogue
from flanlab.tasks.flan import flan_specs
from flanlab.templates.fewshot import ANSWER_CUE, BLOCK_SEPARATOR, pick_examples, with_examples
from flanlab.templates.variants import VariantContext, render_for_scoring
from tests.conftest import assert_golden
from tests.unit.test_golden import _flan_row

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "fewshot_prompts"


@pytest.fixture(scope="module")
def control() -> ControlCatalogue:
    return ControlCatalogue(seed=0, train_rows=60, eval_rows=12)


def _asked(prompt) -> str:
    """The query block of a k-shot prompt: its last block, without the cue."""
    return prompt.input.split(BLOCK_SEPARATOR)[-1].removesuffix(f"\n{ANSWER_CUE}")


def test_k_shot_prompts_end_with_the_query_and_never_use_the_scored_row(control):
    rows = eval_rows(control, ["choose_colour"], 12)["choose_colour"]
    zero = render_rows(control, "choose_colour", rows, "instruction")
    shot = render_rows(control, "choose_colour", rows, "instruction", fewshot=FewShot(3, 1234))
    assert len(zero) == len(shot) and all(p.shots == 3 for p in shot)
    train_texts = [row_text(control.spec("choose_colour"), r) for r in control.train_data("choose_colour")]
    for z, s in zip(zero, shot, strict=True):
        assert _asked(s) == z.input and s.input.endswith(f"\n{ANSWER_CUE}")
        assert (s.options, s.label, s.target) == (z.options, z.label, z.target)
        blocks = s.input.split(BLOCK_SEPARATOR)[:-1]
        assert len(blocks) == 3 and all(f"\n{ANSWER_CUE} " in b for b in blocks)
        assert all(b.rsplit(f"\n{ANSWER_CUE} ", 1)[0] != z.input for b in blocks)  # the asked row is no example
    asked = row_text(control.spec("choose_colour"), rows[0])
    copies = [i for i, t in enumerate(train_texts) if t == asked] or [5]
    picked = pick_examples(len(train_texts), 3, 1234, "choose_colour/0", usable=lambda i: i not in copies)
    assert not set(picked) & set(copies)


def test_the_examples_are_the_same_for_every_arm_and_seed(control):
    """The examples depend on scoring.fewshot_seed, the task and the row only: not on the cell seed or the arm."""
    rows = eval_rows(control, ["presence_place"], 8)["presence_place"]
    a = render_rows(control, "presence_place", rows, "instruction", fewshot=FewShot(3, 1234))
    other_cell = ControlCatalogue(seed=0, train_rows=60, eval_rows=12)  # the suite is fixed across a grid's seeds
    b = render_rows(other_cell, "presence_place", rows, "instruction", fewshot=FewShot(3, 1234))
    assert [p.input for p in a] == [p.input for p in b]
    c = render_rows(control, "presence_place", rows, "instruction", fewshot=FewShot(3, 99))
    assert [p.input for p in a] != [p.input for p in c]


def test_a_budget_drops_whole_examples_never_the_query(control):
    row = control.eval_data("choose_animal")[0]
    spec = control.spec("choose_animal")
    query = next(render_for_scoring(spec, row, 0, "instruction"))
    examples = [next(render_for_scoring(spec, r, i, "instruction")) for i, r in
                enumerate(control.train_data("choose_animal").select(range(4)))]
    full = with_examples(query, examples)
    assert full.shots == 4
    budget = len(full.input) - 10  # one example too many
    cut = with_examples(query, examples, fits=lambda text: len(text) <= budget)
    assert cut.shots == 3 and cut.input.endswith(query.input + f"\n{ANSWER_CUE}")
    assert cut.input == with_examples(query, examples[1:]).input  # the farthest example went first
    none = with_examples(query, examples, fits=lambda text: False)  # even the query alone is too long
    assert none.shots == 0 and none.input == f"{query.input}\n{ANSWER_CUE}"


def test_inversion_is_the_only_difference_between_the_inversion_and_zero_shot_arms(control):
    split = make_split(control.clusters, ["choose", "presence"], {}, None)
    common = {"max_per_task": 40, "seed": 1}
    plain = build_mixture(control, split, "instruction", **common)
    inverted = build_mixture(control, split, "instruction", **common, train_inverted=True)
    assert plain.row_indices == inverted.row_indices and plain.rows_per_task == inverted.rows_per_task
    same = differ = 0
    inversions = {t.id for task in plain.tasks for t in control.spec(task).inversions}
    for a, b in zip(plain.examples, inverted.examples, strict=True):  # same rows, same shuffle
        assert a["task"] == b["task"]
        if b["template_id"] in inversions:
            differ += 1
            assert b["target"] in [r["scene"] for r in control.train_data(b["task"])]  # the scene is asked for
        else:
            same += 1
            assert a == b
    assert 0 < differ < same


def test_mixed_prompt_settings_put_examples_before_the_chosen_rows_only(control):
    split = make_split(control.clusters, ["choose", "presence"], {}, None)
    mix = FewShotMix.from_config(0.5, [1, 3], seed=1)
    at = fewshot_positions({"recall_colour": 40}, mix)["recall_colour"]
    assert len(at) == 20 and set(at.values()) <= {1, 2, 3}
    zero = build_mixture(control, split, "instruction", max_per_task=40, seed=1)
    mixed = build_mixture(control, split, "instruction", max_per_task=40, seed=1, fewshot=mix)
    assert zero.row_indices == mixed.row_indices
    shots = [text.count(f"\n{ANSWER_CUE} ") for text in mixed.examples["input"]]
    assert sum(s > 0 for s in shots) == pytest.approx(len(shots) / 2, abs=len(mixed.tasks))
    assert all(s == 0 for s in (text.count(f"\n{ANSWER_CUE} ") for text in zero.examples["input"]))
    assert mixed.example_indices and set(mixed.example_indices) <= set(mixed.tasks)
    with pytest.raises(Exception, match=r"template.fewshot_fraction must be in \[0, 1\]"):
        FewShotMix.from_config(1.5, [1, 3], seed=0)


def test_scored_names_carry_k():
    assert scored_name("instruction", 0) == "instruction" and scored_name("instruction", 5) == "instruction+5shot"
    assert split_scored_name("instruction+5shot") == ("instruction", 5)
    assert split_scored_name("dataset_name") == ("dataset_name", 0)


def test_flan_dataset_names_carry_the_task_type_and_the_bare_tag_stays_available():
    spec = flan_specs()["rte"]
    row = _flan_row(spec)
    (named,) = render_for_scoring(spec, row, 0, "dataset_name")
    (bare,) = render_for_scoring(spec, row, 0, "bare_dataset_name")
    assert named.input.startswith("[Natural language inference: RTE]\n")
    assert bare.input.startswith("[RTE]\n")
    wmt = flan_specs()["wmt14_fr_en"]
    (named,) = render_for_scoring(wmt, _flan_row(wmt), 0, "dataset_name")
    assert named.input.startswith("[Translation: WMT14 French-English]\n")


@pytest.mark.parametrize("name", ["choose_colour", "presence_food", "missing_kind"])
def test_k_shot_prompts_match_golden(control, name):
    rows = eval_rows(control, [name], 2)[name]
    prompts = render_rows(control, name, rows, "instruction", fewshot=FewShot(2, 1234),
                          context=VariantContext(list(control.specs.values())))
    text = "\n".join(f"=== {p.template_id} row {p.row_index} shots {p.shots}\n--- input\n{p.input}\n--- target\n"
                     f"{p.target}\n" for p in prompts)
    assert_golden(GOLDEN / f"{name}__instruction__2shot.txt", text)
