"""Score one variant on the held-out tasks: per-template results, template statistics, bootstrap
intervals and the best-dev-template figure, as a results block and flat metric keys."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import datasets
from omegaconf import DictConfig

from flanlab.errors import FlanlabError
from flanlab.scoring.aggregate import flat_metrics, summarize
from flanlab.scoring.fewshot import FewShot, scored_name
from flanlab.scoring.scorers import Scorer
from flanlab.scoring.zeroshot import score_tasks
from flanlab.tasks.catalogue import Catalogue

log = logging.getLogger(__name__)


def score_options(cfg: DictConfig, scorer: Scorer) -> dict[str, Any]:
    """``score_tasks`` options from the cell's config, shared by every held-out, in-distribution and curve pass."""
    return {"max_new_tokens": int(cfg.scoring.max_new_tokens),
            "options_in_prompt": bool(cfg.template.options_in_prompt),
            "length_normalize": bool(cfg.scoring.length_normalize), "limit": scorer.input_limit(),
            "held_back": int(cfg.template.held_back_templates)}


def dev_rows(catalogue: Catalogue, tasks: Iterable[str], cap: int,
             split: str = "dev") -> tuple[dict[str, datasets.Dataset], dict[str, list[int]]]:
    """Up to ``cap`` rows per task for choosing a template: the catalogue's ``split`` (the generated
    suite has a ``dev`` split apart from train and validation), else the first rows of its train split. Also
    returns, for the tasks whose dev rows are train rows, their indices into ``catalogue.train_data(task)`` (the
    oracle must not train on them)."""
    out, from_train = {}, {}
    for task in tasks:
        try:
            rows = catalogue.usable(task, split, catalogue.load(task, split))
        except (FlanlabError, KeyError, ValueError, FileNotFoundError):
            log.info("task %s has no %r split; its template is chosen on its first %d train rows", task, split, cap)
            rows = catalogue.train_data(task)
            from_train[task] = list(range(min(cap, len(rows))))
        out[task] = rows.select(range(min(cap, len(rows))))
    return out, from_train


def score_variant(scorer: Scorer, catalogue: Catalogue, rows: dict[str, datasets.Dataset], variant: str,
                  scoring: DictConfig, *, dev: dict[str, datasets.Dataset] | None = None, prefix: str = "zeroshot",
                  seed: int = 0, fewshot: FewShot | None = None,
                  **opts: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """Score ``rows`` (and ``dev``, for the best-dev template) under ``variant``, zero-shot or with ``fewshot``;
    return the stored block (``flanlab.scoring.aggregate.summarize``; ``shots`` set for k-shot) and its W&B keys,
    named by ``scored_name`` (``instruction+5shot``)."""
    n_resamples = int(scoring.bootstrap_resamples or 0)
    per_template = score_tasks(scorer, catalogue, rows, variant, fewshot=fewshot, **opts)
    dev_results = score_tasks(scorer, catalogue, dev, variant, fewshot=fewshot, **opts) if dev else None
    block = summarize(per_template, n_resamples=n_resamples, seed=seed, dev=dev_results)
    shots = fewshot.k if fewshot is not None else 0
    if shots:
        block["shots"] = shots
    return block, flat_metrics(prefix, scored_name(variant, shots), block)


def heldout_dev(catalogue: Catalogue, tasks: list[str],
                scoring: DictConfig) -> tuple[dict[str, datasets.Dataset] | None, dict[str, list[int]]]:
    """The dev slice for the best-dev-template figure (None when ``scoring.best_dev_rows`` is 0), and the train-row
    indices it took from tasks with no dev split (``dev_rows``)."""
    cap = int(scoring.best_dev_rows or 0)
    return dev_rows(catalogue, tasks, cap, str(scoring.dev_split)) if cap else (None, {})

