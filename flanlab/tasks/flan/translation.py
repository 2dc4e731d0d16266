"""Translation: WMT pairs into English; the inverted templates translate the other way."""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import Hub, Row, generate, translation

CLUSTER = "translation"
LANGUAGES = {"de": "German", "fr": "French", "ro": "Romanian", "cs": "Czech", "fi": "Finnish", "ru": "Russian",
             "tr": "Turkish"}


def translate_templates(language: str) -> list:
    """``source`` (in ``language``) to English ``target``; inverted ones go from English to ``language``."""
    return [
        tpl("translate", f"Translate this {language} text into English.\n{{source}}"),
        tpl("in_english", "{source}\nHow would you say this in English?"),
        tpl("lang_colon", f"{language}: {{source}}\nEnglish:"),
        tpl("meaning", f"What does this {language} sentence mean in English? {{source}}"),
        tpl("render", "Render the following sentence in English.\n{source}"),
        tpl("english_version", "Give the English version of: {source}"),
        tpl("translator", f"You are a translator from {language} to English. Translate: {{source}}"),
        inv("to_language", f"Translate this English text into {language}.\n{{answer}}", "{source}"),
        inv("say_in_language", f"{{answer}}\nHow would a {language} speaker say this?", "{source}"),
    ]


def into_english(source: str):
    """A preprocess taking ``translation[source]`` as the source and ``translation['en']`` as the target."""

    def row_fn(row: Row) -> dict[str, Any]:
        pair = row["translation"]
        return {"source": pair[source], "target": pair["en"]}

    row_fn.__name__ = row_fn.__qualname__ = f"{source}_to_en_row"
    return row_fn


def _task(name: str, hub: str, pair: str, display: str):
    source = pair.split("-")[0]
    return generate(
        name, CLUSTER, display, Hub(hub, pair), translation(source, "en"), ("source",),
        translate_templates(LANGUAGES[source]), target_field="target", preprocess=into_english(source),
        metric="bleu", description=f"{LANGUAGES[source]} to English news and parliament text.",
    )


TASKS = [
    _task("wmt16_de_en", "wmt/wmt16", "de-en", "WMT16 German-English"),
    _task("wmt16_ro_en", "wmt/wmt16", "ro-en", "WMT16 Romanian-English"),
    _task("wmt16_cs_en", "wmt/wmt16", "cs-en", "WMT16 Czech-English"),
    _task("wmt16_fi_en", "wmt/wmt16", "fi-en", "WMT16 Finnish-English"),
    _task("wmt14_fr_en", "wmt/wmt14", "fr-en", "WMT14 French-English"),
]
