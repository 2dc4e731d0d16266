"""The prompt-semantics variants (flanlab/templates/semantics.py): every variant renders for every task of every
catalogue, and the three that change which answer counts record it consistently for the scorer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flanlab.data.mixture import build_mixture
from flanlab.errors import ConfigError
from flanlab.scoring.zeroshot import answer_prompts, override_flags, prediction
from flanlab.splits import make_split
from flanlab.tasks.bigbench import load_bigbench
from flanlab.tasks.control import build_control
from flanlab.tasks.control.catalogue import ControlCatalogue
from flanlab.tasks.custom import load_custom
from flanlab.tasks.flan import flan_specs
from flanlab.tasks.spec import TaskSpec
from flanlab.tasks.suite import build_suite
from flanlab.templates.pools import unseen_pool
from flanlab.templates.shuffled import answer_space
from flanlab.templates.variants import (
    SHUFFLED,
    TRAIN_VARIANTS,
    VARIANTS,
    VariantContext,
    check_variant,
    render_for_scoring,
    render_for_training,
)
from tests.unit.test_template_lint import flan_rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _local(*catalogues) -> list[tuple[TaskSpec, list[dict]]]:
    return [(spec, list(c.load(name, spec.train_split))[:2]) for c in catalogues for name, spec in c.specs.items()]


CATALOGUES = {
    "flan": [(s, flan_rows(s)[:2]) for s in flan_specs().values()],
    "suite": [(s, list(r["validation"])[:2]) for s, r in build_suite(seed=0, train_rows=20, eval_rows=10)],
    "control": [(s, list(r["validation"])[:2]) for s, r in build_control(seed=0, train_rows=20, eval_rows=10)],
    "custom": _local(load_custom(FIXTURES / "custom" / "kind_words.yaml")),
    "bigbench": _local(*(load_bigbench(p / "task.json") for p in sorted((FIXTURES / "bigbench").iterdir()))),
}
CASES = [(name, spec, rows) for name, tasks in CATALOGUES.items() for spec, rows in tasks]


@pytest.mark.parametrize(("catalogue", "spec", "rows"), CASES, ids=[f"{c}/{s.name}" for c, s, _ in CASES])
def test_every_variant_renders_for_every_task(catalogue: str, spec: TaskSpec, rows: list[dict]) -> None:
    context = VariantContext([s for s, _ in CATALOGUES[catalogue]], held_back=1)
    for i, row in enumerate(rows):
        for variant in VARIANTS:
            prompts = list(render_for_scoring(spec, row, i, variant, context=context))
            if variant != "unseen_paraphrase" or len(spec.scored_templates()) > 1:
                assert prompts, f"{spec.name}/{variant}: no prompt"
            for p in prompts:
                where = f"{spec.name}/{variant}/{p.template_id}"
                assert p.input and p.input == p.input.rstrip() and p.variant == variant, where
                assert not re.search(r"\{[a-z_]+\}", p.input), f"{where}: unfilled placeholder in {p.input!r}"
                if p.options:
                    assert p.label is not None and 0 <= p.label < len(p.options), where
                    assert p.target == p.options[p.label], where
        for variant in TRAIN_VARIANTS:
            if variant != SHUFFLED:
                assert render_for_training(spec, row, i, variant, context=context).input


def _control() -> tuple[list[TaskSpec], dict[str, list[dict]]]:
    tasks = build_control(seed=0, train_rows=20, eval_rows=30)
    return [s for s, _ in tasks], {s.name: list(r["validation"]) for s, r in tasks}


def test_delusive_task_states_another_task_with_the_same_answer_space_and_its_answer() -> None:
    specs, rows = _control()
    by_name = {s.name: s for s in specs}
    context = VariantContext(specs)
    told = 0
    for spec in (s for s in specs if s.is_classification):  # the one generation task has no same-space donor
        for i, row in enumerate(rows[spec.name][:10]):
            p = next(render_for_scoring(spec, row, i, "delusive_task", context=context))
            stated = by_name[p.stated_task]
            assert stated.name != spec.name and answer_space(stated) == answer_space(spec)
            assert p.label == p.original_label == spec.label_index(row)  # the original answer still counts
            if stated.is_classification:
                expected = stated.solver(row)
                assert p.stated_label == (p.options.index(expected) if expected in p.options else None)
                told += p.stated_label is not None and p.stated_label != p.label
    assert told > 10  # the variant does separate the stated task from the original one


def test_negated_counts_the_wrong_option_of_the_same_type() -> None:
    specs, rows = _control()
    for spec in specs[:1] + [s for s in specs if s.name == "presence_food"]:
        for i, row in enumerate(rows[spec.name][:10]):
            gold = spec.references(row)[0]
            for p in render_for_scoring(spec, row, i, "negated"):
                assert len(p.options) == 2 and p.options[p.original_label] == gold
                assert p.label == p.stated_label != p.original_label and p.target != gold
                assert spec.answer_type(p.target) == spec.answer_type(gold)
                assert "NOT correct" in p.input


def _mapping(text: str, pattern: str) -> dict[str, str]:
    return dict(re.findall(pattern, text))


def test_verbalizer_mapping_in_the_prompt_is_the_one_the_scorer_counts() -> None:
    specs, rows = _control()
    spec = next(s for s in specs if s.name == "presence_place")
    for i, row in enumerate(rows[spec.name][:10]):
        gold = spec.references(row)[0]
        rev = next(render_for_scoring(spec, row, i, "verbalizer_reversed"))
        swapped = _mapping(rev.input, r"write '([^']+)' to mean '([^']+)'")
        assert swapped[rev.options[rev.label]] == gold and rev.options[rev.original_label] == gold
        assert {swapped.get("yes"), swapped.get("no")} == {"no", "yes"}  # yes and no swap
        code = next(render_for_scoring(spec, row, i, "verbalizer_arbitrary"))
        coded = _mapping(code.input, r"'([^']+)' means '([^']+)'")
        assert coded[code.options[code.label]] == gold and code.original_label is None
        assert set(code.options) == set(coded) and not set(code.options) & set(spec.row_options(row))


class MappedScorer:
    """Scores a continuation 0 if ``prefer`` picks it for the context, else -5: a model with a fixed habit."""

    def __init__(self, prefer) -> None:
        self.prefer = prefer

    def loglikelihoods(self, pairs):
        return [0.0 if self.prefer(ctx, option) else -5.0 for ctx, option in pairs]


def test_a_model_that_follows_the_stated_task_has_override_1_and_one_that_ignores_it_0() -> None:
    specs, rows = _control()
    spec = next(s for s in specs if s.name == "presence_place")
    prompts = [p for i, row in enumerate(rows[spec.name][:20])
               for p in render_for_scoring(spec, row, i, "verbalizer_reversed")]
    follows = MappedScorer(lambda ctx, o: any(p.input == ctx and p.options[p.stated_label] == o for p in prompts))
    ignores = MappedScorer(lambda ctx, o: any(p.input == ctx and p.options[p.original_label] == o for p in prompts))
    for scorer, expected in ((follows, 1), (ignores, 0)):
        answers = answer_prompts(scorer, prompts, max_new_tokens=4)
        flags = override_flags([prediction(p, a) for p, a in zip(prompts, answers, strict=True)])
        assert [f for f in flags if f is not None] == [expected] * len(prompts)
        assert all(a.correct == bool(expected) for a in answers)


def test_held_back_templates_never_train_and_are_what_unseen_paraphrase_scores() -> None:
    catalogue = ControlCatalogue(seed=0, train_rows=30, eval_rows=10)
    split = make_split(catalogue.clusters, ["choose", "presence"], {})
    mixture = build_mixture(catalogue, split, "instruction", max_per_task=30, seed=0, held_back=1)
    for name in mixture.tasks:
        spec = catalogue.spec(name)
        unseen = {t.id for t in unseen_pool(spec, 1)}
        trained = set(mixture.examples.filter(lambda r, n=name: r["task"] == n)["template_id"])
        assert unseen and not unseen & trained and trained
        row = catalogue.eval_data(name)[0]
        assert {p.template_id for p in render_for_scoring(spec, row, 0, "unseen_paraphrase",
                                                          context=VariantContext(held_back=1))} == unseen
        assert not unseen & {p.template_id for p in render_for_scoring(spec, row, 0, "instruction",
                                                                       context=VariantContext(held_back=1))}


def test_unseen_paraphrase_is_for_scoring_only() -> None:
    with pytest.raises(ConfigError, match="scoring only"):
        check_variant("unseen_paraphrase", key="template.train_variant", training=True)


def test_a_bare_yaml_null_as_a_variant_names_null_prompt():
    with pytest.raises(ConfigError, match="null_prompt"):
        check_variant(None, key="template.eval_variants")
