"""BIG-bench ``task.json`` files as tasks.

* ``examples`` with ``input`` and ``target_scores`` become classification: the options are the
  ``target_scores`` keys, the answer the highest-scoring one;
* ``examples`` with ``target`` (a string or a list of acceptable strings) become generation;
* ``task_prefix`` is the instruction where present (else the task's ``description``).

BIG-bench has no splits: examples alternate between ``validation`` (even positions) and ``train`` (odd),
so the two never share an example; ``all`` holds every example (for zero-shot scoring only).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flanlab.errors import DataError
from flanlab.tasks.catalogue import LocalCatalogue
from flanlab.tasks.spec import TaskSpec, Template

DEFAULT_CLUSTER = "bigbench"


def _templates(classification: bool) -> tuple[Template, ...]:
    opts = "\n{options}" if classification else ""
    return (
        Template("prefix", "{instruction}\n{input}" + opts),
        Template("input_first", "{input}\n\n{instruction}" + opts),
        Template("task_input", "Task: {instruction}\nInput: {input}" + opts),
    )


def _task_name(path: Path, data: dict[str, Any]) -> str:
    raw = str(data.get("name") or path.parent.name)
    return "bigbench_" + re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")


def _row(path: Path, i: int, ex: Any, instruction: str, classification: bool) -> dict[str, Any]:
    if not isinstance(ex, dict) or not isinstance(ex.get("input"), str):
        raise DataError(f"BIG-bench task {str(path)!r}: example {i} has no string 'input'")
    row: dict[str, Any] = {"input": ex["input"].strip(), "instruction": instruction}
    if classification:
        scores = ex.get("target_scores")
        if not isinstance(scores, dict) or len(scores) < 2:
            raise DataError(f"BIG-bench task {str(path)!r}: example {i} needs 'target_scores' with 2+ options")
        options = [str(o).strip() for o in scores]
        row["choices"], row["label"] = options, max(range(len(options)), key=lambda k: float(list(scores.values())[k]))
    else:
        target = ex.get("target")
        targets = [target] if isinstance(target, str) else list(target or [])
        if not targets or not all(isinstance(t, str) and t.strip() for t in targets):
            raise DataError(f"BIG-bench task {str(path)!r}: example {i} has no usable 'target'")
        row["targets"] = [t.strip() for t in targets]
    return row


def load_bigbench(path: str | Path, cluster: str | None = None) -> LocalCatalogue:
    """One BIG-bench ``task.json`` as a one-task catalogue (cluster ``cluster`` or ``bigbench``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"BIG-bench task {str(path)!r} is not readable JSON: {err}") from None
    examples = data.get("examples") if isinstance(data, dict) else None
    if not examples:
        raise DataError(f"BIG-bench task {str(path)!r} has no examples (only programmatic or empty tasks exist "
                        "there; a task.json with an 'examples' list is needed)")
    classification = all(isinstance(ex, dict) and "target_scores" in ex for ex in examples)
    instruction = str(data.get("task_prefix") or data.get("description") or "").strip()
    if not instruction:
        raise DataError(f"BIG-bench task {str(path)!r} has neither 'task_prefix' nor 'description'")
    rows = [_row(path, i, ex, instruction, classification) for i, ex in enumerate(examples)]
    name = _task_name(path, data)
    spec = TaskSpec(
        name=name, cluster=cluster or DEFAULT_CLUSTER, display_name=str(data.get("name") or name),
        kind="classification" if classification else "generation", input_fields=("input",),
        templates=_templates(classification), metric="accuracy" if classification else "exact_match",
        options_field="choices" if classification else None, target_field="targets",
        description=str(data.get("description", "")), metadata={"source": str(path)},
    )
    spec.check_layout(f"BIG-bench task {str(path)!r}")  # the templates are the loader's own: a guard
    splits = {"validation": rows[0::2], "train": rows[1::2], "all": rows}
    return LocalCatalogue({name: (spec, splits)}, source=f"BIG-bench file {path}")
