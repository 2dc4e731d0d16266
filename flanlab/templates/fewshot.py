"""Few-shot prompts: k solved examples of the same task, then the query, all rendered with the same template.

Each solved example is its own prompt's input, a line holding the answer cue and its answer, and a blank line:

    <example 1 input>
    Answer: <example 1 answer>

    <example 2 input>
    Answer: <example 2 answer>

    <query input>
    Answer:

The query ends with the cue, so the answer a model gives (a seq2seq decoder's output, or a causal model's
continuation, which the scorer joins with its usual delimiter) sits where each example's answer sits. Which rows
serve as examples is seeded (``exemplar_order``): drawn from the task's train split, never the row being asked.
When a token budget is given, whole examples are dropped, the farthest from the query first, until the prompt
fits; the query and its options are never cut here (``flanlab.data.truncation`` shortens a too-long passage).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from flanlab.templates.prompt import Prompt

ANSWER_CUE = "Answer:"
BLOCK_SEPARATOR = "\n\n"


def solved_block(example: Prompt) -> str:
    """One solved example: its input, then the cue and its answer on the next line."""
    return f"{example.input}\n{ANSWER_CUE} {example.target}"


def asked_block(query: Prompt) -> str:
    """The query: its input, then the cue with nothing after it."""
    return f"{query.input}\n{ANSWER_CUE}"


def with_examples(query: Prompt, examples: Sequence[Prompt], fits: Callable[[str], bool] | None = None) -> Prompt:
    """``query`` preceded by ``examples`` (rendered prompts of other rows of its task). With ``fits``, the farthest
    examples are dropped until the text fits; ``shots`` records how many were kept (0 still adds the cue)."""
    kept = list(examples)
    while True:
        text = BLOCK_SEPARATOR.join([*(solved_block(e) for e in kept), asked_block(query)])
        if not kept or fits is None or fits(text):
            return dataclasses.replace(query, input=text, shots=len(kept))
        kept = kept[1:]


def exemplar_order(n_rows: int, seed: int, key: str, size: int | None = None) -> list[int]:
    """A seeded order of (``size`` of) a train split's rows for one asked row (``key`` names the task and the row);
    the first usable ones are its examples. Fixed by ``seed`` and ``key`` only, so every arm and seed sees the
    same ones."""
    rng = np.random.default_rng([zlib.crc32(key.encode()), seed % 2**32])
    size = n_rows if size is None else min(size, n_rows)
    return rng.choice(n_rows, size=size, replace=False).tolist()


def pick_examples(n_rows: int, k: int, seed: int, key: str, exclude: int | None = None,
                  usable: Callable[[int], bool] | None = None) -> list[int]:
    """Up to ``k`` train-row indices for one asked row: seeded, never ``exclude`` (the asked row itself, when it is
    a train row), and only rows ``usable`` allows (e.g. not a copy of the asked row's text)."""
    for size in (2 * k + 8, n_rows):  # a few candidates suffice unless many are excluded
        picked = [i for i in exemplar_order(n_rows, seed, key, size)
                  if i != exclude and (usable is None or usable(i))][:k]
        if len(picked) == k or size >= n_rows:
            return picked
    return picked
