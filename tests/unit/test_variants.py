"""The three template variants, the options block and the whitespace rule."""

from __future__ import annotations

import pytest

from flanlab.errors import ConfigError
from flanlab.templates.variants import check_variant, render, render_for_scoring, render_for_training

ROW = {"sentence": "the red box is blue", "label": 1}


def test_no_template_joins_fields_and_appends_options(toy_catalogue):
    p = render(toy_catalogue.spec("toy_nli"), ROW, "no_template")
    assert p.input == "the red box is blue\nOPTIONS:\n- yes\n- no"
    assert (p.target, p.label, p.options) == ("no", 1, ("yes", "no"))


def test_dataset_name_puts_the_display_name_first(toy_catalogue):
    p = render(toy_catalogue.spec("toy_nli"), ROW, "dataset_name")
    assert p.input.startswith("[Toy toy_nli]\nthe red box is blue\nOPTIONS:")


def test_instruction_fills_the_template(toy_catalogue):
    spec = toy_catalogue.spec("toy_nli")
    p = render(spec, ROW, "instruction", spec.templates[1])
    assert p.input == "Read: the red box is blue\nTrue or not?\nOPTIONS:\n- yes\n- no"
    assert p.template_id == "t1"


def test_options_can_be_left_out_without_trailing_whitespace(toy_catalogue):
    spec = toy_catalogue.spec("toy_nli")
    p = render(spec, ROW, "instruction", spec.templates[0], options_in_prompt=False)
    assert p.input == "the red box is blue\nIs that true? Answer yes or no."
    assert p.options == ("yes", "no")  # options stay on the example for rank classification


def test_inverted_template_becomes_generation(toy_catalogue):
    spec = toy_catalogue.spec("toy_nli")
    p = render(spec, ROW, "instruction", spec.templates[2])
    expected = ("Write a statement whose truth is no.", ROW["sentence"], None, True)
    assert (p.input, p.target, p.options, p.inverted) == expected


def test_training_round_robin_and_scoring_all_templates(toy_catalogue):
    spec = toy_catalogue.spec("toy_nli")
    ids = [render_for_training(spec, ROW, i, "instruction").template_id for i in range(6)]
    assert ids == ["t0", "t1", "t0", "t1", "t0", "t1"]  # inverted templates train only with train_inverted
    first_only = [render_for_training(spec, ROW, i, "instruction", num_templates=1).template_id for i in range(3)]
    assert first_only == ["t0"] * 3
    assert [p.template_id for p in render_for_scoring(spec, ROW, 0, "instruction")] == ["t0", "t1"]
    assert len(list(render_for_scoring(spec, ROW, 0, "no_template"))) == 1


@pytest.mark.parametrize("variant", ["no_template", "dataset_name", "instruction"])
def test_inputs_never_end_in_whitespace(toy_catalogue, variant):
    for name, spec in toy_catalogue.specs.items():
        for i, row in enumerate(toy_catalogue.train_data(name)):
            for p in render_for_scoring(spec, row, i, variant, include_inverted=True):
                assert p.input == p.input.rstrip() and p.target == p.target.strip()


def test_unknown_variant_is_a_one_line_error():
    with pytest.raises(ConfigError, match=r"unknown template variant 'instructions'.*Did you mean 'instruction'"):
        check_variant("instructions", key="template.train_variant")


def test_every_scoring_variant_has_one_renderer_in_the_registry():
    from flanlab.templates.variants import RENDERERS, SCORING_VARIANTS

    assert set(RENDERERS) == set(SCORING_VARIANTS)
