"""A cell's stable key: a hash of its resolved config, minus what only says where or how loudly it runs.

Two cells with the same key compute the same thing, so a rerun of a sweep can skip a cell whose
results carry its key. The key also names the cell's folder (``hydra.sweep.subdir``) through the
``flanlab.cell_dir`` resolver, so a changed setting never reuses an old folder. Under torchrun, a single
run's folder is the same name (``flanlab.run_name``), so that every rank agrees on it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig, OmegaConf

# Top-level keys and dotted leaves that do not change what a cell computes.
IGNORED = ("hydra", "paths", "logger", "threads", "resume_complete", "resume_stale", "resume_stale_commit",
           "experiment_name", "train.progress", "scoring.progress", "train.save_model")
KEY_LENGTH = 10
# Names the key hashes as they were when existing grids ran, so that a rename keeps every cell's key (and folder):
# classes that moved (issue 17) and renamed config keys.
KEYED_TARGETS = {"flanlab.tasks.suite.catalogue.SuiteCatalogue": "flanlab.tasks.generated.SuiteCatalogue",
                 "flanlab.tasks.control.catalogue.ControlCatalogue": "flanlab.tasks.generated.ControlCatalogue"}
KEYED_TASK_KEYS = {"include": "extra"}
# heldout.name (never read) was dropped in issue 17; each conf/heldout file had set it to its file name, which was
# its one cluster except for these. The key hashes it back, so existing cells keep their keys and folders.
LEGACY_HELDOUT_NAMES = {("choose", "presence"): "control", ("nli", "commonsense", "sentiment"): "eval"}


def keyed_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config that the key hashes: ``cfg`` without the ``IGNORED`` entries."""
    keep = [k for k in cfg if k not in IGNORED]
    data = OmegaConf.to_container(OmegaConf.masked_copy(cfg, keep), resolve=True)
    for dotted in (k for k in IGNORED if "." in k):
        node: Any = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(leaf, None)
    if isinstance(data.get("tasks"), dict):
        data["tasks"] = _keyed_tasks(data["tasks"])
    template = data.get("template")
    if isinstance(template, dict) and template.get("held_back_templates") == 0:
        template.pop("held_back_templates")  # added with the prompt-semantics variants; 0 keeps the old keys
    if isinstance(template, dict) and template.get("train_heldout") is False:
        template.pop("train_heldout")  # written out in every template YAML in issue 26 (it was a code default)
    if isinstance(template, dict) and template.get("fewshot_fraction") == 0.0 and \
            template.get("fewshot_shots") == [1, 5]:
        template.pop("fewshot_fraction")  # few-shot training rows (issue 27); none keeps every earlier cell's key
        template.pop("fewshot_shots")
    heldout = data.get("heldout")
    if isinstance(heldout, dict) and "name" not in heldout and (name := _legacy_heldout_name(heldout)):
        heldout["name"] = name
    if data.get("mixture") == {"cot_fraction": 0.0, "rates": None, "size": None}:
        data.pop("mixture")  # added with chain-of-thought (docs/cot.md); the defaults keep the old keys
    if isinstance(data.get("data"), dict) and data["data"].get("unavailable") == "error":
        data["data"].pop("unavailable")  # added with issue 24; the default keeps every earlier cell's key
    scoring = data.get("scoring")
    if isinstance(scoring, dict) and scoring.get("cot_max_new_tokens") == 48:
        scoring.pop("cot_max_new_tokens")  # written out in conf/scoring in issue 26 (it was a code default)
    if isinstance(scoring, dict) and scoring.get("num_fewshot") == [0] and scoring.get("fewshot_seed") == 1234:
        scoring.pop("num_fewshot")  # k-shot scoring (issue 27); zero-shot only keeps every earlier cell's key
        scoring.pop("fewshot_seed")
    if isinstance(scoring, dict) and (scoring.get("curve_every"), scoring.get("curve_rows"),
                                      scoring.get("curve_indist_rows")) == (0, 16, 16):
        for key in ("curve_every", "curve_rows", "curve_indist_rows"):
            scoring.pop(key)  # held-out curves during training (issue 29); off keeps every earlier cell's key
    train = data.get("train")
    if isinstance(train, dict) and train.get("on_nonfinite") == "stop":
        train.pop("on_nonfinite")  # added with issue 25; stopping computes what every earlier cell computed
        train.pop("max_skipped_batches", None)
    return data


def _keyed_tasks(tasks: dict[str, Any]) -> dict[str, Any]:
    """The ``tasks`` node under the names existing keys were computed with (``KEYED_TARGETS``, ``KEYED_TASK_KEYS``)."""
    tasks = {KEYED_TASK_KEYS.get(k, k): v for k, v in tasks.items()}
    if "_target_" in tasks:
        tasks["_target_"] = KEYED_TARGETS.get(tasks["_target_"], tasks["_target_"])
    base = tasks.get("base")
    if isinstance(base, dict) and base.get("stream_above") == 1_000_000:
        base.pop("stream_above")  # added with issue 24; the default keeps the hub catalogues' earlier keys
    if tasks.get("extra") == [] and "base" not in tasks:
        # The generated suites gained `extra` in issue 16; left empty, their cells keep the keys they had before.
        tasks.pop("extra")
    return tasks


def _legacy_heldout_name(heldout: dict[str, Any]) -> str | None:
    """The ``heldout.name`` that the conf/heldout file of these clusters set before issue 17 (see above)."""
    clusters = tuple(heldout.get("clusters") or ())
    return clusters[0] if len(clusters) == 1 else LEGACY_HELDOUT_NAMES.get(clusters)


def cell_key(cfg: DictConfig, skipped: Iterable[str] = ()) -> str:
    """A short hex digest of ``keyed_config(cfg)``; stable across runs, machines and key order. ``skipped``: the
    catalogue entries a cell left out because they could not be loaded (``data.unavailable=skip``), which change
    what it trains on and so are part of the key that its results carry."""
    data = keyed_config(cfg)
    if skipped:
        data["skipped_entries"] = sorted(skipped)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_LENGTH]


def cell_name(cfg: DictConfig) -> str:
    """A readable cell name: ``<template>__<held-out clusters>[__k<n train clusters>]__s<seed>``."""
    heldout = "+".join(cfg.heldout.clusters)
    parts = [str(cfg.template.name), heldout]
    train_only = cfg.heldout.train_only
    if train_only is not None:
        parts.append(f"k{len(train_only)}")
    parts.append(f"s{cfg.seed}")
    return "__".join(parts)


def cell_dir(cfg: DictConfig) -> str:
    """The cell's folder name inside a sweep: its readable name, then its key."""
    return f"{cell_name(cfg)}__{cell_key(cfg)}"


def run_name(cfg: DictConfig, default: str, world_size: int | None = None) -> str:
    """A single run's folder name: ``default`` (a timestamp) for one process; the cell's folder name
    (:func:`cell_dir`) when ``world_size`` (default: torchrun's ``WORLD_SIZE``) is above 1.

    Every rank of a torchrun job, on every node, composes the same config and so derives the same name, with
    no hand-passed ``hydra.run.dir`` and whatever each node's clock says. Like a sweep's cell folder, it is
    stable: the same command again resumes from the cell's checkpoints, or skips it once it is complete.
    """
    if world_size is None:  # read here: flanlab.training.distributed imports torch and transformers
        world_size = int(os.environ.get("WORLD_SIZE", 1))
    return cell_dir(cfg) if world_size > 1 else default


def _cell_dir_resolver(*, _root_: DictConfig) -> str:
    return cell_dir(_root_)


def _run_name_resolver(default: str, *, _root_: DictConfig) -> str:
    return run_name(_root_, str(default))


def register_resolvers() -> None:
    """Register ``${flanlab.cell_dir:}`` (``hydra.sweep.subdir``) and ``${flanlab.run_name:<default>}``
    (``hydra.run.dir``); safe to call twice."""
    if not OmegaConf.has_resolver("flanlab.cell_dir"):
        OmegaConf.register_new_resolver("flanlab.cell_dir", _cell_dir_resolver)
    if not OmegaConf.has_resolver("flanlab.run_name"):
        OmegaConf.register_new_resolver("flanlab.run_name", _run_name_resolver)
