"""Golden snapshots of rendered prompts: one file per task and variant under tests/golden/prompts/.

A template change then shows up as a readable diff. FLAN entries render a placeholder row shaped like
their hub features (no data needed); suite tasks render their first validation row (seed 0).
Regenerate after an intended change with ``FLANLAB_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_golden.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flanlab.tasks.control import build_control
from flanlab.tasks.flan import flan_specs
from flanlab.tasks.flan.build import hub_features
from flanlab.tasks.hub import example_row
from flanlab.tasks.spec import TaskSpec
from flanlab.tasks.suite import build_suite
from flanlab.templates.variants import FLAN_VARIANTS, SEMANTIC_VARIANTS, VariantContext, render_for_scoring
from tests.conftest import assert_golden

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "prompts"


def _flan_row(spec: TaskSpec) -> dict:
    raw = example_row(hub_features(spec))
    row = spec.preprocess(raw) if spec.preprocess else raw
    if spec.is_classification and not 0 <= int(row[spec.label_field]) < len(spec.row_options(row)):
        row[spec.label_field] = 0
    return row


SUITE = build_suite(seed=0, train_rows=20, eval_rows=10)
CONTROL = build_control(seed=0, train_rows=20, eval_rows=10)
ROWS = [(spec, _flan_row(spec)) for spec in flan_specs().values()]
ROWS += [(spec, rows["validation"][0]) for spec, rows in SUITE]
ROWS += [(spec, rows["validation"][0]) for spec, rows in CONTROL]
# The prompt-semantics variants are pinned on the generated catalogues (donors from the same catalogue, one
# template held back); FLAN's variants on every entry.
CONTEXTS = {spec.name: VariantContext([s for s, _ in tasks], held_back=1) for tasks in (SUITE, CONTROL)
            for spec, _ in tasks}


def variants_of(spec: TaskSpec) -> tuple[str, ...]:
    return (*FLAN_VARIANTS, *SEMANTIC_VARIANTS) if spec.name in CONTEXTS else FLAN_VARIANTS


def snapshot(spec: TaskSpec, row: dict, variant: str) -> str:
    parts = []
    context = CONTEXTS.get(spec.name) if variant in SEMANTIC_VARIANTS else None
    for p in render_for_scoring(spec, row, 0, variant, include_inverted=True,
                                **({"context": context} if context else {})):
        flag = " (inverted)" if p.inverted else ""
        text = f"=== {p.template_id}{flag}\n--- input\n{p.input}\n--- target\n{p.target}\n"
        if variant in SEMANTIC_VARIANTS:
            text += (f"--- ranked\n{list(p.options or ())} label={p.label} original={p.original_label} "
                     f"stated={p.stated_label} stated_task={p.stated_task}\n")
        parts.append(text)
    return "\n".join(parts)


@pytest.mark.parametrize(("spec", "row"), ROWS, ids=[s.name for s, _ in ROWS])
def test_rendered_prompts_match_golden(spec: TaskSpec, row: dict) -> None:
    for variant in variants_of(spec):
        assert_golden(GOLDEN / f"{spec.name}__{variant}.txt", snapshot(spec, row, variant))


def test_no_stale_golden_files() -> None:
    expected = {f"{s.name}__{v}.txt" for s, _ in ROWS for v in variants_of(s)}
    assert {p.name for p in GOLDEN.glob("*.txt")} <= expected
