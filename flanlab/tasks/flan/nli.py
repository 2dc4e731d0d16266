"""NLI: does a premise support a hypothesis? (ANLI, CB, MNLI, QNLI, RTE, SNLI, WNLI, SciTail.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import I32, PARQUET_BRANCH, STR, Hub, Row, classify, feats, labels

CLUSTER = "nli"
YES, NO, UNSURE = "yes", "no", "it is not possible to tell"
ENC = labels("entailment", "neutral", "contradiction")


def nli_templates(three_way: bool) -> list:
    """Premise/hypothesis templates; the options block is the same data in every one."""
    how = "yes, no, or that it is not possible to tell" if three_way else "yes or no"
    return [
        tpl("given_text", '{premise}\n\nGiven the text above, is it true that "{hypothesis}"?\n{options}'),
        tpl("premise_hypothesis", "Statement A: {premise}\nStatement B: {hypothesis}\n"
            "If statement A holds, must statement B hold as well?\n{options}"),
        tpl("can_we_conclude", "Read this: {premise}\nCan we conclude the following from it?\n{hypothesis}\n{options}"),
        tpl("assume_true", f'Assume this is true: "{{premise}}"\nThen is this also true: "{{hypothesis}}"? '
            f"Answer {how}.\n{{options}}"),
        tpl("first_second", "First sentence: {premise}\nSecond sentence: {hypothesis}\n"
            "Does the first sentence make the second one true?\n{options}"),
        tpl("follows", '{premise}\nDoes "{hypothesis}" follow from this?\n{options}'),
        tpl("claim_check", "Text: {premise}\nClaim: {hypothesis}\nWhich of the options describes the claim, "
            "judged only by the text?\n{options}"),
        inv("write_hypothesis", 'Text: {premise}\nWrite a sentence such that the answer to "is it true, given the '
            'text?" is "{answer}".', "{hypothesis}"),
    ]


def wnli_row(row: Row) -> dict[str, Any]:
    """WNLI: sentence1/sentence2 with labels [not_entailment, entailment]; options are (no, yes)."""
    return {"premise": row["sentence1"], "hypothesis": row["sentence2"], "label": row["label"]}


def scitail_row(row: Row) -> dict[str, Any]:
    """SciTail's tsv_format carries string labels ('entails' / 'neutral'); anything else is dropped."""
    label = {"entails": 0, "neutral": 1}.get(row["label"], -1)
    return {"premise": row["premise"], "hypothesis": row["hypothesis"], "label": label}


def qnli_templates() -> list:
    return [
        tpl("contains_answer", "Question: {question}\nSentence: {sentence}\n"
            "Does the sentence contain the answer to the question?\n{options}"),
        tpl("answers_it", '{sentence}\n\nDoes the text above answer "{question}"?\n{options}'),
        tpl("helpful", "Someone asked: {question}\nIs this sentence a correct answer to it? {sentence}\n{options}"),
        tpl("look_up", "I looked up {question} and found: {sentence}\nDid I find the answer?\n{options}"),
        tpl("reply_check", "Here is a question and a possible reply.\nQuestion: {question}\nReply: {sentence}\n"
            "Does the reply answer the question?\n{options}"),
        tpl("entail_answer", "Does the sentence below entail an answer to the question?\n{question}\n{sentence}\n"
            "{options}"),
        tpl("which_option", "Sentence: {sentence}\nQuestion: {question}\nPick the right option: is the question "
            "answered by the sentence?\n{options}"),
        inv("write_question", 'Sentence: {sentence}\nWrite a question for which the answer to "does this sentence '
            'answer it?" is "{answer}".', "{question}"),
    ]


TASKS = [
    *[
        classify(
            f"anli_r{r}", CLUSTER, f"ANLI round {r}", Hub("facebook/anli", "plain_text"),
            feats(uid=STR, premise=STR, hypothesis=STR, label=ENC, reason=STR),
            ("premise", "hypothesis"), nli_templates(True), options=(YES, UNSURE, NO),
            train=f"train_r{r}", eval=f"dev_r{r}",
            description=f"Adversarial NLI, round {r}: hypotheses written to fool the models of the time.",
        )
        for r in (1, 2, 3)
    ],
    classify(
        "cb", CLUSTER, "CommitmentBank", Hub("aps/super_glue", "cb"),
        feats(premise=STR, hypothesis=STR, idx=I32, label=labels("entailment", "contradiction", "neutral")),
        ("premise", "hypothesis"), nli_templates(True), options=(YES, NO, UNSURE),
        description="Does the speaker of a short text commit to an embedded clause? (three-way NLI)",
    ),
    classify(
        "mnli", CLUSTER, "MultiNLI", Hub("nyu-mll/glue", "mnli"),
        feats(premise=STR, hypothesis=STR, label=ENC, idx=I32),
        ("premise", "hypothesis"), nli_templates(True), options=(YES, UNSURE, NO), eval="validation_matched",
        description="Multi-genre NLI over ten genres of written and spoken English.",
    ),
    classify(
        "qnli", CLUSTER, "QNLI", Hub("nyu-mll/glue", "qnli"),
        feats(question=STR, sentence=STR, label=labels("entailment", "not_entailment"), idx=I32),
        ("question", "sentence"), qnli_templates(), options=(YES, NO),
        description="Does a Wikipedia sentence contain the answer to a question? (built from SQuAD)",
    ),
    classify(
        "rte", CLUSTER, "RTE", Hub("aps/super_glue", "rte"),
        feats(premise=STR, hypothesis=STR, idx=I32, label=labels("entailment", "not_entailment")),
        ("premise", "hypothesis"), nli_templates(False), options=(YES, NO),
        description="Recognising Textual Entailment (news and Wikipedia text), two-way.",
    ),
    classify(
        "snli", CLUSTER, "SNLI", Hub("stanfordnlp/snli", "plain_text"),
        feats(premise=STR, hypothesis=STR, label=ENC),
        ("premise", "hypothesis"), nli_templates(True), options=(YES, UNSURE, NO),
        description="Stanford NLI: image captions as premises, crowd-written hypotheses.",
    ),
    classify(
        "wnli", CLUSTER, "WNLI", Hub("nyu-mll/glue", "wnli"),
        feats(sentence1=STR, sentence2=STR, label=labels("not_entailment", "entailment"), idx=I32),
        ("premise", "hypothesis"), nli_templates(False), options=(NO, YES), preprocess=wnli_row,
        description="Winograd schemas recast as NLI: the hypothesis resolves the pronoun one way.",
    ),
    classify(
        "scitail", CLUSTER, "SciTail", Hub("allenai/scitail", revision=PARQUET_BRANCH, data_dir="tsv_format"),
        feats(premise=STR, hypothesis=STR, label=STR),
        ("premise", "hypothesis"), nli_templates(False), options=(YES, NO), preprocess=scitail_row,
        description="Science-exam statements checked against retrieved web sentences.",
    ),
]
