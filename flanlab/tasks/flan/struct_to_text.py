"""Struct-to-text: write a sentence from structured data. (CommonGen, DART, E2E NLG, WebNLG.)"""

from __future__ import annotations

from typing import Any

from datasets import List

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import BOOL, I32, PARQUET_BRANCH, STR, STRS, Hub, Row, feats, generate

CLUSTER = "struct_to_text"


def data_templates(thing: str) -> list:
    """Templates over one ``data`` field; ``thing`` names what it holds."""
    return [
        tpl("describe", f"Write a sentence that states these {thing}.\n{{data}}"),
        tpl("data_text", "Data: {data}\nText:"),
        tpl("turn_into", f"Turn the following {thing} into fluent English.\n{{data}}"),
        tpl("verbalise", f"{{data}}\nDescribe the {thing} above in plain words."),
        tpl("one_sentence", f"Here are some {thing}: {{data}}\nSay all of it in one or two sentences."),
        tpl("caption", f"Produce a short text that covers every item in these {thing}.\n{{data}}"),
        tpl("express", "{data}\nExpress this information as a sentence."),
        inv("extract", f"Read this sentence and list the {thing} it states.\n{{answer}}", "{data}"),
    ]


def concept_templates() -> list:
    return [
        tpl("use_words", "Write a sentence about everyday life that uses all of these words: {data}"),
        tpl("concepts", "Concepts: {data}\nSentence:"),
        tpl("scene", "Describe a scene that includes each of the following: {data}"),
        tpl("make_sentence", "Make a sensible sentence out of these words.\n{data}"),
        tpl("combine", "{data}\nCombine the words above into one natural sentence."),
        tpl("story", "Use every word in this list in a single sentence: {data}"),
        tpl("generate", "Here is a set of concepts: {data}\nWrite a sentence that connects them."),
        inv("key_words", "What are the key words of this sentence? {answer}", "{data}"),
    ]


def e2e_row(row: Row) -> dict[str, Any]:
    return {"data": row["meaning_representation"], "text": [row["human_reference"]]}


def dart_row(row: Row) -> dict[str, Any]:
    return {"data": "; ".join(" | ".join(t) for t in row["tripleset"]), "text": list(row["annotations"]["text"])}


def common_gen_row(row: Row) -> dict[str, Any]:
    return {"data": ", ".join(row["concepts"]), "text": [row["target"]]}


def web_nlg_row(row: Row) -> dict[str, Any]:
    """WebNLG: the modified triple set (one 's | p | o' string per triple) and its lexicalisations."""
    sets = row["modified_triple_sets"]["mtriple_set"]
    return {"data": "; ".join(sets[0] if sets else []), "text": list(row["lex"]["text"])}


TASKS = [
    generate(
        "common_gen", CLUSTER, "CommonGen", Hub("allenai/common_gen"),
        feats(concept_set_idx=I32, concepts=STRS, target=STR),
        ("data",), concept_templates(), target_field="text", preprocess=common_gen_row, metric="rouge_l",
        description="Generative commonsense: a sentence using every given concept.",
    ),
    generate(
        "dart", CLUSTER, "DART", Hub("Yale-LILY/dart", revision=PARQUET_BRANCH),
        feats(tripleset=List(STRS), subtree_was_extended=BOOL, annotations={"source": STRS, "text": STRS}),
        ("data",), data_templates("facts"), target_field="text", preprocess=dart_row, metric="rouge_l",
        description="Open-domain data-to-text from triples (tables, WikiSQL, WebNLG, E2E).",
    ),
    generate(
        "e2e_nlg", CLUSTER, "E2E NLG", Hub("tuetschek/e2e_nlg", revision=PARQUET_BRANCH),
        feats(meaning_representation=STR, human_reference=STR),
        ("data",), data_templates("restaurant attributes"), target_field="text", preprocess=e2e_row,
        metric="rouge_l", description="Restaurant meaning representations to descriptions.",
    ),
    generate(
        "web_nlg", CLUSTER, "WebNLG",
        Hub("webnlg-challenge/web_nlg", revision=PARQUET_BRANCH, data_dir="release_v3.0_en"),
        feats(category=STR, size=I32, eid=STR,
              original_triple_sets={"otriple_set": List(STRS)}, modified_triple_sets={"mtriple_set": List(STRS)},
              shape=STR, shape_type=STR, lex={"comment": STRS, "lid": STRS, "text": STRS, "lang": STRS},
              test_category=STR, dbpedia_links=STRS, links=STRS),
        ("data",), data_templates("DBpedia facts"), target_field="text", preprocess=web_nlg_row, metric="rouge_l",
        description="DBpedia triple sets verbalised as text.",
    ),
]
