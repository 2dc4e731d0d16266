"""The fixed prose of the prompt-semantics variants (``flanlab.templates.semantics``), written for this project.

Every sentence here is task-agnostic, so the variants render for any catalogue.
"""

from __future__ import annotations

# ``irrelevant``: statements that ask for nothing and say nothing about any task.
IRRELEVANT = (
    "The library on the hill closes early on Sundays.",
    "Rain is expected in the north by the end of the week.",
    "A good kettle boils water in about three minutes.",
    "The old bridge was painted green last spring.",
)

# ``misleading_unrelated``: instructions of tasks that no catalogue holds, about surface features of the text.
UNRELATED = (
    "Does the text above have more than ten words?",
    "Does the first word of the text above start with a vowel?",
    "Is the text above written in capital letters only?",
    "Does the text above end with a question mark?",
)

# ``simplified``: only the answer space.
ANSWER_SPACE = "Answer with one of: {answers}."
ANSWER_FREE = "Answer in a few words."

# ``negated``: the original instruction, asked the other way round.
NEGATION = "Give an answer that is NOT correct for the task below: pick the wrong option."

# ``verbalizer_reversed`` and ``verbalizer_arbitrary``: the mapping stated in the prompt.
SWAPPED = "In this task the answer words are swapped: {pairs}."
SWAP_PAIR = "write '{shown}' to mean '{meant}'"
CODED = "Answer with a code word: {pairs}."
CODE_PAIR = "'{shown}' means '{meant}'"
# Arbitrary answer tokens: made-up words with no meaning of their own.
CODE_WORDS = ("zib", "dax", "wug", "fep", "lorp", "tiva", "mek", "quon")


def code_word(index: int) -> str:
    """The ``index``-th arbitrary answer token (numbered once the list runs out)."""
    base = CODE_WORDS[index % len(CODE_WORDS)]
    return base if index < len(CODE_WORDS) else f"{base}{index // len(CODE_WORDS)}"
