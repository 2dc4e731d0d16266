"""The positive-control suite: transfer must be possible, and only through the instruction."""

from __future__ import annotations

import re

import pytest

from flanlab.data.ambiguity import ambiguity
from flanlab.data.mixture import build_mixture
from flanlab.splits import make_split
from flanlab.tasks.control.catalogue import ControlCatalogue
from flanlab.tasks.control.lexicon import KIND_OF
from flanlab.templates.variants import render, render_for_scoring

HELDOUT = ("choose", "presence")


@pytest.fixture(scope="module")
def catalogue() -> ControlCatalogue:
    return ControlCatalogue(seed=0, train_rows=400, eval_rows=60)


@pytest.fixture(scope="module")
def split(catalogue):
    return make_split(catalogue.clusters, HELDOUT)


def _train_tasks(catalogue, split) -> list[str]:
    return [t for c in split.train for t in catalogue.clusters[c]]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_no_template_training_inputs_are_mostly_ambiguous(catalogue, split):
    rows = {t: range(len(catalogue.train_data(t))) for t in _train_tasks(catalogue, split)}
    assert ambiguity(catalogue, rows) >= 0.5


def test_ambiguity_is_zero_when_inputs_determine_targets(catalogue):
    assert ambiguity(catalogue, {"missing_kind": range(200)}) == 0.0
    assert ambiguity(catalogue, {"recall_colour": range(50), "recall_animal": range(50)}) > 0.0


def test_every_heldout_answer_is_a_training_target(catalogue, split):
    trained = {catalogue.spec(t).references(r)[0] for t in _train_tasks(catalogue, split)
               for r in catalogue.train_data(t)}
    for task in (t for c in HELDOUT for t in catalogue.clusters[c]):
        golds = {catalogue.spec(task).references(r)[0] for r in catalogue.eval_data(task)}
        assert golds <= trained, (task, golds - trained)


def test_heldout_instructions_use_only_trained_words(catalogue, split):
    lexical = set(KIND_OF) | {"yes", "no"}  # row words fill the slots; instruction words are the rest
    trained = set().union(*(_words(t.input) for task in _train_tasks(catalogue, split)
                            for t in catalogue.spec(task).templates))
    for task in (t for c in HELDOUT for t in catalogue.clusters[c]):
        for template in catalogue.spec(task).templates:
            new = _words(template.input) - trained - lexical
            assert not new, (task, template.id, new)


def test_one_mixed_option_set_per_scene(catalogue):
    rows = {t: catalogue.eval_data(t)[0] for t in ("recall_colour", "presence_food", "choose_colour")}
    assert rows["recall_colour"]["options"] == rows["choose_colour"]["options"]
    for row in rows.values():
        assert {"yes", "no"} <= set(row["options"])


def test_balanced_yes_no_tasks_and_disjoint_scenes(catalogue):
    for task in ("presence_place", "presence_colour"):
        golds = [catalogue.spec(task).references(r)[0] for r in catalogue.eval_data(task)]
        assert golds.count("yes") == golds.count("no")
    train = {r["scene"] for r in catalogue.train_data("recall_colour")}
    assert not train & {r["scene"] for r in catalogue.eval_data("recall_colour")}


def test_only_the_instruction_says_what_is_asked(catalogue):
    row = catalogue.eval_data("choose_colour")[0]
    plain = {render(catalogue.spec(t), row, "no_template").input for t in ("choose_colour", "choose_animal")}
    assert len(plain) == 1  # same input, different answers
    asked = {next(render_for_scoring(catalogue.spec(t), row, 0, "instruction")).input
             for t in ("choose_colour", "choose_animal")}
    assert len(asked) == 2


def test_shuffled_instructions_come_from_other_tasks_with_the_same_answers(catalogue, split):
    mix = build_mixture(catalogue, split, "shuffled_instruction", max_per_task=30, seed=0,
                        tasks=_train_tasks(catalogue, split))
    spaces = {t: catalogue.spec(t).metadata["answer_space"] for t in mix.tasks if catalogue.spec(t).is_classification}
    for task, template_id in zip(mix.examples["task"], mix.examples["template_id"], strict=True):
        donor = template_id.split(":")[0]
        if task in spaces:
            assert donor != task
            assert spaces[donor] == spaces[task]


def test_oracle_mixture_trains_heldout_tasks_but_not_their_scored_rows(catalogue, split):
    tasks = [*_train_tasks(catalogue, split), "choose_colour"]
    with pytest.raises(Exception, match="may not train"):
        build_mixture(catalogue, split, "instruction", max_per_task=10, seed=0, tasks=tasks)
    mix = build_mixture(catalogue, split, "instruction", max_per_task=10, seed=0, tasks=tasks, train_heldout=True)
    assert "choose_colour" in mix.tasks
    scored = {r["scene"] for r in catalogue.eval_data("choose_colour")}
    assert not scored & {catalogue.train_data("choose_colour")[i]["scene"] for i in mix.row_indices["choose_colour"]}
