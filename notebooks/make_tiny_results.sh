#!/usr/bin/env bash
# Tiny results for the notebooks, in seconds rather than the real studies' minutes (CI's notebook test runs the
# notebooks on them; the notebooks' own defaults are the real sweeps, outputs/<experiment_name>/sweep): a tiny
# ablation and a tiny num-clusters sweep on the control suite in OUT_DIR, and a tiny prompt-semantics sweep in
# OUT_DIR_prompt_semantics, a one-cell chain-of-thought sweep (with the instruction-response fixtures in its
# mixture) in OUT_DIR_cot, and a two-cell template-mixing sweep (zero-shot and mixed, scored 0- and 3-shot) in
# OUT_DIR_mixing. The sweeps run two at a time, each one cell at a time on one thread
# (hydra/launcher=basic: no worker processes to start), with their output in OUT_DIR_logs (about 50 s on 2 cores).
# Usage: notebooks/make_tiny_results.sh [OUT_DIR]   (default: outputs/tiny, relative to the repository root)
# Then pass them as a parameter (relative paths are from notebooks/), e.g.
#   papermill notebooks/01_template_ablation.ipynb /tmp/01.ipynb --cwd notebooks -p results_dir ../outputs/tiny
#   (02 and 04 read ../outputs/tiny too, 05 ../outputs/tiny_prompt_semantics, 06 ../outputs/tiny_cot)
# Each cell is conf/debug/tiny.yaml's (12 steps, a few rows); +debug=tiny comes after +experiment=..., so it wins.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-outputs/tiny}"
LOGS="${OUT}_logs"
mkdir -p "$LOGS"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_EVALUATE_OFFLINE=1 WANDB_MODE=offline

sweep() {  # sweep NAME ARGS...: one sweep, its output in $LOGS/NAME.log (its last lines on stderr if it fails)
  local log="$LOGS/$1.log"
  shift
  python -m flanlab "$@" +debug=tiny hydra/launcher=basic >"$log" 2>&1 || { tail -n 40 "$log" >&2; return 1; }
}

sweep ablation +experiment=ablation template=untuned,no_template,instruction seed=0 hydra.sweep.dir="$OUT/ablation" &
first=$!
sweep num_clusters +experiment=num_clusters seed=0 'heldout.train_only=[recall],[recall,presence_seen]' \
  hydra.sweep.dir="$OUT/num_clusters" logger=none &
second=$!
wait "$first"
wait "$second"

sweep prompt_semantics +experiment=prompt_semantics template=instruction seed=0 \
  hydra.sweep.dir="${OUT}_prompt_semantics" logger=none &
first=$!
INSTRUCT='[{source: alpaca, path: tests/fixtures/instruct/alpaca.json}, {source: dolly, path: tests/fixtures/instruct/dolly.jsonl}, {source: oasst1, path: tests/fixtures/instruct/oasst.jsonl, turns: every}, {source: sharegpt, path: tests/fixtures/instruct/sharegpt.json}]'
sweep cot +experiment=cot_ablation mixture.cot_fraction=0.15 seed=0 "tasks.include=$INSTRUCT" \
  hydra.sweep.dir="${OUT}_cot" logger=none &
second=$!
wait "$first"
wait "$second"

sweep mixing +experiment=template_mixing template=instruction,fewshot_mixed seed=0 \
  hydra.sweep.dir="${OUT}_mixing" logger=none
echo "tiny results in $OUT, ${OUT}_prompt_semantics, ${OUT}_cot and ${OUT}_mixing (logs in $LOGS)"
