"""BIG-bench task.json and custom YAML+JSONL tasks, merged into a catalogue through `tasks.include`."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from flanlab.data.mixture import build_mixture
from flanlab.errors import ConfigError, DataError
from flanlab.splits import make_split
from flanlab.sweeps.keys import cell_key, keyed_config
from flanlab.tasks.bigbench import load_bigbench
from flanlab.tasks.combined import CombinedCatalogue
from flanlab.tasks.custom import load_custom
from flanlab.tasks.hub import HubCatalogue
from flanlab.tasks.suite.catalogue import SuiteCatalogue
from flanlab.templates.variants import render_for_scoring
from tests.conftest import CONF_DIR, ROOT

FIX = ROOT / "tests" / "fixtures"


def test_bigbench_folder_becomes_classification_and_generation_tasks():
    cat = CombinedCatalogue(include=[{"path": str(FIX / "bigbench"), "cluster": "puzzles"}])
    assert cat.clusters == {"puzzles": ["bigbench_animal_sounds", "bigbench_colour_mix"]}
    mix = cat.spec("bigbench_colour_mix")
    assert mix.kind == "classification"
    rows = cat.load("bigbench_colour_mix", "all")
    assert [mix.references(r)[0] for r in rows] == ["green", "purple", "orange", "grey", "pink", "green"]
    prompt = next(render_for_scoring(mix, rows[3], 3, "instruction"))
    assert prompt.input == "Mixing two paints gives which colour?\nblack and white\nOPTIONS:\n- grey\n- pink"
    sounds = cat.spec("bigbench_animal_sounds")
    assert sounds.kind == "generation"
    dog = cat.load("bigbench_animal_sounds", "all")[1]
    assert sounds.references(dog) == ("woof", "bark")
    assert dog["instruction"] == "Name the sound an animal makes."  # no task_prefix: the description
    train, val = cat.load("bigbench_colour_mix", "train"), cat.load("bigbench_colour_mix", "validation")
    assert not set(train["input"]) & set(val["input"]) and len(train) + len(val) == 6


def test_bigbench_without_examples_is_a_one_line_error():
    with pytest.raises(DataError, match="has no examples") as err:
        load_bigbench(FIX / "bigbench_empty" / "task.json")
    assert "\n" not in str(err.value)


def test_custom_yaml_task_loads_with_string_and_index_labels():
    cat = load_custom(FIX / "custom" / "kind_words.yaml")
    spec = cat.spec("kind_words")
    assert spec.cluster == "sentiment" and [t.inverted for t in spec.templates] == [False, False, True]
    assert [spec.references(r)[0] for r in cat.train_data("kind_words")] == ["kind", "unkind", "kind", "unkind"]
    assert load_custom(FIX / "custom" / "kind_words.yaml", cluster="mine").spec("kind_words").cluster == "mine"


def test_custom_task_with_a_bad_label_names_file_and_line(tmp_path):
    (tmp_path / "t.yaml").write_text((FIX / "custom" / "kind_words.yaml").read_text())
    rows = '{"remark": "hi", "label": "kind"}\n{"remark": "x", "label": "meh"}\n'
    (tmp_path / "kind_words_train.jsonl").write_text(rows)
    (tmp_path / "kind_words_validation.jsonl").write_text('{"remark": "hi", "label": 1}\n')
    with pytest.raises(DataError, match=r"line 2 label 'meh' is not one of \['unkind', 'kind'\]"):
        load_custom(tmp_path / "t.yaml")


def test_a_custom_row_holding_a_line_separator_character_stays_one_row(tmp_path):
    """JSONL lines end at "\\n" only: a review may hold U+2028, which str.splitlines would split on."""
    (tmp_path / "t.yaml").write_text((FIX / "custom" / "kind_words.yaml").read_text())
    rows = '{"remark": "one\u2028two", "label": "kind"}\n{"remark": "x", "label": "unkind"}\n'
    (tmp_path / "kind_words_train.jsonl").write_text(rows)
    (tmp_path / "kind_words_validation.jsonl").write_text('{"remark": "hi", "label": 1}\n')
    train = load_custom(tmp_path / "t.yaml").train_data("kind_words")
    assert len(train) == 2 and train[0]["remark"] == "one\u2028two"


def test_duplicate_task_names_across_catalogue_and_extra_is_one_line_error():
    with pytest.raises(ConfigError, match="task name 'rte' is defined twice") as err:
        CombinedCatalogue(HubCatalogue(tasks=["rte", "cb"]), include=[str(FIX / "custom_dup")])
    assert "\n" not in str(err.value)


def test_tasks_extra_config_key_trains_and_holds_out_new_cluster():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            "tasks=flan", "tasks.base.tasks=[rte]",
            f"tasks.include=[{{path: {FIX / 'bigbench'}, cluster: puzzles}}, {{path: {FIX / 'custom'}}}]",
        ])
    cat = instantiate(cfg.tasks)
    assert set(cat.clusters) == {"nli", "puzzles", "sentiment"}
    split = make_split(cat.clusters, ["puzzles"], cfg.split.related)
    mixture = build_mixture(cat, split, "instruction", max_per_task=10, seed=0, tasks=["kind_words"])
    assert mixture.rows_per_task == {"kind_words": 4}


@pytest.mark.parametrize("tasks", ["suite", "control"])
def test_tasks_extra_adds_tasks_to_the_generated_suites(tasks):
    extra = f"tasks.include=[{{path: {FIX / 'bigbench'}, cluster: puzzles}}, {{path: {FIX / 'custom'}}}]"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        plain = compose(config_name="config", overrides=[f"tasks={tasks}", "tasks.train_rows=20", "tasks.eval_rows=8"])
        cfg = compose(config_name="config", overrides=[f"tasks={tasks}", "tasks.train_rows=20", "tasks.eval_rows=8",
                                                       extra])
    base, cat = instantiate(plain.tasks), instantiate(cfg.tasks)
    assert set(cat.clusters) == set(base.clusters) | {"puzzles", "sentiment"}
    assert cat.clusters["puzzles"] == ["bigbench_animal_sounds", "bigbench_colour_mix"]
    assert "kind_words" in cat.clusters["sentiment"] and "kind_words" not in base.specs
    assert len(cat.train_data("kind_words")) == 4 and len(cat.eval_data("bigbench_colour_mix")) > 0
    own = next(iter(base.specs))
    assert cat.spec(own) == base.spec(own) and list(cat.train_data(own)) == list(base.train_data(own))
    assert cell_key(cfg) != cell_key(plain)


def test_empty_extra_on_a_generated_suite_keeps_its_cell_key():
    """`tasks.include: []` was added to suite.yaml and control.yaml; the key hashes the config as it was before."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        suite = compose(config_name="config", overrides=[])
        flan = compose(config_name="config", overrides=["tasks=flan"])
    assert "extra" not in keyed_config(suite)["tasks"]
    assert keyed_config(flan)["tasks"]["extra"] == []  # flan's always had it


def test_extra_task_named_like_a_suite_task_is_a_one_line_error(tmp_path):
    own = next(iter(SuiteCatalogue(train_rows=20, eval_rows=8).specs))
    text = (FIX / "custom" / "kind_words.yaml").read_text().replace("name: kind_words", f"name: {own}")
    (tmp_path / f"{own}.yaml").write_text(text)
    for split in ("train", "validation"):
        (tmp_path / f"kind_words_{split}.jsonl").write_text((FIX / "custom" / f"kind_words_{split}.jsonl").read_text())
    with pytest.raises(ConfigError, match=f"task name '{own}' is defined twice: in the SuiteCatalogue") as err:
        SuiteCatalogue(train_rows=20, eval_rows=8, include=[str(tmp_path)]).spec(own)
    assert "\n" not in str(err.value)
