"""Every bad input of issue 8 stops with one line naming the culprit (or is skipped and counted), and no results.json.

A few run the real CLI (``python -m flanlab``) as a subprocess and check its stderr holds exactly one
``flanlab: error:`` line, no traceback, and exit code 2; the rest call the owning function directly.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import wandb
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from flanlab.cli_checks import check_command_line
from flanlab.data.mixture import build_mixture
from flanlab.errors import ConfigError, DataError, user_error
from flanlab.models.load import load_model
from flanlab.pipeline import check_cell, run_cell
from flanlab.splits import make_split
from flanlab.tasks.bigbench import load_bigbench
from flanlab.tasks.custom import load_custom
from flanlab.tasks.hub import HubCatalogue
from flanlab.tasks.spec import Template
from flanlab.templates.variants import render
from flanlab.tracking.run import NullTracker, start_tracker
from tests.conftest import CONF_DIR, ROOT, ToyCatalogue

FIX = ROOT / "tests" / "fixtures"
RUN = ["threads=1", "logger=none", "train.progress=false"]
TINY = ["tasks.train_rows=32", "tasks.eval_rows=8", *RUN]


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def _one_line(err: BaseException | pytest.ExceptionInfo, *needles: str) -> str:
    """The error's message, after checking it is one line holding every needle."""
    value = err.value if isinstance(err, pytest.ExceptionInfo) else err
    text = str(value)
    assert "\n" not in text, text
    for needle in needles:
        assert needle in text, (needle, text)
    return text


def _no_results(folder: Path) -> None:
    assert not (folder.exists() and list(folder.rglob("results.json")))


# --- the CLI: one `flanlab: error:` line, exit code 2, nothing written --------------------------------------------

def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", "flanlab", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def _cli_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("flanlab: error:")]
    assert len(lines) == 1, proc.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "needles"), [
    (["heldout.clusters=[nlii]", *TINY], ["unknown cluster 'nlii'", "heldout.clusters", "Did you mean 'nli'?"]),
    (["train.steps=0", *TINY], ["train.steps must be a positive integer, got 0"]),
], ids=["unknown_cluster", "zero_steps"])
def test_cli_stops_with_one_line_and_exit_code_2(tmp_path, args, needles):
    proc = _cli(tmp_path, *args, f"hydra.run.dir={tmp_path / 'run'}")
    _cli_error(proc, *needles)
    _no_results(tmp_path / "run")


@pytest.mark.parametrize(("args", "needles"), [
    (["model=tiny_t55"], ["unknown model config 'tiny_t55'", "Did you mean 'tiny_t5'?", "tiny_causal"]),
    (["-m", "template=untuned,instructon"], ["unknown template config 'instructon'", "Did you mean 'instruction'?"]),
    (["+experiment=ablatoin"], ["unknown experiment config 'ablatoin'", "Did you mean 'ablation'?"]),
], ids=["model", "template_in_sweep", "experiment"])
def test_unknown_config_group_option_has_did_you_mean_instead_of_hydras_listing(tmp_path, args, needles):
    proc = _cli(tmp_path, *args, f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    _cli_error(proc, *needles)
    assert "Config search path" not in proc.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "sweep").exists()


def test_command_line_checks_leave_valid_and_unjudgeable_overrides_to_hydra(tmp_path):
    ok = ["model=tiny_causal", "-m", "template=untuned,instruction", "heldout=glob(*)", "train/peft=lora",
          "hydra/launcher=submitit_local", "train.steps=3", "~logger", "model=null", f"hydra.run.dir={tmp_path}/x"]
    check_command_line(ok, CONF_DIR)
    check_command_line(["--config-dir", str(tmp_path), "model=from_my_dir"], CONF_DIR)  # another search path
    check_command_line(["model=(broken"], CONF_DIR)  # a syntax error: Hydra's to report
    with pytest.raises(ConfigError, match="unknown train/peft config 'lorra'"):
        check_command_line(["train/peft=lorra"], CONF_DIR)


def test_unwritable_output_dir_on_the_command_line(tmp_path):
    (tmp_path / "a_file").write_text("")
    proc = _cli(tmp_path, f"hydra.run.dir={tmp_path / 'a_file' / 'out'}")
    _cli_error(proc, "hydra.run.dir", "cannot be created", "a_file is a file")


# --- names: cluster, task, variant, held-out choice ---------------------------------------------------------------

def test_unknown_task_and_cluster_names_have_did_you_mean(toy_catalogue):
    with pytest.raises(ConfigError) as err:
        HubCatalogue(tasks=["rtee"])
    _one_line(err, "unknown FLAN catalogue entry 'rtee'", "Did you mean 'rte'?", "tasks.tasks")
    with pytest.raises(ConfigError) as err:
        toy_catalogue.spec("toy_nl")
    _one_line(err, "unknown task 'toy_nl'", "Did you mean 'toy_nli'?")
    with pytest.raises(ConfigError) as err:
        make_split(toy_catalogue.clusters, ["nli"], train_only=["misk"])
    _one_line(err, "unknown cluster 'misk'", "heldout.train_only", "Did you mean 'misc'?")


def test_unknown_template_variant_stops_before_anything_is_written(tmp_path):
    cfg = _compose([*TINY, "template.train_variant=instructon"])
    with pytest.raises(ConfigError) as err:
        check_cell(cfg)
    _one_line(err, "unknown template variant 'instructon'", "template.train_variant", "Did you mean 'instruction'?")
    with pytest.raises(ConfigError):
        run_cell(cfg, tmp_path / "cell")
    assert not (tmp_path / "cell").exists()


def test_heldout_choice_that_empties_the_training_mixture(toy_catalogue):
    with pytest.raises(ConfigError) as err:
        make_split(["nli", "paraphrase"], ["nli"], related={"nli": ["paraphrase"]})
    _one_line(err, "holding out ['nli'] leaves no training cluster", "heldout.clusters")
    split = make_split(toy_catalogue.clusters, ["nli"])
    with pytest.raises(ConfigError) as err:
        build_mixture(toy_catalogue, split, "instruction", max_per_task=10, seed=0, tasks=[])
    _one_line(err, "the training mixture is empty", "nli")


# --- rows and files ----------------------------------------------------------------------------------------------

class _MissingField(ToyCatalogue):
    """toy_para's second template reads a field its rows lack."""

    def __init__(self) -> None:
        super().__init__(rows=8)
        spec = self.spec("toy_para")
        templates = (spec.templates[0], Template("needs_colour", "{sentence} in {colour}?\n{options}"))
        self.replace_spec("toy_para", dataclasses.replace(spec, templates=templates))


def test_template_naming_a_missing_field_is_a_data_error_naming_task_template_field():
    cat = _MissingField()
    row = {"sentence": "the box is red", "label": 0}
    with pytest.raises(DataError) as err:
        render(cat.spec("toy_para"), row, "instruction", cat.spec("toy_para").templates[1], row_index=3)
    _one_line(err, "task 'toy_para'", "template 'needs_colour'", "field 'colour'", "row 3")
    split = make_split(cat.clusters, ["sentiment"])
    with pytest.raises(DataError) as err:  # the same error, through datasets.map
        build_mixture(cat, split, "instruction", max_per_task=8, seed=0)
    _one_line(err, "task 'toy_para'", "template 'needs_colour'", "field 'colour'")


class _BadRows(ToyCatalogue):
    """toy_nli's train split has a label out of range; toy_sent's validation rows hold an empty options list."""

    def __init__(self) -> None:
        super().__init__(rows=8)
        self.rows("toy_nli", "train")[2] = {"sentence": "the box is red", "label": 5}
        self.replace_spec("toy_sent", dataclasses.replace(self.spec("toy_sent"), options=None, options_field="choices"))
        for split in ("train", "validation"):
            self.rows("toy_sent", split)[:] = [{**r, "choices": ["yes", "no"]} for r in self.rows("toy_sent", split)]
        self.rows("toy_sent", "validation")[1]["choices"] = []


def test_unusable_rows_are_skipped_counted_and_warned_or_an_error(caplog):
    cat = _BadRows()
    with caplog.at_level(logging.WARNING):
        assert len(cat.train_data("toy_nli")) == 7
        assert len(cat.eval_data("toy_sent")) == 3
        cat.train_data("toy_nli")  # counted once, warned once
    assert cat.bad_row_counts == {"toy_nli/train": 1, "toy_sent/validation": 1}
    warnings = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(warnings) == 2 and "row 2 has label 5, outside its 2 options" in warnings[0]
    assert "row 1 has no answer options" in warnings[1]
    mixture = build_mixture(cat, make_split(cat.clusters, ["sentiment"]), "instruction", max_per_task=8, seed=0)
    assert mixture.rows_per_task["toy_nli"] == 7

    strict = _BadRows()
    strict.set_bad_rows("error")
    with pytest.raises(DataError) as err:
        strict.train_data("toy_nli")
    _one_line(err, "dataset 'toy_nli' split 'train' row 2 has label 5, outside its 2 options", "data.bad_rows")
    with pytest.raises(ConfigError) as err:
        strict.set_bad_rows("drop")
    _one_line(err, "unknown bad-row policy 'drop'", "data.bad_rows")


def _custom_task(folder: Path, name: str, cluster: str, train: list[dict], validation: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(
        f"name: {name}\ncluster: {cluster}\nkind: classification\ninput_fields: [text]\noptions_field: choices\n"
        f"splits: {{train: {name}_train.jsonl, validation: {name}_val.jsonl}}\n"
        "templates:\n  - {id: ask, input: \"{text}\\nWhich one?\\n{options}\"}\n")
    for split, rows in (("train", train), ("val", validation)):
        (folder / f"{name}_{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.slow
def test_bad_rows_in_a_cell_are_counted_in_results_or_stop_it(tmp_path, caplog):
    rows = [{"text": f"{w} box", "choices": ["red", "blue"], "label": i % 2} for i, w in enumerate("abcdef")]
    bad = [*rows[:3], {"text": "odd box", "choices": [], "label": 0}, {"text": "big box", "choices": ["x"], "label": 4}]
    _custom_task(tmp_path / "tasks", "good_task", "alpha", rows, rows)
    _custom_task(tmp_path / "tasks", "bad_task", "beta", rows, bad)
    base = ["tasks=flan", "tasks.base.tasks=[]", f"tasks.include=[{tmp_path / 'tasks'}]", "heldout.clusters=[beta]",
            "template=untuned", "template.eval_variants=[no_template]", "threads=1", "logger=none",
            f"paths.cache_dir={tmp_path / 'cache'}"]
    with caplog.at_level(logging.WARNING):
        results = run_cell(_compose(base), tmp_path / "skip")
    assert results["bad_rows"] == {"policy": "skip", "skipped": {"bad_task/validation": 2}}
    assert results["metrics"]["data/skipped_rows"] == 2
    assert results["zeroshot"]["no_template"]["templates"][0]["n"] == 3
    assert json.loads((tmp_path / "skip" / "results.json").read_text())["bad_rows"] == results["bad_rows"]
    assert any("skipped 2 of 5 rows" in r.getMessage() for r in caplog.records)

    with pytest.raises(DataError) as err:
        run_cell(_compose([*base, "data.bad_rows=error"]), tmp_path / "strict")
    _one_line(err, "dataset 'bad_task' split 'validation' row 3 has no answer options")
    _no_results(tmp_path / "strict")


def test_corrupt_jsonl_line_names_file_and_line(tmp_path):
    rows = [{"text": "a box", "choices": ["red", "blue"], "label": 0}]
    _custom_task(tmp_path, "broken", "alpha", rows, rows)
    with (tmp_path / "broken_train.jsonl").open("a") as handle:
        handle.write('{"text": "cut off", "lab\n')
    with pytest.raises(DataError) as err:
        load_custom(tmp_path / "broken.yaml")
    _one_line(err, "broken.yaml", "broken_train.jsonl line 2 is not JSON")

    folder = tmp_path / "mirror" / "rotten_tomatoes" / "default"  # the mirror's layout, written here
    folder.mkdir(parents=True)
    features = {"text": {"dtype": "string", "_type": "Value"},
                "label": {"names": ["neg", "pos"], "_type": "ClassLabel"}}
    (folder / "features.json").write_text(json.dumps(features))
    good = [json.dumps({"text": f"film {i}", "label": i % 2}) for i in range(4)]
    (folder / "train.jsonl").write_text("\n".join([*good[:3], '{"text": "cut off", "lab', good[3]]) + "\n")
    with pytest.raises(DataError) as err:
        HubCatalogue(tasks=["rotten_tomatoes"], mirror_dir=str(tmp_path / "mirror")).train_data("rotten_tomatoes")
    _one_line(err, f"mirror file '{folder / 'train.jsonl'}'", "line 4 is not a JSON object")


def test_missing_mirror_dir_through_the_config_is_one_line(tmp_path):
    cfg = _compose(["tasks=flan_mirror", f"data.mirror_dir={tmp_path / 'nope'}"])
    with pytest.raises(Exception) as err:  # Hydra's instantiate wraps it; the CLI unwraps it with user_error
        instantiate(cfg.tasks)
    _one_line(user_error(err.value), "mirror directory", "nope", "does not exist", "data.mirror_dir")


def test_bigbench_task_without_examples(tmp_path):
    with pytest.raises(DataError) as err:
        load_bigbench(FIX / "bigbench_empty" / "task.json")
    _one_line(err, "bigbench_empty/task.json", "has no examples")
    cfg = _compose(["tasks=flan", "tasks.base.tasks=[rte]", f"tasks.include=[{FIX / 'bigbench_empty'}]"])
    with pytest.raises(Exception) as err:
        instantiate(cfg.tasks)
    assert isinstance(user_error(err.value), DataError)


def test_duplicate_task_names_across_catalogue_and_custom_tasks():
    cfg = _compose(["tasks=flan", "tasks.base.tasks=[rte,cb]", f"tasks.include=[{FIX / 'custom_dup'}]"])
    with pytest.raises(Exception) as err:
        instantiate(cfg.tasks)
    _one_line(user_error(err.value), "task name 'rte' is defined twice", "rte.yaml", "tasks.include")


# --- output, tracking, model, training sizes ----------------------------------------------------------------------

def test_unwritable_output_dir_stops_the_cell_before_any_work(tmp_path):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ConfigError) as err:
        run_cell(_compose(TINY), tmp_path / "a_file" / "cell")
    _one_line(err, "output directory", "a_file/cell", "is not writable")


def test_wandb_unreachable_online_falls_back_to_offline_with_a_warning(tmp_path, monkeypatch, caplog):
    real_init = wandb.init
    modes = []

    def init(*args, **kwargs):
        modes.append(kwargs.get("mode"))
        if kwargs.get("mode") == "online":
            raise ConnectionError("api.wandb.ai unreachable")
        return real_init(*args, **kwargs)

    monkeypatch.setattr(wandb, "init", init)
    monkeypatch.setenv("WANDB_MODE", "online")
    cfg = _compose(["logger=wandb", "logger.mode=online"])
    with caplog.at_level(logging.WARNING):
        tracker = start_tracker(cfg, name="cell", group="g", job_type="instruction", tags=[],
                                output_dir=str(tmp_path))
    try:
        assert modes == ["online", "offline"]
        assert not isinstance(tracker, NullTracker)
        assert any("falling back to offline" in r.getMessage() and "unreachable" in r.getMessage()
                   for r in caplog.records)
        assert os.environ["WANDB_MODE"] == "offline"
    finally:
        tracker.finish()
    assert list(tmp_path.glob("wandb/offline-run-*/run-*.wandb"))


def _pretrained_folder(folder: Path, model_vocab: int, tokenizer_words: int) -> Path:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<pad>": 1, "</s>": 2, **{f"w{i}": i + 3 for i in range(tokenizer_words - 3)}}
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                            eos_token="</s>").save_pretrained(folder)
    GPT2LMHeadModel(GPT2Config(vocab_size=model_vocab, n_layer=1, n_embd=8, n_head=2, n_positions=16)).save_pretrained(
        folder)
    return folder


def test_tokenizer_larger_than_the_model_vocabulary(tmp_path):
    folder = _pretrained_folder(tmp_path / "m", model_vocab=8, tokenizer_words=20)
    cfg = OmegaConf.create({"name": "mine", "arch": "causal", "source": "pretrained", "name_or_path": str(folder),
                            "trust_remote_code": False})
    with pytest.raises(ConfigError) as err:
        load_model(cfg)
    _one_line(err, "model 'mine'", "tokenizer has 20 tokens", "embedding has 8 rows")


@pytest.mark.parametrize("override", ["train.steps=-1", "train.batch_size=0", "train.grad_accum=0"])
def test_non_positive_steps_or_batch_stop_before_anything_is_written(tmp_path, override):
    with pytest.raises(ConfigError) as err:
        run_cell(_compose([*TINY, override]), tmp_path / "cell")
    key, value = override.split("=")
    _one_line(err, f"{key} must be a positive integer, got {value}")
    assert not (tmp_path / "cell").exists()

