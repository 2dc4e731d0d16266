"""Layout conventions shared by every variant: the options block and the field join."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flanlab.errors import DataError

OPTIONS_HEADER = "OPTIONS:"
FIELD_SEPARATOR = "\n"


def options_block(options: Sequence[str]) -> str:
    """``OPTIONS:`` then one ``- option`` per line."""
    return "\n".join([OPTIONS_HEADER, *(f"- {o}" for o in options)])


def join_fields(row: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The row's input fields, plainly joined one per line (the template-free layout); a null field is a
    ``DataError`` (it would read as the word ``None``)."""
    null = next((f for f in fields if row[f] is None), None)
    if null is not None:
        raise DataError(f"a row with a null {null!r} reached a prompt (data.bad_rows drops such rows)")
    return FIELD_SEPARATOR.join(str(row[f]) for f in fields)


def finish_input(text: str) -> str:
    """The whitespace rule: a rendered input never ends in whitespace.

    Templates place ``{options}`` last on its own line; with options left out of the prompt that
    line is empty, and this removes it. Leading whitespace and inner layout are kept as written.
    """
    return text.rstrip()
