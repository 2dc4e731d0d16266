"""Summarization: shorten a document. (CNN/DailyMail, XSum, Gigaword, SAMSum, AESLC, Multi-News.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import PARQUET_BRANCH, STR, Hub, Row, feats, generate

CLUSTER = "summarization"


def summary_templates(thing: str, result: str) -> list:
    """``document`` to ``summary``; ``thing`` names the document, ``result`` the kind of summary."""
    return [
        tpl("summarise", f"Summarise this {thing}.\n\n{{document}}"),
        tpl("tldr", f"{{document}}\n\nWrite a {result} for the {thing} above."),
        tpl("doc_summary", f"{thing.capitalize()}: {{document}}\n{result.capitalize()}:"),
        tpl("main_points", f"What are the main points of the following {thing}? Answer with a {result}.\n{{document}}"),
        tpl("shorten", f"Shorten this {thing} to a {result}.\n{{document}}"),
        tpl("in_brief", f"{{document}}\nIn brief, what is this {thing} about?"),
        tpl("gist", f"Read the {thing} and give its gist.\n{{document}}"),
        inv("expand", f"Write a {thing} that this {result} describes.\n{{answer}}", "{document}"),
    ]


def rename(document: str, summary: str):
    """A preprocess mapping the hub's ``document`` and ``summary`` columns to the template fields."""

    def row_fn(row: Row) -> dict[str, Any]:
        return {"document": row[document], "summary": row[summary]}

    row_fn.__name__ = row_fn.__qualname__ = f"{document}_{summary}_row"
    return row_fn


def _task(name, display, hub, features, columns, thing, result, metric="rouge_l", eval="validation", about=""):
    return generate(
        name, CLUSTER, display, hub, features, ("document",), summary_templates(thing, result),
        target_field="summary", preprocess=rename(*columns), metric=metric, eval=eval, description=about,
    )


TASKS = [
    _task("cnn_dailymail", "CNN/DailyMail", Hub("abisee/cnn_dailymail", "3.0.0"),
          feats(article=STR, highlights=STR, id=STR),
          ("article", "highlights"), "news article", "few highlight sentences",
          about="News articles with their bullet-point highlights."),
    _task("xsum", "XSum", Hub("EdinburghNLP/xsum", revision=PARQUET_BRANCH), feats(document=STR, summary=STR, id=STR),
          ("document", "summary"), "BBC article", "one-sentence summary",
          about="BBC articles and their single-sentence summaries."),
    _task("gigaword", "Gigaword", Hub("Harvard/gigaword", revision=PARQUET_BRANCH), feats(document=STR, summary=STR),
          ("document", "summary"), "news sentence", "headline",
          about="First sentences of news stories and their headlines."),
    _task("samsum", "SAMSum", Hub("Samsung/samsum", revision=PARQUET_BRANCH), feats(id=STR, dialogue=STR, summary=STR),
          ("dialogue", "summary"), "chat conversation", "third-person summary",
          about="Messenger-style dialogues summarised by linguists."),
    _task("aeslc", "AESLC", Hub("Yale-LILY/aeslc"), feats(email_body=STR, subject_line=STR),
          ("email_body", "subject_line"), "email", "subject line",
          about="Enron emails and their subject lines."),
    _task("multi_news", "Multi-News", Hub("alexfabbri/multi_news", revision=PARQUET_BRANCH),
          feats(document=STR, summary=STR),
          ("document", "summary"), "set of news articles", "summary",
          about="Several news articles on one event and a professional summary."),
]
