"""Reading generated chain-of-thought: the answer is what follows the (last) answer marker.

A generation without the marker has no answer: it counts as wrong, and ``missing_marker`` counts it (in each
template's ``other_metrics``, so in ``results.json``, and as ``zeroshot/cot/...missing_marker`` metrics). The lenient
reading (the whole output when the marker is missing) is kept beside it as ``cot_lenient_acc`` for diagnosis
only; it never enters a score.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from flanlab.templates.cot import COT, MARKER

_MARKER_RE = re.compile(r"\s+".join(map(re.escape, MARKER.lower().split())), re.IGNORECASE)
TRAILING = " \t.!,;:"


def extract_answer(text: str) -> str | None:
    """The answer after the last marker in ``text`` (first line, trailing punctuation cut), or None."""
    hits = list(_MARKER_RE.finditer(text))
    if not hits:
        return None
    rest = text[hits[-1].end():].strip()
    return rest.split("\n", 1)[0].strip().rstrip(TRAILING).strip()


def lenient_answer(text: str) -> str:
    """The extracted answer, or the whole first line when the marker is missing."""
    found = extract_answer(text)
    return found if found is not None else text.strip().split("\n", 1)[0].strip().rstrip(TRAILING).strip()


def read_outputs(variants: Sequence[str], outputs: Sequence[str]) -> tuple[list[str], list[bool | None]]:
    """Per generated output: the text that is scored and whether the marker was found (None: not a CoT prompt)."""
    texts, found = [], []
    for variant, out in zip(variants, outputs, strict=True):
        if variant != COT:
            texts.append(out)
            found.append(None)
            continue
        answer = extract_answer(out)
        texts.append(answer if answer is not None else "")
        found.append(answer is not None)
    return texts, found


def marker_counts(preds: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """``missing_marker`` (count), ``missing_marker_rate`` and ``cot_lenient_acc`` over CoT predictions ({} if none)."""
    cot = [d for d in preds if d.get("marker") is not None]
    if not cot:
        return {}
    missing = sum(not d["marker"] for d in cot)
    lenient = sum(lenient_answer(d.get("raw", "")) == d["gold"] for d in cot)
    return {"missing_marker": float(missing), "missing_marker_rate": missing / len(cot),
            "cot_lenient_acc": lenient / len(cot)}


def cot_metrics(prefix: str, variant: str, templates: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Flat metrics: missing markers summed over every (task, template) of a CoT-scored block."""
    if variant != COT:
        return {}
    extras = [t.get("other_metrics") or {} for t in templates]
    counted = [e for e in extras if "missing_marker" in e]
    if not counted:
        return {}
    missing = sum(e["missing_marker"] for e in counted)
    total = sum(t["n"] for t, e in zip(templates, extras, strict=True) if "missing_marker" in e)
    return {f"{prefix}/{variant}/missing_marker": missing, f"{prefix}/{variant}/missing_marker_rate": missing / total}
