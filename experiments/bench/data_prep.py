"""Data-preparation speed: load, preprocess, render (instruction variant) and tokenise the full mirror mixture.

Runs the whole preparation twice, each in a fresh process on the same ``datasets`` cache folder: the
first run is cold (JSON parsing, preprocessing, rendering and tokenising through batched ``datasets.map``),
the second reads what it can from the cache. Torch and tokenizers are limited to the given threads.

    python experiments/bench/data_prep.py --mirror ../shared/data/flan_mirror --threads 2

Last line: JSON with examples, seconds and examples/s for both runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIRROR_TASKS_YAML = Path(__file__).resolve().parents[2] / "conf" / "tasks" / "flan_mirror.yaml"


def prepare(mirror: str, tokenizer_dir: str) -> dict:
    """One full preparation pass; returns counts and seconds."""
    import datasets
    import yaml
    from transformers import PreTrainedTokenizerFast

    from flanlab.data.collate import tokenize_mixture
    from flanlab.data.mixture import build_mixture
    from flanlab.splits import make_split
    from flanlab.tasks.hub import HubCatalogue

    datasets.disable_progress_bars()
    base = yaml.safe_load(MIRROR_TASKS_YAML.read_text())["base"]
    start = time.perf_counter()
    cat = HubCatalogue(tasks=base["tasks"], mirror_dir=mirror, mirror_aliases=base["mirror_aliases"])
    every = list(cat.clusters)
    split = make_split([*every, "_none"], ["_none"])  # hold out nothing real: the full mixture trains
    mixture = build_mixture(cat, split, "instruction", max_per_task=30000, seed=0)
    rendered = time.perf_counter()
    tok = PreTrainedTokenizerFast.from_pretrained(tokenizer_dir)
    data = tokenize_mixture(mixture.examples, tok, "seq2seq", max_input_len=512, max_target_len=64)
    done = time.perf_counter()
    return {"examples": len(data), "tasks": len(mixture.tasks), "render_s": rendered - start,
            "tokenize_s": done - rendered, "total_s": done - start,
            "tokens": int(sum(len(x) for x in data["input_ids"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", default="../shared/data/flan_mirror")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("MIRROR", "TOKENIZER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(prepare(*args.child)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        from flanlab.models.tokenizer import train_bpe

        tokenizer_dir = str(Path(tmp) / "tok")
        files = sorted(Path(args.mirror).rglob("train.jsonl"))
        corpus = [line for p in files for line in p.read_text().splitlines()[:200]]
        train_bpe(corpus, 2000).save_pretrained(tokenizer_dir)
        env = {**os.environ, "HF_DATASETS_CACHE": str(Path(tmp) / "hf"), "HF_DATASETS_OFFLINE": "1",
               "HF_HUB_OFFLINE": "1",
               "OMP_NUM_THREADS": str(args.threads), "RAYON_NUM_THREADS": str(args.threads),
               "TOKENIZERS_PARALLELISM": "true"}
        runs = []
        for label in ("cold", "cached"):
            wall = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--child", args.mirror, tokenizer_dir], env=env,
                                 capture_output=True, text=True, check=True)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            run["process_s"] = time.perf_counter() - wall
            runs.append(run)
            print(f"{label}: {run['examples']} examples from {run['tasks']} tasks, prep {run['total_s']:.1f}s "
                  f"(render {run['render_s']:.1f}s, tokenise {run['tokenize_s']:.1f}s), "
                  f"process {run['process_s']:.1f}s")
    cold, cached = runs
    print(json.dumps({"bench": "data_prep", "threads": args.threads, "examples": cold["examples"],
                      "tasks": cold["tasks"], "input_tokens": cold["tokens"],
                      "cold_s": round(cold["total_s"], 2),
                      "cold_examples_per_s": round(cold["examples"] / cold["total_s"]),
                      "cached_s": round(cached["total_s"], 2),
                      "cached_examples_per_s": round(cached["examples"] / cached["total_s"]),
                      "speedup_from_cache": round(cold["total_s"] / cached["total_s"], 2)}))


if __name__ == "__main__":
    main()
