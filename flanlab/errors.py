"""User-facing errors: one line that names the bad value and, where useful, the valid ones."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class FlanlabError(Exception):
    """An error caused by the user's input or configuration, printed as one line without a traceback."""


class ConfigError(FlanlabError):
    """A configuration value is invalid."""


class DataError(FlanlabError):
    """A dataset, file or row is invalid."""


def user_error(err: BaseException | None) -> FlanlabError | None:
    """``err`` if it is a FlanlabError, or the one it wraps (Hydra's ``instantiate`` wraps its targets' errors)."""
    for _ in range(8):
        if err is None or isinstance(err, FlanlabError):
            return err
        err = err.__cause__
    return None


def unknown(kind: str, value: object, valid: Iterable[str], key: str | None = None) -> ConfigError:
    """Build an error for an unknown name, with a did-you-mean and the list of valid names."""
    valid = sorted(valid)
    where = f" (config key `{key}`)" if key else ""
    close = difflib.get_close_matches(str(value), valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown {kind} {value!r}{where}.{hint} Valid: {', '.join(valid)}")


def first_line(err: BaseException, width: int, *, with_type: bool = False) -> str:
    """The first line of ``err``'s message, cut to ``width`` characters (the type's name when the message is
    empty); ``with_type``: as ``TypeName: first line`` (nothing after the colon when the message is empty)."""
    lines = str(err).strip().splitlines()
    if with_type:
        return f"{type(err).__name__}: {lines[0][:width] if lines else ''}"
    return (lines[0] if lines else type(err).__name__)[:width]
