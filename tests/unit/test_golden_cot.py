"""Golden snapshots of the prompts added with chain of thought: the multi-step control tasks (FLAN's variants and
``cot``) and the instruction-response fixtures (FLAN's variants), under tests/golden/cot_prompts/.

Kept apart from tests/golden/prompts/ so that those files stay exactly as they were. Regenerate after an intended
change with ``FLANLAB_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_golden_cot.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flanlab.tasks.combined import CombinedCatalogue
from flanlab.tasks.control.cot_catalogue import build_multistep
from flanlab.tasks.spec import TaskSpec
from flanlab.templates.cot import COT
from flanlab.templates.variants import FLAN_VARIANTS, render_for_scoring
from tests.conftest import ROOT, assert_golden

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "cot_prompts"
FIX = ROOT / "tests" / "fixtures" / "instruct"
INSTRUCT = CombinedCatalogue(include=[{"source": "alpaca", "path": str(FIX / "alpaca.json")},
                                    {"source": "dolly", "path": str(FIX / "dolly.jsonl")},
                                    {"source": "oasst1", "path": str(FIX / "oasst.jsonl"), "turns": "every"},
                                    {"source": "sharegpt", "path": str(FIX / "sharegpt.json")}])
ROWS = [(spec, rows["validation"][0], (*FLAN_VARIANTS, COT)) for spec, rows in build_multistep(0, 20, 10)]
ROWS += [(spec, INSTRUCT.train_data(name)[0], FLAN_VARIANTS) for name, spec in INSTRUCT.specs.items()]


def snapshot(spec: TaskSpec, row: dict, variant: str) -> str:
    return "\n".join(f"=== {p.template_id}\n--- input\n{p.input}\n--- target\n{p.target}\n--- options\n"
                     f"{list(p.options or ())} label={p.label} references={list(p.references)}\n"
                     for p in render_for_scoring(spec, row, 0, variant))


@pytest.mark.parametrize(("spec", "row", "variants"), ROWS, ids=[s.name for s, _, _ in ROWS])
def test_rendered_prompts_match_golden(spec: TaskSpec, row: dict, variants: tuple[str, ...]) -> None:
    for variant in variants:
        assert_golden(GOLDEN / f"{spec.name}__{variant}.txt", snapshot(spec, row, variant))


def test_no_stale_golden_files() -> None:
    expected = {f"{s.name}__{v}.txt" for s, _, vs in ROWS for v in vs}
    assert {p.name for p in GOLDEN.glob("*.txt")} == expected
