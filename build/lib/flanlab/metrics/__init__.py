"""Metrics as ``evaluate`` modules: the ones flanlab ships (offline), else the ``evaluate`` hub.

Each folder here holds one ``evaluate.Metric`` (``<name>/<name>.py``), loadable by path with
``evaluate.load``. Every flanlab module's ``compute`` returns ``{<name>: value, "scores": [...]}``:
the metric's value over all examples and one value per example (for bootstraps), both on a 0-1
scale (BLEU is sacrebleu's 0-100 divided by 100, so it averages with accuracies).

``load_metric(name)`` returns the flanlab module of that name, else ``evaluate.load(name)`` (the hub;
one-line ``ConfigError`` when it is offline or has no such metric). ``metric_scores`` runs one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from flanlab.errors import ConfigError

HERE = Path(__file__).resolve().parent
PROJECT_METRICS = ("accuracy", "bleu", "exact_match", "rouge_l", "token_f1")


def metric_path(name: str) -> Path | None:
    """The flanlab module file of metric ``name``, or None when flanlab ships none by that name."""
    path = HERE / name / f"{name}.py"
    return path if name in PROJECT_METRICS and path.is_file() else None


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:200]


@cache
def load_metric(name: str) -> Any:
    """The ``evaluate`` module for metric ``name`` (flanlab's own first, then the hub); cached per process."""
    import evaluate

    path = metric_path(name)
    if path is not None:
        return evaluate.load(str(path), keep_in_memory=True)
    try:
        return evaluate.load(name, keep_in_memory=True)
    except Exception as err:  # evaluate raises FileNotFoundError, ConnectionError, ... depending on the cause
        offline = bool(getattr(evaluate.config, "HF_EVALUATE_OFFLINE", False))
        why = ("the evaluate hub is offline (HF_EVALUATE_OFFLINE)" if offline
               else f"evaluate.load failed: {_first_line(err)}")
        raise ConfigError(f"unknown metric {name!r}: not one of flanlab's ({', '.join(PROJECT_METRICS)}) "
                          f"and {why}") from None


def check_metric(name: str, task: str | None = None) -> None:
    """Raise a one-line ``ConfigError`` unless metric ``name`` loads (``task`` names whose metric it is)."""
    try:
        load_metric(name)
    except ConfigError as err:
        raise ConfigError(f"task {task!r}: {err}" if task else str(err)) from None


def metric_scores(name: str, predictions: Sequence[Any], references: Sequence[Any]) -> tuple[float, list[float]]:
    """(value over all examples, per-example values) of metric ``name``.

    flanlab modules return both. A hub module gives its value under its own name (else its first number),
    and the per-example values come from computing it on each example alone.
    """
    if not predictions:
        return float("nan"), []
    module = load_metric(name)
    out = module.compute(predictions=list(predictions), references=list(references))
    if metric_path(name) is not None:
        return float(out[name]), [float(s) for s in out["scores"]]
    value = _primary(name, out)
    per_example = [_primary(name, module.compute(predictions=[p], references=[r]))
                   for p, r in zip(predictions, references, strict=True)]
    return value, per_example


def _primary(name: str, out: dict[str, Any]) -> float:
    if name in out:
        return float(out[name])
    for value in out.values():
        if isinstance(value, int | float):
            return float(value)
    raise ConfigError(f"metric {name!r} returned no number (keys: {sorted(out)})")
