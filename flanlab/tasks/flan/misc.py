"""Misc: question type, grammaticality, word sense and topic. (TREC, CoLA, WiC, AG News.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import I32, PARQUET_BRANCH, STR, Hub, Row, classify, feats, labels

CLUSTER = "misc"
NO_YES = ("no", "yes")
TREC_NAMES = labels("ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM")
TREC_OPTIONS = ("abbreviation", "entity", "description", "person", "location", "number")
TREC_FINE = labels(*[
    "ABBR:abb", "ABBR:exp", "ENTY:animal", "ENTY:body", "ENTY:color", "ENTY:cremat", "ENTY:currency", "ENTY:dismed",
    "ENTY:event", "ENTY:food", "ENTY:instru", "ENTY:lang", "ENTY:letter", "ENTY:other", "ENTY:plant", "ENTY:product",
    "ENTY:religion", "ENTY:sport", "ENTY:substance", "ENTY:symbol", "ENTY:techmeth", "ENTY:termeq", "ENTY:veh",
    "ENTY:word", "DESC:def", "DESC:desc", "DESC:manner", "DESC:reason", "HUM:gr", "HUM:ind", "HUM:title", "HUM:desc",
    "LOC:city", "LOC:country", "LOC:mount", "LOC:other", "LOC:state", "NUM:code", "NUM:count", "NUM:date",
    "NUM:dist", "NUM:money", "NUM:ord", "NUM:other", "NUM:period", "NUM:perc", "NUM:speed", "NUM:temp",
    "NUM:volsize", "NUM:weight",
])


def trec_templates() -> list:
    return [
        tpl("answer_type", "What kind of thing would answer this question?\n{text}\n{options}"),
        tpl("question_type", "Question: {text}\nWhat type of answer does it expect?\n{options}"),
        tpl("classify", "Classify the question by the type of its answer: {text}\n{options}"),
        tpl("asking_for", '"{text}"\nIs this asking for a person, a place, a number, or something else?\n{options}'),
        tpl("category", "{text}\nWhich category does the answer to this question fall into?\n{options}"),
        tpl("expects", "Someone asks: {text}\nThe reply will be which of these?\n{options}"),
        tpl("which_option", "Which of the options names the answer type of this question? {text}\n{options}"),
        inv("write_question", "Write a question whose answer is a kind of {answer}.", "{text}"),
    ]


def cola_templates() -> list:
    return [
        tpl("grammatical", "Sentence: {sentence}\nIs this sentence grammatical English?\n{options}"),
        tpl("acceptable", '"{sentence}"\nWould a native speaker accept this sentence?\n{options}'),
        tpl("correct", "Is the following sentence linguistically correct?\n{sentence}\n{options}"),
        tpl("well_formed", "{sentence}\nIs the sentence above well formed?\n{options}"),
        tpl("check", "Check the grammar of this sentence. Is it fine? {sentence}\n{options}"),
        tpl("teacher", "An English teacher reads: {sentence}\nDoes the teacher find it acceptable?\n{options}"),
        tpl("which_option", "{sentence}\nWhich option says whether this is a valid sentence?\n{options}"),
        inv("write_sentence", 'Write a sentence for which "is it grammatical?" has the answer {answer}.', "{sentence}"),
    ]


def wic_templates() -> list:
    return [
        tpl("same_sense", 'Does "{word}" mean the same thing in these two sentences?\n{sentence1}\n{sentence2}\n'
            "{options}"),
        tpl("both_sentences", "Sentence A: {sentence1}\nSentence B: {sentence2}\n"
            'Is the word "{word}" used with the same meaning in both?\n{options}'),
        tpl("sense", '{sentence1}\n{sentence2}\nSame sense of "{word}" in both sentences?\n{options}'),
        tpl("dictionary", 'Would one dictionary definition of "{word}" fit both of these uses?\n'
            "1. {sentence1}\n2. {sentence2}\n{options}"),
        tpl("meaning", 'Word: {word}\nFirst use: {sentence1}\nSecond use: {sentence2}\nDoes the meaning match?'
            "\n{options}"),
        tpl("compare", 'Compare how "{word}" is used here: "{sentence1}" and "{sentence2}". Same meaning?\n{options}'),
        tpl("which_option", 'Which option says whether "{word}" has one sense across these sentences?\n'
            "{sentence1}\n{sentence2}\n{options}"),
        inv("write_use", 'Sentence: {sentence1}\nWrite another sentence using "{word}" where the answer to '
            '"same meaning?" is {answer}.', "{sentence2}"),
    ]


def topic_templates() -> list:
    return [
        tpl("topic", "{text}\nWhat is this news article about?\n{options}"),
        tpl("section", "Article: {text}\nWhich section of a newspaper does it belong in?\n{options}"),
        tpl("classify", "Classify the topic of this news story.\n{text}\n{options}"),
        tpl("subject", 'What is the subject of "{text}"?\n{options}'),
        tpl("headline_topic", "Read the story below and pick its topic.\n{text}\n{options}"),
        tpl("category", "{text}\nWhich category fits this text best?\n{options}"),
        tpl("which_option", "News: {text}\nWhich of the options is the topic?\n{options}"),
        inv("write_story", "Write a short news story about {answer}.", "{text}"),
    ]


def trec_row(row: Row) -> dict[str, Any]:
    return {"text": row["text"], "label": row["coarse_label"]}


TASKS = [
    classify(
        "trec", CLUSTER, "TREC", Hub("CogComp/trec", revision=PARQUET_BRANCH),
        feats(text=STR, coarse_label=TREC_NAMES, fine_label=TREC_FINE),
        ("text",), trec_templates(), options=TREC_OPTIONS, preprocess=trec_row, eval="test",
        description="TREC question classification by coarse answer type.",
    ),
    classify(
        "cola", CLUSTER, "CoLA", Hub("nyu-mll/glue", "cola"),
        feats(sentence=STR, label=labels("unacceptable", "acceptable"), idx=I32),
        ("sentence",), cola_templates(), options=NO_YES,
        description="Corpus of Linguistic Acceptability: is a sentence grammatical?",
    ),
    classify(
        "wic", CLUSTER, "WiC", Hub("aps/super_glue", "wic"),
        feats(word=STR, sentence1=STR, sentence2=STR, start1=I32, start2=I32, end1=I32, end2=I32, idx=I32,
              label=labels("False", "True")),
        ("word", "sentence1", "sentence2"), wic_templates(), options=NO_YES,
        description="Word-in-Context: is a word used with the same sense in two sentences?",
    ),
    classify(
        "ag_news", CLUSTER, "AG News", Hub("fancyzhx/ag_news"),
        feats(text=STR, label=labels("World", "Sports", "Business", "Sci/Tech")),
        ("text",), topic_templates(), options=("world", "sports", "business", "science and technology"),
        eval="test", description="News topic classification into four sections.",
    ),
]
