"""Template lint over EVERY catalogue entry (generated suite and FLAN): fields, uniqueness, options, whitespace.

FLAN entries are checked on their preprocessed rows: a real mirror row where the mirror has the dataset,
and always a placeholder row shaped like the entry's declared hub features (``example_row``).
"""

from __future__ import annotations

import re

import pytest

from flanlab.tasks.flan import flan_specs
from flanlab.tasks.flan.build import hub_features
from flanlab.tasks.hub import example_row, load_mirror_split, mirror_folder
from flanlab.tasks.spec import TaskSpec, layout_problem
from flanlab.tasks.suite import build_suite
from tests.conftest import MIRROR_DIR, all_prompts

# A placeholder may touch whitespace, punctuation or quotes, never a letter, digit or underscore
# (FLAN's own templates shipped "{hypothesis}n" typos).
GLUED = re.compile(r"[A-Za-z0-9_]\{|\}[A-Za-z0-9_]")
ALIASES = {"wmt16/de-en": "local/opennmt_toy_de_en/default"}
FLAN = flan_specs()
SUITE = {spec.name: (spec, rows) for spec, rows in build_suite(seed=0, train_rows=40, eval_rows=20)}


def flan_rows(spec: TaskSpec) -> list[dict]:
    """Preprocessed rows for a FLAN entry: a placeholder row, plus up to 3 real mirror rows if present."""
    raw = [example_row(hub_features(spec))]
    folder = mirror_folder(MIRROR_DIR, spec, ALIASES)
    if folder.is_dir():
        mirror = load_mirror_split(folder, next(p.stem for p in sorted(folder.glob("*.jsonl"))))
        raw += list(mirror.select(range(min(3, len(mirror)))))
    rows = [spec.preprocess(r) if spec.preprocess else dict(r) for r in raw]
    for row in rows:  # a placeholder row's label may be "missing" (-1); any valid index will do for lint
        if spec.is_classification and not 0 <= int(row[spec.label_field]) < len(spec.row_options(row)):
            row[spec.label_field] = 0
    return rows


CASES = [(spec, rows) for spec, rows in ((s, flan_rows(s)) for s in FLAN.values())]
CASES += [(spec, [r for split in rows.values() for r in split[:3]]) for spec, rows in SUITE.values()]


@pytest.mark.parametrize(("spec", "rows"), CASES, ids=[f"{s.cluster}/{s.name}" for s, _ in CASES])
def test_template_lint(spec: TaskSpec, rows: list[dict]) -> None:
    ids = [t.id for t in spec.templates]
    bodies = [t.input for t in spec.templates]
    assert len(set(ids)) == len(ids), f"{spec.name}: duplicate template ids"
    assert len(set(bodies)) == len(bodies), f"{spec.name}: duplicate template bodies"
    inverted = [t.inverted for t in spec.templates]
    assert inverted == sorted(inverted), f"{spec.name}: inverted templates must come last"
    for row in rows:
        fields = set(row)
        assert spec.row_fields() <= fields, f"{spec.name}: row lacks {spec.row_fields() - fields}"
        for t in spec.templates:
            assert t.fields() <= fields, f"{spec.name}/{t.id}: fields {t.fields() - fields} not in the row"
            for f in t.fields():
                assert isinstance(row[f], str), f"{spec.name}/{t.id}: field {f!r} is not text: {row[f]!r}"
    for t in spec.templates:
        where = f"{spec.name}/{t.id}"
        for text in (t.input, t.target):
            assert all(line == line.rstrip() for line in text.split("\n")), f"{where}: trailing whitespace"
            assert text == text.strip(), f"{where}: leading or trailing whitespace"
            assert not GLUED.search(text), f"{where}: stray character next to a placeholder: {text!r}"
            assert "{}" not in text and "{{" not in text and "}}" not in text, where
        problem = layout_problem(t, spec.is_classification)  # the rule every loader enforces (flanlab/tasks/spec.py)
        assert problem is None, f"{where}: {problem}"


@pytest.mark.parametrize(("spec", "rows"), CASES, ids=[f"{s.cluster}/{s.name}" for s, _ in CASES])
def test_every_template_renders(spec: TaskSpec, rows: list[dict]) -> None:
    for i, row in enumerate(rows):
        for p in all_prompts(spec, row, i):
            where = f"{spec.name}/{p.variant}/{p.template_id}"
            assert p.input and p.input == p.input.rstrip(), where
            assert p.target == p.target.strip(), f"{where}: target {p.target!r} has outer whitespace"
            assert not p.options or p.target in p.options or p.inverted, where
