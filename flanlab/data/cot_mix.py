"""Which training rows are rendered as chain-of-thought (``mixture.cot_fraction``, docs/cot.md).

``cot_fraction`` is the CoT share of the whole mixture. The CoT examples come from the tasks whose rows carry a
rationale, spread over them in proportion to their rows and chosen by a seeded order; every other row of those
tasks keeps its direct answer, so an arm with CoT and one without train on the same rows and differ only in the
targets of the chosen ones.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np

from flanlab.errors import ConfigError
from flanlab.tasks.spec import TaskSpec
from flanlab.templates.cot import COT, has_rationale


def check_cot_fraction(fraction: float, variant: str) -> float:
    """A valid fraction, and no ``cot`` training variant (CoT rows are chosen by the fraction, not the variant)."""
    if variant == COT:
        raise ConfigError("template.train_variant=cot is not a training arm: CoT training rows are set by "
                          "mixture.cot_fraction (docs/cot.md)")
    if not 0.0 <= float(fraction) < 1.0:
        raise ConfigError(f"mixture.cot_fraction must be in [0, 1), got {fraction}")
    return float(fraction)


def cot_positions(specs: Mapping[str, TaskSpec], counts: Mapping[str, int], fraction: float,
                  seed: int) -> dict[str, set[int]]:
    """Per task with a rationale, the positions (within its mixture rows) rendered as CoT."""
    if fraction <= 0:
        return {}
    capable = {n: counts[n] for n, s in specs.items() if has_rationale(s) and counts.get(n)}
    want = round(fraction * sum(counts.values()))
    have = sum(capable.values())
    if want > have:
        raise ConfigError(f"mixture.cot_fraction={fraction} asks for {want} CoT examples, but the mixture's tasks "
                          f"with rationales have {have} rows ({sorted(capable) or 'none'})")
    out, left = {}, want
    names = sorted(capable)
    for i, name in enumerate(names):
        k = left if i == len(names) - 1 else min(round(want * capable[name] / have), left)
        rng = np.random.default_rng([zlib.crc32(f"cot/{name}".encode()), seed % 2**32])
        out[name] = set(rng.permutation(capable[name])[:k].tolist())
        left -= k
    return out
