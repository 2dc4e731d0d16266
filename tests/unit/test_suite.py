"""The embedded suite: determinism, coverage, template lint, rendering, balance and split hygiene."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from flanlab.tasks.spec import placeholders, validate_task
from flanlab.tasks.suite import build_suite
from flanlab.tasks.suite.world import row_key
from flanlab.templates.variants import SEMANTIC_VARIANTS, render_for_scoring
from tests.conftest import all_prompts

CLUSTERS = {"nli", "paraphrase", "sentiment", "coreference", "reading_comprehension", "commonsense",
            "struct_to_text", "misc"}
SAMPLE_ROWS = 20
MAX_WORDS = 60
# A placeholder may only touch whitespace, the text's ends, quotes or punctuation - never a letter or digit.
_GLUED = re.compile(r"[A-Za-z0-9_]\{|\}[A-Za-z0-9_]")


@pytest.fixture(scope="module")
def suite():
    return build_suite(seed=0)


@pytest.fixture(scope="module")
def small_suite():
    return build_suite(seed=0, train_rows=300, eval_rows=60)


def _all_rows(splits):
    return [row for rows in splits.values() for row in rows]


def test_deterministic_per_seed(small_suite):
    again = build_suite(seed=0, train_rows=300, eval_rows=60)
    assert [(s.name, rows) for s, rows in small_suite] == [(s.name, rows) for s, rows in again]
    other = build_suite(seed=1, train_rows=300, eval_rows=60)
    for (spec, rows), (_, other_rows) in zip(small_suite, other, strict=True):
        assert rows["train"] != other_rows["train"], spec.name


def test_default_sizes_and_speed():
    start = time.perf_counter()
    built = build_suite()
    elapsed = time.perf_counter() - start
    assert elapsed < 4.0, f"build_suite took {elapsed:.2f}s"
    for spec, rows in built:
        assert {k: len(v) for k, v in rows.items()} == {"train": 2000, "validation": 200, "dev": 200}, spec.name


def test_clusters_and_tasks(small_suite):
    per_cluster = Counter(spec.cluster for spec, _ in small_suite)
    assert set(per_cluster) >= CLUSTERS
    assert all(per_cluster[c] >= 3 for c in CLUSTERS), per_cluster
    names = [spec.name for spec, _ in small_suite]
    assert len(set(names)) == len(names)
    kinds = Counter(spec.kind for spec, _ in small_suite)
    assert kinds["classification"] > kinds["generation"]
    for spec, _ in small_suite:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", spec.name), spec.name
        assert spec.display_name and spec.description, spec.name
        assert spec.metric == ("accuracy" if spec.is_classification else "exact_match"), spec.name
        assert len(spec.scored_templates()) >= 5, spec.name
        assert len(spec.templates) >= 6, spec.name
        inverted = [t.inverted for t in spec.templates]
        assert inverted == sorted(inverted), f"{spec.name}: inverted templates must come last"


def test_template_lint(small_suite):
    for spec, splits in small_suite:
        fields = set(_all_rows(splits)[0])
        ids = [t.id for t in spec.templates]
        bodies = [t.input for t in spec.templates]
        assert len(set(ids)) == len(ids), spec.name
        assert len(set(bodies)) == len(bodies), spec.name
        for t in spec.templates:
            where = f"{spec.name}/{t.id}"
            assert t.fields() <= fields, where
            for text in (t.input, t.target):
                assert text == text.strip(), where
                assert all(line == line.rstrip() for line in text.split("\n")), where
                assert not _GLUED.search(text), where
                assert "{}" not in text, where
            n_options = placeholders(t.input).count("options")
            if spec.is_classification and not t.inverted:
                assert n_options == 1 and t.input.endswith("\n{options}"), where
                assert t.target == "{answer}", where
            else:
                assert n_options == 0 and "options" not in placeholders(t.target), where


def test_rows_have_the_declared_fields(small_suite):
    for spec, splits in small_suite:
        rows = _all_rows(splits)
        validate_task(spec, rows[:SAMPLE_ROWS])
        for row in rows:
            assert spec.row_fields() <= set(row), spec.name
            for key, value in row.items():
                if key == spec.label_field and spec.is_classification:
                    assert isinstance(value, int), (spec.name, key)
                elif key == spec.options_field:
                    assert isinstance(value, list) and all(isinstance(v, str) for v in value), (spec.name, key)
                    assert len(set(value)) == len(value), (spec.name, value)
                else:
                    assert isinstance(value, str) and value == value.strip() and value, (spec.name, key)
            if spec.is_classification:
                assert 0 <= row[spec.label_field] < len(spec.row_options(row)), spec.name


def test_every_template_renders_under_every_variant(small_suite):
    for spec, splits in small_suite:
        rows = splits["validation"][:SAMPLE_ROWS]
        for i, row in enumerate(rows):
            for p in all_prompts(spec, row, i):
                where = f"{spec.name}/{p.variant}/{p.template_id}"
                assert p.input and p.input == p.input.rstrip(), where
                assert "{" not in p.input and "}" not in p.input, where
                # the length budget is the suite's own prose; the semantics variants add a mapping or a frame
                assert len(p.input.split()) <= MAX_WORDS or p.variant in SEMANTIC_VARIANTS, (where, p.input)
                assert p.target and p.target == p.target.strip(), where
                assert len(p.target.split()) <= 8 or p.inverted, (where, p.target)
        used = {p.template_id for i, row in enumerate(rows)
                for p in render_for_scoring(spec, row, i, "instruction", include_inverted=True)}
        assert used == {t.id for t in spec.templates}, spec.name


def test_label_balance(suite):
    for spec, splits in suite:
        if not spec.is_classification:
            continue
        rows = splits["train"]
        counts = Counter(spec.label_index(r) for r in rows)
        n_options = len(spec.row_options(rows[0]))
        assert set(counts) == set(range(n_options)), spec.name
        expected = len(rows) / n_options
        for label, count in counts.items():
            assert abs(count - expected) <= 0.1 * expected, (spec.name, label, count)


def test_no_train_eval_overlap(suite):
    for spec, splits in suite:
        train = {row_key(spec, r) for r in splits["train"]}
        plain_train = {tuple(r[f] for f in spec.input_fields) for r in splits["train"]}
        for split in ("validation", "dev"):
            keys = [row_key(spec, r) for r in splits[split]]
            assert len(set(keys)) == len(keys), (spec.name, split)
            assert not train & set(keys), (spec.name, split)
            if not spec.options_field:
                plain = {tuple(r[f] for f in spec.input_fields) for r in splits[split]}
                assert not plain_train & plain, (spec.name, split)
        assert not {row_key(spec, r) for r in splits["validation"]} & {row_key(spec, r) for r in splits["dev"]}
