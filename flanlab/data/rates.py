"""Explicit mixture rates (``mixture.rates``, as in the Flan Collection): each task's share of the mixture.

Without rates the mixture is examples-proportional over the capped tasks (``data.max_train_per_task``). With
rates, ``{name: weight}`` names tasks or clusters (a cluster's weight is split over its tasks in proportion to
their capped sizes), and ``"*"`` (or ``_rest``, which Hydra's command line can spell) covers every task not named;
weights are normalised to sum to 1. The mixture keeps its size (the sum of the capped sizes, or ``mixture.size``);
a task whose share exceeds its capped rows repeats them in the same seeded order, one below them takes the first
rows of that order.
"""

from __future__ import annotations

from collections.abc import Mapping

from flanlab.errors import ConfigError
from flanlab.tasks.spec import TaskSpec

REST = "*"
REST_ALIAS = "_rest"  # the same, in a Hydra command-line override (its grammar has no quoted keys)


def task_weights(specs: Mapping[str, TaskSpec], counts: Mapping[str, int], rates: Mapping[str, float]) -> dict:
    """Each task's normalised share; one-line errors for unknown names, uncovered tasks or no positive weight."""
    rates = {REST if k == REST_ALIAS else k: v for k, v in rates.items()}
    clusters = {s.cluster for s in specs.values()}
    unknown = [k for k in rates if k != REST and k not in specs and k not in clusters]
    if unknown:
        raise ConfigError(f"mixture.rates names {unknown}, which are neither training tasks nor clusters of this "
                          f"mixture (tasks {sorted(specs)})")
    raw: dict[str, float] = {}
    for name, spec in specs.items():
        if name in rates:
            raw[name] = float(rates[name])
        elif spec.cluster in rates:
            members = [n for n, s in specs.items() if s.cluster == spec.cluster and n not in rates]
            raw[name] = float(rates[spec.cluster]) * counts[name] / max(sum(counts[m] for m in members), 1)
        elif REST in rates:
            rest = [n for n, s in specs.items() if n not in rates and s.cluster not in rates]
            raw[name] = float(rates[REST]) * counts[name] / max(sum(counts[m] for m in rest), 1)
        else:
            raise ConfigError(f"mixture.rates gives no rate for task {name!r} (cluster {spec.cluster!r}); name it, "
                              "its cluster, or add a \"*\" (or _rest) entry for the rest")
    if any(w < 0 for w in raw.values()) or sum(raw.values()) <= 0:
        raise ConfigError(f"mixture.rates must be non-negative with a positive sum, got {dict(rates)}")
    total = sum(raw.values())
    return {name: w / total for name, w in raw.items()}


def rated_indices(indices: Mapping[str, list[int]], weights: Mapping[str, float], size: int) -> dict[str, list[int]]:
    """Each task's rows for its share of a ``size``-example mixture (largest-remainder rounding; repeats cycle)."""
    exact = {name: weights[name] * size for name in indices}
    take = {name: int(v) for name, v in exact.items()}
    for name in sorted(exact, key=lambda n: take[n] - exact[n])[: size - sum(take.values())]:
        take[name] += 1
    out = {}
    for name, rows in indices.items():
        if take[name] and not rows:
            raise ConfigError(f"mixture.rates gives task {name!r} a share, but it has no training rows")
        out[name] = [rows[i % len(rows)] for i in range(take[name])]
    return out
