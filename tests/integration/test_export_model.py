"""A trained tiny cell keeps its model (``train.save_model``) and ``flanlab export`` turns it into a folder that plain
transformers and peft load in a process that never imports flanlab, scoring as flanlab does (issue 28).

Cells are built with the pipeline's own stages (``make_cell``), so the model they keep is the one the pipeline's
training stage saves; ``tests/integration/test_export_lm_eval.py`` reuses ``make_cell``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from flanlab.export_command import main
from flanlab.pipeline import (
    cell_header,
    check_cell,
    load_cell_model,
    prepare,
    score_stage,
    seed_everything,
    train_stage,
    write_results,
)
from flanlab.scoring.scorers import SCORERS
from flanlab.tracking.run import NullTracker
from tests.conftest import CONF_DIR

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]  # loads run in fresh interpreters

# A tiny cell (conf/debug/tiny.yaml) with few scored rows and no dev slice.
TINY = ["+debug=tiny", "logger=none", "data.max_eval_per_task=4", "tasks.eval_rows=8",
        "scoring.bootstrap_resamples=50", "scoring.best_dev_rows=0"]
PAIRS = [("List: cake hill fox\nIs there a place in the list? Answer yes or no.", "yes"),
         ("List: cake hill fox\nIs there a place in the list? Answer yes or no.", "no"),
         ("Name the colour of the red box.", "the red box is blue")]


def compose_cell(tmp: Path, *overrides: str):
    """The config of a tiny cell with its cache under ``tmp``."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=[*TINY, *overrides, f"paths.cache_dir={tmp / 'cache'}"])


def make_cell(tmp: Path, mode: str, *overrides: str):
    """Train and score one tiny cell into ``tmp/cell`` as ``run_cell`` does; its training stage keeps the model as
    ``mode`` says (the override ``train.save_model=<mode>``). Return (cell folder, the in-memory model, the config)."""
    cfg = compose_cell(tmp, f"train.save_model={mode}", *overrides)
    out, started = tmp / "cell", time.perf_counter()
    check_cell(cfg)
    seed_everything(int(cfg.seed))
    prep = prepare(cfg, out)
    loaded = load_cell_model(cfg, prep)
    results, metrics = cell_header(cfg, prep, loaded), {}
    train_stage(cfg, prep, loaded, NullTracker(), out, results, metrics)
    score_stage(cfg, prep, loaded, results, metrics)
    write_results(out, prep, results, metrics, started, NullTracker())
    return out, loaded, cfg


LOAD_SCRIPT = r"""
import json, sys
import torch
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer
folder, how, arch, pairs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
auto = AutoModelForSeq2SeqLM if arch == "seq2seq" else AutoModelForCausalLM
if how == "plain":
    model = auto.from_pretrained(folder)
elif how == "peft":
    from peft import PeftModel
    model = PeftModel.from_pretrained(auto.from_pretrained(folder + "/base"), folder)
else:
    from peft import AutoPeftModelForCausalLM, AutoPeftModelForSeq2SeqLM
    model = (AutoPeftModelForSeq2SeqLM if arch == "seq2seq" else AutoPeftModelForCausalLM).from_pretrained(folder)
tok = AutoTokenizer.from_pretrained(folder)
model.eval()
out = []
with torch.no_grad():
    for ctx, cont in pairs:
        if arch == "seq2seq":
            ids = torch.tensor([tok(ctx)["input_ids"]])
            target = tok(cont, add_special_tokens=False)["input_ids"]
            logits = model(input_ids=ids, labels=torch.tensor([target])).logits[0]
        else:
            c, t = tok(ctx)["input_ids"], tok(" " + cont, add_special_tokens=False)["input_ids"]
            logits = model(input_ids=torch.tensor([c + t])).logits[0, len(c) - 1 : -1]
            target = t
        logp = torch.log_softmax(logits.float(), -1)
        out.append(sum(logp[i, k].item() for i, k in enumerate(target)))
flanlab = sorted(m for m in sys.modules if m.split(".")[0] == "flanlab")
print(json.dumps({"logliks": out, "flanlab_modules": flanlab}))
"""


def load_elsewhere(folder: Path, how: str, arch: str, cwd: Path) -> list[float]:
    """Log-likelihoods of ``PAIRS`` from ``folder`` loaded by a fresh interpreter with transformers/peft only
    (``-I``: no PYTHONPATH, no script or working folder on sys.path); asserts it imported no flanlab module."""
    proc = subprocess.run([sys.executable, "-I", "-c", LOAD_SCRIPT, str(folder), how, arch, json.dumps(PAIRS)],
                          cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
                               "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["flanlab_modules"] == []
    return result["logliks"]


def flanlab_logliks(model, tokenizer, arch: str) -> list[float]:
    """flanlab's scorer on ``PAIRS`` (no EOS scored, as the load script does)."""
    return SCORERS[arch](model, tokenizer, batch_size=4, include_eos=False).loglikelihoods(PAIRS)


def test_a_full_model_exports_and_loads_with_plain_transformers(tmp_path):
    cell, loaded, _ = make_cell(tmp_path, "full", "tasks=control", "heldout.clusters=[presence]", "model=tiny_t5")
    saved = json.loads((cell / "results.json").read_text())["train"]["saved_model"]
    assert saved["kind"] == "full" and saved["path"] == "model" and (cell / "model" / "model.safetensors").is_file()
    assert main(["export", str(cell), str(tmp_path / "out")]) == 0
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json", "README.md"} <= files
    theirs = load_elsewhere(tmp_path / "out", "plain", "seq2seq", tmp_path)
    ours = flanlab_logliks(loaded.model, loaded.tokenizer, "seq2seq")
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < 1e-4
    assert len({round(v, 3) for v in ours}) == len(ours)


@pytest.fixture(scope="module")
def lora_cell(tmp_path_factory):
    """A LoRA tiny_causal cell (adapters kept by the default, auto) with a visible adapter: a high learning rate."""
    tmp = tmp_path_factory.mktemp("lora")
    cell, loaded, _ = make_cell(tmp, "auto", "tasks=control", "heldout.clusters=[presence]", "model=tiny_causal",
                                "train.peft=lora", "train.lr=0.02")
    return tmp, cell, loaded


def test_auto_keeps_a_lora_adapter_and_its_config_built_base(lora_cell):
    _, cell, loaded = lora_cell
    train = json.loads((cell / "results.json").read_text())["train"]
    assert train["saved_model"]["kind"] == "adapter" and train["saved_model"]["base_source"] == "saved"
    assert train["adapter"] == str(cell / "adapter")
    assert (cell / "adapter" / "adapter_config.json").is_file() and (cell / "base_model" / "config.json").is_file()
    from transformers import AutoModelForCausalLM

    from flanlab.models.load import LoadedModel
    from flanlab.models.peft import load_adapter

    base = AutoModelForCausalLM.from_pretrained(cell / "base_model")  # the kept base passes the fingerprint check
    again = load_adapter(LoadedModel(base, loaded.tokenizer, "causal", loaded.name), cell / "adapter", trainable=False)
    assert flanlab_logliks(again.model, loaded.tokenizer, "causal") == pytest.approx(
        flanlab_logliks(loaded.model, loaded.tokenizer, "causal"), abs=1e-5)


def test_a_lora_export_loads_with_plain_peft_and_merges_to_the_same_scores(lora_cell):
    tmp, cell, loaded = lora_cell
    assert main(["export", str(cell), str(tmp / "adapter_out")]) == 0
    assert main(["export", str(cell), str(tmp / "merged_out"), "--merge"]) == 0
    config = json.loads((tmp / "adapter_out" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str((tmp / "adapter_out" / "base").resolve())
    assert not (tmp / "merged_out" / "adapter_config.json").exists()
    ours = flanlab_logliks(loaded.model, loaded.tokenizer, "causal")
    wrapped = load_elsewhere(tmp / "adapter_out", "peft", "causal", tmp)
    auto = load_elsewhere(tmp / "adapter_out", "auto_peft", "causal", tmp)
    merged = load_elsewhere(tmp / "merged_out", "plain", "causal", tmp)
    for theirs in (wrapped, auto, merged):
        assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < 1e-4
    with loaded.model.disable_adapter(), torch.no_grad():
        base_only = flanlab_logliks(loaded.model, loaded.tokenizer, "causal")
    assert max(abs(a - b) for a, b in zip(ours, base_only, strict=True)) > 1e-3, "the adapter changes nothing"


def test_export_module_entry_and_one_line_errors(tmp_path, lora_cell):
    """``python -m flanlab.export_command``; a cell without a saved model, and --push offline: one line each."""
    _, cell, _ = lora_cell
    results = json.loads((cell / "results.json").read_text())
    bare = tmp_path / "bare"
    bare.mkdir()
    results["train"] = {**results["train"], "saved_model": None}
    results["train"].pop("adapter")
    (bare / "results.json").write_text(json.dumps(results))
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    cases = [(["export", str(bare), str(tmp_path / "o1")], "train.save_model"),
             (["export", str(cell), str(tmp_path / "o2"), "--push", "someone/tiny"], "offline")]
    for args, named in cases:
        proc = subprocess.run([sys.executable, "-m", "flanlab.export_command", *args], cwd=Path(__file__).parents[2],
                              capture_output=True, text=True, timeout=300, env=env)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("flanlab: error: "), proc.stderr
        assert named in lines[0]
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
