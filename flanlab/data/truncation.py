"""Fit a prompt into the input limit by shortening the row's passage, never the instruction or options.

Cutting token ids (from the left or the right) removes whatever sits at that end of the rendered
prompt: the instruction, the question or the OPTIONS block. Instead, before rendering, the row's
longest free-text input field (the passage) is shortened word by word from its end until every
prompt rendered from the row fits ``max_len`` tokens as the model will see them (BOS or EOS
included). Only rows that are too long are touched; template text is never cut. The token-level
truncation of the collators and scorers stays as a last resort for prompts whose template and
short fields alone exceed the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flanlab.data.token_layout import bos_prefix
from flanlab.tasks.spec import TaskSpec
from flanlab.templates.prompt import Prompt

_WORD_END = re.compile(r"\S+")


@dataclass(frozen=True)
class InputLimit:
    """How to count a rendered input's tokens, and how many are allowed."""

    count_tokens: Callable[[str], int]
    max_len: int

    @classmethod
    def for_tokenizer(cls, tokenizer, arch: str, max_len: int) -> InputLimit:
        """Counts as the model's input is encoded: seq2seq with EOS, decoder-only with its BOS (if any)."""
        if arch == "seq2seq":
            return cls(lambda text: len(tokenizer(text)["input_ids"]), int(max_len))
        head = len(bos_prefix(tokenizer))
        return cls(lambda text: head + len(tokenizer(text, add_special_tokens=False)["input_ids"]), int(max_len))

    def fit(self, spec: TaskSpec, row: Mapping[str, Any],
            render: Callable[[Mapping[str, Any]], Prompt | Iterable[Prompt]]) -> dict[str, Any]:
        """``truncate_row_to_fit`` with this limit."""
        return truncate_row_to_fit(spec, row, render, self.count_tokens, self.max_len)


def _inputs(rendered: Prompt | Iterable[Prompt]) -> list[str]:
    return [rendered.input] if isinstance(rendered, Prompt) else [p.input for p in rendered]


def _cut_fields(spec: TaskSpec, row: Mapping[str, Any]) -> list[str]:
    """Free-text fields that may be shortened, longest first: input fields only, never label/options/target."""
    protected = {spec.label_field, spec.target_field, spec.options_field}
    names = [f for f in spec.input_fields if f not in protected and isinstance(row.get(f), str)]
    return sorted(names, key=lambda f: -len(row[f]))


def _first_words(text: str, k: int) -> str:
    """``text`` up to the end of its ``k``-th word (original spacing kept; no ellipsis)."""
    if k <= 0:
        return ""
    ends = [m.end() for m in _WORD_END.finditer(text)]
    return text[: ends[min(k, len(ends)) - 1]] if ends else ""


def truncate_row_to_fit(
    spec: TaskSpec, row: Mapping[str, Any], render: Callable[[Mapping[str, Any]], Prompt | Iterable[Prompt]],
    count_tokens: Callable[[str], int], max_len: int,
) -> dict[str, Any]:
    """``row`` with its longest free-text field shortened so that every prompt ``render`` makes fits.

    ``render(row)`` returns one prompt or several (one per scored template); the longest counts.
    The field keeps its first k words for the largest k that fits (binary search). If even the
    empty field is too long, it is emptied and the next-longest field is cut; when nothing is left
    to cut the row is returned as it stands (the token-level fallback then applies).
    """
    out = dict(row)

    def size(candidate: Mapping[str, Any]) -> int:
        return max(count_tokens(text) for text in _inputs(render(candidate)))

    if size(out) <= max_len:
        return out
    for name in _cut_fields(spec, out):
        text = out[name]
        lo, hi = 0, len(_WORD_END.findall(text))  # largest k in [lo, hi] whose first k words fit
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if size({**out, name: _first_words(text, mid)}) <= max_len:
                lo = mid
            else:
                hi = mid - 1
        out[name] = _first_words(text, lo)
        if size(out) <= max_len:
            return out
    return out
