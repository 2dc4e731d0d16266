"""``flanlab export CELL_DIR OUT_DIR [--merge]``: a folder that plain transformers and peft load.

It holds the weights (a full model; a LoRA adapter merged into its base with ``--merge``; else the adapter, whose
``adapter_config.json`` names its base), the tokenizer, the generation config, the model card (``README.md``), the
cell's resolved config (``flanlab_config.yaml``) and ``flanlab_export.json`` (what was exported from where).

A LoRA base that no hub holds (built from config, or converted from GGUF) goes into ``OUT_DIR/base`` and the
adapter's ``base_model_name_or_path`` is that folder's absolute path. Decoder-only models built from config get
their tokenizer without flanlab's trailing ``</s>`` on every encoding (flanlab's causal code never asks for it, and
a decoder-only context ending in EOS is wrong for any other caller); seq2seq tokenizers keep it, as T5's do.
The folder is written atomically: a killed export leaves nothing half-written.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import yaml

from flanlab.errors import FlanlabError
from flanlab.export.card import card_text
from flanlab.export.cell_model import SavedModel, find_saved_model, load_model, load_tokenizer, read_results
from flanlab.io import atomic_dir, check_replaceable

EXPORT_FILE = "flanlab_export.json"
BASE_SUBDIR = "base"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")
BASE_SKIP = ("flanlab_model.json", "flanlab_conversion.json")  # flanlab bookkeeping, not the model


def check_out_dir(out_dir: Path, cell_dir: Path) -> None:
    """Refuse a folder that holds something other than an earlier export (it would be replaced), or the cell."""
    if out_dir.resolve() == cell_dir.resolve() or cell_dir.resolve() in out_dir.resolve().parents:
        raise FlanlabError(f"export folder {out_dir} is inside the cell {cell_dir}; choose a folder outside it")
    check_replaceable(out_dir, EXPORT_FILE, "export folder", "export")


def portable_tokenizer(tokenizer, arch: str):
    """The tokenizer to ship: unchanged, except that a decoder-only one stops appending EOS to every encoding."""
    if arch != "causal" or tokenizer.eos_token_id is None:
        return tokenizer
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    if tokenizer("a")["input_ids"] != [*plain, tokenizer.eos_token_id]:
        return tokenizer
    from tokenizers import processors

    shipped = copy.deepcopy(tokenizer)
    shipped.backend_tokenizer.post_processor = processors.TemplateProcessing(single="$A", pair="$A $B")
    return shipped


def write_base(saved: SavedModel, target: Path) -> None:
    """Copy a local LoRA base (the cell's own, or a GGUF conversion) to ``target``."""
    shutil.copytree(str(saved.base), target, ignore=shutil.ignore_patterns(*BASE_SKIP))


def write_adapter(saved: SavedModel, tmp: Path, final: Path) -> bool:
    """The adapter files, with ``base_model_name_or_path`` pointing at the base; True when the base was copied in."""
    for name in ADAPTER_FILES:
        if (saved.path / name).is_file():
            shutil.copy2(saved.path / name, tmp / name)
    base_in_folder = saved.base_source in ("saved", "gguf") or saved.base_is_local
    if base_in_folder:
        write_base(saved, tmp / BASE_SUBDIR)
    config_path = tmp / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = str(final.resolve() / BASE_SUBDIR) if base_in_folder else saved.base
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return base_in_folder


def write_weights(saved: SavedModel, tmp: Path, final: Path, merge: bool) -> bool:
    """A full or merged model saved with ``save_pretrained``, or the adapter and its base; True when the base is
    in ``base/``."""
    if saved.kind == "adapter" and not merge:
        return write_adapter(saved, tmp, final)
    model = load_model(saved, merge=merge)
    model.save_pretrained(tmp)
    return False


def export_cell(cell_dir: str | Path, out_dir: str | Path, merge: bool = False) -> Path:
    """Export the model that ``cell_dir`` kept into ``out_dir`` (see the module docstring); return ``out_dir``."""
    from transformers import GenerationConfig

    cell_dir, out_dir = Path(cell_dir), Path(out_dir)
    results = read_results(cell_dir)
    saved = find_saved_model(cell_dir, results)
    check_out_dir(out_dir, cell_dir)
    source = saved.path if saved.kind == "full" else Path(str(saved.base)) if saved.base_is_local else None
    with atomic_dir(out_dir) as tmp:
        base_in_folder = write_weights(saved, tmp, out_dir, merge)
        portable_tokenizer(load_tokenizer(saved), saved.arch).save_pretrained(tmp)
        if source is not None and (source / "generation_config.json").is_file():
            GenerationConfig.from_pretrained(str(source)).save_pretrained(tmp)
        merged = merge and saved.kind == "adapter"
        (tmp / "README.md").write_text(card_text(results, saved, merged, base_in_folder), encoding="utf-8")
        (tmp / "flanlab_config.yaml").write_text(yaml.safe_dump(results.get("config", {}), sort_keys=False),
                                                 encoding="utf-8")
        record = {"cell": str(cell_dir.resolve()), "kind": saved.kind, "merged": merged, "arch": saved.arch,
                  "base": str(out_dir.resolve() / BASE_SUBDIR) if base_in_folder else saved.base}
        (tmp / EXPORT_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out_dir
