"""Sentiment: is a review, sentence or tweet negative or positive? (SST-2, IMDB, Yelp, Sent140, RT, TweetEval.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import I32, PARQUET_BRANCH, STR, Hub, Row, classify, feats, labels

CLUSTER = "sentiment"
NEG_POS = ("negative", "positive")
NEG_NEU_POS = ("negative", "neutral", "positive")


def sentiment_templates(field: str, thing: str, how: str = "negative or positive") -> list:
    """Templates over one text ``field``; ``thing`` names it in prose ("movie review", "tweet")."""
    f = "{" + field + "}"
    return [
        tpl("feeling", f"{thing.capitalize()}: {f}\nIs the feeling of this {thing} {how}?\n{{options}}"),
        tpl("how_feel", f'"{f}"\nHow does the writer of this {thing} feel?\n{{options}}'),
        tpl("tone", f"What is the tone of the following {thing}?\n{f}\n{{options}}"),
        tpl("liked_it", f"{f}\nDid the author of this {thing} like what they wrote about?\n{{options}}"),
        tpl("classify", f"Classify the sentiment of this {thing}.\n{f}\n{{options}}"),
        tpl("mood", f"Read the {thing} below and say which mood it expresses.\n{f}\n{{options}}"),
        tpl("which_option", f"{thing.capitalize()} text: {f}\nWhich of the options best describes its sentiment?"
            "\n{options}"),
        inv("write_text", f"Write a short {thing} that is {{answer}}.", f),
    ]


def sentiment140_row(row: Row) -> dict[str, Any]:
    """Sentiment140 polarity 0 (negative) / 4 (positive); neutral (2) test rows are dropped."""
    return {"text": row["text"], "label": {0: 0, 4: 1}.get(int(row["sentiment"]), -1)}


TASKS = [
    classify(
        "sst2", CLUSTER, "SST-2", Hub("nyu-mll/glue", "sst2"),
        feats(sentence=STR, label=labels("negative", "positive"), idx=I32),
        ("sentence",), sentiment_templates("sentence", "movie review"), options=NEG_POS,
        description="Stanford Sentiment Treebank, binary: sentences from movie reviews.",
    ),
    classify(
        "imdb", CLUSTER, "IMDB", Hub("stanfordnlp/imdb", "plain_text"),
        feats(text=STR, label=labels("neg", "pos")),
        ("text",), sentiment_templates("text", "film review"), options=NEG_POS, eval="test",
        description="Long IMDB movie reviews, positive or negative.",
    ),
    classify(
        "yelp_polarity", CLUSTER, "Yelp polarity", Hub("fancyzhx/yelp_polarity", "plain_text"),
        feats(text=STR, label=labels("1", "2")),
        ("text",), sentiment_templates("text", "business review"), options=NEG_POS, eval="test",
        description="Yelp reviews: 1-2 stars negative, 3-4 positive (hub label names '1' and '2').",
    ),
    classify(
        "sentiment140", CLUSTER, "Sentiment140", Hub("stanfordnlp/sentiment140", revision=PARQUET_BRANCH),
        feats(text=STR, date=STR, user=STR, sentiment=I32, query=STR),
        ("text",), sentiment_templates("text", "tweet"), options=NEG_POS, preprocess=sentiment140_row, eval="test",
        description="Tweets labelled by emoticons (train) or by hand (test).",
    ),
    classify(
        "rotten_tomatoes", CLUSTER, "Rotten Tomatoes", Hub("cornell-movie-review-data/rotten_tomatoes"),
        feats(text=STR, label=labels("neg", "pos")),
        ("text",), sentiment_templates("text", "critic's review"), options=NEG_POS,
        description="Movie-review snippets from Rotten Tomatoes (Pang and Lee sentence polarity).",
    ),
    classify(
        "tweet_eval_sentiment", CLUSTER, "TweetEval sentiment", Hub("cardiffnlp/tweet_eval", "sentiment"),
        feats(text=STR, label=labels("negative", "neutral", "positive")),
        ("text",), sentiment_templates("text", "tweet", "negative, neutral or positive"), options=NEG_NEU_POS,
        description="SemEval-2017 tweets: negative, neutral or positive.",
    ),
]
