"""Training checkpoints: everything needed to continue a run bit for bit, written atomically.

A checkpoint is a folder ``<root>/step_<N>/state.pt`` holding the model and optimizer state (full,
unsharded, via ``torch.distributed.checkpoint.state_dict`` so DDP and FSDP runs save the same
thing), the scheduler, every rank's RNG states, the sampler's data position, the loss history and
a fingerprint of the model config. The folder is built under a temporary name and renamed into
place (:func:`flanlab.io.atomic_dir`), so a run killed while saving leaves only complete
checkpoints; older ones are pruned after the new one exists.

Each checkpoint is verified as it is written: ``state.pt`` is hashed while torch writes it, read back and hashed
again, and the digest is kept beside it (``state.sha256``) before the folder is renamed into place. A checkpoint
damaged later (a killed copy, a full disk, a file moved between machines) fails :func:`load` with
:class:`Unreadable`, and the fit loop falls back to the next older one (``flanlab.training.loop.resume_from``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.distributed.checkpoint.state_dict import StateDictOptions, _get_fqns, get_state_dict, set_state_dict

from flanlab.errors import ConfigError
from flanlab.io import atomic_dir

PREFIX = "step_"
STATE_FILE = "state.pt"
DIGEST_FILE = "state.sha256"
_CHUNK = 1 << 22
_VOLATILE = {"transformers_version", "_name_or_path", "dtype", "torch_dtype", "_attn_implementation_autoset",
             "architectures", "use_cache"}


def model_fingerprint(model: torch.nn.Module) -> str:
    """A hash of the model's config (architecture and sizes), ignoring version and dtype fields."""
    config = {k: v for k, v in model.config.to_dict().items() if k not in _VOLATILE}
    blob = json.dumps({"class": type(model).__name__, "config": config}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoints(root: str | Path) -> list[Path]:
    """Complete checkpoints under ``root``, oldest first (temporary folders are ignored)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.name.startswith(PREFIX) and (p / STATE_FILE).is_file()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX):]))


def gather_model_state(module: torch.nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Full (unsharded) model and optimizer state on CPU; a collective call under FSDP.

    Frozen parameters are left out, so a LoRA run (``train.peft``) saves its adapters only.
    """
    options = StateDictOptions(full_state_dict=True, cpu_offload=True, ignore_frozen_params=True)
    model_state, optim_state = get_state_dict(module, optimizer, options=options)
    # DCP drops a frozen parameter under one name only; tied copies (T5's and Gemma's embeddings) keep theirs.
    frozen = {fqn for name, p in module.named_parameters(remove_duplicate=False) if not p.requires_grad
              for fqn in _get_fqns(module, name)}
    return {k: v for k, v in model_state.items() if k not in frozen}, optim_state


class Unreadable(Exception):
    """A checkpoint whose files are missing, cut short or corrupt."""


class _HashingWriter:
    """A binary file that hashes what is written to it (what ``torch.save`` meant to write)."""

    def __init__(self, handle) -> None:
        self.handle, self.hash = handle, hashlib.sha256()

    def write(self, data) -> int:
        self.hash.update(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


def file_digest(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_verified(state: dict[str, Any], folder: Path) -> str:
    """``torch.save`` ``state`` into ``folder``, read it back and compare digests; keep the digest beside it."""
    target = folder / STATE_FILE
    with target.open("wb") as handle:
        writer = _HashingWriter(handle)
        torch.save(state, writer)
        handle.flush()
        os.fsync(handle.fileno())
    written = writer.hash.hexdigest()
    if file_digest(target) != written:
        raise OSError(f"checkpoint file {target} reads back differently from what was written")
    (folder / DIGEST_FILE).write_text(written + "\n")
    return written


def save(root: str | Path, step: int, state: dict[str, Any], keep: int = 1) -> Path:
    """Write ``state`` as checkpoint ``step`` atomically and verified, then prune all but the newest ``keep``."""
    path = Path(root) / f"{PREFIX}{step:08d}"
    with atomic_dir(path) as tmp:
        write_verified(state, tmp)
    for old in checkpoints(root)[: -max(keep, 1)]:
        shutil.rmtree(old, ignore_errors=True)
    return path


def read_state(path: str | Path) -> dict[str, Any]:
    """A checkpoint's state after checking its digest (when it has one); raises ``Unreadable`` saying why."""
    path = Path(path)
    digest_file = path / DIGEST_FILE
    try:
        if digest_file.is_file() and file_digest(path / STATE_FILE) != digest_file.read_text().strip():
            raise Unreadable("its state.pt does not match the digest written with it")
        state = torch.load(path / STATE_FILE, map_location="cpu", weights_only=False)
    except Unreadable:
        raise
    except Exception as err:  # torch's zip reader, unpickling, a vanished file: all mean "cannot be read"
        raise Unreadable(f"{type(err).__name__}: {str(err).strip().splitlines()[0][:160] if str(err) else ''}") from err
    if not isinstance(state, dict) or "fingerprint" not in state:
        raise Unreadable("it holds no flanlab training state")
    return state


def load(path: str | Path, fingerprint: str, model_name: str) -> dict[str, Any]:
    """Read a checkpoint (``Unreadable`` if damaged) and check it was written for the same model config."""
    state = read_state(path)
    if state["fingerprint"] != fingerprint:
        raise ConfigError(
            f"checkpoint {path} was written for model {state.get('model_name')!r} (config fingerprint "
            f"{state['fingerprint']}), but this run's model {model_name!r} has fingerprint {fingerprint}; "
            "use the matching `model=` or start fresh with resume=false"
        )
    return state


def restore_model_state(module: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    set_state_dict(module, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"],
                   options=StateDictOptions(full_state_dict=True, ignore_frozen_params=True))
