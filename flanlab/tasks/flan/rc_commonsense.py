"""Reading comprehension that also needs commonsense. (CosmosQA, ReCoRD.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import I32, INTS, PARQUET_BRANCH, STR, STRS, Hub, Row, classify, feats, generate

CLUSTER = "reading_comprehension_with_commonsense"
BLANK = "___"


def cosmos_templates() -> list:
    return [
        tpl("read_answer", "{context}\n\nQuestion: {question}\n{options}"),
        tpl("context_question", "Context: {context}\nBased on the context and common sense, {question}\n{options}"),
        tpl("likely", "{context}\nWhich option most likely answers this: {question}\n{options}"),
        tpl("between_lines", "Read between the lines.\n{context}\n{question}\n{options}"),
        tpl("story_question", "Here is a short story: {context}\nQ: {question}\nChoose the best answer.\n{options}"),
        tpl("infer", "What can you infer? {question}\nText: {context}\n{options}"),
        tpl("reader", "{context}\nA reader asks: {question}\nWhich of the options answers it?\n{options}"),
        inv("write_question", "Context: {context}\nWrite a question about the context whose answer is: {answer}",
            "{question}"),
    ]


def record_templates() -> list:
    return [
        tpl("fill_blank", f"{{context}}\n\nFill in the blank ({BLANK}) in this sentence about the article:\n{{query}}"),
        tpl("who_what", f"Article: {{context}}\nSentence: {{query}}\nWhich name from the article belongs in {BLANK}?"),
        tpl("complete", "{context}\nComplete the follow-up sentence: {query}"),
        tpl("missing_entity", f"Read the news story.\n{{context}}\nWhat is missing from this line ({BLANK})?"
            " {query}"),
        tpl("summary_blank", "Story: {context}\nThe next sentence has a gap. {query}\nWhat goes in the gap?"),
        tpl("news_gap", "{context}\nIn the sentence below, who or what is the blank?\n{query}"),
        tpl("entity", f"Using the article, name the entity that fits {BLANK}.\n{{context}}\n{{query}}"),
        inv("write_query", f"Article: {{context}}\nWrite a sentence about the article with a blank ({BLANK}) that "
            "should be filled with {answer}.", "{query}"),
    ]


def cosmos_row(row: Row) -> dict[str, Any]:
    return {"context": row["context"], "question": row["question"],
            "candidates": [row[f"answer{i}"] for i in range(4)], "label": row["label"]}


def record_row(row: Row) -> dict[str, Any]:
    """ReCoRD: '@highlight' markers become bullet lines; '@placeholder' becomes a visible blank."""
    passage = row["passage"].replace("\n@highlight\n", "\n- ").replace("@highlight\n", "- ")
    return {"context": passage, "query": row["query"].replace("@placeholder", BLANK), "answers": list(row["answers"])}


TASKS = [
    classify(
        "cosmos_qa", CLUSTER, "Cosmos QA", Hub("allenai/cosmos_qa", revision=PARQUET_BRANCH),
        feats(id=STR, context=STR, question=STR, answer0=STR, answer1=STR, answer2=STR, answer3=STR, label=I32),
        ("context", "question"), cosmos_templates(), options_field="candidates", preprocess=cosmos_row,
        description="Questions about everyday narratives that need reading between the lines.",
    ),
    generate(
        "record", CLUSTER, "ReCoRD", Hub("aps/super_glue", "record"),
        feats(passage=STR, query=STR, entities=STRS, entity_spans={"text": STRS, "start": INTS, "end": INTS},
              answers=STRS, idx={"passage": I32, "query": I32}),
        ("context", "query"), record_templates(), target_field="answers", preprocess=record_row,
        description="Reading comprehension with commonsense: fill a news query's blank with an entity.",
    ),
]
