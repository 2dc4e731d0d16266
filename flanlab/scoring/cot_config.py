"""The config hooks of the chain-of-thought and mixture-rate options (docs/cot.md), kept out of the pipeline.

``mixture`` (top level): ``cot_fraction`` (CoT share of the training mixture), ``rates`` (explicit mixture rates,
``flanlab/data/rates.py``) and ``size`` (the mixture's size under rates). ``scoring.cot_max_new_tokens``: the
generation budget of the ``cot`` scoring variant (rationale, marker and answer).
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from flanlab.data.cot_mix import check_cot_fraction
from flanlab.errors import ConfigError
from flanlab.templates.cot import COT


def mixture_options(cfg: DictConfig) -> dict[str, Any]:
    """``build_mixture``'s keyword arguments from ``cfg.mixture``."""
    mix = cfg.mixture
    rates = mix.rates
    return {"cot_fraction": float(mix.cot_fraction or 0.0),
            "rates": OmegaConf.to_container(rates) if isinstance(rates, DictConfig) else rates,
            "size": mix.size}


def cot_fraction(cfg: DictConfig) -> float:
    return mixture_options(cfg)["cot_fraction"]


def arm_name(cfg: DictConfig) -> str:
    """The cell's training arm: the template's name, with ``+cot<fraction>`` when CoT rows train."""
    fraction = cot_fraction(cfg)
    return f"{cfg.template.name}+cot{fraction:g}" if fraction > 0 else str(cfg.template.name)


def cot_scoring(cfg: DictConfig, variant: str, opts: dict[str, Any]) -> dict[str, Any]:
    """Scoring options for one variant: ``cot`` generates up to ``scoring.cot_max_new_tokens`` tokens."""
    if variant != COT:
        return opts
    return {**opts, "max_new_tokens": int(cfg.scoring.cot_max_new_tokens)}


def check_cot_config(cfg: DictConfig) -> None:
    """One-line errors before any work: the CoT fraction, a ``cot`` training variant, the rates' values."""
    opts = mixture_options(cfg)
    check_cot_fraction(opts["cot_fraction"], str(cfg.template.train_variant))
    rates = opts["rates"]
    if rates is not None and (not isinstance(rates, dict) or any(
            not isinstance(v, int | float) or v < 0 for v in rates.values())):
        raise ConfigError(f"mixture.rates must map task or cluster names to non-negative numbers, got {rates}")


def check_cot_tasks(specs: list, eval_variants: list[str]) -> None:
    """Scoring ``cot`` needs tasks with a short answer to read after the marker: instruction-response tasks (free
    responses, scored by ROUGE-L) are refused, in one line, before any model is loaded."""
    if COT not in eval_variants:
        return
    free = [s.name for s in specs if s.metadata and s.metadata.get("instruction_response")]
    if free:
        raise ConfigError(f"the cot scoring variant reads a short answer after the marker, but held-out tasks {free} "
                          "are instruction-response tasks with free responses; score them with other variants "
                          "(config key `template.eval_variants`, docs/cot.md)")
