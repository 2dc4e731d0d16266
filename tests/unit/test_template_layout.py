"""The template layout rule (flanlab/tasks/spec.py::layout_problem), enforced where tasks load: custom YAML,
BIG-bench files and every catalogue when it is first used. The lint over every built-in template is
tests/unit/test_template_lint.py."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from flanlab.errors import DataError
from flanlab.tasks import bigbench
from flanlab.tasks.bigbench import load_bigbench
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.custom import load_custom
from flanlab.tasks.spec import Template, layout_problem
from tests.conftest import CONF_DIR, ROOT, ToyCatalogue

FIX = ROOT / "tests" / "fixtures"
GOOD = "{sentence}\nTrue or not?\n{options}"


@pytest.mark.parametrize(("template", "classification", "wrong"), [
    (Template("t", GOOD), True, None),
    (Template("t", "Say {sentence}."), False, None),
    (Template("t", "Write one that is {answer}.", target="{sentence}", inverted=True), True, None),
    (Template("t", "{sentence}\nTrue or not?"), True, "must end with a line holding only {options}"),
    (Template("t", "{options}\n{sentence}"), True, "must end with a line holding only {options}"),
    (Template("t", "{sentence} {options}"), True, "must end with a line holding only {options}"),
    (Template("t", "{options}\n{sentence}\n{options}"), True, "must end with a line holding only {options}"),
    (Template("t", GOOD, target="It is {answer}"), True, "target must be {answer}"),
    (Template("t", "{sentence}\n{options}"), False, "belongs only in the last line"),
    (Template("t", "{sentence}\n{options}", target="{sentence}", inverted=True), True, "belongs only in"),
])
def test_layout_problem(template, classification, wrong):
    problem = layout_problem(template, classification)
    assert problem is None if wrong is None else wrong in problem


def _one_line(err: pytest.ExceptionInfo, *parts: str) -> None:
    text = str(err.value)
    assert "\n" not in text and isinstance(err.value, DataError), text
    for part in parts:
        assert part in text, (part, text)


def test_a_custom_task_breaking_the_rule_fails_on_load_naming_file_task_and_template():
    with pytest.raises(DataError) as err:
        load_custom(FIX / "custom_bad_layout" / "tone_check.yaml")
    _one_line(err, "tone_check.yaml", "task 'tone_check'", "template 'options_first'", "holding only {options}")


def test_a_bigbench_task_is_checked_too(monkeypatch):
    """Its templates are the loader's own (a task.json cannot break the rule): a broken one is still caught."""
    path = FIX / "bigbench" / "colour_mix" / "task.json"
    assert load_bigbench(path).spec("bigbench_colour_mix").is_classification
    monkeypatch.setattr(bigbench, "_templates", lambda classification: (Template("prefix", "{options}\n{input}"),))
    with pytest.raises(DataError) as err:
        load_bigbench(path)
    _one_line(err, "BIG-bench task", "colour_mix/task.json", "task 'bigbench_colour_mix'", "template 'prefix'")


@pytest.mark.parametrize("tasks", sorted(p.stem for p in (CONF_DIR / "tasks").glob("*.yaml")))
def test_every_built_in_catalogue_passes(tasks):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        catalogue = instantiate(compose(config_name="config", overrides=[f"tasks={tasks}"]).tasks)
    assert len(catalogue.clusters) >= 5  # every spec checked on the way


class _Broken(ToyCatalogue):
    """toy_para's first template has its options block first."""

    def __init__(self) -> None:
        super().__init__(rows=4)
        spec = self.spec("toy_para")
        broken = Template("opts_first", "{options}\n{sentence}")
        self.replace_spec("toy_para", dataclasses.replace(spec, templates=(broken, *spec.templates[1:])))


def test_a_catalogue_is_checked_where_it_is_first_used():
    with pytest.raises(DataError) as err:
        _ = _Broken().clusters
    _one_line(err, "the toy catalogue", "task 'toy_para'", "template 'opts_first'")  # the catalogue's source


def test_a_catalogue_without_a_source_is_named_by_its_class():
    bad = dataclasses.replace(ToyCatalogue().spec("toy_para"), name="bad",
                              templates=(Template("opts_first", "{options}\n{sentence}"),))

    class Nameless(Catalogue):
        @property
        def specs(self):
            return {"bad": bad}

        def load(self, name, split):
            raise AssertionError("never loaded")

    with pytest.raises(DataError) as err:
        _ = Nameless().clusters
    _one_line(err, "catalogue Nameless", "task 'bad'", "template 'opts_first'")
    assert re.search(r"\(tests\.unit\.test_template_layout\)", str(err.value))
