"""Instruction–response formats, each read into one row shape (docs/cot.md):

``instruction`` (what is asked), ``context`` (the input, passage or earlier turns; may be empty), ``prompt`` (the
two as one text: what the ``instruction`` variant shows), ``response`` (the target) and ``category``.

* ``alpaca``: ``instruction``, ``input``, ``output`` (also Self-Instruct);
* ``dolly``: ``instruction``, ``context``, ``response``, ``category``;
* ``oasst``: OpenAssistant message trees as flat messages (``message_id``, ``parent_id``, ``role`` prompter or
  assistant, ``text``, ``rank``); at each prompter message the best-ranked reply (rank 0 first) is taken;
* ``sharegpt``: ``conversations``, a list of ``{from: human | gpt, value}`` turns.

Conversations give their first prompter → assistant turn (``turns: first``) or every turn along the best path
(``turns: every``, the earlier turns as context). ``fields`` renames a format's raw fields (``{canonical: raw}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flanlab.errors import DataError

FORMATS = ("alpaca", "dolly", "oasst", "sharegpt")
TURNS = ("first", "every")
USER_ROLES, BOT_ROLES = ("human", "user", "prompter"), ("gpt", "assistant", "chatgpt", "bot")


def make_row(instruction: str, context: str, response: str, category: str = "", history_first: bool = False) -> dict:
    """One row: the prompt joins instruction and context (history first for conversations)."""
    instruction, context = str(instruction or "").strip(), str(context or "").strip()
    parts = [context, instruction] if history_first else [instruction, context]
    return {"instruction": instruction, "context": context, "prompt": "\n\n".join(p for p in parts if p),
            "response": str(response or "").strip(), "category": str(category or "")}


def _get(raw: Mapping[str, Any], fields: Mapping[str, str], name: str, default: Any = "") -> Any:
    return raw.get(fields.get(name, name), default)


def alpaca_rows(raws: Iterable[Mapping[str, Any]], fields: Mapping[str, str], **_: Any) -> list[dict]:
    return [make_row(_get(r, fields, "instruction"), _get(r, fields, "input"), _get(r, fields, "output")) for r in raws]


def dolly_rows(raws: Iterable[Mapping[str, Any]], fields: Mapping[str, str], **_: Any) -> list[dict]:
    return [make_row(_get(r, fields, "instruction"), _get(r, fields, "context"), _get(r, fields, "response"),
                     _get(r, fields, "category")) for r in raws]


def history(turns: list[tuple[str, str]]) -> str:
    """Earlier turns as ``User: ...`` / ``Assistant: ...`` lines."""
    return "\n".join(f"{'User' if role == 'user' else 'Assistant'}: {text}" for role, text in turns)


def conversation_rows(turns: list[tuple[str, str]], mode: str) -> list[dict]:
    """Rows from one conversation of (``user`` | ``assistant``, text) turns: each user turn answered next."""
    rows = []
    for i in range(len(turns) - 1):
        if turns[i][0] == "user" and turns[i + 1][0] == "assistant":
            rows.append(make_row(turns[i][1], history(turns[:i]), turns[i + 1][1], history_first=True))
            if mode == "first":
                break
    return rows


def _role(value: Any) -> str | None:
    value = str(value).lower()
    return "user" if value in USER_ROLES else "assistant" if value in BOT_ROLES else None


def sharegpt_rows(raws: Iterable[Mapping[str, Any]], fields: Mapping[str, str], turns: str = "first",
                  **_: Any) -> list[dict]:
    out = []
    for raw in raws:
        convo = [(_role(t.get("from", t.get("role"))), str(t.get("value", t.get("content", ""))))
                 for t in _get(raw, fields, "conversations", []) or []]
        out += conversation_rows([(r, t) for r, t in convo if r is not None], turns)
    return out


def _rank(message: Mapping[str, Any]) -> float:
    rank = message.get("rank")
    return float("inf") if rank is None else float(rank)


def best_path(root: Mapping[str, Any], children: Mapping[str, list[Mapping[str, Any]]]) -> list[tuple[str, str]]:
    """The conversation down a tree, taking the best-ranked child at every step."""
    path, node = [], root
    while node is not None:
        role = _role(node.get("role"))
        if role is None:
            break
        path.append((role, str(node.get("text", ""))))
        kids = children.get(str(node.get("message_id")), [])
        node = min(kids, key=_rank) if kids else None
    return path


def oasst_rows(raws: Iterable[Mapping[str, Any]], fields: Mapping[str, str], turns: str = "first",
               **_: Any) -> list[dict]:
    messages = [{k: _get(r, fields, k, None) for k in ("message_id", "parent_id", "role", "text", "rank")}
                for r in raws]
    children: dict[str, list[dict]] = {}
    for m in messages:
        if m["parent_id"] is not None:
            children.setdefault(str(m["parent_id"]), []).append(m)
    out = []
    for root in (m for m in messages if m["parent_id"] is None):
        out += conversation_rows(best_path(root, children), turns)
    return out


READERS: dict[str, Callable[..., list[dict]]] = {"alpaca": alpaca_rows, "dolly": dolly_rows, "oasst": oasst_rows,
                                                 "sharegpt": sharegpt_rows}


def convert(fmt: str, raws: Iterable[Mapping[str, Any]], fields: Mapping[str, str] | None = None,
            turns: str = "first") -> list[dict]:
    """Raw records of format ``fmt`` as rows; rows with an empty instruction or response are dropped."""
    if fmt not in READERS:
        raise DataError(f"unknown instruction-response format {fmt!r}; known: {', '.join(FORMATS)}")
    if turns not in TURNS:
        raise DataError(f"`turns` must be one of {', '.join(TURNS)}, got {turns!r}")
    rows = READERS[fmt](raws, dict(fields or {}), turns=turns)
    return [r for r in rows if r["instruction"] and r["response"]]
