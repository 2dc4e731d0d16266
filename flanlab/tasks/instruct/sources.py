"""What the real instruction–response datasets are: hub id, format, raw field names, display name (facts, so they
live in the package). A ``tasks.include`` entry names one (``{source: dolly}``) or gives its own ``format``.

The hub ids and field names are as published; they are untested here (no hub access on the development machines).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """One instruction–response dataset: where it lives and how its records read."""

    name: str
    format: str
    display_name: str
    hub: str | None = None
    hub_split: str = "train"
    fields: dict[str, str] = field(default_factory=dict)  # {canonical field: raw field}
    description: str = ""


KNOWN: dict[str, Source] = {s.name: s for s in (
    Source("alpaca", "alpaca", "Alpaca", hub="tatsu-lab/alpaca",
           description="52k instructions with model-written responses (instruction, input, output)."),
    Source("dolly", "dolly", "Dolly", hub="databricks/databricks-dolly-15k",
           description="15k human-written instruction-response pairs with a category (instruction, context, "
                       "response, category)."),
    Source("oasst1", "oasst", "OpenAssistant", hub="OpenAssistant/oasst1",
           description="Human conversation trees with ranked assistant replies, one message per record "
                       "(message_id, parent_id, role, text, rank)."),
    Source("sharegpt", "sharegpt", "ShareGPT", hub="anon8231489123/ShareGPT_Vicuna_unfiltered",
           description="Shared chat conversations, a list of {from, value} turns per record."),
)}
