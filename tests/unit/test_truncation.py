"""A prompt too long for the input limit loses the end of its passage, never the instruction, question or options."""

from __future__ import annotations

import pytest

from flanlab.data.collate import encode_pairs
from flanlab.data.mixture import render_task
from flanlab.data.token_layout import causal_contexts
from flanlab.data.truncation import InputLimit, truncate_row_to_fit
from flanlab.models.tokenizer import train_bpe
from flanlab.scoring.zeroshot import render_rows
from flanlab.tasks.catalogue import LocalCatalogue
from flanlab.tasks.spec import TaskSpec, Template
from flanlab.templates.variants import render_for_scoring, render_for_training

PASSAGE = " ".join(f"the box number {i} is red and  sits under table {i}." for i in range(40))
QUESTION = "is the last box under a table?"
SPEC = TaskSpec(
    name="read", cluster="rc", display_name="Reading", kind="classification",
    input_fields=("passage", "question"), options=("yes", "no"),
    templates=(
        Template("t0", "Read the passage and answer the question.\n{passage}\nQuestion: {question}\n{options}"),
        Template("t1", "{passage}\n\nBased on the passage above, {question}\n{options}"),
    ),
)
ROW = {"passage": PASSAGE, "question": QUESTION, "label": 0}


def words(text: str) -> int:
    return len(text.split())


def _scored(row):
    return list(render_for_scoring(SPEC, row, 0, "instruction"))


def test_the_passage_is_cut_at_a_word_and_everything_else_survives():
    limit = 60
    assert max(words(p.input) for p in _scored(ROW)) > limit
    fitted = truncate_row_to_fit(SPEC, ROW, _scored, words, limit)
    prompts = _scored(fitted)
    assert max(words(p.input) for p in prompts) <= limit
    assert fitted["question"] == QUESTION and fitted["label"] == 0
    assert PASSAGE.startswith(fitted["passage"]) and fitted["passage"] and not fitted["passage"].endswith(" ")
    one_more = " ".join(PASSAGE.split()[: len(fitted["passage"].split()) + 1])
    assert max(words(p.input) for p in _scored({**ROW, "passage": one_more})) > limit  # the longest that fits
    assert "  sits" in fitted["passage"]  # original spacing kept
    for p in prompts:
        assert QUESTION in p.input and p.input.endswith("OPTIONS:\n- yes\n- no")
    assert prompts[0].input.startswith("Read the passage and answer the question.")


def test_rows_that_fit_are_untouched_and_the_next_field_is_cut_when_needed():
    assert truncate_row_to_fit(SPEC, ROW, _scored, words, 10_000) == ROW
    long_question = {**ROW, "passage": "short passage here", "question": QUESTION * 30}
    fitted = truncate_row_to_fit(SPEC, long_question, _scored, words, 40)
    assert fitted["passage"] == "" or fitted["question"] != long_question["question"]
    assert max(words(p.input) for p in _scored(fitted)) <= 40


def test_a_generation_target_is_never_cut():
    spec = TaskSpec(name="gen", cluster="g", display_name="Gen", kind="generation", input_fields=("passage",),
                    templates=(Template("g0", "Summarise: {passage}"),))
    row = {"passage": PASSAGE, "target": PASSAGE}
    fitted = truncate_row_to_fit(spec, row, lambda r: render_for_training(spec, r, 0, "instruction"), words, 20)
    assert fitted["target"] == PASSAGE and words(fitted["passage"]) < words(PASSAGE)


def _flat(tok, ids: list[int]) -> str:
    return "".join(tok.decode(ids, skip_special_tokens=True).split())


@pytest.fixture(scope="module")
def tok():
    return train_bpe([PASSAGE, QUESTION, "Read the passage and answer the question. OPTIONS: - yes - no"] * 10, 300)


@pytest.mark.parametrize("arch", ["seq2seq", "causal"])
def test_token_limit_keeps_the_question_where_token_truncation_drops_it(arch, tok):
    max_len = 64
    text = render_for_training(SPEC, ROW, 0, "instruction").input
    cut = encode_pairs(tok, arch, [text], ["yes"], max_input_len=max_len, max_target_len=4)["input_ids"][0]
    ids = tok(text)["input_ids"] if arch == "seq2seq" else causal_contexts(tok, [text])[0]
    assert len(ids) > max_len
    lost = "OPTIONS" if arch == "seq2seq" else "Readthepassage"  # seq2seq cuts the end, causal the start
    assert lost not in _flat(tok, cut[:max_len])

    limit = InputLimit.for_tokenizer(tok, arch, max_len)
    fitted = limit.fit(SPEC, ROW, lambda r: render_for_training(SPEC, r, 0, "instruction"))
    new = render_for_training(SPEC, fitted, 0, "instruction").input
    assert limit.count_tokens(new) <= max_len
    full = tok(new)["input_ids"] if arch == "seq2seq" else causal_contexts(tok, [new])[0]
    enc = encode_pairs(tok, arch, [new], ["yes"], max_input_len=max_len, max_target_len=4)["input_ids"][0]
    assert enc[: len(full)] == full  # nothing was cut at the token level
    flat = _flat(tok, full)
    assert "Readthepassage" in flat and QUESTION.replace(" ", "") in flat and flat.endswith("-yes-no")


def _One() -> LocalCatalogue:
    rows = [ROW, {**ROW, "passage": "a short one"}]
    return LocalCatalogue({"read": (SPEC, {"train": rows, "validation": rows})}, source="one task")


def test_render_task_and_render_rows_apply_the_limit():
    catalogue, limit = _One(), InputLimit(words, 50)
    rows = catalogue.load("read", "train")
    trained = render_task(catalogue, "read", rows, "instruction", limit=limit)
    assert all(words(t) <= 50 and QUESTION in t for t in trained["input"])
    assert "a short one" in trained["input"][1]
    scored = render_rows(catalogue, "read", rows, "instruction", limit=limit)
    assert len(scored) == 4 and all(words(p.input) <= 50 and QUESTION in p.input for p in scored)
    untouched = render_rows(catalogue, "read", rows, "instruction")  # no limit: as before
    assert max(words(p.input) for p in untouched) > 50


def test_render_and_tokenize_maps_never_hash_their_closures(monkeypatch, tok):
    """A closure over a real tokenizer takes minutes to dill-hash (Gemma's); these maps must not hash at all."""
    from datasets import arrow_dataset

    from flanlab.data.collate import tokenize_mixture

    real = arrow_dataset.update_fingerprint  # what Dataset.map calls to hash its function

    def refuse(old, transform, transform_args):
        if transform_args.get("function") is not None:
            raise AssertionError(f"datasets hashed a per-run map function ({transform})")
        return real(old, transform, transform_args)

    catalogue = _One()
    rows = catalogue.load("read", "train")
    monkeypatch.setattr(arrow_dataset, "update_fingerprint", refuse)
    rendered = render_task(catalogue, "read", rows, "instruction", limit=InputLimit.for_tokenizer(tok, "causal", 64))
    tokens = tokenize_mixture(rendered, tok, "causal", max_input_len=64, max_target_len=8)
    assert len(tokens) == 2 and all(len(ids) <= 72 for ids in tokens["input_ids"])
