"""flanlab's held-out prompts as lm-evaluation-harness tasks over local JSONL files (``flanlab export-tasks``).

Per scoring variant ``V``, held-out task ``T`` and template ``K`` (names made of ``[A-Za-z0-9_]``):

* ``flanlab_V__T__K``: one task whose docs are flanlab's rendered prompts of that template (``data/<name>.jsonl``:
  ``input``, and ``options`` + ``label`` or ``references``), scored as flanlab scores it: multiple choice with the
  architecture's target delimiter (decoder-only: ``scoring.delimiter``, one space; seq2seq: none), or greedy
  ``generate_until`` with flanlab's stop sequences (decoder-only) and ``scoring.max_new_tokens``;
* ``flanlab_V__T``: a group over the task's templates, ``score`` averaged with ``weight_by_size: false`` (the mean
  over templates, flanlab's task score);
* ``flanlab_V__T__all_templates``: the same prompts in one task; its mean equals the mean over templates (every
  template scores the same rows), so
* ``flanlab_V__cluster_C``, a group over those, averages tasks as flanlab's cluster score does (lm-eval 0.4.13
  averages a group over its *leaf* tasks, so a group of the template groups would weigh tasks by their template
  count); ``flanlab_V__heldout`` (tasks pooled) is written only where it equals flanlab's mean over clusters.

Metrics come from the copied ``utils.py`` (``flanlab.metrics.portable``); ``flanlab_tasks.json`` indexes
every name. The folder is written atomically.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import yaml
from omegaconf import DictConfig

from flanlab.data.truncation import InputLimit
from flanlab.errors import ConfigError
from flanlab.io import atomic_dir, check_replaceable
from flanlab.scoring.zeroshot import render_rows, scored_metric
from flanlab.tasks.catalogue import Catalogue
from flanlab.templates.cot import COT
from flanlab.templates.prompt import Prompt
from flanlab.templates.variants import VariantContext

INDEX_FILE = "flanlab_tasks.json"
UTILS_SOURCE = Path(__file__).resolve().parent.parent / "metrics" / "portable.py"
POOLED = "all_templates"
GENERATION_METRICS = ("exact_match", "token_f1", "rouge_l", "bleu")
FUNCTION = "__function__:"  # a YAML string that becomes a ``!function`` entry


@dataclass(frozen=True)
class TaskOptions:
    """How the exported tasks render and score, from a cell's config."""

    arch: str
    delimiter: str
    stop_sequences: tuple[str, ...]
    max_new_tokens: int
    options_in_prompt: bool = True
    held_back: int = 0
    length_normalize: bool = False
    limit: InputLimit | None = None

    @classmethod
    def from_config(cls, cfg: DictConfig, limit: InputLimit | None = None) -> TaskOptions:
        causal = str(cfg.model.arch) == "causal"
        stops = tuple(str(s) for s in (cfg.scoring.stop_sequences or ())) if causal else ()
        return cls(str(cfg.model.arch), str(cfg.scoring.delimiter) if causal else "", stops,
                   int(cfg.scoring.max_new_tokens), bool(cfg.template.options_in_prompt),
                   int(cfg.template.held_back_templates), bool(cfg.scoring.length_normalize), limit)


def lm_eval_name(*parts: str) -> str:
    """``flanlab_<parts joined by __>`` with every other character made ``_``."""
    return "__".join(re.sub(r"[^A-Za-z0-9_]+", "_", p) for p in ("flanlab_" + parts[0], *parts[1:]))


def grouped_prompts(catalogue: Catalogue, rows_by_task: Mapping[str, datasets.Dataset], variant: str,
                    opts: TaskOptions) -> dict[str, dict[str, list[Prompt]]]:
    """Per task, per template, the prompts flanlab scores (``render_rows``, as ``score_tasks`` renders them)."""
    context = VariantContext(list(catalogue.specs.values()), held_back=opts.held_back)
    out: dict[str, dict[str, list[Prompt]]] = {}
    for task, rows in rows_by_task.items():
        by_template: dict[str, list[Prompt]] = defaultdict(list)
        for p in render_rows(catalogue, task, rows, variant, opts.options_in_prompt, opts.limit, context):
            by_template[p.template_id].append(p)
        out[task] = dict(by_template)
    return out


def task_metric(catalogue: Catalogue, prompt: Prompt) -> str:
    """The metric flanlab scores ``prompt`` by, when the exported tasks can compute it; else a one-line error."""
    metric = scored_metric(catalogue.spec(prompt.task), prompt)
    if prompt.options and metric != "accuracy":
        raise ConfigError(f"task {prompt.task!r}: export-tasks scores multiple choice by accuracy, not {metric!r}")
    if not prompt.options and metric not in GENERATION_METRICS:
        raise ConfigError(f"task {prompt.task!r}: export-tasks has no lm-eval form of metric {metric!r} "
                          f"(generation metrics it writes: {', '.join(GENERATION_METRICS)})")
    return metric


def prompt_doc(prompt: Prompt, metric: str, length_normalize: bool = False) -> dict[str, Any]:
    """One lm-eval doc: the prompt as flanlab renders it, its answers, where it comes from, and (multiple choice)
    whether flanlab ranks options per character (``scoring.length_normalize``: then ``score`` is ``acc_norm``)."""
    doc: dict[str, Any] = {"input": prompt.input, "task": prompt.task, "cluster": prompt.cluster,
                           "template": prompt.template_id, "variant": prompt.variant, "row": prompt.row_index,
                           "metric": metric}
    if prompt.options:
        label = -1 if prompt.label is None else int(prompt.label)  # -1: lm-eval warns, nothing scores it
        return doc | {"options": list(prompt.options), "label": label, "length_normalize": length_normalize}
    return doc | {"references": list(prompt.references)}


def _metric(name: str, aggregation: str = "mean") -> dict[str, Any]:
    return {"metric": name, "aggregation": aggregation, "higher_is_better": True}


def leaf_config(name: str, data_file: Path, choice: bool, metric: str, opts: TaskOptions) -> dict[str, Any]:
    """The YAML of one lm-eval task over ``data_file``."""
    config: dict[str, Any] = {"task": name, "tag": ["flanlab"], "dataset_path": "json",
                              "dataset_kwargs": {"data_files": {"test": str(data_file)}}, "test_split": "test",
                              "doc_to_text": "input", "target_delimiter": opts.delimiter, "num_fewshot": 0,
                              "metadata": {"version": 1.0}}
    if choice:
        return config | {"output_type": "multiple_choice", "doc_to_choice": "options", "doc_to_target": "label",
                         "process_results": FUNCTION + "utils.process_choice",
                         "metric_list": [_metric("acc"), _metric("acc_norm"), _metric("score")]}
    corpus = FUNCTION + "utils.corpus_bleu"
    metrics = [_metric("exact_match"), *([_metric(metric, corpus if metric == "bleu" else "mean")]
                                         if metric != "exact_match" else []),
               _metric("score", corpus if metric == "bleu" else "mean")]
    gen: dict[str, Any] = {"until": list(opts.stop_sequences), "max_gen_toks": opts.max_new_tokens,
                           "do_sample": False}
    if opts.arch == "seq2seq":  # lm-eval lets a seq2seq decoder run to context + max_gen_toks; flanlab stops at N
        gen["max_length"] = opts.max_new_tokens + 1  # the decoder start token and N new ones
    return config | {"output_type": "generate_until", "doc_to_target": "references", "generation_kwargs": gen,
                     "process_results": FUNCTION + "utils.process_generation", "metric_list": metrics}


def group_config(name: str, members: Sequence[str], kinds: Iterable[bool]) -> dict[str, Any]:
    """A group averaging ``score`` (and ``acc`` or ``exact_match`` when every member has it) over its members."""
    kinds = set(kinds)
    names = ["score", *(["acc"] if kinds == {True} else []), *(["exact_match"] if kinds == {False} else [])]
    return {"group": name, "task": list(members),
            "aggregate_metric_list": [{"metric": m, "aggregation": "mean", "weight_by_size": False} for m in names],
            "metadata": {"version": 1.0}}


class _Dumper(yaml.SafeDumper):
    """Strings holding control characters (stop sequences such as a newline) in double quotes, escaped."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style='"' if any(c in value for c in "\n\r\t") else None))


def write_yaml(path: Path, config: Mapping[str, Any]) -> None:
    text = yaml.dump(dict(config), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    path.write_text(re.sub(rf"'?{FUNCTION}([\w.]+)'?", r"!function \1", text), encoding="utf-8")


def write_jsonl(path: Path, docs: Iterable[Mapping[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")


def write_task(tmp: Path, final: Path, name: str, prompts: list[Prompt], metric: str, opts: TaskOptions) -> None:
    """One leaf task: its docs and its YAML (data paths point into the final folder)."""
    write_jsonl(tmp / "data" / f"{name}.jsonl", (prompt_doc(p, metric, opts.length_normalize) for p in prompts))
    data_file = final.resolve() / "data" / f"{name}.jsonl"
    write_yaml(tmp / f"{name}.yaml", leaf_config(name, data_file, bool(prompts[0].options), metric, opts))


def write_variant(tmp: Path, final: Path, catalogue: Catalogue, rows_by_task: Mapping[str, datasets.Dataset],
                  variant: str, opts: TaskOptions) -> dict[str, Any]:
    """Every task and group of one scoring variant; returns its part of the index."""
    tasks: dict[str, Any] = {}
    for task, by_template in grouped_prompts(catalogue, rows_by_task, variant, opts).items():
        if not by_template:
            continue
        first = next(iter(by_template.values()))[0]
        metric, choice = task_metric(catalogue, first), bool(first.options)
        leaves = {k: lm_eval_name(variant, task, k) for k in by_template}
        for template, prompts in by_template.items():
            write_task(tmp, final, leaves[template], prompts, metric, opts)
        pooled = lm_eval_name(variant, task, POOLED)
        write_task(tmp, final, pooled, [p for ps in by_template.values() for p in ps], metric, opts)
        group = lm_eval_name(variant, task)
        write_yaml(tmp / f"{group}.yaml", group_config(group, list(leaves.values()), [choice] * len(leaves)))
        tasks[task] = {"cluster": first.cluster, "metric": metric, "choice": choice, "group": group,
                       "pooled": pooled, "templates": leaves, "rows": len(next(iter(by_template.values())))}
    return {"tasks": tasks, **write_cluster_groups(tmp, variant, tasks)}


def write_cluster_groups(tmp: Path, variant: str, tasks: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A group per cluster over its tasks' pooled leaves, and the held-out group where lm-eval's pooling of tasks
    equals flanlab's mean over clusters (every cluster has as many tasks)."""
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for name, t in tasks.items():
        by_cluster[t["cluster"]].append(name)
    clusters = {}
    for cluster, names in sorted(by_cluster.items()):
        clusters[cluster] = lm_eval_name(variant, f"cluster_{cluster}")
        members = [tasks[n]["pooled"] for n in names]
        write_yaml(tmp / f"{clusters[cluster]}.yaml", group_config(clusters[cluster], members,
                                                                    [tasks[n]["choice"] for n in names]))
    heldout = None
    if len({len(v) for v in by_cluster.values()}) == 1:
        heldout = lm_eval_name(variant, "heldout")
        write_yaml(tmp / f"{heldout}.yaml", group_config(heldout, [t["pooled"] for t in tasks.values()],
                                                         [t["choice"] for t in tasks.values()]))
    return {"clusters": clusters, "heldout": heldout}


def write_lm_eval_tasks(out_dir: str | Path, catalogue: Catalogue, rows_by_task: Mapping[str, datasets.Dataset],
                        variants: Sequence[str], opts: TaskOptions, about: Mapping[str, Any]) -> dict[str, Any]:
    """Write the tasks of every variant, ``utils.py`` and the index into ``out_dir``; return the index."""
    out_dir = Path(out_dir)
    if COT in variants:
        raise ConfigError("export-tasks: the cot variant has no lm-eval form here (template.eval_variants)")
    check_replaceable(out_dir, INDEX_FILE, "tasks folder", "export-tasks folder")  # it would be replaced
    index: dict[str, Any] = {"about": dict(about), "arch": opts.arch, "target_delimiter": opts.delimiter,
                             "stop_sequences": list(opts.stop_sequences), "max_new_tokens": opts.max_new_tokens,
                             "variants": {}}
    with atomic_dir(out_dir) as tmp:
        shutil.copy2(UTILS_SOURCE, tmp / "utils.py")
        for variant in variants:
            index["variants"][variant] = write_variant(tmp, out_dir, catalogue, rows_by_task, variant, opts)
        (tmp / INDEX_FILE).write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return index
