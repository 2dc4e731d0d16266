"""Instruction–response sources (Alpaca, Dolly, OpenAssistant and ShareGPT style) as catalogue entries of their
own cluster: ``tasks.include`` entries with ``source`` or ``format`` (docs/cot.md)."""

from flanlab.tasks.instruct.formats import FORMATS, convert
from flanlab.tasks.instruct.loader import load_instruct
from flanlab.tasks.instruct.sources import KNOWN

__all__ = ["FORMATS", "KNOWN", "convert", "load_instruct"]
