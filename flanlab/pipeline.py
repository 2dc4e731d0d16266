"""One grid cell, end to end: split, model, (fine-tune), score zero-shot, write results.

``run_cell(cfg)`` is a pure function of the composed config; ``flanlab.__main__`` is a thin
Hydra wrapper around it. Results go to ``<output_dir>/results.json``, written atomically and
last, so a cell either has complete results or none.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from flanlab.audit import enforce as enforce_no_leak
from flanlab.audit import leakage_audit
from flanlab.data.collate import tokenize_mixture
from flanlab.data.mixture import build_mixture
from flanlab.errors import ConfigError
from flanlab.io import atomic_write_json, check_writable_dir
from flanlab.models.load import load_model
from flanlab.models.peft import apply_peft
from flanlab.scoring.aggregate import flat_metrics, task_summary
from flanlab.scoring.heldout import heldout_dev, score_variant
from flanlab.scoring.scorers import make_scorer
from flanlab.scoring.zeroshot import eval_rows, score_tasks
from flanlab.splits import make_split
from flanlab.sweeps.keys import cell_key
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.overlap import remove_overlaps
from flanlab.templates.variants import VARIANTS, check_variant, render_for_scoring
from flanlab.tracking.run import NullTracker, Tracker, scrub, start_tracker
from flanlab.training.distributed import is_main
from flanlab.training.loop import check_train_config, fit

log = logging.getLogger(__name__)
RESULTS_FILE = "results.json"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def tokenizer_corpus(catalogue: Catalogue, rows_per_task: int = 200) -> list[str]:
    """Text a config-built tokenizer learns from: every task's rows under every variant and template.

    The whole catalogue (held-out tasks too) is used, like a pretrained tokenizer's corpus, so one
    tokenizer serves every cell of a grid.
    """
    texts = []
    for name, spec in catalogue.specs.items():
        rows = catalogue.train_data(name)
        for i, row in enumerate(rows.select(range(min(rows_per_task, len(rows))))):
            for variant in VARIANTS:
                for p in render_for_scoring(spec, row, i, variant, include_inverted=True):
                    texts.append(p.input)
                    texts.extend(p.references)
                    texts.extend(p.options or ())
    return texts


def check_cell(cfg: DictConfig) -> None:
    """Validate the cell's choices before any expensive work."""
    if cfg.template.train_variant is not None:
        check_variant(cfg.template.train_variant, key="template.train_variant")
        check_train_config(cfg.train)
    if not cfg.template.eval_variants:
        raise ConfigError("template.eval_variants is empty: nothing to score")
    for v in cfg.template.eval_variants:
        check_variant(v, key="template.eval_variants")


def run_cell(cfg: DictConfig, output_dir: str | Path, choices: dict[str, str] | None = None,
             group: str | None = None) -> dict[str, Any]:
    """Train (unless the template is ``untuned``) and score one cell; return and save its results.

    ``group`` is the W&B group (experiment and sweep); it defaults to ``experiment_name``.
    """
    output_dir = Path(output_dir)
    check_cell(cfg)
    check_writable_dir(output_dir)  # fail before any work, not at the end
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    seed_everything(int(cfg.seed))
    started = time.perf_counter()

    catalogue: Catalogue = instantiate(cfg.tasks)
    catalogue.set_bad_rows(cfg.data.get("bad_rows", "skip"))
    catalogue.check_clusters(cfg.heldout.clusters, key="heldout.clusters")
    split = make_split(catalogue.clusters, cfg.heldout.clusters, cfg.split.related, cfg.heldout.get("train_only"),
                       eval_only=cfg.template.train_variant is None)
    log.info("held out %s; training clusters %s; removed %s", split.heldout, split.train, dict(split.removed))
    train_tasks, removed_tasks = remove_overlaps(
        [catalogue.spec(t) for c in split.train for t in catalogue.clusters[c]],
        [catalogue.spec(t) for c in split.heldout for t in catalogue.clusters[c]])
    if removed_tasks:
        log.info("tasks removed from training (they share data with held-out tasks): %s", removed_tasks)

    loaded = load_model(cfg.model, corpus=lambda: tokenizer_corpus(catalogue), cache_dir=cfg.paths.cache_dir)
    loaded = apply_peft(loaded, cfg.train.get("peft"))  # null = full fine-tuning
    train_variant = cfg.template.train_variant
    tracker: Tracker = NullTracker()
    exit_code = 1
    try:
        tracker = NullTracker() if not is_main() else start_tracker(  # under torchrun only rank 0 logs
            cfg, name=output_dir.name, group=group or cfg.experiment_name, job_type=train_variant or "untuned",
            tags=[f"heldout:{c}" for c in split.heldout] + [f"seed:{cfg.seed}"], output_dir=str(output_dir),
            choices=choices,
        )
        results: dict[str, Any] = {
            "cell": {"train_variant": train_variant or "untuned", "heldout": list(split.heldout),
                     "seed": int(cfg.seed), "model": cfg.model.name, "template": cfg.template.name,
                     "key": cell_key(cfg)},
            "split": {**split.as_dict(), "removed_tasks": removed_tasks},
            "model": {"name": loaded.name, "arch": loaded.arch, "parameters": loaded.num_parameters(),
                      "trainable_parameters": loaded.num_trainable_parameters()},
            "config": scrub(OmegaConf.to_container(cfg, resolve=True)),  # no credential-like keys on disk
        }
        metrics: dict[str, float] = {}
        heldout_tasks = [t for c in split.heldout for t in catalogue.clusters[c]]
        heldout_rows = eval_rows(catalogue, heldout_tasks, int(cfg.data.max_eval_per_task))
        if train_variant is not None:
            mixture = build_mixture(
                catalogue, split, train_variant, max_per_task=int(cfg.data.max_train_per_task), seed=int(cfg.seed),
                num_templates=cfg.template.num_templates, options_in_prompt=bool(cfg.template.options_in_prompt),
                tasks=train_tasks,
            )
            mixture_hash = mixture.fingerprint()  # equal seeds, equal hashes (tests/integration/test_determinism.py)
            log.info("training mixture: %d examples, hash %s", len(mixture.examples), mixture_hash)
            tracker.summary({"train/mixture_hash": mixture_hash})
            results["audit"] = leakage_audit(catalogue, split, mixture.rows_per_task, heldout_rows,
                                             removed_tasks=removed_tasks)
            atomic_write_json(output_dir / "leakage_audit.json", results["audit"])
            metrics |= {"audit/exact_duplicates": results["audit"]["exact_duplicates"],
                        "audit/ngram13_overlap_rate": results["audit"]["ngram_overlap_rate"]}
            enforce_no_leak(results["audit"], cfg.data.get("on_leak", "error"))
            data = tokenize_mixture(mixture.examples, loaded.tokenizer, loaded.arch,
                                    max_input_len=int(cfg.train.max_input_len),
                                    max_target_len=int(cfg.train.max_target_len))
            fitted = fit(loaded, data, cfg.train, tracker, seed=int(cfg.seed),
                         checkpoint_dir=output_dir / "checkpoints", resume=cfg.get("resume", "auto"))
            if not is_main():  # other torchrun ranks only help train; rank 0 scores and writes
                exit_code = 0
                return {"metrics": {}}
            results["train"] = {"steps": fitted.steps, "final_loss": fitted.final_loss, "seconds": fitted.seconds,
                                "tokens_per_s": fitted.tokens_per_s, "losses": fitted.losses,
                                "examples": len(mixture.examples), "rows_per_task": mixture.rows_per_task,
                                "mixture_hash": mixture_hash, "nonpad_fraction": fitted.nonpad_fraction,
                                "mfu": fitted.mfu, "peak_flops": fitted.peak_flops,
                                "peak_flops_source": fitted.peak_flops_source, "global_batch": fitted.global_batch,
                                "resumed_from": fitted.resumed_from}
        scorer = make_scorer(loaded, cfg.scoring)
        opts = {"max_new_tokens": int(cfg.scoring.max_new_tokens),
                "options_in_prompt": bool(cfg.template.options_in_prompt),
                "length_normalize": bool(cfg.scoring.get("length_normalize", False))}
        results["zeroshot"] = {}
        dev = heldout_dev(catalogue, heldout_tasks, cfg.scoring)  # best-dev-template slice (None = off)
        for variant in cfg.template.eval_variants:
            results["zeroshot"][variant], scored = score_variant(scorer, catalogue, heldout_rows, variant, cfg.scoring,
                                                                 dev=dev, seed=int(cfg.seed), **opts)
            metrics |= scored
        if train_variant is not None:
            indist_rows = eval_rows(catalogue, train_tasks, int(cfg.data.indist_eval_per_task))
            indist = score_tasks(scorer, catalogue, indist_rows, train_variant, **opts)
            results["indist"] = {train_variant: {"templates": [r.as_dict() for r in indist],
                                                 "tasks": task_summary(indist)}}
            metrics |= flat_metrics("indist", train_variant, indist)
        results["bad_rows"] = {"policy": catalogue.bad_rows, "skipped": dict(catalogue.bad_row_counts)}
        metrics["data/skipped_rows"] = sum(catalogue.bad_row_counts.values())
        results["metrics"] = metrics
        results["seconds"] = time.perf_counter() - started
        tracker.summary(metrics)
        atomic_write_json(output_dir / RESULTS_FILE, results)
        tracker.log_results(results, output_dir / RESULTS_FILE)
        exit_code = 0
        return results
    finally:
        tracker.finish(exit_code=exit_code)
