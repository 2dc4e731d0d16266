"""One grid cell, end to end, as four named stages: ``prepare`` (catalogue, split, overlaps, scored rows),
``train_stage`` (mixture, ambiguity, leakage audit, fine-tuning), ``score_stage`` (held-out and in-distribution
zero-shot scores) and ``write_results``.

``run_cell(cfg)`` is a pure function of the composed config; ``flanlab.__main__`` is a thin
Hydra wrapper around it. Results go to ``<output_dir>/results.json``, written atomically and
last, so a cell either has complete results or none.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from flanlab.audit import enforce as enforce_no_leak
from flanlab.audit import leakage_audit
from flanlab.config_checks import check_config
from flanlab.data.ambiguity import ambiguity
from flanlab.data.collate import tokenize_mixture
from flanlab.data.fewshot_mix import FewShotMix
from flanlab.data.mixture import Mixture, build_mixture
from flanlab.data.truncation import InputLimit
from flanlab.errors import ConfigError, DataError
from flanlab.export.saving import check_save_model, save_cell_model
from flanlab.faults import memory_fault
from flanlab.io import atomic_write_json, check_writable_dir
from flanlab.models.load import LoadedModel, load_model
from flanlab.models.peft import apply_peft
from flanlab.provenance import cell_provenance
from flanlab.results import CellResults, save_cell_results
from flanlab.scoring.cot import cot_metrics
from flanlab.scoring.cot_config import arm_name, check_cot_config, check_cot_tasks, cot_scoring, mixture_options
from flanlab.scoring.curves import curve_scorer, fixed_rows
from flanlab.scoring.fewshot import FewShot, scored_name
from flanlab.scoring.heldout import heldout_dev, score_options, score_variant
from flanlab.scoring.scorers import make_scorer, scoring_device
from flanlab.scoring.zeroshot import eval_label_histograms, eval_rows
from flanlab.splits import Split, make_split
from flanlab.sweeps.keys import cell_key
from flanlab.sweeps.siblings import match_siblings, sweep_dir_of
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.overlap import remove_overlaps
from flanlab.templates.cot import COT
from flanlab.templates.variants import FLAN_VARIANTS, VARIANTS, VariantContext, render_for_scoring
from flanlab.tracking.run import NullTracker, Tracker, scrub, start_tracker
from flanlab.training.distributed import is_main
from flanlab.training.loop import CurveHook, fit

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def tokenizer_corpus(catalogue: Catalogue, rows_per_task: int = 200, variants: Sequence[str] = (),
                     held_back: int = 0) -> list[str]:
    """Text a config-built tokenizer learns from: every task's rows under FLAN's variants and ``variants`` (the
    cell's scoring variants), every template.

    The whole catalogue (held-out tasks too) is used, like a pretrained tokenizer's corpus, so one
    tokenizer serves every cell of a grid (cells of one grid share their scoring variants).
    """
    texts = []
    context = VariantContext(list(catalogue.specs.values()), held_back=held_back)
    scored = [*FLAN_VARIANTS, *(v for v in dict.fromkeys(variants) if v not in FLAN_VARIANTS)]
    for name, spec in catalogue.specs.items():
        rows = catalogue.train_data(name)
        for i, row in enumerate(rows.select(range(min(rows_per_task, len(rows))))):
            for variant in scored:
                for p in render_for_scoring(spec, row, i, variant, include_inverted=True, context=context):
                    texts.append(p.input)
                    texts.extend(p.references)
                    texts.extend(p.options or ())
    return texts


def check_cell(cfg: DictConfig) -> None:
    """Validate the cell's choices before any expensive work (``flanlab.config_checks``)."""
    check_config(cfg)
    check_cot_config(cfg)
    check_save_model(cfg)


@dataclass
class Prepared:
    """What a cell trains on and scores, decided before any model is loaded."""

    catalogue: Catalogue
    split: Split
    train_tasks: list[str]
    removed_tasks: list[str]
    heldout_rows: dict
    dev: dict | None
    unavailable: dict[str, str] = field(default_factory=dict)
    # Held-out tasks with no dev split choose their template on their first train rows: these, by task, which the
    # oracle (``template.train_heldout``) leaves out of its training draw.
    dev_train_rows: dict[str, list[int]] = field(default_factory=dict)


def prepare(cfg: DictConfig, output_dir: Path | None = None) -> Prepared:
    """Catalogue, split (FLAN's related clusters), tasks removed for shared data, entries that cannot be loaded
    (``data.unavailable``), the scored and dev rows."""
    catalogue: Catalogue = instantiate(cfg.tasks)
    catalogue.set_bad_rows(cfg.data.bad_rows)
    catalogue.check_clusters(cfg.heldout.clusters, key="heldout.clusters")
    split = make_split(catalogue.clusters, cfg.heldout.clusters, cfg.split.related, cfg.heldout.train_only,
                       eval_only=cfg.template.train_variant is None)
    log.info("held out %s; training clusters %s; removed %s", split.heldout, split.train, dict(split.removed))
    train_tasks, removed_tasks = remove_overlaps(
        [catalogue.spec(t) for c in split.train for t in catalogue.clusters[c]],
        [catalogue.spec(t) for c in split.heldout for t in catalogue.clusters[c]])
    if removed_tasks:
        log.info("tasks removed from training (they share data with held-out tasks): %s", removed_tasks)
    heldout_tasks = [t for c in split.heldout for t in catalogue.clusters[c]]
    unavailable = leave_out_unavailable(cfg, catalogue, [*train_tasks, *heldout_tasks], output_dir)
    train_tasks = [t for t in train_tasks if t not in unavailable]
    heldout_tasks = [t for t in heldout_tasks if t not in unavailable]
    check_cot_tasks([catalogue.spec(t) for t in heldout_tasks], list(cfg.template.eval_variants))
    if cfg.template.train_heldout:  # the oracle control: held-out tasks train too
        train_tasks = [*train_tasks, *heldout_tasks]
    seed = int(cfg.data.eval_sample_seed)
    heldout_rows = eval_rows(catalogue, heldout_tasks, int(cfg.data.max_eval_per_task), seed=seed)
    if not any(len(rows) for rows in heldout_rows.values()):
        raise ConfigError(f"the held-out clusters {list(split.heldout)} have no rows to score "
                          "(config keys `heldout.clusters`, `data.max_eval_per_task`)")
    dev, dev_train_rows = heldout_dev(catalogue, heldout_tasks, cfg.scoring)
    return Prepared(catalogue, split, list(train_tasks), list(removed_tasks), heldout_rows, dev, unavailable,
                    dev_train_rows)


def leave_out_unavailable(cfg: DictConfig, catalogue: Catalogue, tasks: list[str],
                          output_dir: Path | None) -> dict[str, str]:
    """Say what the hub download will be, load every task the cell needs, and leave out (``data.unavailable=skip``)
    those that cannot be loaded, matched with the sibling cells of a sweep; a held-out cluster left with no task
    is a one-line error."""
    tasks = list(dict.fromkeys(tasks))
    if line := catalogue.fetch_line(tasks):
        log.info("%s", line)
    clusters = {t: catalogue.spec(t).cluster for t in tasks}
    skipped = catalogue.leave_out_unavailable(tasks, str(cfg.data.unavailable))
    sweep_dir = sweep_dir_of(output_dir) if output_dir is not None and cfg.data.unavailable == "skip" else None
    if sweep_dir is not None:
        skipped = match_siblings(sweep_dir, tasks, skipped)
        catalogue.leave_out(n for n in skipped if n in catalogue.specs)
    for cluster in cfg.heldout.clusters:
        left = [t for t, c in clusters.items() if c == cluster and t not in skipped]
        if not left and any(c == cluster for c in clusters.values()):
            raise DataError(f"held-out cluster {cluster!r} has no entry that can be loaded (left out: "
                            f"{sorted(t for t, c in clusters.items() if c == cluster)}; data.unavailable=skip)")
    return skipped


def train_stage(cfg: DictConfig, prep: Prepared, loaded: LoadedModel, tracker: Tracker, output_dir: Path,
                results: CellResults, metrics: dict[str, float]) -> None:
    """Build the mixture, measure its ambiguity, audit it for leaks, and fine-tune ``loaded`` in place."""
    mixture = build_mixture(
        prep.catalogue, prep.split, cfg.template.train_variant, max_per_task=int(cfg.data.max_train_per_task),
        seed=int(cfg.seed), num_templates=cfg.template.num_templates,
        options_in_prompt=bool(cfg.template.options_in_prompt), tasks=prep.train_tasks,
        train_inverted=bool(cfg.template.train_inverted),
        train_heldout=bool(cfg.template.train_heldout),
        limit=InputLimit.for_tokenizer(loaded.tokenizer, loaded.arch, int(cfg.train.max_input_len)),
        held_back=int(cfg.template.held_back_templates), **mixture_options(cfg),
        exclude=prep.dev_train_rows if cfg.template.train_heldout else None,
        fewshot=FewShotMix.from_config(cfg.template.fewshot_fraction, cfg.template.fewshot_shots, int(cfg.seed)),
    )
    mixture_hash = mixture.fingerprint()  # equal seeds, equal hashes (tests/integration/test_determinism.py)
    log.info("training mixture: %d examples, hash %s", len(mixture.examples), mixture_hash)
    tracker.summary({"train/mixture_hash": mixture_hash})
    results["data"]["ambiguity"] = metrics["data/ambiguity"] = ambiguity(prep.catalogue, mixture.row_indices)
    log.info("ambiguity of no-template training inputs: %.3f", results["data"]["ambiguity"])
    results["data"]["label_histograms"]["train"] = mixture.label_histograms
    data_cfg = cfg.data
    results["audit"] = leakage_audit(
        prep.catalogue, prep.split, seen_rows(mixture), prep.heldout_rows, dev_rows=prep.dev,
        removed_tasks=prep.removed_tasks, near_dup_threshold=float(data_cfg.near_dup_threshold),
        allowed=oracle_allowed(cfg, prep),
        ngram_overlap_max=float(data_cfg.ngram_overlap_max),
        ngram_min_words=int(data_cfg.ngram_min_words))
    atomic_write_json(output_dir / "leakage_audit.json", results["audit"])
    metrics |= {"audit/exact_duplicates": results["audit"]["exact_duplicates"],
                "audit/near_duplicates": results["audit"].get("near_duplicates", 0),
                "audit/ngram13_overlap_rate": results["audit"]["ngram_overlap_rate"]}
    enforce_no_leak(results["audit"], data_cfg.on_leak)
    data = tokenize_mixture(mixture.examples, loaded.tokenizer, loaded.arch,
                            max_input_len=int(cfg.train.max_input_len), max_target_len=int(cfg.train.max_target_len))
    fitted = fit(loaded, data, cfg.train, tracker, seed=int(cfg.seed),
                 checkpoint_dir=output_dir / "checkpoints", resume=cfg.resume,
                 cpu_bf16=bool(cfg.model.cpu_bf16), cache_dir=cfg.paths.cache_dir,
                 curve=curve_hook(cfg, prep, loaded, tracker))
    results["train"] = {"steps": fitted.steps, "final_loss": fitted.final_loss, "seconds": fitted.seconds,
                        "tokens_per_s": fitted.tokens_per_s, "losses": fitted.losses,
                        "examples": len(mixture.examples), "rows_per_task": mixture.rows_per_task,
                        "mixture_hash": mixture_hash, "nonpad_fraction": fitted.nonpad_fraction,
                        "mfu": fitted.mfu, "peak_flops": fitted.peak_flops,
                        "peak_flops_source": fitted.peak_flops_source, "global_batch": fitted.global_batch,
                        "resumed_from": fitted.resumed_from, "skipped_batches": fitted.skipped_batches}
    if fitted.curve:
        results["curve"] = fitted.curve
    if is_main():  # train.save_model (auto: a LoRA cell's adapter, nothing else); flanlab export reads it
        results["train"] |= save_cell_model(loaded, output_dir, str(cfg.train.save_model), cfg)


def curve_hook(cfg: DictConfig, prep: Prepared, loaded: LoadedModel, tracker: Tracker) -> CurveHook | None:
    """Held-out curves during training (``scoring.curve_every``; 0 = off): a fixed subset of the scored rows,
    scored every N steps (``flanlab.scoring.curves``)."""
    every = int(cfg.scoring.curve_every)
    if not every:
        return None
    indist = min(int(cfg.scoring.curve_indist_rows), int(cfg.data.indist_eval_per_task))
    rows = fixed_rows(prep.catalogue, prep.heldout_rows, prep.train_tasks, int(cfg.scoring.curve_rows), indist,
                      int(cfg.data.eval_sample_seed))
    score = curve_scorer(cfg, loaded, prep.catalogue, rows, indist_variant(cfg.template.train_variant), tracker)

    def guarded(step: int, tokens: int) -> list[dict]:
        with scoring_faults(cfg, f"scoring the held-out curve at step {step}"):
            return score(step, tokens)

    return CurveHook(every, guarded)


def seen_rows(mixture: Mixture) -> dict[str, list[int]]:
    """Every train row the mixture shows, by task: the rows it trains on and those shown only as solved examples."""
    if not mixture.example_indices:
        return mixture.row_indices
    return {task: sorted(set(rows) | set(mixture.example_indices.get(task, ())))
            for task, rows in mixture.row_indices.items()}


def oracle_allowed(cfg: DictConfig, prep: Prepared) -> list[str]:
    """The tasks whose scored rows may recur in their own train split by design: the oracle's held-out tasks (it
    trains on their train splits; a row repeated across a dataset's own splits is the dataset's, not a leak)."""
    if not cfg.template.train_heldout:
        return []
    return [t for c in prep.split.heldout for t in prep.catalogue.clusters.get(c, [])]


def indist_variant(train_variant: str) -> str:
    """The variant in-distribution rows are scored with: the training variant, or instructions for arms that
    train with something no scoring variant renders (``shuffled_instruction``)."""
    return train_variant if train_variant in VARIANTS else "instruction"


def score_stage(cfg: DictConfig, prep: Prepared, loaded: LoadedModel, results: CellResults,
                metrics: dict[str, float]) -> None:
    """Score the held-out rows under every scoring variant, and the trained tasks' rows in distribution."""
    scorer = make_scorer(loaded, cfg.scoring, cpu_bf16=bool(cfg.model.cpu_bf16))
    opts = score_options(cfg, scorer)
    results["zeroshot"] = {}
    for variant, shots in scoring_passes(cfg):
        name = scored_name(variant, shots)
        fewshot = FewShot(shots, int(cfg.scoring.fewshot_seed)) if shots else None
        with scoring_faults(cfg, f"scoring the held-out rows with variant {name!r}"):
            results["zeroshot"][name], scored = score_variant(scorer, prep.catalogue, prep.heldout_rows, variant,
                                                              cfg.scoring, dev=prep.dev, seed=int(cfg.seed),
                                                              fewshot=fewshot, **cot_scoring(cfg, variant, opts))
        metrics |= scored | cot_metrics("zeroshot", name, results["zeroshot"][name]["templates"])
    train_variant = cfg.template.train_variant
    if train_variant is not None:
        rows = eval_rows(prep.catalogue, prep.train_tasks, int(cfg.data.indist_eval_per_task),
                         seed=int(cfg.data.eval_sample_seed))
        variant = indist_variant(train_variant)
        with scoring_faults(cfg, "scoring the in-distribution rows"):
            block, scored = score_variant(scorer, prep.catalogue, rows, variant, cfg.scoring, prefix="indist",
                                          seed=int(cfg.seed), **opts)
        results["indist"] = {variant: block}
        metrics |= scored


def scoring_passes(cfg: DictConfig) -> list[tuple[str, int]]:
    """(variant, shots) for every held-out scoring pass: each scoring variant at each ``scoring.num_fewshot``
    (chain of thought zero-shot only: its examples would need rationales)."""
    return [(variant, int(k)) for variant in cfg.template.eval_variants for k in cfg.scoring.num_fewshot
            if int(k) == 0 or variant != COT]


def scoring_faults(cfg: DictConfig, where: str) -> contextlib.AbstractContextManager[None]:
    """Memory running out while scoring becomes one line naming ``where`` and the batch size to lower."""
    return memory_fault(where, str(scoring_device(cfg.scoring.device)),
                        f"lower scoring.batch_size (now {int(cfg.scoring.batch_size)}) or "
                        f"scoring.max_input_len (now {int(cfg.scoring.max_input_len)})")


def cell_header(cfg: DictConfig, prep: Prepared, loaded: LoadedModel) -> CellResults:
    """The results skeleton: the cell's identity, split, model, config, provenance and data facts."""
    split = prep.split
    return {
        "cell": {"train_variant": cfg.template.train_variant or "untuned", "arm": arm_name(cfg),
                 "heldout": list(split.heldout), "seed": int(cfg.seed), "model": cfg.model.name,
                 "template": cfg.template.name, "key": cell_key(cfg, prep.unavailable)},
        "split": {**split.as_dict(), "removed_tasks": prep.removed_tasks},
        "model": {"name": loaded.name, "arch": loaded.arch, "source": str(cfg.model.source),
                  "parameters": loaded.num_parameters(), "trainable_parameters": loaded.num_trainable_parameters()},
        "config": scrub(OmegaConf.to_container(cfg, resolve=True)),  # no credential-like keys on disk
        "provenance": cell_provenance(prep.catalogue.specs),
        "data": {"label_histograms": {"train": {}, "eval": eval_label_histograms(prep.catalogue, prep.heldout_rows)},
                 "unavailable": {"policy": str(cfg.data.unavailable), "skipped": prep.unavailable}},
    }


def write_results(output_dir: Path, prep: Prepared, results: CellResults, metrics: dict[str, float],
                  started: float, tracker: Tracker) -> None:
    """Bad-row counts, metrics and timing into ``results.json`` (atomically, last) and the tracker."""
    catalogue = prep.catalogue
    results["bad_rows"] = {"policy": catalogue.bad_rows, "skipped": dict(catalogue.bad_row_counts)}
    metrics["data/skipped_rows"] = sum(catalogue.bad_row_counts.values())
    results["metrics"] = metrics
    results["seconds"] = time.perf_counter() - started
    tracker.summary(metrics)
    tracker.log_results(results, save_cell_results(output_dir, results))


def open_tracker(cfg: DictConfig, prep: Prepared, output_dir: Path, choices: dict[str, str] | None,
                 group: str | None) -> Tracker:
    """The cell's W&B run (rank 0 only under torchrun), or a null tracker."""
    if not is_main():
        return NullTracker()
    return start_tracker(cfg, name=output_dir.name, group=group or cfg.experiment_name,
                         job_type=cfg.template.train_variant or "untuned", output_dir=str(output_dir),
                         tags=[f"heldout:{c}" for c in prep.split.heldout] + [f"seed:{cfg.seed}"], choices=choices)


def load_cell_model(cfg: DictConfig, prep: Prepared) -> LoadedModel:
    """The cell's model (a config-built tokenizer learns from the catalogue), LoRA-wrapped when ``train.peft`` is
    set (null = full fine-tuning)."""
    corpus = lambda: tokenizer_corpus(prep.catalogue, variants=list(cfg.template.eval_variants),  # noqa: E731
                                      held_back=int(cfg.template.held_back_templates))
    return apply_peft(load_model(cfg.model, corpus=corpus, cache_dir=cfg.paths.cache_dir), cfg.train.peft)


def run_cell(cfg: DictConfig, output_dir: str | Path, choices: dict[str, str] | None = None,
             group: str | None = None) -> CellResults:
    """Train (unless the template is ``untuned``) and score one cell; return and save its results.

    ``group`` is the W&B group (experiment and sweep); it defaults to ``experiment_name``.
    """
    output_dir, started = Path(output_dir), time.perf_counter()
    check_cell(cfg)
    check_writable_dir(output_dir)  # fail before any work, not at the end
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    seed_everything(int(cfg.seed))
    prep = prepare(cfg, output_dir)
    loaded = load_cell_model(cfg, prep)
    tracker: Tracker = NullTracker()
    exit_code = 1
    try:
        tracker = open_tracker(cfg, prep, output_dir, choices, group)
        results, metrics = cell_header(cfg, prep, loaded), {}
        if cfg.template.train_variant is not None:
            train_stage(cfg, prep, loaded, tracker, output_dir, results, metrics)
        if is_main():  # other torchrun ranks only help train; rank 0 scores and writes
            score_stage(cfg, prep, loaded, results, metrics)
            write_results(output_dir, prep, results, metrics, started, tracker)
        exit_code = 0
        return results if is_main() else {"metrics": {}}
    finally:
        tracker.finish(exit_code=exit_code)
