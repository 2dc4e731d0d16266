#!/usr/bin/env bash
# One command on a CUDA machine: a short bf16 fine-tune of a ~60M-parameter T5 built from config
# (d_model 512, 8+8 layers, 8 heads, d_ff 2048; no download) on the generated suite, printing
# tokens/s and MFU (against the assumed peak it also prints), then scores a few prompts with the
# scorer make_scorer builds (scoring.device=auto: where training ran) and prints the device it used.
# Last line: JSON.
#
#   bash experiments/bench/gpu_check.sh                      # defaults below
#   STEPS=300 BATCH=128 BATCHING=packed COMPILE=true bash experiments/bench/gpu_check.sh
#   DEVICE=cpu PRECISION=fp32 STEPS=3 BATCH=4 bash experiments/bench/gpu_check.sh   # smoke test without a GPU
#   SCORING_DEVICE=cpu bash experiments/bench/gpu_check.sh    # score on another device than training
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_MODE=disabled
STEPS=${STEPS:-200} BATCH=${BATCH:-64} BATCHING=${BATCHING:-bucketed} PRECISION=${PRECISION:-bf16} \
COMPILE=${COMPILE:-false} DEVICE=${DEVICE:-cuda} LAYERS=${LAYERS:-8} SCORING_DEVICE=${SCORING_DEVICE:-auto} \
python - <<'PY'
import json, os, time

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from flanlab.data.collate import tokenize_mixture
from flanlab.data.mixture import build_mixture
from flanlab.models.load import load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.scorers import make_scorer
from flanlab.splits import make_split
from flanlab.training.loop import fit

env = os.environ
if env["DEVICE"] == "cuda" and not torch.cuda.is_available():
    raise SystemExit("gpu_check: no CUDA device visible (set DEVICE=cpu for a smoke test)")
layers = env["LAYERS"]
overrides = [
    "model=tiny_t5", "model.config.d_model=512", "model.config.d_kv=64", "model.config.d_ff=2048",
    "model.config.num_heads=8", f"model.config.num_layers={layers}", f"model.config.num_decoder_layers={layers}",
    f"train.steps={env['STEPS']}", f"train.batch_size={env['BATCH']}", f"train.batching={env['BATCHING']}",
    f"train.precision={env['PRECISION']}", f"train.compile={env['COMPILE']}", f"train.device={env['DEVICE']}",
    "train.lr=3e-4", "train.warmup_steps=20", "train.log_every=50", "train.progress=false",
    "heldout=nli", "template=instruction", "tasks.train_rows=1000", f"scoring.device={env['SCORING_DEVICE']}",
]
with initialize_config_dir(config_dir=os.path.abspath("conf"), version_base="1.3"):
    cfg = compose(config_name="config", overrides=overrides)
catalogue = instantiate(cfg.tasks)
split = make_split(catalogue.clusters, cfg.heldout.clusters, cfg.split.related, cfg.heldout.get("train_only"))
torch.manual_seed(0)
loaded = load_model(cfg.model, corpus=lambda: tokenizer_corpus(catalogue), cache_dir=cfg.paths.cache_dir)
mixture = build_mixture(catalogue, split, "instruction", max_per_task=1000, seed=0)
data = tokenize_mixture(mixture.examples, loaded.tokenizer, "seq2seq", max_input_len=128, max_target_len=32)


class Printer:
    def log(self, metrics, step=None):
        print(f"step {step}: loss {metrics['train/loss']:.3f}  {metrics['train/tokens_per_s']:,.0f} tok/s  "
              f"MFU {metrics['train/mfu']:.3%}  non-pad {metrics['train/nonpad_fraction']:.3f}", flush=True)


params = loaded.num_parameters()
device = torch.cuda.get_device_name(0) if env["DEVICE"] == "cuda" else "cpu"
print(f"model: T5 from config, {params / 1e6:.1f}M parameters; device: {device}; precision {env['PRECISION']}")
res = fit(loaded, data, cfg.train, Printer(), seed=0)
print(f"tokens/s (non-pad, encoder + decoder): {res.tokens_per_s:,.0f}")
print(f"MFU: {res.mfu:.2%} of an assumed peak {res.peak_flops / 1e12:.1f} TFLOP/s ({res.peak_flops_source})")

# Score a few training prompts on the scoring device (the model stays where it trained).
inputs = list(mixture.examples["input"][:16])
scorer = make_scorer(loaded, cfg.scoring)
start = time.perf_counter()
lls = scorer.loglikelihoods([(x, o) for x in inputs for o in ("yes", "no", "it is not possible to tell")])
outputs = scorer.generate(inputs[:4], max_new_tokens=8)
if env["DEVICE"] == "cuda" and env["SCORING_DEVICE"] == "auto" and scorer.device.type != "cuda":
    raise SystemExit(f"gpu_check: the scorer ran on {scorer.device}, not on the training GPU")
scoring_s = time.perf_counter() - start
print(f"scoring: {len(lls)} log-likelihoods + {len(outputs)} generations on {scorer.device} "
      f"({str(scorer.dtype).removeprefix('torch.')}) in {scoring_s:.2f}s; first output {outputs[0]!r}")
print(json.dumps({"device": device, "parameters": params, "precision": env["PRECISION"], "steps": res.steps,
                  "global_batch": res.global_batch, "batching": env["BATCHING"], "compile": env["COMPILE"],
                  "tokens_per_s": round(res.tokens_per_s), "mfu": round(res.mfu, 4), "peak_flops": res.peak_flops,
                  "peak_flops_source": res.peak_flops_source, "nonpad_fraction": round(res.nonpad_fraction, 4),
                  "final_loss": round(res.final_loss, 4), "seconds": round(res.seconds, 1),
                  "scoring_device": str(scorer.device), "scoring_dtype": str(scorer.dtype).removeprefix("torch."),
                  "scoring_requests": len(lls), "scoring_seconds": round(scoring_s, 2)}))
PY
