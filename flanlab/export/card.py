"""The model card (``README.md``) of an exported cell: hub metadata in YAML front matter, then the arm, split,
training facts, held-out scores with intervals and baselines, provenance, and the command that reproduces it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from flanlab.estimand.rollup import clusters_and_mean, task_scores
from flanlab.export.cell_model import SavedModel
from flanlab.export.licences import BASE_LICENCES, CONVERTED_FROM, UNKNOWN, training_data
from flanlab.results import CellResults

PIPELINE_TAGS = {"seq2seq": "text2text-generation", "causal": "text-generation"}


def cell_overrides(cell_dir: Path) -> list[str] | None:
    """The Hydra overrides the cell ran with (``.hydra/overrides.yaml``), or None when the folder has none."""
    path = cell_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return None
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [str(o) for o in loaded]


def reproduce_command(overrides: Sequence[str] | None) -> str | None:
    """The command line that runs the cell again (None without its overrides)."""
    return None if overrides is None else " ".join(["python -m flanlab", *(shlex.quote(o) for o in overrides)])


def hub_base(results: CellResults) -> str | None:
    """The base model's hub name, when it has one: a pretrained model named by hub id (not a local folder), or the
    hub model a converted copy was made from (``model=gemma3_270m``: google/gemma-3-270m's 4-bit GGUF)."""
    model = results.get("config", {}).get("model", {})
    if model.get("source") == "gguf":
        return CONVERTED_FROM.get(str(model.get("name")))
    name = model.get("name_or_path") if model.get("source") == "pretrained" else None
    return None if name is None or Path(str(name)).exists() else str(name)


def base_lines(base: str | None, results: CellResults) -> list[str]:
    """The base model and its terms, which the exported weights inherit."""
    if base is None:
        return []
    model = results.get("config", {}).get("model", {})
    how = (f" (weights from its 4-bit GGUF, package `{model.get('package')}`, dequantised to fp32)"
           if model.get("source") == "gguf" else "")
    terms = BASE_LICENCES.get(base, UNKNOWN)
    which = " (the Gemma Terms of Use, https://ai.google.dev/gemma/terms)" if terms == "gemma" else ""
    return ["## Base model", "", f"`{base}`{how}. Licence: `{terms}`; the exported weights are a derivative and "
            f"carry the base model's terms{which}.", ""]


def metadata(results: CellResults, saved: SavedModel, merged: bool, data: Sequence[Mapping[str, Any]],
             base: str | None) -> dict:
    """The card's YAML front matter; ``base`` is the base model's hub name (``hub_base``)."""
    cell, train = results.get("cell", {}), results.get("train", {})
    adapter = saved.kind == "adapter" and not merged
    meta: dict[str, Any] = {"library_name": "peft" if adapter else "transformers",
                            "pipeline_tag": PIPELINE_TAGS.get(saved.arch, "text-generation")}
    if base:
        meta["base_model"] = base
        if base in BASE_LICENCES:
            meta["license"] = BASE_LICENCES[base]
    hub_ids = sorted({d["hub"] for d in data if d["hub"]})
    if hub_ids:
        meta["datasets"] = hub_ids
    meta["tags"] = ["flanlab", "instruction-tuning", f"arm-{cell.get('arm', 'unknown')}",
                    *(["lora"] if saved.kind == "adapter" else []),
                    *(f"heldout-{c}" for c in cell.get("heldout", []))]
    meta["flanlab"] = {"arm": cell.get("arm"), "heldout_clusters": list(cell.get("heldout", [])),
                       "seed": cell.get("seed"), "steps": train.get("steps"), "mixture_hash": train.get("mixture_hash"),
                       "cell_key": cell.get("key"), "model": cell.get("model"),
                       "training_data_licences": {d["entry"]: d["licence"] for d in data}}
    return meta


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _ci(pair: Sequence[float] | None) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]" if pair else "–"


def _baseline(tasks: Mapping[str, Mapping[str, Any]], cluster: str, key: str) -> float | None:
    """Mean over the cluster's tasks of a stored baseline (``chance``, or ``majority`` among other metrics)."""
    values = [t.get(key, t.get("metrics", {}).get(key)) for t in tasks.values() if t.get("cluster") == cluster]
    values = [float(v) for v in values if v is not None]
    return sum(values) / len(values) if values else None


def score_lines(variant: str, block: Mapping[str, Any]) -> list[str]:
    """One variant's held-out clusters and tasks as Markdown tables (scores, 95% CIs, chance, majority)."""
    tasks = block.get("tasks", {})
    clusters, mean = (block["clusters"], block["mean"]) if "clusters" in block else \
        clusters_and_mean(task_scores(tasks))
    cis = block.get("cis", {})
    lines = [f"### Scored with `{variant}` prompts", "", "| cluster | score | 95% CI | chance | majority |",
             "|---|---|---|---|---|"]
    for c, value in sorted(clusters.items()):
        lines.append(f"| {c} | {_fmt(value)} | {_ci(cis.get(c))} | {_fmt(_baseline(tasks, c, 'chance'))} | "
                     f"{_fmt(_baseline(tasks, c, 'majority'))} |")
    lines += [f"| **mean** | {_fmt(mean)} | {_ci(cis.get('mean'))} | | |", "",
              "| task | cluster | metric | mean over templates | 95% CI | chance | majority |",
              "|---|---|---|---|---|---|---|"]
    for name, t in sorted(tasks.items()):
        ci = [t["ci_low"], t["ci_high"]] if "ci_low" in t else None
        lines.append(f"| {name} | {t.get('cluster')} | {t.get('metric')} | {_fmt(t.get('mean'))} | {_ci(ci)} | "
                     f"{_fmt(t.get('chance'))} | {_fmt(t.get('metrics', {}).get('majority'))} |")
    return [*lines, ""]


def rank_rule(scoring: Mapping[str, Any]) -> str:
    return "log-likelihood per character" if scoring.get("length_normalize") else "summed log-likelihood"


def eos_rule(scoring: Mapping[str, Any], arch: str) -> str:
    """Whether the cell scored an end-of-sequence token after each option (``scoring.include_eos``, resolved)."""
    from flanlab.scoring.scorers import resolve_include_eos

    value = scoring.get("include_eos", "auto")
    eos = resolve_include_eos(value, arch) if arch in ("seq2seq", "causal") else None
    return f"end-of-sequence token {'scored' if eos else 'not scored'} (scoring.include_eos={value})"


def load_lines(saved: SavedModel, merged: bool, base_in_folder: bool) -> list[str]:
    """How to load the folder with transformers or peft alone."""
    auto = "AutoModelForSeq2SeqLM" if saved.arch == "seq2seq" else "AutoModelForCausalLM"
    if saved.kind == "full" or merged:
        code = [f"from transformers import AutoTokenizer, {auto}", f"model = {auto}.from_pretrained(FOLDER)",
                "tokenizer = AutoTokenizer.from_pretrained(FOLDER)"]
    else:
        base = 'f"{FOLDER}/base"' if base_in_folder else "BASE  # adapter_config.json: base_model_name_or_path"
        code = [f"from peft import PeftModel\nfrom transformers import AutoTokenizer, {auto}",
                f"base = {auto}.from_pretrained({base})", "model = PeftModel.from_pretrained(base, FOLDER)",
                "tokenizer = AutoTokenizer.from_pretrained(FOLDER)"]
    note = ["", "The base is in `base/`; `adapter_config.json` names it by the absolute path it had at export, so "
            "after moving or downloading the folder load it from `base/` as above (on the hub: "
            "`subfolder=\"base\"`)."] if base_in_folder and not merged and saved.kind == "adapter" else []
    return ["## Loading", "", "No flanlab needed:", "", "```python", *code, "```", *note, ""]


def card_text(results: CellResults, saved: SavedModel, merged: bool, base_in_folder: bool) -> str:
    """The whole ``README.md``."""
    cell, train, prov = results.get("cell", {}), results.get("train", {}), results.get("provenance", {})
    scoring = results.get("config", {}).get("scoring", {})
    data = training_data(train.get("rows_per_task", {}), results.get("config", {}).get("tasks", {}))
    base = hub_base(results)
    front = yaml.safe_dump(metadata(results, saved, merged, data, base), sort_keys=False, allow_unicode=True)
    what = "LoRA adapter" + (" merged into its base" if merged else "") if saved.kind == "adapter" else "full model"
    lines = [f"---\n{front}---", "", f"# flanlab cell `{saved.cell_dir.name}`", "",
             f"{cell.get('model')} ({saved.arch}) instruction-tuned by flanlab, exported as a {what}.", "",
             "| | |", "|---|---|", f"| arm | `{cell.get('arm')}` (training variant `{cell.get('train_variant')}`) |",
             f"| held-out clusters | {', '.join(cell.get('heldout', []))} |",
             f"| mixture hash | `{train.get('mixture_hash')}` ({train.get('examples')} examples) |",
             f"| steps | {train.get('steps')} (final loss {_fmt(train.get('final_loss'))}) |",
             f"| seed | {cell.get('seed')} |", "", "## Held-out scores", "",
             f"Zero-shot, as flanlab scored them: rank classification by {rank_rule(scoring)}, "
             f"{eos_rule(scoring, saved.arch)}; greedy generation; mean over templates, then tasks, then clusters; "
             "bootstrap 95% intervals.", ""]
    for variant, block in results.get("zeroshot", {}).items():
        lines += score_lines(variant, block)
    lines += base_lines(base, results)
    lines += ["## Training data", "", "| entry | rows | hub dataset | licence |", "|---|---|---|---|",
              *(f"| {d['entry']} | {d['rows']} | {d['hub'] or '–'} | {d['licence']} |" for d in data), ""]
    lines += ["## Provenance", "", f"- commit `{prov.get('commit')}` (dirty: {prov.get('dirty')})",
              f"- template hash `{prov.get('template_hash')}`, flanlab {prov.get('flanlab_version')}",
              f"- cell key `{cell.get('key')}`; the resolved config is `flanlab_config.yaml`", ""]
    command = reproduce_command(cell_overrides(saved.cell_dir))
    lines += ["## Reproduce", "", *([f"```bash\n{command}\n```"] if command else
                                    ["The cell folder had no `.hydra/overrides.yaml`; run `python -m flanlab` with "
                                     "the values of `flanlab_config.yaml`."]), ""]
    return "\n".join([*lines, *load_lines(saved, merged, base_in_folder)])
