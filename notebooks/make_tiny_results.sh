#!/usr/bin/env bash
# The notebooks' default results: a tiny ablation and a tiny num-clusters sweep on the control suite in OUT_DIR, and
# a tiny prompt-semantics sweep in OUT_DIR_prompt_semantics and a one-cell chain-of-thought sweep (with the
# instruction-response fixtures in its mixture) in OUT_DIR_cot (about 3 minutes on 2 cores).
# Usage: notebooks/make_tiny_results.sh [OUT_DIR]   (default: outputs/tiny, relative to the repository root)
# Each cell is conf/debug/tiny.yaml's (12 steps, a few rows); +debug=tiny comes after +experiment=..., so it wins.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-outputs/tiny}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_EVALUATE_OFFLINE=1 WANDB_MODE=offline
python -m flanlab +experiment=ablation template=untuned,no_template,instruction seed=0 \
  hydra.sweep.dir="$OUT/ablation" +debug=tiny
python -m flanlab +experiment=num_clusters seed=0 \
  'heldout.train_only=[recall],[recall,presence_seen]' \
  hydra.sweep.dir="$OUT/num_clusters" logger=none +debug=tiny
python -m flanlab +experiment=prompt_semantics template=instruction seed=0 \
  hydra.sweep.dir="${OUT}_prompt_semantics" logger=none +debug=tiny
INSTRUCT='[{source: alpaca, path: tests/fixtures/instruct/alpaca.json}, {source: dolly, path: tests/fixtures/instruct/dolly.jsonl}, {source: oasst1, path: tests/fixtures/instruct/oasst.jsonl, turns: every}, {source: sharegpt, path: tests/fixtures/instruct/sharegpt.json}]'
python -m flanlab +experiment=cot_ablation mixture.cot_fraction=0.15 seed=0 "tasks.include=$INSTRUCT" \
  hydra.sweep.dir="${OUT}_cot" logger=none +debug=tiny
