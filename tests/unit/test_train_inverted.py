"""`template.train_inverted`: inverted templates leave the training round-robin unless asked for."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir

from flanlab.errors import DataError
from flanlab.tasks.spec import TaskSpec, Template
from flanlab.templates.variants import inverted_row, render_for_training, training_template
from tests.conftest import CONF_DIR

ROW = {"sentence": "the red box is blue", "label": 0}


def test_default_pool_drops_inverted_templates(toy_catalogue):
    spec = toy_catalogue.spec("toy_nli")  # templates t0, t1, inv (inverted)
    ids = [render_for_training(spec, ROW, i, "instruction").template_id for i in range(6)]
    assert ids == ["t0", "t1"] * 3
    # train_inverted: a seeded third of the rows (one inverted template of three) take it; every other row keeps
    # the template it has without inversion (issue 27: the inversion arm differs in its inverted rows only)
    got = [training_template(spec, i, train_inverted=True).id for i in range(30)]
    expected = ["inv" if inverted_row(spec, i, 2, 1) else ["t0", "t1"][i % 2] for i in range(30)]
    assert got == expected and 5 <= got.count("inv") <= 15
    flagged = [render_for_training(spec, ROW, i, "instruction", train_inverted=True).inverted for i in range(30)]
    assert flagged == [g == "inv" for g in got]


def test_num_templates_counts_trainable_templates(toy_catalogue):
    spec = toy_catalogue.spec("toy_nli")
    assert {training_template(spec, i, 2).id for i in range(4)} == {"t0", "t1"}
    assert [training_template(spec, i, 1).id for i in range(2)] == ["t0", "t0"]


def test_a_task_with_only_inverted_templates_is_a_one_line_error():
    spec = TaskSpec(name="inv_only", cluster="x", display_name="X", kind="generation", input_fields=("sentence",),
                    templates=(Template("w", "Write: {answer}", target="{sentence}", inverted=True),))
    with pytest.raises(DataError, match=r"task 'inv_only' has no non-inverted template.*template\.train_inverted"):
        training_template(spec, 0)
    assert training_template(spec, 0, train_inverted=True).id == "w"


@pytest.mark.parametrize("template", ["instruction", "no_template", "dataset_name", "untuned"])
def test_every_template_config_sets_train_inverted_false(template):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"template={template}"])
    assert cfg.template.train_inverted is False
