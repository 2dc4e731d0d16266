"""Issue 16's bad input, each stopped before any work with one ``flanlab: error:`` line and exit code 2.

Every case of docs/hardening.md ("Caught before the run starts") is one entry of ``CASES``. They all run in
one fresh interpreter through ``flanlab.__main__.cli`` (what ``python -m flanlab`` and the ``flanlab``
script call), one after the other; starting Python per case would cost seconds each. Hydra's job function
is replaced there by a marker that exits with code 99, so a case that slips past the checks is reported
instead of training. A few cases also run as real ``python -m flanlab`` subprocesses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

FIX = ROOT / "tests" / "fixtures"
REACHED_HYDRA = 99

# (id, command line, what the error line holds). {tmp} is the test's temporary folder.
CASES = [
    # wrong types, in every config group
    ("int_train", ["train.steps=abc"], ["train.steps must be an integer, got 'abc'"]),
    ("int_scoring", ["scoring.batch_size=x"], ["scoring.batch_size must be an integer, got 'x'"]),
    ("int_data", ["data.max_eval_per_task=1.5x"], ["data.max_eval_per_task must be an integer, got '1.5x'"]),
    ("int_tasks", ["tasks.train_rows=many"], ["tasks.train_rows must be an integer, got 'many'"]),
    ("int_model", ["model.config.d_model=wide"], ["model.config.d_model must be an integer, got 'wide'"]),
    ("int_top", ["seed=one"], ["seed must be an integer, got 'one'"]),
    ("bool_template", ["template.options_in_prompt=maybe"], ["template.options_in_prompt must be true or false",
                                                              "got 'maybe'"]),
    ("bool_train", ["train.progress=3"], ["train.progress must be true or false, got 3"]),
    ("float_train", ["train.lr=fast"], ["train.lr must be a number, got 'fast'"]),
    ("list_heldout", ["heldout.clusters=nli"], ["heldout.clusters must be a list", "got 'nli'"]),
    ("list_tasks_include", ["tasks.include=my_tasks"], ["tasks.include must be a list", "got 'my_tasks'"]),
    ("debug_before_experiment", ["+debug=tiny", "+experiment=ablation"],
     ["+debug=tiny comes before +experiment=ablation, whose values would then win"]),
    ("mapping_split", ["split.related=nli"], ["split.related must be a mapping", "got 'nli'"]),
    ("in_a_sweep", ["-m", "template=untuned,instruction", "train.steps=1,abc"],
     ["train.steps must be an integer, got 'abc'"]),
    # zero or negative sizes and counts
    ("zero_scoring_batch", ["scoring.batch_size=0"], ["scoring.batch_size must be a positive integer, got 0"]),
    ("zero_train_batch", ["train.batch_size=0"], ["train.batch_size must be a positive integer, got 0"]),
    ("zero_new_tokens", ["scoring.max_new_tokens=0"], ["scoring.max_new_tokens must be a positive integer, got 0"]),
    ("negative_eval", ["data.max_eval_per_task=-1"], ["data.max_eval_per_task must be a positive integer, got -1"]),
    ("negative_lr", ["train.lr=-1"], ["train.lr must be positive, got -1"]),
    ("negative_warmup", ["train.warmup_steps=-5"], ["train.warmup_steps must be 0 or a positive integer",
                                                    "got -5"]),
    ("zero_rows", ["tasks.train_rows=0"], ["tasks.train_rows must be a positive integer, got 0"]),
    ("zero_templates", ["template.num_templates=0"], ["template.num_templates must be a positive integer or null"]),
    ("zero_threads", ["threads=0"], ["threads must be a positive integer or null, got 0"]),
    ("zero_vocab", ["model.tokenizer.vocab_size=0"], ["model.tokenizer.vocab_size must be a positive integer"]),
    ("threshold", ["data.near_dup_threshold=1.5"], ["data.near_dup_threshold must be a number from 0 to 1",
                                                    "got 1.5"]),
    ("lora_rank", ["+train/peft=lora", "train.peft.r=0"], ["train.peft.r must be a positive integer, got 0"]),
    # named choices
    ("optimizer", ["train.optimizer=adamv"], ["train.optimizer must be one of adamw, adafactor, got 'adamv'",
                                              "Did you mean 'adamw'?"]),
    ("precision", ["scoring.precision=fp16"], ["scoring.precision must be one of", "got 'fp16'"]),
    ("leak_policy", ["data.on_leak=ignore"], ["data.on_leak must be one of error, warn, got 'ignore'"]),
    ("logger_mode", ["logger.mode=onlin"], ["logger.mode must be one of", "Did you mean 'online'?"]),
    ("peft_preset", ["train.peft=lorra"], ["unknown peft preset 'lorra'", "train.peft", "Did you mean 'lora'?"]),
    # unknown keys
    ("key", ["train.stepz=3"], ["unknown config key 'train.stepz'", "Did you mean 'train.steps'?",
                                "+train.stepz=3"]),
    ("section", ["trian.steps=3"], ["unknown config key 'trian'", "Did you mean 'train'?"]),
    # the model
    ("model_path", ["model=hf", "model.name_or_path={tmp}/no_model"],
     ["model path '{tmp}/no_model'", "model.name_or_path", "does not exist"]),
    ("model_folder", ["model=hf", "model.name_or_path={tmp}"], ["model folder '{tmp}'", "has no config.json"]),
    ("model_hub_offline", ["model=hf", "model.name_or_path=nobody/no-such-model"],
     ["model 'nobody/no-such-model'", "not in the Hugging Face cache", "the hub is offline (HF_HUB_OFFLINE"]),
    ("model_unset", ["model=hf"], ["model 'hf' needs model.name_or_path"]),
    ("model_package", ["model=gemma3_270m", "model.package=no_such_gguf_package"],
     ["model 'gemma3_270m' needs the Python package 'no_such_gguf_package'", "offline-models"]),
    # nothing to score
    ("no_eval_rows", ["data.max_eval_per_task=0"], ["data.max_eval_per_task=0 leaves nothing to score"]),
    ("no_eval_variants", ["template.eval_variants=[]"], ["template.eval_variants is empty: nothing to score"]),
    ("no_suite_eval_rows", ["tasks.eval_rows=0"], ["tasks.eval_rows=0 leaves nothing to score"]),
    ("no_heldout", ["heldout.clusters=[]"], ["no held-out cluster given", "heldout.clusters"]),
    # config groups, catalogue and split
    ("experiment", ["+experiment=nope"], ["unknown experiment config 'nope'", "ablation"]),
    ("cluster_of_catalogue", ["tasks=control", "heldout=nli"],
     ["unknown cluster 'nli' (config key `heldout.clusters`)", "choose"]),
    ("cluster_in_experiment", ["+experiment=ablation", "hydra.sweeper.params.heldout=sentiment"],
     ["unknown cluster 'sentiment'", "heldout.clusters"]),
    ("launcher_key", ["+experiment=ablation", "hydra/launcher=basic", "hydra.launcher.n_jobs=2"],
     ["unknown config key 'hydra.launcher.n_jobs'", "BasicLauncherConf"]),
    ("train_only", ["heldout.train_only=[misk]"], ["unknown cluster 'misk'", "heldout.train_only",
                                                   "Did you mean 'misc'?"]),
    ("extra_path", ["tasks.include=[{path: {tmp}/none}]"], ["included task path '{tmp}/none' does not exist"]),
    ("template_layout", [f"tasks.include=[{{path: {FIX / 'custom_bad_layout'}}}]"],
     ["tone_check.yaml': task 'tone_check' template 'options_first': a classification template must end with a line "
      "holding only {options}"]),
    # conflicting choices
    ("lora_without_targets", ["train.peft=lora", "model=hf", "model.arch=causal",
                              "model.name_or_path={tmp}/made_up_model"],
     ["model 'hf' is of type 'made_up_lm'", "no default LoRA target modules", "train.peft.target_modules"]),
    # credentials
    ("secret_api_key", ["+logger.api_key=s3cr3t-value"], ["`logger.api_key` looks like a credential",
                                                          ".hydra/overrides.yaml", "WANDB_API_KEY", "HF_TOKEN"]),
    ("secret_token", ["+wandb.token=s3cr3t-value"], ["`wandb.token` looks like a credential"]),
    ("secret_hf_token", ["++hf_token=s3cr3t-value"], ["`hf_token` looks like a credential"]),
    ("secret_apikey", ["+logger.apikey=s3cr3t-value"], ["`logger.apikey` looks like a credential"]),
    ("secret_password", ["+db.password=s3cr3t-value"], ["`db.password` looks like a credential"]),
    ("secret_in_mapping", ["logger={backend: wandb, api_key: s3cr3t-value}"], ["`logger.api_key` looks like"]),
    ("secret_env_set", ["hydra.job.env_set.WANDB_API_KEY=s3cr3t-value"], ["WANDB_API_KEY` looks like a credential"]),
]
# Command lines that pass every check and reach Hydra's job (there, the marker).
VALID = [
    ("defaults", []),
    ("env_reference", ["+logger.api_key=${oc.env:WANDB_API_KEY}"]),
    ("untuned_ignores_train", ["template=untuned", "train.steps=0"]),
    ("suite_with_extra", [f"tasks.include=[{{path: {FIX / 'bigbench'}, cluster: puzzles}}]",
                          "heldout.clusters=[puzzles]"]),
    ("sweep", ["-m", "seed=0,1", "heldout=sentiment,nli"]),
    ("experiment", ["+experiment=ablation"]),
    ("experiment_sequential", ["+experiment=ablation", "hydra/launcher=basic", "threads=null"]),
    ("lora", ["train.peft=lora", "model=tiny_causal"]),
    ("max_new_tokens_is_no_secret", ["scoring.max_new_tokens=8", "model.config.num_key_value_heads=4",
                                     "model=tiny_causal"]),
]

DRIVER = textwrap.dedent("""
    import contextlib, io, json, sys, time
    import flanlab.__main__ as entry

    def reached_hydra():
        sys.exit(REACHED_HYDRA)

    entry.main = reached_hydra
    out = []
    for args in json.load(sys.stdin):
        sys.argv = ["flanlab", *args]
        err, started = io.StringIO(), time.perf_counter()
        with contextlib.redirect_stderr(err):
            try:
                entry.cli()
                code = 0
            except SystemExit as stop:
                code = stop.code
        out.append({"code": code, "stderr": err.getvalue(), "seconds": time.perf_counter() - started})
    print("RESULTS " + json.dumps(out))
""").replace("REACHED_HYDRA", str(REACHED_HYDRA))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1", "FLANLAB_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT)}
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def _fill(items: list[str], tmp: Path) -> list[str]:
    return [item.replace("{tmp}", str(tmp)) for item in items]


def _prepare(tmp: Path) -> None:
    (tmp / "made_up_model").mkdir()
    (tmp / "made_up_model" / "config.json").write_text(json.dumps({"model_type": "made_up_lm"}))


def _drive(tmp_path: Path, commands: list[list[str]]) -> list[dict]:
    run_dirs = [f"hydra.run.dir={tmp_path / 'runs' / str(i)}" for i in range(len(commands))]
    sweep_dirs = [f"hydra.sweep.dir={tmp_path / 'sweeps' / str(i)}" for i in range(len(commands))]
    payload = json.dumps([[*c, r, s] for c, r, s in zip(commands, run_dirs, sweep_dirs, strict=True)])
    proc = subprocess.run([sys.executable, "-c", DRIVER], input=payload, cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=600)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULTS ")), None)
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "sweeps").exists()  # Hydra made no folder
    return json.loads(line.removeprefix("RESULTS "))


def _error_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "HYDRA_FULL_ERROR" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith("flanlab: error:")]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


@pytest.mark.slow
def test_every_bad_input_is_one_line_before_any_work(tmp_path):
    _prepare(tmp_path)
    results = _drive(tmp_path, [_fill(args, tmp_path) for _, args, _ in CASES])
    failures = []
    for (name, _, needles), result in zip(CASES, results, strict=True):
        if result["code"] != 2:
            failures.append(f"{name}: exit code {result['code']}: {result['stderr'][-500:]}")
            continue
        line = _error_line(result["stderr"])
        missing = [n for n in _fill(needles, tmp_path) if n not in line]
        if missing or "s3cr3t-value" in line:
            failures.append(f"{name}: {missing or 'shows the secret'} not in {line!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_valid_command_lines_pass_the_checks(tmp_path):
    results = _drive(tmp_path, [args for _, args in VALID])
    for (name, _), result in zip(VALID, results, strict=True):
        assert result["code"] == REACHED_HYDRA, (name, result["stderr"][-2000:])
        assert "flanlab: error:" not in result["stderr"], (name, result["stderr"][-2000:])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["int_train", "cluster_of_catalogue", "model_hub_offline", "secret_token"])
def test_real_cli_exits_2_with_one_line_and_writes_nothing(tmp_path, name):
    _, args, needles = next(case for case in CASES if case[0] == name)
    run = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "flanlab", *_fill(args, tmp_path), f"hydra.run.dir={run}"],
                          cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    line = _error_line(proc.stderr)
    assert all(n in line for n in _fill(needles, tmp_path)), line
    assert "Traceback" not in proc.stdout and not run.exists()
    assert not any(b"s3cr3t-value" in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_docs_list_every_case():
    """docs/hardening.md has one table row per case, by test id."""
    text = (ROOT / "docs" / "hardening.md").read_text()
    documented = re.findall(r"^\| `(\w+)` \| ``", text, flags=re.MULTILINE)
    assert sorted(documented) == sorted(name for name, _, _ in CASES)
