"""The model a cell kept (``flanlab.export.saving``): found from its ``results.json``, loaded with plain
transformers and peft classes, merged when asked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flanlab.errors import ConfigError, FlanlabError
from flanlab.export.saving import ADAPTER_DIR, BASE_DIR, base_reference
from flanlab.results import CellResults, read_cell_results

NO_MODEL = ("cell {cell} kept no model ({why}): rerun it with train.save_model=full, or train.save_model=adapter for "
            "a LoRA cell (train.save_model=auto keeps LoRA adapters only)")


@dataclass(frozen=True)
class SavedModel:
    """What a cell kept: a ``full`` model folder or an ``adapter`` folder with the base it needs."""

    cell_dir: Path
    kind: str
    path: Path
    arch: str
    base: str | None = None  # adapters: a folder (absolute) or a hub name
    base_source: str | None = None  # saved | pretrained | gguf

    @property
    def base_is_local(self) -> bool:
        """Whether the base is a folder on this machine (kept in the cell, a GGUF conversion or a local path)."""
        return self.base is not None and Path(self.base).is_dir()


def read_results(cell_dir: Path) -> CellResults:
    results = read_cell_results(cell_dir)
    if results is None:
        raise FlanlabError(f"{cell_dir} holds no readable results.json: not a finished cell folder")
    return results


def _legacy_adapter(cell_dir: Path, results: CellResults) -> dict[str, Any] | None:
    """A LoRA cell from before ``train.save_model``: its adapter, with the base its config names (a pretrained model,
    or a GGUF conversion still in the cache); None when there is no adapter or its base was not kept."""
    from omegaconf import OmegaConf

    config = results.get("config", {})
    model = config.get("model", {})
    if not (cell_dir / ADAPTER_DIR / "adapter_config.json").is_file():
        return None
    if model.get("source") not in ("pretrained", "gguf"):
        return None  # a base built from config was not kept before train.save_model
    cache_dir = config.get("paths", {}).get("cache_dir", "")
    reference = base_reference(OmegaConf.create({"model": model, "paths": {"cache_dir": cache_dir}}))
    if reference["base_source"] == "gguf" and not Path(reference["base"]).is_dir():
        return None  # the GGUF conversion is no longer in the cache
    return {"kind": "adapter", "path": ADAPTER_DIR, **reference}


def find_saved_model(cell_dir: str | Path, results: CellResults | None = None) -> SavedModel:
    """What ``cell_dir`` kept, or a one-line error naming ``train.save_model``."""
    cell_dir = Path(cell_dir).resolve()
    results = results or read_results(cell_dir)
    train = results.get("train")
    if not isinstance(train, dict):
        raise FlanlabError(NO_MODEL.format(cell=cell_dir, why="it was not trained"))
    saved = train.get("saved_model") or _legacy_adapter(cell_dir, results)
    if not saved:
        why = ("its LoRA adapter predates train.save_model and its base was not kept"
               if (cell_dir / ADAPTER_DIR).is_dir() else "train.save_model resolved to none")
        raise FlanlabError(NO_MODEL.format(cell=cell_dir, why=why))
    folder = cell_dir / str(saved["path"])
    if not folder.is_dir():
        raise FlanlabError(f"cell {cell_dir}: its saved model folder {folder} is missing (results.json records it)")
    base = saved.get("base")
    if saved.get("base_source") == "saved":
        base = str(cell_dir / BASE_DIR)
        if not Path(base).is_dir():
            raise FlanlabError(f"cell {cell_dir}: the LoRA base it kept, {base}, is missing")
    arch = str(saved.get("arch") or results.get("model", {}).get("arch"))
    return SavedModel(cell_dir, str(saved["kind"]), folder, arch, base, saved.get("base_source"))


def auto_class(arch: str):
    """The transformers auto class for a flanlab architecture."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    if arch not in ("seq2seq", "causal"):
        raise ConfigError(f"unknown model arch {arch!r} in results.json (valid: seq2seq, causal)")
    return AutoModelForSeq2SeqLM if arch == "seq2seq" else AutoModelForCausalLM


def load_base(saved: SavedModel):
    """The adapter's base as a plain transformers model, in fp32; a one-line error when it cannot be loaded."""
    import torch

    try:
        return auto_class(saved.arch).from_pretrained(str(saved.base), dtype=torch.float32)
    except OSError as err:
        raise FlanlabError(f"cannot load the LoRA base {saved.base!r} of cell {saved.cell_dir}: "
                           f"{str(err).strip().splitlines()[0]}") from None


def load_model(saved: SavedModel, merge: bool):
    """The cell's model: the full model, the base wrapped with the adapter, or (``merge``) that merged."""
    import torch
    from peft import PeftModel

    if saved.kind == "full":
        return auto_class(saved.arch).from_pretrained(str(saved.path), dtype=torch.float32)
    wrapped = PeftModel.from_pretrained(load_base(saved), str(saved.path))
    return wrapped.merge_and_unload() if merge else wrapped


def load_tokenizer(saved: SavedModel):
    """The tokenizer the cell saved with its model (flanlab's own BPE included)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(saved.path))
