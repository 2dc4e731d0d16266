"""``flanlab export CELL_DIR OUT_DIR [--merge] [--push REPO_ID]`` and ``flanlab export-tasks OUT_DIR [overrides...]``
(or ``python -m flanlab.export_command export|export-tasks ...``): a cell's model, and flanlab's held-out tasks, in
forms that transformers, peft and lm-evaluation-harness read without flanlab (docs/export.md)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf

from flanlab.errors import user_error
from flanlab.paths import config_dir

COMMANDS = ("export", "export-tasks")


def export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flanlab export", description="Export the model a trained cell kept "
                                     "(train.save_model) as a folder that transformers and peft load.")
    parser.add_argument("cell_dir", help="a cell folder with results.json and a saved model")
    parser.add_argument("out_dir", help="the folder to write (new, empty, or an earlier export, which is replaced)")
    parser.add_argument("--merge", action="store_true", help="fold a LoRA adapter into its base: one plain model")
    parser.add_argument("--push", metavar="REPO_ID", help="then upload the folder to this hub repository (one commit)")
    parser.add_argument("--private", action="store_true", help="create the hub repository as private")
    return parser


def tasks_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flanlab export-tasks", description="Write a cell's held-out tasks as "
                                     "lm-evaluation-harness task YAMLs over local JSONL files.")
    parser.add_argument("out_dir", help="the folder to write (new, empty, or an earlier export-tasks folder)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as for a run (tasks=, heldout=, model=)")
    parser.add_argument("--tokenizer", metavar="DIR", help="a model folder whose tokenizer fits rows to "
                        "scoring.max_input_len as flanlab does (e.g. an export); without it no row is shortened")
    return parser


def run_export(argv: Sequence[str]) -> int:
    args = export_parser().parse_args(argv)
    from flanlab.export.folder import export_cell
    from flanlab.export.push import check_can_push, push_folder

    if args.push:
        check_can_push(args.push)  # before any work: offline or without a token, nothing is exported or sent
    out = export_cell(args.cell_dir, args.out_dir, merge=args.merge)
    print(f"flanlab export: wrote {out}")
    if args.push:
        print(f"flanlab export: pushed to {args.push}: {push_folder(out, args.push, private=args.private)}")
    return 0


def compose_config(overrides: Sequence[str]) -> DictConfig:
    """The config a run with ``overrides`` composes (one-line errors for what the run's checks catch)."""
    from hydra import compose, initialize_config_dir

    from flanlab.cli_checks import check_command_line

    check_command_line(list(overrides), config_dir())
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def input_limit(cfg: DictConfig, tokenizer_dir: str | None):
    """flanlab's input limit with the given folder's tokenizer, or None."""
    if tokenizer_dir is None:
        return None
    from transformers import AutoTokenizer

    from flanlab.data.truncation import InputLimit

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    return InputLimit.for_tokenizer(tokenizer, str(cfg.model.arch), int(cfg.scoring.max_input_len))


def run_export_tasks(argv: Sequence[str]) -> int:
    args = tasks_parser().parse_args(argv)
    from flanlab.export.lm_eval_tasks import TaskOptions, write_lm_eval_tasks
    from flanlab.pipeline import prepare
    from flanlab.provenance import cell_provenance
    from flanlab.scoring.scorers import resolve_include_eos

    cfg = compose_config(args.overrides)
    prep = prepare(cfg)  # the cell's catalogue, split and scored rows, exactly
    opts = TaskOptions.from_config(cfg, input_limit(cfg, args.tokenizer))
    about = {"overrides": list(args.overrides), "model": str(cfg.model.name), "heldout": list(prep.split.heldout),
             "max_eval_per_task": int(cfg.data.max_eval_per_task), "eval_sample_seed": int(cfg.data.eval_sample_seed),
             "flanlab_include_eos": resolve_include_eos(cfg.scoring.include_eos, opts.arch),
             "length_normalize": opts.length_normalize, "tokenizer_limit": args.tokenizer,
             "tasks": OmegaConf.to_container(cfg.tasks, resolve=True), **cell_provenance(prep.catalogue.specs)}
    index = write_lm_eval_tasks(args.out_dir, prep.catalogue, prep.heldout_rows, list(cfg.template.eval_variants),
                                opts, about)
    for variant, part in index["variants"].items():
        groups = [*part["clusters"].values(), *([part["heldout"]] if part["heldout"] else [])]
        print(f"flanlab export-tasks: {variant}: {len(part['tasks'])} tasks; groups {', '.join(groups)}")
    print(f"flanlab export-tasks: wrote {args.out_dir}; run: lm_eval --include_path {args.out_dir} --tasks "
          f"{','.join(next(iter(index['variants'].values()))['clusters'].values())} --model hf "
          "--model_args pretrained=MODEL_DIR")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``argv``: ``export ...`` or ``export-tasks ...``; one-line errors, exit status 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: flanlab {{{','.join(COMMANDS)}}} ...  (--help after either)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        return run_export(argv[1:]) if argv[0] == "export" else run_export_tasks(argv[1:])
    except Exception as err:
        cause = user_error(err)
        if cause is None:
            raise
        print(f"flanlab: error: {cause}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
