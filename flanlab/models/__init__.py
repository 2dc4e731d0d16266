"""Models and tokenizers: built from config (offline) or loaded by Hugging Face name or path.

``LoadedModel`` and ``load_model`` are imported on first use, so the light modules here
(``peft_config``) load without torch and transformers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LoadedModel", "load_model"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from flanlab.models import load

        return getattr(load, name)
    raise AttributeError(f"module 'flanlab.models' has no attribute {name!r}")
